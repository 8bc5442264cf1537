//! Tests of the sealed format through its two readers: the sequential `Opener` and the
//! random-access `SealedIndex` (and, for the auditor's tests, the `FileStream` engine over
//! both kinds of source). Every damaged input must fail with a typed error and never yield
//! plaintext that differs from the original; both readers accept exactly the same files.

use proptest::prelude::*;

use super::hazmat::{seal_with_salt, Crafter};
use super::*;
use crate::core::compress::deflate_all;
use crate::core::error::{ErrorCode, ErrorType};
use crate::core::stream::{FileStream, MemorySource, MutableSource, ReadSource, Source};
use crate::core::sync::block_on;
use crate::core::testing::{noise, text};

fn key() -> Key {
    Key::from([0x42; 32])
}

fn options(key: Option<Key>, level: Option<u8>, chunk_size: usize) -> SealOptions {
    SealOptions { key, level, chunk_size: Some(chunk_size), total_len: None }
}

/// Seals with a fixed salt in format `version` (1 or 2).
fn seal_v(version: u8, key: Option<Key>, level: Option<u8>, chunk_size: usize, data: &[u8]) -> Vec<u8> {
    seal_with_salt(&options(key, level, chunk_size), [9; 16], version, data).unwrap()
}

/// Opens with the sequential reader, feeding `step`-byte pieces. Returns the plaintext and
/// the error, if any; the plaintext released before an error is returned too.
fn open_sequential(sealed: &[u8], key: Option<Key>, step: usize) -> (Vec<u8>, Option<StreamError>) {
    let mut opener = Opener::new(key);
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let end = (pos + step).min(sealed.len());
        match opener.update(&sealed[pos..end], &mut out) {
            Ok(p) => {
                pos += p.consumed;
                if p.done && pos < sealed.len() {
                    // Whatever follows the footer must be refused too.
                    if let Err(e) = opener.update(&sealed[pos..], &mut out) {
                        return (out, Some(e));
                    }
                }
                if p.done {
                    break;
                }
                if pos == sealed.len() && p.produced == 0 && p.consumed == 0 {
                    break;
                }
            }
            Err(e) => return (out, Some(e)),
        }
    }
    (out, opener.finish().err())
}

/// Opens with the random-access reader and reads every chunk.
fn open_random(sealed: &[u8], key: Option<&Key>) -> Result<Vec<u8>> {
    let head = &sealed[..sealed.len().min(MAX_HEADER_LEN)];
    let foot = &sealed[sealed.len().saturating_sub(FOOTER_LEN)..];
    let location = IndexLocation::locate(head, foot, sealed.len() as u64, key, false)?;
    let (offset, len) = location.index_range();
    let mut record = sealed[offset as usize..offset as usize + len].to_vec();
    let index = SealedIndex::load(location, &mut record)?;
    let mut out = Vec::new();
    let mut inflater = ChunkInflater::new();
    for chunk in 0..index.chunk_count() {
        let (at, len) = index.record_range(chunk);
        let mut record = sealed[at as usize..at as usize + len].to_vec();
        let mut plain = vec![0u8; index.chunk_size()];
        let n = index.open_chunk(chunk, &mut record, &mut inflater, &mut plain)?;
        out.extend_from_slice(&plain[..n]);
    }
    assert_eq!(out.len() as u64, index.total_len());
    Ok(out)
}

