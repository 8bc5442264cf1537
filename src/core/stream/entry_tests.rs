//! The engine over NovusPack entries: random access by zstd frame, the checks of entries read
//! in order, and tampering refused before anything is released.

use super::*;
use crate::core::clock::system_clock;
use crate::core::crypto::Key;
use crate::core::error::ErrorCode;
use crate::core::nvpk::{prepare_entry, Compression, EncryptKey, Encryption, EntryKey, EntrySpec, FileEntry};
use crate::core::sync::block_on;
use crate::core::testing::text;

/// The entry and stored bytes of `data` written as `spec` says.
fn entry(data: &[u8], compression: Compression, encryption: Encryption) -> (FileEntry, Vec<u8>) {
    let spec = EntrySpec {
        compression,
        encryption,
        key: (encryption != Encryption::None).then(|| EncryptKey::Symmetric(Key::from([5; 32]))),
        ..EntrySpec::new("/e")
    };
    let prepared = prepare_entry(&spec, data).unwrap();
    (prepared.entry, prepared.stored)
}

fn open(entry: FileEntry, stored: Vec<u8>) -> Result<FileStream<MemorySource>> {
    let keys = EntryKey { key: Some(Key::from([5; 32])), decapsulation_key: None };
    block_on(FileStream::open_entry(
        MemorySource::new(stored),
        EntryOpen { entry, keys },
        StreamConfig::new(),
        None,
        system_clock(),
        LocalDecoder,
    ))
}

fn read_all(stream: &FileStream<MemorySource>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = block_on(stream.read_chunk())? {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[test]
fn zstd_random_access_starts_at_the_frame_of_the_seek_table() {
    // The writer's zstd: the seekable format, frames of 1 MiB.
    let data = text(3 << 20);
    let (e, stored) = entry(&data, Compression::Zstd, Encryption::None);
    let stream = open(e, stored).unwrap();
    let mut buf = vec![0u8; 4096];
    let at = data.len() as u64 - 10_000;
    assert_eq!(block_on(stream.read_at(&mut buf, at)).unwrap(), 4096);
    assert_eq!(&buf[..], &data[at as usize..at as usize + 4096]);
    let decoded = stream.stats().decompressed_bytes;
    assert!(decoded < (1 << 20) + (256 << 10), "decoded {decoded} bytes to read the last frame");
    // Back to the start, then in order to the end: every check runs.
    block_on(stream.seek(0)).unwrap();
    assert_eq!(read_all(&stream).unwrap(), data);
}

#[test]
fn stored_entries_are_checked_when_read_in_order_to_the_end() {
    let data = text(300_000);
    let (mut e, stored) = entry(&data, Compression::None, Encryption::None);
    e.raw_checksum ^= 1;
    let stream = open(e.clone(), stored.clone()).unwrap();
    let mut buf = vec![0u8; 1000];
    assert_eq!(block_on(stream.read_at(&mut buf, 5000)).unwrap(), 1000, "reads before the end work");
    let err = read_all(&stream).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ChecksumMismatch);
    e.raw_checksum ^= 1;
    assert_eq!(read_all(&open(e, stored).unwrap()).unwrap(), data);
}

#[test]
fn a_tampered_encrypted_entry_is_refused_at_open_and_a_bomb_stops_at_the_limit() {
    let data = text(200_000);
    for compression in [Compression::None, Compression::Lz4, Compression::Zstd, Compression::Lzma] {
        let (e, mut stored) = entry(&data, compression, Encryption::Aes256Gcm);
        let last = stored.len() / 2;
        stored[last] ^= 4;
        assert_eq!(open(e, stored).err().map(|e| e.code()), Some(ErrorCode::AuthFailed), "{compression:?}");
    }
    let (mut e, stored) = entry(&data, Compression::Zstd, Encryption::None);
    e.original_size = 1000;
    let stream = open(e, stored).unwrap();
    assert_eq!(read_all(&stream).unwrap_err().code(), ErrorCode::OutputLimit);
}
