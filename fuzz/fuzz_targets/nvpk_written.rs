//! NovusPack packages written by the package's writer from the input (every codec and symmetric
//! cipher), then damaged at offsets the input picks: every entry either fails with an error or,
//! read to its end, gives exactly the bytes written (RawChecksum, StoredChecksum and SHA-256 are
//! checked; nothing of an encrypted entry comes before its tag).
#![no_main]

mod nvpk_common;

use libfuzzer_sys::fuzz_target;
use novuspack_stream::core::nvpk::{
    prepare_entry, Compression, EncryptKey, Encryption, EntrySpec, OpenOptions, Package, PackageWriter, WriterOptions,
};
use novuspack_stream::core::sync::block_on;
use novuspack_stream::{Key, MemorySource};

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (control, content) = data.split_at(4);
    let key = Key::from([0x42; 32]);
    let kinds = [
        (Compression::None, Encryption::None),
        (Compression::Zstd, Encryption::None),
        (Compression::Lz4, Encryption::Aes256Gcm),
        (Compression::Lzma, Encryption::ChaCha20Poly1305),
        (Compression::Zstd, Encryption::Aes256Gcm),
    ];
    let (mut writer, placeholder) = PackageWriter::new(&WriterOptions::default()).unwrap();
    let mut bytes = placeholder.to_vec();
    let mut originals = Vec::new();
    for (i, (compression, encryption)) in kinds.iter().enumerate() {
        let original: Vec<u8> = content.iter().cycle().take(content.len() * (i + 1)).copied().collect();
        let spec = EntrySpec {
            compression: *compression,
            encryption: *encryption,
            key: (*encryption != Encryption::None).then(|| EncryptKey::Symmetric(key.clone())),
            ..EntrySpec::new(format!("/e{i}"))
        };
        let prepared = prepare_entry(&spec, &original).unwrap();
        bytes.extend_from_slice(&writer.add(&prepared).unwrap());
        bytes.extend_from_slice(&prepared.stored);
        originals.push(original);
    }
    let finished = writer.finish().unwrap();
    bytes.extend_from_slice(&finished.trailer);
    bytes[..finished.header.len()].copy_from_slice(&finished.header);
    // Damage: up to two byte flips, anywhere.
    let len = bytes.len();
    for pair in control.chunks(2) {
        let at = (usize::from(pair[0]) << 8 | usize::from(*pair.get(1).unwrap_or(&0))) * 7 % len;
        bytes[at] ^= 1 << (pair[0] & 7);
    }
    let options = OpenOptions::default();
    let Ok(package) = block_on(Package::open(&MemorySource::new(bytes.clone()), &options)) else { return };
    for entry in &package.entries {
        let Some(stored) = bytes.get(entry.data_offset as usize..(entry.data_offset + entry.stored_size) as usize)
        else {
            continue;
        };
        let Ok(stream) = nvpk_common::open_entry(entry, stored, true) else { continue };
        let mut out = Vec::new();
        let complete = loop {
            match block_on(stream.read_chunk()) {
                Ok(Some(chunk)) => out.extend_from_slice(&chunk),
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        // Damage may move records or rename them: the bytes must be one of the files written.
        assert!(!complete || originals.contains(&out), "a damaged package read to its end gave other bytes");
    }
});