/// Reads a stream to its end.
fn read_stream<S: Source>(stream: &FileStream<S>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = block_on(stream.read_chunk())? {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn stream_config(key: Option<Key>) -> crate::core::config::StreamConfig {
    crate::core::config::StreamConfig { is_compressed: true, key, ..crate::core::config::StreamConfig::new() }
}

/// Opens and reads through the engine over a random-access and a sequential source.
fn open_engine(sealed: &[u8], key: Option<Key>) -> (Result<Vec<u8>>, Result<Vec<u8>>) {
    let random = block_on(FileStream::open(MemorySource::new(sealed.to_vec()), stream_config(key.clone())))
        .and_then(|s| read_stream(&s));
    let source = ReadSource::new(std::io::Cursor::new(sealed.to_vec()), None);
    let sequential = block_on(FileStream::open(source, stream_config(key))).and_then(|s| read_stream(&s));
    (random, sequential)
}

/// Every reader (the two core readers, the engine over both sources) refuses `bad`, and the
/// sequential reader releases at most a prefix of `data` before it does.
fn assert_all_refuse(bad: &[u8], key: Option<Key>, data: &[u8], what: &str) {
    for step in [7, 1000, usize::MAX] {
        let (out, e) = open_sequential(bad, key.clone(), step.min(bad.len().max(1)));
        let e = e.unwrap_or_else(|| panic!("{what}: the sequential reader accepted it"));
        assert!(data.starts_with(&out), "{what}: the sequential reader released other plaintext");
        assert_ne!(e.error_type(), ErrorType::Validation, "{what}: {e}");
    }
    assert!(open_random(bad, key.as_ref()).is_err(), "{what}: the random-access reader accepted it");
    let (random, sequential) = open_engine(bad, key);
    assert!(random.is_err(), "{what}: the engine (random access) accepted it");
    match sequential {
        Ok(out) => panic!("{what}: the engine (in order) accepted it, {} bytes", out.len()),
        Err(e) => assert_ne!(e.error_type(), ErrorType::Validation, "{what}: {e}"),
    }
}

/// Replaces a header's CRC with the right one for its (changed) bytes.
fn recrc(file: &mut [u8]) {
    let len = Header::peek_len(file).unwrap();
    let crc = crc32fast::hash(&file[..len - 4]);
    file[len - 4..len].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn round_trips_at_chunk_edges_with_every_mode_and_version() {
    let cs = 256;
    for version in [1, 2] {
        for len in [0, 1, cs - 1, cs, cs + 1, 2 * cs, 3 * cs + 7] {
            for data in [text(len), noise(len, len as u64 + 1)] {
                for k in [None, Some(key())] {
                    for level in [None, Some(0), Some(1), Some(6), Some(10)] {
                        let sealed = seal_v(version, k.clone(), level, cs, &data);
                        assert_eq!(sealed[8], version);
                        let (out, e) = open_sequential(&sealed, k.clone(), 97);
                        assert!(e.is_none(), "v{version} len {len} level {level:?}: {e:?}");
                        assert_eq!(out, data);
                        assert_eq!(open_random(&sealed, k.as_ref()).unwrap(), data);
                    }
                }
            }
        }
    }
}

#[test]
fn writers_write_version_2_with_an_80_byte_header_and_a_key_commitment() {
    let sealed = Sealer::seal_all(&options(Some(key()), None, 64), b"hello").unwrap();
    assert_eq!(sealed[8], VERSION);
    assert_eq!(VERSION, 2);
    let header = Header::parse(&sealed).unwrap();
    assert_eq!((header.version, header.len(), HEADER_LEN), (2, 80, 80));
    let salt = header.salt;
    let commitment = crate::core::crypto::hazmat::key_commitment(&key(), &salt);
    assert_eq!(header.commitment, Some(commitment));
    assert_eq!(&sealed[40..72], &commitment[..], "FORMAT.md: bytes 40..72");
    assert_eq!(&sealed[72..76], &[0; 4], "reserved");
    assert_eq!(&sealed[76..80], &crc32fast::hash(&sealed[..76]).to_le_bytes(), "the CRC of bytes 0..76");
    // Unencrypted: zeros where the commitment would be.
    let plain = Sealer::seal_all(&options(None, None, 64), b"hello").unwrap();
    assert_eq!(&plain[40..72], &[0; 32]);
    assert_eq!(Header::parse(&plain).unwrap().commitment, None);
    // The peeked length of each version.
    assert_eq!(Header::peek_len(&sealed[..9]).unwrap(), 80);
    let v1 = seal_v(1, Some(key()), None, 64, b"hello");
    assert_eq!(Header::peek_len(&v1[..9]).unwrap(), 48);
    assert_eq!(Header::parse(&v1).unwrap().commitment, None);
    assert_eq!(header_len_for(3), None);
    // Round trip of the header through its bytes.
    assert_eq!(Header::parse(&header.to_bytes()).unwrap(), header);
}

#[test]
fn an_exact_multiple_of_the_chunk_size_has_no_empty_last_chunk() {
    let sealed = Sealer::seal_all(&options(None, None, 64), &text(128)).unwrap();
    let index_len = 16 + 4 * 2 + CRC_LEN;
    assert_eq!(sealed.len(), HEADER_LEN + 2 * (PREFIX_LEN + 64 + CRC_LEN) + index_len + FOOTER_LEN);
    let empty = Sealer::seal_all(&options(None, None, 64), &[]).unwrap();
    assert_eq!(empty.len(), HEADER_LEN + PREFIX_LEN + CRC_LEN + 16 + 4 + CRC_LEN + FOOTER_LEN);
}

#[test]
fn compression_shrinks_text_and_stores_noise() {
    let data = text(64 * 1024);
    let sealed = Sealer::seal_all(&options(Some(key()), Some(6), 16 * 1024), &data).unwrap();
    assert!(sealed.len() < data.len() / 4, "{} bytes", sealed.len());
    let random = noise(64 * 1024, 5);
    let sealed = Sealer::seal_all(&options(Some(key()), Some(6), 16 * 1024), &random).unwrap();
    let overhead = HEADER_LEN + 4 * (PREFIX_LEN + 16) + 16 + 16 + 16 + FOOTER_LEN;
    assert_eq!(sealed.len(), random.len() + overhead, "incompressible chunks are stored as they are");
}

#[test]
fn the_sealer_streams_with_bounded_output_and_enforces_a_declared_length() {
    let data = text(10_000);
    let mut sealer = Sealer::new(&options(None, Some(6), 1000)).unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let before = out.len();
        let p = sealer.update(&data[pos..], &mut out).unwrap();
        assert!(out.len() - before <= HEADER_LEN + PREFIX_LEN + 1000 + CRC_LEN, "one record per call at most");
        pos += p.consumed;
    }
    sealer.finish(&mut out).unwrap();
    assert_eq!(sealer.bytes_out(), out.len() as u64);
    assert_eq!(open_random(&out, None).unwrap(), data);
    assert_eq!(sealer.finish(&mut out).unwrap_err().code(), ErrorCode::Closed);

    let mut declared = SealOptions { total_len: Some(10), ..options(None, None, 64) };
    let sealed = Sealer::seal_all(&declared, &text(10)).unwrap();
    assert_eq!(Header::parse(&sealed).unwrap().total_len, Some(10));
    assert_eq!(Sealer::seal_all(&declared, &text(11)).unwrap_err().code(), ErrorCode::SizeMismatch);
    assert_eq!(Sealer::seal_all(&declared, &text(9)).unwrap_err().code(), ErrorCode::SizeMismatch);
    declared.chunk_size = Some(10);
    assert_eq!(Sealer::new(&declared).unwrap_err().context().field.as_deref(), Some("chunkSize"));
}

#[test]
fn a_declared_length_past_the_chunk_limit_fails_before_any_input() {
    let too_big = (MAX_CHUNKS + 1) * 64;
    let declared = SealOptions { total_len: Some(too_big), ..options(None, None, 64) };
    let e = Sealer::new(&declared).unwrap_err();
    assert_eq!((e.code(), e.context().field.as_deref()), (ErrorCode::InvalidArgument, Some("chunkSize")));
    assert_eq!(ParallelSealer::new(&declared).unwrap_err().code(), ErrorCode::InvalidArgument);
    let fits = SealOptions { total_len: Some(MAX_CHUNKS * 64), ..options(None, None, 64) };
    assert!(Sealer::new(&fits).is_ok());
    // A header that declares such a total is refused by readers too.
    let mut header = Sealer::new(&fits).unwrap().header().clone();
    header.total_len = Some(too_big);
    assert_eq!(Header::parse(&header.to_bytes()).unwrap_err().code(), ErrorCode::Corrupted);
}

#[test]
fn the_salt_is_random_per_file() {
    let opts = SealOptions { key: Some(key()), ..Default::default() };
    let a = Sealer::seal_all(&opts, b"same").unwrap();
    let b = Sealer::seal_all(&opts, b"same").unwrap();
    assert_ne!(a[24..40], b[24..40]);
    assert_ne!(a[40..72], b[40..72], "another salt, another commitment");
    assert_ne!(a, b);
}

#[test]
fn a_codec_of_an_existing_file_does_not_seal() {
    let sealed = Sealer::seal_all(&options(Some(key()), None, 64), b"abc").unwrap();
    let header = Header::parse(&sealed).unwrap();
    let codec = ChunkCodec::new(header.clone(), Some(&key())).unwrap();
    assert!(!codec.can_seal());
    let mut out = Vec::new();
    let e = codec.seal_chunk(0, true, b"xyz", None, &mut out).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert!(codec.seal_index(3, &[27], 80).is_err());
    let worker = ChunkCodec::with_subkey(header, codec.subkey()).unwrap();
    assert!(!worker.can_seal() && worker.seal_chunk(0, true, b"xyz", None, &mut out).is_err());
    // The sealers' codecs do.
    assert!(Sealer::new(&options(Some(key()), None, 64)).unwrap().codec().can_seal());
}

fn small_files() -> Vec<(Vec<u8>, Option<Key>, Vec<u8>)> {
    let data = text(200);
    let mut files = Vec::new();
    for version in [1, 2] {
        for (k, level) in [(Some(key()), Some(6)), (None, Some(6)), (Some(key()), None), (None, None)] {
            files.push((seal_v(version, k.clone(), level, 64, &data), k, data.clone()));
        }
    }
    files
}

#[test]
fn every_single_bit_flip_is_rejected_and_never_yields_other_plaintext() {
    for (sealed, k, data) in small_files() {
        for bit in 0..sealed.len() * 8 {
            let mut bad = sealed.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let (out, e) = open_sequential(&bad, k.clone(), 50);
            let e = e.unwrap_or_else(|| panic!("sequential reader accepted a flip of bit {bit}"));
            assert!(data.starts_with(&out), "bit {bit}: released plaintext differs");
            assert_ne!(e.error_type(), ErrorType::Validation, "bit {bit}: {e}");
            assert!(open_random(&bad, k.as_ref()).is_err(), "random-access reader accepted a flip of bit {bit}");
        }
    }
}

#[test]
fn truncation_at_every_length_is_rejected() {
    for (sealed, k, data) in small_files() {
        for len in 0..sealed.len() {
            let cut = &sealed[..len];
            let (out, e) = open_sequential(cut, k.clone(), 33);
            let e = e.unwrap_or_else(|| panic!("sequential reader accepted {len} of {} bytes", sealed.len()));
            assert!(data.starts_with(&out));
            let empty = len == 0 && e.code() == ErrorCode::UnknownFormat;
            assert!(matches!(e.code(), ErrorCode::Truncated | ErrorCode::BadMagic) || empty, "{len}: {e}");
            let e = open_random(cut, k.as_ref()).unwrap_err();
            let empty = len == 0 && e.code() == ErrorCode::UnknownFormat;
            assert!(
                matches!(e.code(), ErrorCode::Truncated | ErrorCode::BadMagic | ErrorCode::Corrupted) || empty,
                "{len}: {e}"
            );
        }
    }
}

/// Splits a sealed file into header, chunk records, and the index+footer tail.
fn records(sealed: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>, Vec<u8>) {
    let header_len = Header::peek_len(sealed).unwrap();
    let mut pos = header_len;
    let mut recs = Vec::new();
    loop {
        let prefix = RecordPrefix::parse(sealed[pos..pos + 4].try_into().unwrap());
        let end = pos + PREFIX_LEN + prefix.payload_len as usize;
        recs.push(sealed[pos..end].to_vec());
        pos = end;
        if prefix.last {
            break;
        }
    }
    (sealed[..header_len].to_vec(), recs, sealed[pos..].to_vec())
}

#[test]
fn reordered_or_duplicated_chunks_are_rejected() {
    for (sealed, k, data) in small_files() {
        let (head, recs, tail) = records(&sealed);
        assert_eq!(recs.len(), 4);
        let variants: Vec<Vec<Vec<u8>>> = vec![
            vec![recs[1].clone(), recs[0].clone(), recs[2].clone(), recs[3].clone()],
            vec![recs[0].clone(), recs[0].clone(), recs[2].clone(), recs[3].clone()],
            vec![recs[0].clone(), recs[2].clone(), recs[1].clone(), recs[3].clone()],
            vec![recs[0].clone(), recs[1].clone(), recs[3].clone()],
            vec![recs[0].clone(), recs[1].clone(), recs[2].clone(), recs[2].clone(), recs[3].clone()],
        ];
        for v in variants {
            let bad: Vec<u8> = [head.clone(), v.concat(), tail.clone()].concat();
            let (out, e) = open_sequential(&bad, k.clone(), 1000);
            assert!(e.is_some(), "reordered file accepted");
            assert!(data.starts_with(&out), "reordering released other plaintext");
            assert!(open_random(&bad, k.as_ref()).is_err());
        }
    }
}

#[test]
fn a_wrong_or_missing_key_and_a_stripped_encryption_are_refused() {
    let data = text(500);
    for version in [1, 2] {
        let sealed = seal_v(version, Some(key()), Some(6), 128, &data);
        let wrong = Key::from([1; 32]);
        let (out, e) = open_sequential(&sealed, Some(wrong.clone()), 64);
        assert!(out.is_empty());
        assert_eq!(e.unwrap().code(), ErrorCode::AuthFailed);
        assert_eq!(open_random(&sealed, Some(&wrong)).unwrap_err().code(), ErrorCode::AuthFailed);
        assert_eq!(open_sequential(&sealed, None, 64).1.unwrap().code(), ErrorCode::KeyRequired);
        assert_eq!(open_random(&sealed, None).unwrap_err().code(), ErrorCode::KeyRequired);

        let plain = seal_v(version, None, Some(6), 128, &data);
        assert_eq!(open_sequential(&plain, Some(key()), 64).1.unwrap().code(), ErrorCode::NotEncrypted);
        assert_eq!(open_random(&plain, Some(&key())).unwrap_err().code(), ErrorCode::NotEncrypted);
        let mut opener = Opener::new(None).require_encryption();
        assert_eq!(opener.update(&plain, &mut Vec::new()).unwrap_err().code(), ErrorCode::NotEncrypted);
    }
}

#[test]
fn a_wrong_key_fails_at_the_header_before_any_chunk_is_read() {
    let data = text(5000);
    let sealed = Sealer::seal_all(&options(Some(key()), Some(6), 1024), &data).unwrap();
    let wrong = Key::from([1; 32]);
    // The header alone is enough to refuse it: no chunk, index or footer is needed.
    let header = Header::parse(&sealed).unwrap();
    assert_eq!(ChunkCodec::new(header.clone(), Some(&wrong)).unwrap_err().code(), ErrorCode::AuthFailed);
    let mut opener = Opener::new(Some(wrong.clone()));
    let e = opener.update(&sealed[..HEADER_LEN], &mut Vec::new()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthFailed);
    assert_eq!(e.message(), crate::core::crypto::auth_failed().message(), "the opaque message");
    let e = IndexLocation::locate(&sealed[..HEADER_LEN], &[], sealed.len() as u64, Some(&wrong), false).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthFailed, "before the footer is even looked at");
    // Through the engine: FileStream::open fails, over both kinds of source.
    let (random, sequential) = open_engine(&sealed, Some(wrong));
    assert_eq!(random.unwrap_err().code(), ErrorCode::AuthFailed);
    assert_eq!(sequential.unwrap_err().code(), ErrorCode::AuthFailed);
    // A source that holds only the header: the same error, not a truncation.
    let head_only = block_on(FileStream::open(
        ReadSource::new(std::io::Cursor::new(sealed[..HEADER_LEN].to_vec()), None),
        stream_config(Some(Key::from([1; 32]))),
    ));
    assert_eq!(head_only.err().unwrap().code(), ErrorCode::AuthFailed);
}

#[test]
fn a_header_commits_to_one_key() {
    // A file made under key A, with the header's commitment replaced by key B's (CRC fixed):
    // A fails at the commitment, B at the first chunk. No key opens it.
    let data = text(3000);
    let a = key();
    let b = Key::from([0x43; 32]);
    let sealed = Sealer::seal_all(&options(Some(a.clone()), None, 1024), &data).unwrap();
    let mut forged = sealed.clone();
    let salt: [u8; 16] = sealed[24..40].try_into().unwrap();
    forged[40..72].copy_from_slice(&crate::core::crypto::hazmat::key_commitment(&b, &salt));
    recrc(&mut forged);
    for k in [a, b] {
        assert_all_refuse(&forged, Some(k), &data, "a commitment to another key");
    }
}

#[test]
fn an_unknown_version_or_algorithm_is_unsupported() {
    let sealed = Sealer::seal_all(&options(None, None, 64), b"x").unwrap();
    let mut v3 = sealed.clone();
    v3[8] = 3;
    assert_eq!(Header::parse(&v3).unwrap_err().code(), ErrorCode::UnsupportedVersion);
    let mut v0 = sealed.clone();
    v0[8] = 0;
    assert_eq!(Header::parse(&v0).unwrap_err().code(), ErrorCode::UnsupportedVersion);
    let mut alg = sealed[..HEADER_LEN].to_vec();
    alg[11] = 7;
    recrc(&mut alg);
    assert_eq!(Header::parse(&alg).unwrap_err().code(), ErrorCode::UnsupportedAlgorithm);
    assert_eq!(
        Header::parse(b"hello world, this is not a sealed file at all!!!").unwrap_err().code(),
        ErrorCode::UnknownFormat
    );
    // A version 2 header shorter than 80 bytes is truncated, not damaged.
    assert_eq!(Header::parse(&sealed[..60]).unwrap_err().code(), ErrorCode::Truncated);
    assert_eq!(Header::parse(&sealed[..5]).unwrap_err().code(), ErrorCode::Truncated);
}

#[test]
fn a_chunk_that_inflates_past_the_chunk_size_is_a_bomb() {
    let bomb = deflate_all(&vec![0u8; 1 << 20], 9).unwrap();
    for version in [1, 2] {
        for k in [Some(key()), None] {
            assert!(bomb.len() < 4096, "the bomb's record fits the chunk size");
            let file = craft(version, k.as_ref(), 4096, &bomb, true, None);
            let (out, e) = open_sequential(&file, k.clone(), 4096);
            assert!(out.is_empty());
            assert_eq!(e.unwrap().code(), ErrorCode::OutputLimit);
            assert_eq!(open_random(&file, k.as_ref()).unwrap_err().code(), ErrorCode::OutputLimit);
        }
    }
}

/// A header for crafted files.
fn header(version: u8, encrypted: bool, compressed: bool, chunk_size: u32, total_len: Option<u64>) -> Header {
    Header { version, compressed, encrypted, chunk_size, total_len, salt: [3; 16], commitment: None }
}

/// A one-chunk file (claiming `chunk_size` plaintext bytes) from a hand-made record body, to
/// reach states a correct sealer never makes.
fn craft(
    version: u8,
    k: Option<&Key>,
    chunk_size: u32,
    body: &[u8],
    deflated: bool,
    lens_override: Option<Vec<u32>>,
) -> Vec<u8> {
    let mut c = Crafter::new(header(version, k.is_some(), true, chunk_size, None), k).unwrap();
    c.record(0, true, deflated, body).unwrap();
    let lens = lens_override.unwrap_or_else(|| c.lens().to_vec());
    c.index(u64::from(chunk_size), 1, &lens).unwrap();
    c.finish()
}

#[test]
fn an_index_or_footer_pointing_outside_the_data_is_corruption() {
    let body = text(64);
    for version in [1, 2] {
        for k in [Some(key()), None] {
            let good = craft(version, k.as_ref(), 64, &body, false, None);
            assert_eq!(open_random(&good, k.as_ref()).unwrap(), body);
            for lens in [vec![1_000_000], vec![20], vec![10, 10]] {
                let bad = craft(version, k.as_ref(), 64, &body, false, Some(lens));
                let e = open_random(&bad, k.as_ref()).unwrap_err();
                assert_eq!(e.code(), ErrorCode::Corrupted, "{e}");
            }
            // A footer with a valid CRC that points past the end or before the header.
            for (offset, len) in [(u64::MAX - 5, 10u32), (10, 20), (HEADER_LEN as u64, u32::MAX)] {
                let mut bad = good.clone();
                let at = bad.len() - FOOTER_LEN;
                let footer = Footer { index_offset: offset, index_len: len }.to_bytes();
                bad[at..].copy_from_slice(&footer);
                let e = open_random(&bad, k.as_ref()).unwrap_err();
                assert_eq!(e.code(), ErrorCode::Corrupted, "{e}");
                assert!(open_sequential(&bad, k.clone(), 64).1.is_some());
            }
        }
    }
}

#[test]
fn an_index_that_cannot_fit_the_file_is_refused_before_it_is_allocated() {
    // An unencrypted file whose footer declares a 4 GiB index: the geometry check refuses it
    // from header and footer alone (no read of the index, no allocation).
    let sealed = Sealer::seal_all(&options(None, None, 64), &text(1000)).unwrap();
    let n = sealed.len();
    let index_offset = u64::from_le_bytes(sealed[n - 24..n - 16].try_into().unwrap());
    for index_len in [u32::MAX - 3, 1 << 30, 4 * 1000 + 20, 21] {
        let footer = Footer { index_offset, index_len };
        let stored = index_offset + u64::from(index_len) + FOOTER_LEN as u64;
        let e = IndexLocation::locate(&sealed, &footer.to_bytes(), stored, None, false).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Corrupted, "{index_len}: {e}");
        let e = inspect(&sealed, &footer.to_bytes(), stored).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Corrupted, "inspect {index_len}: {e}");
    }
    // The real one passes, and its peak is the record and the offsets.
    let location = IndexLocation::locate(&sealed, &sealed[n - 24..], n as u64, None, false).unwrap();
    let count = location.chunk_count();
    assert_eq!(count, 16);
    assert_eq!(location.memory_peak(), (16 + 4 * count + 4) + 8 * (count + 1));
    // Through the engine, a memory limit below that peak is refused at open, before the
    // index is read: 6250 chunks hold a 25 KB index record and 50 KB of offsets.
    let many = Sealer::seal_all(&options(None, None, 64), &text(400_000)).unwrap();
    let n = many.len();
    let location = IndexLocation::locate(&many, &many[n - 24..], n as u64, None, false).unwrap();
    assert_eq!(location.memory_peak(), 16 + 4 * 6250 + 4 + 8 * 6251);
    let limit = crate::core::config::MIN_MEMORY_LIMIT;
    assert!(location.memory_peak() > limit && location.index_range().1 as u64 <= limit);
    let config = crate::core::config::StreamConfig { memory_limit: limit, ..stream_config(None) };
    let e = block_on(FileStream::open(MemorySource::new(many), config)).err().unwrap();
    assert_eq!(e.code(), ErrorCode::MemoryLimit);
    assert!(e.message().contains("sealed index"), "{e}");
}

