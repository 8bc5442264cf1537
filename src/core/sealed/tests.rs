//! Tests of the sealed format through its two readers: the sequential `Opener` and the
//! random-access `SealedIndex`. Every damaged input must fail with a typed error and never
//! yield plaintext that differs from the original.

use proptest::prelude::*;

use super::*;
use crate::core::compress::deflate_all;
use crate::core::crypto::{sealed_nonce, ChunkCipher, NonceKind};
use crate::core::error::{ErrorCode, ErrorType};
use crate::core::testing::{noise, text};

fn key() -> Key {
    Key::from([0x42; 32])
}

fn options(key: Option<Key>, level: Option<u8>, chunk_size: usize) -> SealOptions {
    SealOptions { key, level, chunk_size: Some(chunk_size), total_len: None, salt: Some([9; 16]) }
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
    let head = &sealed[..sealed.len().min(HEADER_LEN)];
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

#[test]
fn round_trips_at_chunk_edges_with_every_mode() {
    let cs = 256;
    for len in [0, 1, cs - 1, cs, cs + 1, 2 * cs, 3 * cs + 7] {
        for data in [text(len), noise(len, len as u64 + 1)] {
            for k in [None, Some(key())] {
                for level in [None, Some(0), Some(1), Some(6), Some(10)] {
                    let sealed = Sealer::seal_all(&options(k.clone(), level, cs), &data).unwrap();
                    let (out, e) = open_sequential(&sealed, k.clone(), 97);
                    assert!(e.is_none(), "len {len} level {level:?}: {e:?}");
                    assert_eq!(out, data);
                    assert_eq!(open_random(&sealed, k.as_ref()).unwrap(), data);
                }
            }
        }
    }
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
fn the_salt_is_random_per_file() {
    let opts = SealOptions { key: Some(key()), ..Default::default() };
    let a = Sealer::seal_all(&opts, b"same").unwrap();
    let b = Sealer::seal_all(&opts, b"same").unwrap();
    assert_ne!(a[24..40], b[24..40]);
    assert_ne!(a, b);
}

fn small_files() -> Vec<(Vec<u8>, Option<Key>, Vec<u8>)> {
    let data = text(200);
    [(Some(key()), Some(6)), (None, Some(6)), (Some(key()), None), (None, None)]
        .into_iter()
        .map(|(k, level)| (Sealer::seal_all(&options(k.clone(), level, 64), &data).unwrap(), k, data.clone()))
        .collect()
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
    let mut pos = HEADER_LEN;
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
    (sealed[..HEADER_LEN].to_vec(), recs, sealed[pos..].to_vec())
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
    let sealed = Sealer::seal_all(&options(Some(key()), Some(6), 128), &data).unwrap();
    let wrong = Key::from([1; 32]);
    let (out, e) = open_sequential(&sealed, Some(wrong.clone()), 64);
    assert!(out.is_empty());
    assert_eq!(e.unwrap().code(), ErrorCode::AuthFailed);
    assert_eq!(open_random(&sealed, Some(&wrong)).unwrap_err().code(), ErrorCode::AuthFailed);
    assert_eq!(open_sequential(&sealed, None, 64).1.unwrap().code(), ErrorCode::KeyRequired);
    assert_eq!(open_random(&sealed, None).unwrap_err().code(), ErrorCode::KeyRequired);

    let plain = Sealer::seal_all(&options(None, Some(6), 128), &data).unwrap();
    assert_eq!(open_sequential(&plain, Some(key()), 64).1.unwrap().code(), ErrorCode::NotEncrypted);
    assert_eq!(open_random(&plain, Some(&key())).unwrap_err().code(), ErrorCode::NotEncrypted);
    let mut opener = Opener::new(None).require_encryption();
    assert_eq!(opener.update(&plain, &mut Vec::new()).unwrap_err().code(), ErrorCode::NotEncrypted);
}

#[test]
fn an_unknown_version_or_algorithm_is_unsupported() {
    let sealed = Sealer::seal_all(&options(None, None, 64), b"x").unwrap();
    let mut v2 = sealed.clone();
    v2[8] = 2;
    assert_eq!(Header::parse(&v2).unwrap_err().code(), ErrorCode::UnsupportedVersion);
    let mut alg = sealed[..HEADER_LEN].to_vec();
    alg[11] = 7;
    let crc = crc32fast::hash(&alg[..44]);
    alg[44..48].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(Header::parse(&alg).unwrap_err().code(), ErrorCode::UnsupportedAlgorithm);
    assert_eq!(
        Header::parse(b"hello world, this is not a sealed file at all!!!").unwrap_err().code(),
        ErrorCode::UnknownFormat
    );
}

/// Builds a one-chunk sealed file (claiming `chunk_size` plaintext bytes) from a hand-made
/// record body, to reach states a correct sealer never makes.
fn craft(k: Option<&Key>, chunk_size: u32, body: &[u8], deflated: bool, lens_override: Option<Vec<u32>>) -> Vec<u8> {
    let header = Header { compressed: true, encrypted: k.is_some(), chunk_size, total_len: None, salt: [3; 16] };
    let codec = ChunkCodec::new(header.clone(), k).unwrap();
    let mut out = header.to_bytes().to_vec();
    let prefix = RecordPrefix { payload_len: (body.len() + codec.overhead()) as u32, deflated, last: true }.to_bytes();
    let nonce = sealed_nonce(0, NonceKind::LastChunk);
    let mut b = body.to_vec();
    let check = match k {
        Some(k) => {
            let mut aad = header.to_bytes().to_vec();
            aad.extend_from_slice(&prefix);
            ChunkCipher::derive(k, &header.salt).seal(&nonce, &aad, &mut b).to_vec()
        }
        None => {
            let mut h = crc32fast::Hasher::new();
            h.update(&header.to_bytes());
            h.update(&nonce);
            h.update(&prefix);
            h.update(&b);
            h.finalize().to_le_bytes().to_vec()
        }
    };
    out.extend_from_slice(&prefix);
    out.extend_from_slice(&b);
    out.extend_from_slice(&check);
    let lens = lens_override.unwrap_or_else(|| vec![(out.len() - HEADER_LEN) as u32]);
    let (index, footer) = codec.seal_index(u64::from(chunk_size), &lens, out.len() as u64);
    out.extend_from_slice(&index);
    out.extend_from_slice(&footer.to_bytes());
    out
}

#[test]
fn a_chunk_that_inflates_past_the_chunk_size_is_a_bomb() {
    let bomb = deflate_all(&vec![0u8; 1 << 20], 9).unwrap();
    for k in [Some(key()), None] {
        assert!(bomb.len() < 4096, "the bomb's record fits the chunk size");
        let file = craft(k.as_ref(), 4096, &bomb, true, None);
        let (out, e) = open_sequential(&file, k.clone(), 4096);
        assert!(out.is_empty());
        assert_eq!(e.unwrap().code(), ErrorCode::OutputLimit);
        assert_eq!(open_random(&file, k.as_ref()).unwrap_err().code(), ErrorCode::OutputLimit);
    }
}

#[test]
fn an_index_or_footer_pointing_outside_the_data_is_corruption() {
    let body = text(64);
    for k in [Some(key()), None] {
        let good = craft(k.as_ref(), 64, &body, false, None);
        assert_eq!(open_random(&good, k.as_ref()).unwrap(), body);
        for lens in [vec![1_000_000], vec![20], vec![10, 10]] {
            let bad = craft(k.as_ref(), 64, &body, false, Some(lens));
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

#[test]
fn inspect_reads_header_and_footer_without_a_key() {
    let sealed = Sealer::seal_all(&options(Some(key()), Some(6), 256), &text(1000)).unwrap();
    let info = inspect(&sealed[..HEADER_LEN], &sealed[sealed.len() - FOOTER_LEN..], sealed.len() as u64).unwrap();
    assert!(info.header.encrypted && info.header.compressed);
    assert_eq!((info.header.chunk_size, info.chunk_count, info.stored_len), (256, 4, sealed.len() as u64));
    let cut = &sealed[..sealed.len() - 1];
    assert!(inspect(&cut[..HEADER_LEN], &cut[cut.len() - FOOTER_LEN..], cut.len() as u64).is_err());
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
        let sealed = Sealer::seal_all(&SealOptions { salt: None, ..options(k.clone(), level, chunk_size) }, &data).unwrap();
        let (out, e) = open_sequential(&sealed, k.clone(), step);
        prop_assert!(e.is_none(), "{:?}", e);
        prop_assert_eq!(&out, &data);
        prop_assert_eq!(open_random(&sealed, k.as_ref()).unwrap(), data);
    }
}

#[test]
fn committed_test_vectors_open_and_uncompressed_ones_reproduce() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut seen = 0;
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
                if v.level.is_none() {
                    let again = Sealer::seal_all(&vectors::options_of(&v), &v.plaintext).unwrap();
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
        seen += 1;
    }
    assert!(seen >= 6, "expected the committed vectors, found {seen}");
}

/// Writes tests/vectors when run with NOVUSPACK_WRITE_VECTORS=1 (then commit the files).
#[test]
fn write_test_vectors_on_request() {
    if std::env::var("NOVUSPACK_WRITE_VECTORS").is_err() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    std::fs::create_dir_all(&dir).unwrap();
    let k: [u8; 32] = core::array::from_fn(|i| i as u8);
    type Case = (&'static str, &'static str, Option<[u8; 32]>, Option<u8>, usize, Vec<u8>);
    let cases: Vec<Case> = vec![
        ("empty-plain", "empty plaintext, no key, stored", None, None, 64, vec![]),
        ("short-encrypted", "11 bytes, encrypted, stored", Some(k), None, 64, b"hello world".to_vec()),
        ("chunk-edge-encrypted", "exactly 2 chunks of 64, encrypted, stored", Some(k), None, 64, text(128)),
        ("multi-deflate", "300 bytes of text, 64-byte chunks, deflate level 6, no key", None, Some(6), 64, text(300)),
        (
            "multi-deflate-encrypted",
            "1000 bytes of text, 256-byte chunks, deflate 9, encrypted",
            Some(k),
            Some(9),
            256,
            text(1000),
        ),
        (
            "mixed-encrypted",
            "text then noise: deflated and stored chunks, encrypted",
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
            key,
            level,
            chunk_size,
            salt: [0xA5; 16],
            plaintext: plaintext.clone(),
            sealed: vec![],
            error: None,
        };
        let sealed = Sealer::seal_all(&vectors::options_of(&v), &plaintext).unwrap();
        vectors::Vector { sealed, ..v }.save(&dir);
    }
    // Damaged vectors: readers must fail with exactly this code.
    let stored_64 = SealOptions {
        key: Some(Key::from(k)),
        level: None,
        chunk_size: Some(64),
        total_len: None,
        salt: Some([0xA5; 16]),
    };
    let good = Sealer::seal_all(&stored_64, &text(100)).unwrap();
    let mut flipped = good.clone();
    flipped[HEADER_LEN + 10] ^= 0x80;
    let truncated = good[..good.len() - FOOTER_LEN].to_vec();
    let four_chunks = Sealer::seal_all(&stored_64, &text(200)).unwrap();
    let (head, recs, tail) = records(&four_chunks);
    let reordered = [head, recs[1].clone(), recs[0].clone(), recs[2..].concat(), tail].concat();
    let k_key = Key::from(k);
    let bomb = craft(Some(&k_key), 4096, &deflate_all(&vec![0u8; 1 << 20], 9).unwrap(), true, None);
    let outside = craft(Some(&k_key), 64, &text(64), false, Some(vec![1_000_000]));
    for (name, description, sealed, code) in [
        (
            "bad-reordered",
            "encrypted, 200 bytes in 64-byte chunks, chunks 0 and 1 swapped: AUTH_FAILED",
            reordered,
            "AUTH_FAILED",
        ),
        (
            "bad-bomb",
            "encrypted, a 4096-byte chunk whose deflate body inflates to 1 MiB: OUTPUT_LIMIT",
            bomb,
            "OUTPUT_LIMIT",
        ),
        (
            "bad-index-outside",
            "encrypted, the index claims a 1 MB chunk: CORRUPTED (type Corruption)",
            outside,
            "CORRUPTED",
        ),
        (
            "bad-flipped-chunk",
            "encrypted, one bit flipped in chunk 0: AUTH_FAILED (type Encryption)",
            flipped,
            "AUTH_FAILED",
        ),
        (
            "bad-no-footer",
            "encrypted, footer cut off: TRUNCATED reading in order; a Corruption error by random access",
            truncated,
            "TRUNCATED",
        ),
    ] {
        vectors::Vector {
            name: name.into(),
            description: description.into(),
            key: Some(k),
            level: None,
            chunk_size: 64,
            salt: [0xA5; 16],
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
        pub key: Option<[u8; 32]>,
        pub level: Option<u8>,
        pub chunk_size: usize,
        pub salt: [u8; 16],
        pub plaintext: Vec<u8>,
        pub sealed: Vec<u8>,
        pub error: Option<String>,
    }

    pub fn options_of(v: &Vector) -> SealOptions {
        SealOptions {
            key: v.key.map(Key::from),
            level: v.level,
            chunk_size: Some(v.chunk_size),
            total_len: None,
            salt: Some(v.salt),
        }
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
                "{{\n  \"name\": \"{}\",\n  \"description\": \"{}\",\n  \"key\": {},\n  \"level\": {},\n  \"chunk_size\": {},\n  \"salt\": \"{}\",\n  \"plaintext\": \"{}\",\n  \"sealed\": \"{}\",\n  \"error\": {}\n}}\n",
                self.name,
                self.description,
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