#[test]
fn inspect_reads_header_and_footer_without_a_key() {
    for version in [1, 2] {
        let sealed = seal_v(version, Some(key()), Some(6), 256, &text(1000));
        let info =
            inspect(&sealed[..MAX_HEADER_LEN], &sealed[sealed.len() - FOOTER_LEN..], sealed.len() as u64).unwrap();
        assert!(info.header.encrypted && info.header.compressed);
        assert_eq!(info.header.version, version);
        assert_eq!((info.header.chunk_size, info.chunk_count, info.stored_len), (256, 4, sealed.len() as u64));
        let cut = &sealed[..sealed.len() - 1];
        assert!(inspect(&cut[..MAX_HEADER_LEN], &cut[cut.len() - FOOTER_LEN..], cut.len() as u64).is_err());
        let info2 = block_on(inspect_source(&MemorySource::new(sealed.clone()))).unwrap();
        assert_eq!(info2, info);
    }
    let e = inspect(b"not sealed, not sealed, not sealed, not sealed!!", &[0; 24], 100).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownFormat, "not sealed is not damage");
}

#[test]
fn a_short_input_that_is_not_sealed_is_unknown_format_not_truncated() {
    let (out, e) = open_sequential(b"plain text", None, 3);
    assert!(out.is_empty());
    assert_eq!(e.unwrap().code(), ErrorCode::UnknownFormat);
    let (_, e) = open_sequential(&MAGIC[..5], None, 3);
    assert_eq!(e.unwrap().code(), ErrorCode::Truncated, "a prefix of the magic is a truncated sealed file");
}

#[test]
fn data_after_the_footer_is_rejected() {
    let mut sealed = Sealer::seal_all(&options(Some(key()), None, 64), b"abc").unwrap();
    sealed.push(0);
    assert_eq!(open_sequential(&sealed, Some(key()), 10).1.unwrap().code(), ErrorCode::Corrupted);
    assert!(open_random(&sealed, Some(&key())).is_err());
}

// ---- The auditor's tests --------------------------------------------------------------------

/// A named sealed file, its key and its plaintext.
type NamedFile = (String, Vec<u8>, Option<Key>, Vec<u8>);

/// A named change to a file's bytes.
type Change = (&'static str, Box<dyn Fn(&mut Vec<u8>)>);

/// Multi-chunk files of both versions, encrypted or not, compressed or not.
fn multi_chunk_files() -> Vec<NamedFile> {
    let data = [text(3000), noise(1500, 3), text(700)].concat();
    let mut files = Vec::new();
    for version in [1, 2] {
        for k in [Some(key()), None] {
            for level in [Some(6), None] {
                let name = format!("v{version} key {} level {level:?}", k.is_some());
                files.push((name, seal_v(version, k.clone(), level, 512, &data), k.clone(), data.clone()));
            }
        }
    }
    files
}

#[test]
fn header_tampering_with_a_recomputed_crc_is_rejected_by_every_reader() {
    for (name, sealed, k, data) in multi_chunk_files() {
        let version = sealed[8];
        let mut changes: Vec<Change> = vec![
            ("size flag", Box::new(|f: &mut Vec<u8>| f[9] |= 1)),
            (
                "size flag and the true total",
                Box::new(move |f: &mut Vec<u8>| {
                    f[9] |= 1;
                    f[16..24].copy_from_slice(&5200u64.to_le_bytes());
                }),
            ),
            ("compression id", Box::new(|f: &mut Vec<u8>| f[10] ^= 1)),
            ("encryption id", Box::new(|f: &mut Vec<u8>| f[11] = if f[11] == 0 { 3 } else { 0 })),
            ("chunk size", Box::new(|f: &mut Vec<u8>| f[12..16].copy_from_slice(&256u32.to_le_bytes()))),
            ("chunk size up", Box::new(|f: &mut Vec<u8>| f[12..16].copy_from_slice(&1024u32.to_le_bytes()))),
            ("salt", Box::new(|f: &mut Vec<u8>| f[30] ^= 0x10)),
        ];
        if version == 2 {
            changes.push(("commitment", Box::new(|f: &mut Vec<u8>| f[50] ^= 1)));
            changes.push(("commitment zeroed", Box::new(|f: &mut Vec<u8>| f[40..72].fill(0))));
            // A downgrade to version 1: the first 48 bytes re-read as a v1 header.
            changes.push((
                "version 2 -> 1",
                Box::new(|f: &mut Vec<u8>| {
                    f[8] = 1;
                    f[40..44].fill(0);
                }),
            ));
        } else {
            changes.push(("version 1 -> 2", Box::new(|f: &mut Vec<u8>| f[8] = 2)));
        }
        for (what, change) in changes {
            let mut bad = sealed.clone();
            change(&mut bad);
            if bad[8] == 2 && bad.len() > 80 {
                recrc(&mut bad);
            } else {
                let crc = crc32fast::hash(&bad[..44]);
                bad[44..48].copy_from_slice(&crc.to_le_bytes());
            }
            if bad == sealed {
                continue;
            }
            if version == 1 && k.is_none() && matches!(what, "salt" | "size flag and the true total" | "compression id")
            {
                // Version 1's unencrypted CRCs do not bind the header (see `crc_header`): a
                // change that leaves the layout alone goes unnoticed, but yields the same bytes.
                let (out, e) = open_sequential(&bad, None, 100);
                assert!(e.is_some() || out == data, "{name}: {what}");
                assert!(open_random(&bad, None).map_or(true, |r| r == data), "{name}: {what}");
                continue;
            }
            assert_all_refuse(&bad, k.clone(), &data, &format!("{name}: {what}"));
            // And read with the other expectation of encryption too.
            let other = if k.is_some() { None } else { Some(key()) };
            assert_all_refuse(&bad, other, &data, &format!("{name}: {what}, other key"));
        }
    }
}

#[test]
fn splicing_two_files_under_one_key_is_rejected() {
    let data_a = text(4000);
    let data_b: Vec<u8> = text(4000).iter().map(|b| b.to_ascii_uppercase()).collect();
    for version in [1, 2] {
        for k in [Some(key()), None] {
            for level in [None, Some(6)] {
                // Two files under one key, same length and layout, different salts.
                let opts = options(k.clone(), level, 512);
                let a = seal_with_salt(&opts, [1; 16], version, &data_a).unwrap();
                let b = seal_with_salt(&opts, [2; 16], version, &data_b).unwrap();
                let (ha, ra, ta) = records(&a);
                let (hb, rb, tb) = records(&b);
                let name = format!("v{version} key {} level {level:?}", k.is_some());
                // A chunk of A in B, at the same position.
                let mut mixed = rb.clone();
                mixed[2] = ra[2].clone();
                let spliced = [hb.clone(), mixed.concat(), tb.clone()].concat();
                if version == 1 && k.is_none() {
                    // The known limit of version 1 without a key, fixed in version 2: its CRCs
                    // do not bind the header, so a chunk of another file with the same
                    // parameters passes (at the same position; the nonce still binds that).
                    if ra[2].len() == rb[2].len() {
                        assert!(open_sequential(&spliced, None, 1000).1.is_none(), "{name}: v1's known limit");
                    }
                    let mut moved = rb.clone();
                    moved.swap(1, 2);
                    let moved = [hb.clone(), moved.concat(), tb.clone()].concat();
                    assert_all_refuse(&moved, None, &data_b, &format!("{name}: chunks moved"));
                    continue;
                }
                assert_all_refuse(&spliced, k.clone(), &data_b, &format!("{name}: a chunk of A in B"));
                // A's index (and footer) on B.
                let index_on = [hb.clone(), rb.concat(), ta.clone()].concat();
                assert_all_refuse(&index_on, k.clone(), &data_b, &format!("{name}: A's index on B"));
                // A's header with B's chunks and index.
                let header_on = [ha.clone(), rb.concat(), tb.clone()].concat();
                assert_all_refuse(&header_on, k.clone(), &data_a, &format!("{name}: A's header on B"));
                assert_all_refuse(&header_on, k.clone(), &data_b, &format!("{name}: A's header on B"));
            }
        }
    }
}

/// A crafted file: `chunks` are (position, last, deflated, body), then the index fields.
struct Crafted {
    what: &'static str,
    compressed: bool,
    total_in_header: Option<u64>,
    chunks: Vec<(u64, bool, bool, Vec<u8>)>,
    /// (total, count, lens); `None` lens = the true record lengths.
    index: (u64, u64, Option<Vec<u32>>),
}

fn malformed_files(cs: usize) -> Vec<Crafted> {
    let full = |i: u8| vec![b'a' + i; cs];
    let deflated_full = |i: u8| deflate_all(&full(i), 6).unwrap();
    vec![
        Crafted {
            what: "the index's chunk count is one more than its entries",
            compressed: false,
            total_in_header: None,
            chunks: vec![(0, false, false, full(0)), (1, false, false, full(1)), (2, true, false, full(2))],
            index: (3 * cs as u64, 4, None),
        },
        Crafted {
            what: "the index lists one chunk fewer than the file has",
            compressed: false,
            total_in_header: None,
            chunks: vec![(0, false, false, full(0)), (1, false, false, full(1)), (2, true, false, full(2))],
            index: (2 * cs as u64, 2, Some(vec![(4 + cs + 16) as u32; 2])),
        },
        Crafted {
            what: "the index's total disagrees with the chunks",
            compressed: false,
            total_in_header: None,
            chunks: vec![(0, false, false, full(0)), (1, true, false, vec![1; 10])],
            index: (cs as u64 + 11, 2, None),
        },
        Crafted {
            what: "the header's total disagrees with the index's",
            compressed: false,
            total_in_header: Some(cs as u64 + 9),
            chunks: vec![(0, false, false, full(0)), (1, true, false, vec![1; 10])],
            index: (cs as u64 + 10, 2, None),
        },
        Crafted {
            what: "lengths that do not tile (two swapped)",
            compressed: false,
            total_in_header: None,
            chunks: vec![(0, false, false, full(0)), (1, true, false, vec![1; 10])],
            index: (cs as u64 + 10, 2, Some(vec![(4 + 10 + 16) as u32, (4 + cs + 16) as u32])),
        },
        Crafted {
            what: "the last flag on a middle chunk",
            compressed: false,
            total_in_header: None,
            chunks: vec![(0, false, false, full(0)), (1, true, false, full(1)), (2, true, false, full(2))],
            index: (3 * cs as u64, 3, None),
        },
        Crafted {
            what: "no last flag at all",
            compressed: false,
            total_in_header: None,
            chunks: vec![(0, false, false, full(0)), (1, false, false, full(1))],
            index: (2 * cs as u64, 2, None),
        },
        Crafted {
            what: "a short middle chunk",
            compressed: false,
            total_in_header: None,
            chunks: vec![(0, false, false, full(0)), (1, false, false, vec![7; 20]), (2, true, false, full(2))],
            index: (2 * cs as u64 + 20, 3, None),
        },
        Crafted {
            what: "a short middle chunk, deflated",
            compressed: true,
            total_in_header: None,
            chunks: vec![
                (0, false, true, deflated_full(0)),
                (1, false, true, deflate_all(&[7; 20], 6).unwrap()),
                (2, true, true, deflated_full(2)),
            ],
            index: (2 * cs as u64 + 20, 3, None),
        },
        Crafted {
            what: "an empty last chunk after others",
            compressed: false,
            total_in_header: None,
            chunks: vec![(0, false, false, full(0)), (1, true, false, vec![])],
            index: (cs as u64, 2, None),
        },
        Crafted {
            what: "the deflated flag in an uncompressed file",
            compressed: false,
            total_in_header: None,
            chunks: vec![(0, false, true, deflated_full(0)), (1, true, false, vec![1; 10])],
            index: (cs as u64 + 10, 2, None),
        },
        Crafted {
            what: "a chunk sealed at another position",
            compressed: false,
            total_in_header: None,
            chunks: vec![(0, false, false, full(0)), (2, false, false, full(1)), (2, true, false, full(2))],
            index: (3 * cs as u64, 3, None),
        },
        Crafted {
            what: "a deflated chunk that inflates short of the chunk size",
            compressed: true,
            total_in_header: None,
            chunks: vec![(0, false, true, deflate_all(&full(0)[..cs - 1], 6).unwrap()), (1, true, false, vec![1; 10])],
            index: (cs as u64 + 10, 2, None),
        },
        Crafted {
            what: "a deflated chunk with bytes after its deflate stream",
            compressed: true,
            total_in_header: None,
            chunks: vec![(0, false, true, [deflated_full(0), vec![0, 1, 2]].concat()), (1, true, false, vec![1; 10])],
            index: (cs as u64 + 10, 2, None),
        },
        Crafted {
            what: "a deflated body that is not deflate",
            compressed: true,
            total_in_header: None,
            chunks: vec![(0, true, true, vec![0xFF; 30])],
            index: (30, 1, None),
        },
        Crafted {
            what: "an index whose count says 0",
            compressed: false,
            total_in_header: None,
            chunks: vec![(0, true, false, vec![])],
            index: (0, 0, None),
        },
    ]
}

#[test]
fn files_that_authenticate_but_are_malformed_are_rejected_by_every_reader() {
    let cs = 64;
    for version in [1, 2] {
        for k in [Some(key()), None] {
            for c in malformed_files(cs) {
                let head = Header {
                    total_len: c.total_in_header,
                    ..header(version, k.is_some(), c.compressed, cs as u32, None)
                };
                let mut crafter = Crafter::new(head, k.as_ref()).unwrap();
                for (position, last, deflated, body) in &c.chunks {
                    crafter.record(*position, *last, *deflated, body).unwrap();
                }
                let (total, count, lens) = c.index.clone();
                let lens = lens.unwrap_or_else(|| crafter.lens().to_vec());
                crafter.index(total, count, &lens).unwrap();
                let file = crafter.finish();
                // What the records hold, in order, is the most a reader could release.
                let plain: Vec<u8> = c
                    .chunks
                    .iter()
                    .flat_map(|(_, _, deflated, body)| {
                        if *deflated {
                            crate::core::compress::inflate_all(body, 1 << 20).unwrap_or_default()
                        } else {
                            body.clone()
                        }
                    })
                    .collect();
                assert_all_refuse(&file, k.clone(), &plain, &format!("v{version} key {}: {}", k.is_some(), c.what));
            }
        }
    }
}

#[test]
fn the_crafter_makes_valid_files_when_told_the_truth() {
    // The control for the test above: the same crafting, truthful, opens everywhere.
    let cs = 64;
    for version in [1, 2] {
        for k in [Some(key()), None] {
            let data = text(3 * cs + 5);
            let mut c = Crafter::new(header(version, k.is_some(), true, cs as u32, None), k.as_ref()).unwrap();
            for (i, piece) in data.chunks(cs).enumerate() {
                c.chunk(i as u64, i == 3, piece, Some(6)).unwrap();
            }
            c.true_index(data.len() as u64).unwrap();
            let file = c.finish();
            let (out, e) = open_sequential(&file, k.clone(), 13);
            assert!(e.is_none(), "{e:?}");
            assert_eq!(out, data);
            assert_eq!(open_random(&file, k.as_ref()).unwrap(), data);
            let (random, sequential) = open_engine(&file, k);
            assert_eq!(random.unwrap(), data);
            assert_eq!(sequential.unwrap(), data);
        }
    }
}

#[test]
fn bit_flips_and_truncation_on_multi_chunk_compressed_encrypted_files() {
    let data = [text(20_000), noise(3000, 11), text(5000)].concat();
    for version in [1, 2] {
        let sealed = seal_v(version, Some(key()), Some(6), 2048, &data);
        let (_, recs, _) = records(&sealed);
        assert!(recs.len() >= 14, "{} chunks", recs.len());
        // Every byte, one bit each (rotating), and every bit of header, index and footer.
        let header_len = Header::peek_len(&sealed).unwrap();
        let tail_start = sealed.len() - (16 + 4 * recs.len() + 16) - FOOTER_LEN;
        let mut bits: Vec<usize> = (0..sealed.len()).map(|i| i * 8 + i % 8).collect();
        bits.extend(0..header_len * 8);
        bits.extend(tail_start * 8..sealed.len() * 8);
        for bit in bits {
            let mut bad = sealed.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let (out, e) = open_sequential(&bad, Some(key()), 4096);
            let e = e.unwrap_or_else(|| panic!("v{version}: the sequential reader accepted a flip of bit {bit}"));
            assert!(data.starts_with(&out), "v{version} bit {bit}: released plaintext differs");
            assert_ne!(e.error_type(), ErrorType::Validation, "bit {bit}: {e}");
            assert!(open_random(&bad, Some(&key())).is_err(), "v{version}: random access accepted bit {bit}");
        }
        for len in (0..sealed.len()).step_by(7).chain(sealed.len() - 40..sealed.len()) {
            let (out, e) = open_sequential(&sealed[..len], Some(key()), 1000);
            assert!(e.is_some() && data.starts_with(&out), "v{version}: {len} bytes accepted");
            assert!(open_random(&sealed[..len], Some(&key())).is_err());
        }
        // Through the engine, a sample of flips over both sources.
        for bit in (0..sealed.len() * 8).step_by(997) {
            let mut bad = sealed.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let (random, sequential) = open_engine(&bad, Some(key()));
            assert!(random.is_err() && sequential.is_err(), "v{version}: the engine accepted bit {bit}");
        }
    }
}

#[test]
fn a_source_changed_after_open_gives_errors_never_other_plaintext() {
    let data = text(64 * 1024);
    for version in [1, 2] {
        for k in [Some(key()), None] {
            let sealed = seal_v(version, k.clone(), Some(6), 1024, &data);
            let (head, recs, _) = records(&sealed);
            let record_at = |i: usize| head.len() + recs[..i].iter().map(Vec::len).sum::<usize>();
            let name = format!("v{version} key {}", k.is_some());

            // A chunk's bytes change after open: reading it fails (tag or CRC).
            let source = MutableSource::new(sealed.clone());
            let stream = block_on(FileStream::open(source.clone(), stream_config(k.clone()))).unwrap();
            let mut buf = [0u8; 100];
            block_on(stream.read_at(&mut buf, 0)).unwrap();
            let at = record_at(40) + 10;
            source.change(|d| d[at] ^= 0x20);
            let e = block_on(stream.read_at(&mut buf, 40 * 1024)).unwrap_err();
            assert!(matches!(e.code(), ErrorCode::AuthFailed | ErrorCode::ChecksumMismatch), "{name}: {e}");

            // The header and index change after open: the stream keeps the ones it verified
            // (records are checked against the authenticated header), so reads stay right.
            let source = MutableSource::new(sealed.clone());
            let stream = block_on(FileStream::open(source.clone(), stream_config(k.clone()))).unwrap();
            source.change(|d| {
                d[24..40].fill(0);
                let n = d.len();
                d[n - 60..n - 30].fill(0);
            });
            let n = block_on(stream.read_at(&mut buf, 50 * 1024)).unwrap();
            assert_eq!(&buf[..n], &data[50 * 1024..50 * 1024 + n], "{name}");

            // A chunk replaced by another (valid) chunk of the same file: refused.
            let source = MutableSource::new(sealed.clone());
            let stream = block_on(FileStream::open(source.clone(), stream_config(k.clone()))).unwrap();
            let (a, b) = (record_at(30), record_at(31));
            let (c, d) = (record_at(31), record_at(32));
            if b - a == d - c {
                source.change(|bytes| {
                    let other = bytes[c..d].to_vec();
                    bytes[a..b].copy_from_slice(&other);
                });
                assert!(block_on(stream.read_at(&mut buf, 30 * 1024)).is_err(), "{name}: a moved chunk");
            }
        }
    }
    // NovusPack v1 framing on a random-access source: verified at open, then every later read
    // checks its blocks against the tags of what was verified.
    let nonce = [5u8; 12];
    let framed = crate::core::crypto::v1_encrypt_with_nonce(&key(), &nonce, &noise(300_000, 2));
    let source = MutableSource::new(framed);
    let config = crate::core::config::StreamConfig { key: Some(key()), ..crate::core::config::StreamConfig::new() };
    let stream = block_on(FileStream::open(source.clone(), config)).unwrap();
    let mut buf = [0u8; 64];
    block_on(stream.read_at(&mut buf, 200_000)).unwrap();
    source.change(|d| d[12 + 200_010] ^= 1);
    let e = block_on(stream.read_at(&mut buf, 200_000)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthFailed);
    assert_eq!(block_on(stream.read_at(&mut [0u8; 0], 0)).unwrap(), 0, "an empty read at 0 is nothing");
}

/// How a property test damages a file.
#[derive(Clone, Debug)]
enum Damage {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Remove(usize),
    /// Copies `len` bytes from one offset over another.
    Splice(usize, usize, usize),
}

fn damage(sealed: &[u8], d: &Damage) -> Option<Vec<u8>> {
    let mut bad = sealed.to_vec();
    let n = bad.len();
    match *d {
        Damage::Flip(at, bit) => bad[at % n] ^= 1 << (bit % 8),
        Damage::Truncate(at) => bad.truncate(at % n),
        Damage::Insert(at, byte) => bad.insert(at % (n + 1), byte),
        Damage::Remove(at) => {
            bad.remove(at % n);
        }
        Damage::Splice(from, to, len) => {
            let (from, to) = (from % n, to % n);
            let len = len.min(n - from).min(n - to);
            let piece = bad[from..from + len].to_vec();
            bad[to..to + len].copy_from_slice(&piece);
        }
    }
    (bad != sealed).then_some(bad)
}

fn any_damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Damage::Flip(a, b)),
        any::<usize>().prop_map(Damage::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Damage::Insert(a, b)),
        any::<usize>().prop_map(Damage::Remove),
        (any::<usize>(), any::<usize>(), 1usize..600).prop_map(|(a, b, c)| Damage::Splice(a, b, c)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn seal_then_open_gives_back_the_plaintext(
        len in prop_oneof![Just(0usize), Just(1usize), 0usize..6000],
        compressible in any::<bool>(),
        chunk_size in 64usize..2048,
        level in proptest::option::of(0u8..=10),
        encrypted in any::<bool>(),
        step in 1usize..3000,
        seed in any::<u64>(),
    ) {
        let data = if compressible { text(len) } else { noise(len, seed) };
        let k = encrypted.then(key);
        let sealed = Sealer::seal_all(&options(k.clone(), level, chunk_size), &data).unwrap();
        let (out, e) = open_sequential(&sealed, k.clone(), step);
        prop_assert!(e.is_none(), "{:?}", e);
        prop_assert_eq!(&out, &data);
        prop_assert_eq!(open_random(&sealed, k.as_ref()).unwrap(), data);
    }

    #[test]
    fn both_readers_agree_on_valid_files_and_reject_damaged_ones(
        len in 0usize..5000,
        compressible in any::<bool>(),
        chunk_size in prop_oneof![Just(64usize), 64usize..1500],
        level in proptest::option::of(0u8..=9),
        encrypted in any::<bool>(),
        version in 1u8..=2,
        seed in any::<u64>(),
        damages in proptest::collection::vec(any_damage(), 1..3),
    ) {
        let data = if compressible { text(len) } else { noise(len, seed) };
        let k = encrypted.then(key);
        let sealed = seal_with_salt(&options(k.clone(), level, chunk_size), seed.to_le_bytes().repeat(2).try_into().unwrap(), version, &data).unwrap();
        let (out, e) = open_sequential(&sealed, k.clone(), 1 + (seed as usize % 500));
        prop_assert!(e.is_none());
        prop_assert_eq!(&out, &data);
        prop_assert_eq!(&open_random(&sealed, k.as_ref()).unwrap(), &data);
        let mut bad = sealed.clone();
        for d in &damages {
            if let Some(next) = damage(&bad, d) {
                bad = next;
            }
        }
        if bad != sealed {
            let (out, e) = open_sequential(&bad, k.clone(), 1 + (seed as usize % 700));
            let random = open_random(&bad, k.as_ref());
            if encrypted {
                // Under a key, damage is never accepted, and nothing but a prefix is released.
                prop_assert!(e.is_some(), "the sequential reader accepted {:?}", damages);
                prop_assert!(data.starts_with(&out));
                prop_assert!(random.is_err(), "the random-access reader accepted {:?}", damages);
            } else {
                // A CRC is not a MAC: damage that keeps every CRC (vanishingly rare here) is a
                // valid file, which both readers must then read alike.
                match (e, random) {
                    (None, Ok(r)) => prop_assert_eq!(r, out),
                    (Some(_), Err(_)) => {}
                    (e, r) => prop_assert!(false, "the readers disagree: {:?} / {:?}", e, r.err()),
                }
            }
        }
    }
}

#[test]
fn committed_test_vectors_open_and_uncompressed_ones_reproduce() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut seen = [0usize; 3];
    for entry in std::fs::read_dir(&dir).expect("tests/vectors exists") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let v = vectors::Vector::load(&path);
        let k = v.key.map(Key::from);
        let (out, e) = open_sequential(&v.sealed, k.clone(), 7);
        match &v.error {
            None => {
                assert!(e.is_none(), "{}: {e:?}", v.name);
                assert_eq!(out, v.plaintext, "{}", v.name);
                assert_eq!(open_random(&v.sealed, k.as_ref()).unwrap(), v.plaintext, "{}", v.name);
                assert_eq!(v.sealed[8], v.version, "{}: the vector's version", v.name);
                if v.level.is_none() {
                    let again = seal_with_salt(&vectors::options_of(&v), v.salt, v.version, &v.plaintext).unwrap();
                    assert_eq!(again, v.sealed, "{}: the writer is deterministic for a given salt", v.name);
                }
            }
            Some(code) => {
                let e = e.unwrap_or_else(|| panic!("{}: the sequential reader accepted it", v.name));
                assert_eq!(e.code().as_str(), code.as_str(), "{}", v.name);
                let r = open_random(&v.sealed, k.as_ref()).unwrap_err();
                assert_eq!(r.error_type(), e.error_type(), "{}: {r}", v.name);
            }
        }
        seen[usize::from(v.version)] += 1;
    }
    assert!(seen[1] >= 11 && seen[2] >= 13, "expected the committed vectors of both versions, found {seen:?}");
}

/// Writes the version 2 vectors of tests/vectors (`v2-*.json`) when run with
/// NOVUSPACK_WRITE_VECTORS=1 (then review and commit the files). The version 1 vectors are
/// frozen: they were written by the version 1 writer and readers must keep opening them.
#[test]
fn write_test_vectors_on_request() {
    if std::env::var("NOVUSPACK_WRITE_VECTORS").is_err() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    std::fs::create_dir_all(&dir).unwrap();
    let k: [u8; 32] = core::array::from_fn(|i| i as u8);
    let salt = [0xA5; 16];
    type Case = (&'static str, &'static str, Option<[u8; 32]>, Option<u8>, usize, Vec<u8>);
    let cases: Vec<Case> = vec![
        ("v2-empty-plain", "version 2, empty plaintext, no key, stored", None, None, 64, vec![]),
        ("v2-short-encrypted", "version 2, 11 bytes, encrypted, stored", Some(k), None, 64, b"hello world".to_vec()),
        (
            "v2-chunk-edge-encrypted",
            "version 2, exactly 2 chunks of 64, encrypted, stored",
            Some(k),
            None,
            64,
            text(128),
        ),
        ("v2-multi-plain", "version 2, 300 bytes of text, 64-byte chunks, stored, no key", None, None, 64, text(300)),
        (
            "v2-multi-deflate",
            "version 2, 300 bytes of text, 64-byte chunks, deflate level 6, no key",
            None,
            Some(6),
            64,
            text(300),
        ),
        (
            "v2-multi-deflate-encrypted",
            "version 2, 1000 bytes of text, 256-byte chunks, deflate 9, encrypted",
            Some(k),
            Some(9),
            256,
            text(1000),
        ),
        (
            "v2-mixed-encrypted",
            "version 2, text then noise: deflated and stored chunks, encrypted",
            Some(k),
            Some(6),
            128,
            [text(200), noise(200, 7)].concat(),
        ),
    ];
    for (name, description, key, level, chunk_size, plaintext) in cases {
        let v = vectors::Vector {
            name: name.into(),
            description: description.into(),
            version: 2,
            key,
            level,
            chunk_size,
            salt,
            plaintext: plaintext.clone(),
            sealed: vec![],
            error: None,
        };
        let sealed = seal_with_salt(&vectors::options_of(&v), salt, 2, &plaintext).unwrap();
        vectors::Vector { sealed, ..v }.save(&dir);
    }
    // Damaged vectors: readers must fail with exactly this code.
    let k_key = Key::from(k);
    let stored_64 = options(Some(k_key.clone()), None, 64);
    let good = seal_with_salt(&stored_64, salt, 2, &text(100)).unwrap();
    let mut flipped = good.clone();
    flipped[HEADER_LEN + 10] ^= 0x80;
    let truncated = good[..good.len() - FOOTER_LEN].to_vec();
    let four_chunks = seal_with_salt(&stored_64, salt, 2, &text(200)).unwrap();
    let (head, recs, tail) = records(&four_chunks);
    let reordered = [head, recs[1].clone(), recs[0].clone(), recs[2..].concat(), tail].concat();
    let bomb = craft(2, Some(&k_key), 4096, &deflate_all(&vec![0u8; 1 << 20], 9).unwrap(), true, None);
    let outside = craft(2, Some(&k_key), 64, &text(64), false, Some(vec![1_000_000]));
    let other_key = seal_with_salt(&options(Some(Key::from([0x77; 32])), None, 64), salt, 2, &text(100)).unwrap();
    let mut commitment = good.clone();
    commitment[41] ^= 1;
    recrc(&mut commitment);
    for (name, description, sealed, code) in [
        (
            "v2-bad-reordered",
            "version 2, encrypted, 200 bytes in 64-byte chunks, chunks 0 and 1 swapped: AUTH_FAILED",
            reordered,
            "AUTH_FAILED",
        ),
        (
            "v2-bad-bomb",
            "version 2, encrypted, a 4096-byte chunk whose deflate body inflates to 1 MiB: OUTPUT_LIMIT",
            bomb,
            "OUTPUT_LIMIT",
        ),
        (
            "v2-bad-index-outside",
            "version 2, encrypted, the index claims a 1 MB chunk: CORRUPTED (type Corruption)",
            outside,
            "CORRUPTED",
        ),
        (
            "v2-bad-flipped-chunk",
            "version 2, encrypted, one bit flipped in chunk 0: AUTH_FAILED (type Encryption)",
            flipped,
            "AUTH_FAILED",
        ),
        (
            "v2-bad-no-footer",
            "version 2, encrypted, footer cut off: TRUNCATED reading in order; a Corruption error by random access",
            truncated,
            "TRUNCATED",
        ),
        (
            "v2-bad-wrong-key",
            "version 2, sealed under another key: AUTH_FAILED at the header's key commitment, before any chunk",
            other_key,
            "AUTH_FAILED",
        ),
        (
            "v2-bad-commitment",
            "version 2, one bit of the key commitment flipped and the header CRC recomputed: AUTH_FAILED at open",
            commitment,
            "AUTH_FAILED",
        ),
    ] {
        vectors::Vector {
            name: name.into(),
            description: description.into(),
            version: 2,
            key: Some(k),
            level: None,
            chunk_size: 64,
            salt,
            plaintext: vec![],
            sealed,
            error: Some(code.into()),
        }
        .save(&dir);
    }
}

/// The JSON test-vector files (hex fields), read and written without a JSON dependency.
mod vectors {
    use super::*;

    pub struct Vector {
        pub name: String,
        pub description: String,
        /// The format version (files without the field are version 1).
        pub version: u8,
        pub key: Option<[u8; 32]>,
        pub level: Option<u8>,
        pub chunk_size: usize,
        pub salt: [u8; 16],
        pub plaintext: Vec<u8>,
        pub sealed: Vec<u8>,
        pub error: Option<String>,
    }

    pub fn options_of(v: &Vector) -> SealOptions {
        SealOptions { key: v.key.map(Key::from), level: v.level, chunk_size: Some(v.chunk_size), total_len: None }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn field<'a>(json: &'a str, name: &str) -> Option<&'a str> {
        let at = json.find(&format!("\"{name}\": "))? + name.len() + 4;
        let rest = &json[at..];
        let rest = rest.strip_prefix('"').unwrap_or(rest);
        let end = rest.find(['"', ',', '\n']).unwrap();
        Some(&rest[..end]).filter(|v| *v != "null")
    }

    impl Vector {
        pub fn load(path: &std::path::Path) -> Vector {
            let json = std::fs::read_to_string(path).unwrap();
            Vector {
                name: field(&json, "name").unwrap().into(),
                description: field(&json, "description").unwrap().into(),
                version: field(&json, "version").map_or(1, |v| v.parse().unwrap()),
                key: field(&json, "key").map(|k| unhex(k).try_into().unwrap()),
                level: field(&json, "level").map(|l| l.parse().unwrap()),
                chunk_size: field(&json, "chunk_size").unwrap().parse().unwrap(),
                salt: unhex(field(&json, "salt").unwrap()).try_into().unwrap(),
                plaintext: unhex(field(&json, "plaintext").unwrap_or("")),
                sealed: unhex(field(&json, "sealed").unwrap()),
                error: field(&json, "error").map(Into::into),
            }
        }

        pub fn save(&self, dir: &std::path::Path) {
            let opt = |v: Option<String>| v.map_or("null".into(), |v| format!("\"{v}\""));
            let json = format!(
                "{{\n  \"name\": \"{}\",\n  \"description\": \"{}\",\n  \"version\": {},\n  \"key\": {},\n  \"level\": {},\n  \"chunk_size\": {},\n  \"salt\": \"{}\",\n  \"plaintext\": \"{}\",\n  \"sealed\": \"{}\",\n  \"error\": {}\n}}\n",
                self.name,
                self.description,
                self.version,
                opt(self.key.map(|k| hex(&k))),
                self.level.map_or("null".into(), |l| l.to_string()),
                self.chunk_size,
                hex(&self.salt),
                hex(&self.plaintext),
                hex(&self.sealed),
                opt(self.error.clone()),
            );
            std::fs::write(dir.join(format!("{}.json", self.name)), json).unwrap();
        }
    }
}
