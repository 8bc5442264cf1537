//! The sealed format: a seekable, chunked, optionally deflated and ChaCha20-Poly1305
//! encrypted container. The byte layout is specified in FORMAT.md; this module is its
//! reference implementation. Writers write format version 2 (key-committing); readers read
//! versions 1 and 2.
//!
//! * [`Header`], [`Footer`], [`RecordPrefix`]: the fixed-layout structures.
//! * [`ChunkCodec`]: the per-file state (parsed header, derived subkey) and the stateless,
//!   position-explicit primitives `seal_chunk` / `open_chunk` / `seal_index` / `open_index`
//!   that any worker can run on any chunk. A codec made from an existing header opens; only
//!   the sealers' codecs (fresh salt) seal, so a file's nonces are never used twice.
//! * [`Sealer`] (streaming writer), [`ParallelSealer`] (chunks sealed by workers), [`Opener`]
//!   (sequential reader), [`SealedIndex`] (random-access reader: footer -> index -> only the
//!   chunks it needs).
//! * `hazmat` (feature `hazmat`, and this crate's tests): sealing with a chosen salt or header,
//!   and a crafting sealer that writes malformed-but-authenticated files, for test vectors,
//!   the auditor's tests and the fuzzers.

mod index;
mod opener;
mod parallel;
mod sealer;

#[cfg(any(test, feature = "hazmat"))]
pub mod hazmat;

pub use index::{inspect, inspect_source, IndexLocation, SealedIndex, SealedInfo};
pub use opener::Opener;
pub use parallel::ParallelSealer;
pub use sealer::{SealOptions, Sealer};

use super::compress::{ChunkCompressor, ChunkInflater};
use super::crypto::{
    auth_failed, commitment_matches, sealed_nonce, ChunkCipher, Commitment, Key, NonceKind, COMMITMENT_LEN, KEY_LEN,
    TAG_LEN,
};
use super::error::{err, ErrorCode, Result, StreamError};

/// The first 8 bytes of every sealed file.
pub const MAGIC: [u8; 8] = *b"\x89NPKS\r\n\x1a";
/// The last 8 bytes of every sealed file.
pub const FOOTER_MAGIC: [u8; 8] = *b"NPKS-END";
/// The format version writers write: 2, key-committing. Readers read 1 and 2.
pub const VERSION: u8 = 2;
/// The oldest format version readers read.
pub const MIN_VERSION: u8 = 1;
/// Header length of format version 1.
pub const HEADER_LEN_V1: usize = 48;
/// Header length of format version 2.
pub const HEADER_LEN_V2: usize = 80;
/// Header length of the version writers write ([`VERSION`]); a file's own is [`Header::len`].
pub const HEADER_LEN: usize = HEADER_LEN_V2;
/// The longest header of any version readers read: what to read to parse any header.
pub const MAX_HEADER_LEN: usize = HEADER_LEN_V2;
/// The bytes that say a header's version, and so its length: the magic and the version byte.
pub const HEADER_PREFIX_LEN: usize = 9;
/// Footer length in bytes.
pub const FOOTER_LEN: usize = 24;
/// Chunk record prefix length in bytes.
pub const PREFIX_LEN: usize = 4;
/// CRC-32 length (the integrity check of unencrypted records).
pub const CRC_LEN: usize = 4;
/// Smallest chunk size.
pub const MIN_CHUNK_SIZE: u32 = 64;
/// Largest chunk size.
pub const MAX_CHUNK_SIZE: u32 = 64 << 20;
/// Default plaintext bytes per chunk.
pub const DEFAULT_CHUNK_SIZE: u32 = 256 << 10;
/// Encryption id of ChaCha20-Poly1305 (NovusPack's EncryptionType).
pub const ENCRYPTION_CHACHA20_POLY1305: u8 = 3;
/// Compression id of raw deflate.
pub const COMPRESSION_DEFLATE: u8 = 1;
/// Bytes of the index body before the per-chunk lengths.
const INDEX_FIXED_LEN: usize = 16;

const FLAG_TOTAL_LEN: u8 = 1;
const PREFIX_LAST: u32 = 1 << 31;
const PREFIX_DEFLATED: u32 = 1 << 30;
const PREFIX_LEN_MASK: u32 = (1 << 30) - 1;
/// Offset of the key commitment in a version 2 header.
const COMMITMENT_AT: usize = 40;

/// The header length of a format version, or `None` for a version readers do not know.
pub fn header_len_for(version: u8) -> Option<usize> {
    match version {
        1 => Some(HEADER_LEN_V1),
        2 => Some(HEADER_LEN_V2),
        _ => None,
    }
}

/// A sealed file's header: 48 bytes in version 1, 80 in version 2 (which adds the key
/// commitment). See FORMAT.md section 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version: 1 or 2 ([`VERSION`] for new files).
    pub version: u8,
    /// Chunks are raw deflate when they shrink.
    pub compressed: bool,
    /// Chunks and index are ChaCha20-Poly1305 encrypted.
    pub encrypted: bool,
    /// Plaintext bytes per chunk (the last chunk may be shorter).
    pub chunk_size: u32,
    /// Total plaintext length, when the writer knew it up front.
    pub total_len: Option<u64>,
    /// Random per-file salt: the subkey (and the commitment) is derived from it.
    pub salt: [u8; 16],
    /// Version 2, encrypted: the key commitment (HKDF of the key and the salt under its own
    /// label), checked at open before any chunk. `None` in version 1 and unencrypted files (whose
    /// version 2 header holds zeros there). Public: it says nothing about the key but whether a
    /// given key is the file's.
    pub commitment: Option<[u8; COMMITMENT_LEN]>,
}

impl Header {
    /// The serialized length: [`header_len_for`] this header's version.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        header_len_for(self.version).unwrap_or(MAX_HEADER_LEN)
    }

    /// Serializes the header ([`Header::len`] bytes). A version 2 encrypted header without a
    /// commitment gets zeros there (which no key opens).
    pub fn to_bytes(&self) -> Vec<u8> {
        let len = self.len();
        let mut b = vec![0u8; len];
        b[..8].copy_from_slice(&MAGIC);
        b[8] = self.version;
        b[9] = if self.total_len.is_some() { FLAG_TOTAL_LEN } else { 0 };
        b[10] = if self.compressed { COMPRESSION_DEFLATE } else { 0 };
        b[11] = if self.encrypted { ENCRYPTION_CHACHA20_POLY1305 } else { 0 };
        b[12..16].copy_from_slice(&self.chunk_size.to_le_bytes());
        b[16..24].copy_from_slice(&self.total_len.unwrap_or(0).to_le_bytes());
        b[24..40].copy_from_slice(&self.salt);
        if len == HEADER_LEN_V2 {
            if let Some(commitment) = &self.commitment {
                b[COMMITMENT_AT..COMMITMENT_AT + COMMITMENT_LEN].copy_from_slice(commitment);
            }
        }
        let crc = crate::core::checksum::crc32(&b[..len - 4]);
        b[len - 4..].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// True if `bytes` starts with the sealed magic.
    pub fn has_magic(bytes: &[u8]) -> bool {
        bytes.len() >= MAGIC.len() && bytes[..MAGIC.len()] == MAGIC
    }

    /// The length of the header that `bytes` starts with, from its first
    /// [`HEADER_PREFIX_LEN`] bytes (magic and version): `UNKNOWN_FORMAT` without the magic,
    /// `TRUNCATED` when fewer than 9 bytes of it are there, `UNSUPPORTED_VERSION` for a version
    /// readers do not know.
    pub fn peek_len(bytes: &[u8]) -> Result<usize> {
        if bytes.len() < HEADER_PREFIX_LEN {
            if bytes.is_empty() || !MAGIC.starts_with(&bytes[..bytes.len().min(8)]) {
                return Err(not_sealed());
            }
            return Err(err(ErrorCode::Truncated, format!("sealed header is {} bytes", bytes.len())));
        }
        if !Header::has_magic(bytes) {
            return Err(not_sealed());
        }
        header_len_for(bytes[8]).ok_or_else(|| {
            err(
                ErrorCode::UnsupportedVersion,
                format!("sealed format version {} (this reader knows versions {MIN_VERSION} to {VERSION})", bytes[8]),
            )
            .with_offset(8)
        })
    }

    /// Parses and checks a header (bytes past its [`Header::len`] are ignored): magic,
    /// version, length, CRC, reserved bits, known ids, the commitment field, chunk size and
    /// total length. The commitment itself is checked against a key by [`ChunkCodec::new`].
    pub fn parse(bytes: &[u8]) -> Result<Header> {
        let len = Header::peek_len(bytes)?;
        if bytes.len() < len {
            return Err(err(ErrorCode::Truncated, format!("sealed header is {} bytes, expected {len}", bytes.len())));
        }
        let b = &bytes[..len];
        let version = b[8];
        let crc = u32::from_le_bytes(b[len - 4..].try_into().expect("4 bytes"));
        if crc != crate::core::checksum::crc32(&b[..len - 4]) {
            return Err(
                err(ErrorCode::ChecksumMismatch, "sealed header CRC does not match").with_offset(len as u64 - 4)
            );
        }
        let flags = b[9];
        if flags & !FLAG_TOTAL_LEN != 0 || b[len - 8..len - 4] != [0; 4] {
            return Err(err(ErrorCode::Corrupted, "sealed header has reserved bits set").with_offset(9));
        }
        let compressed = match b[10] {
            0 => false,
            COMPRESSION_DEFLATE => true,
            id => {
                return Err(err(ErrorCode::UnsupportedAlgorithm, format!("unknown compression id {id}")).with_offset(10))
            }
        };
        let encrypted = match b[11] {
            0 => false,
            ENCRYPTION_CHACHA20_POLY1305 => true,
            id => {
                return Err(err(ErrorCode::UnsupportedAlgorithm, format!("unknown encryption id {id}")).with_offset(11))
            }
        };
        let commitment = if version >= 2 {
            let field: Commitment = b[COMMITMENT_AT..COMMITMENT_AT + COMMITMENT_LEN].try_into().expect("32 bytes");
            if encrypted {
                Some(field)
            } else if field != [0; COMMITMENT_LEN] {
                return Err(err(ErrorCode::Corrupted, "an unencrypted sealed header has a key commitment")
                    .with_offset(COMMITMENT_AT as u64));
            } else {
                None
            }
        } else {
            None
        };
        let chunk_size = u32::from_le_bytes(b[12..16].try_into().expect("4 bytes"));
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
            return Err(err(ErrorCode::Corrupted, format!("chunk size {chunk_size} is out of range")).with_offset(12));
        }
        let total = u64::from_le_bytes(b[16..24].try_into().expect("8 bytes"));
        let total_len = if flags & FLAG_TOTAL_LEN != 0 {
            if total.div_ceil(u64::from(chunk_size)) > MAX_CHUNKS {
                return Err(err(ErrorCode::Corrupted, "the total length needs more chunks than a file can have")
                    .with_offset(16));
            }
            Some(total)
        } else if total != 0 {
            return Err(err(ErrorCode::Corrupted, "total length set without its flag").with_offset(16));
        } else {
            None
        };
        let salt = b[24..40].try_into().expect("16 bytes");
        Ok(Header { version, compressed, encrypted, chunk_size, total_len, salt, commitment })
    }
}

/// The fixed 24-byte footer: where the index is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footer {
    /// Stored offset of the index record.
    pub index_offset: u64,
    /// Length of the index record.
    pub index_len: u32,
}

impl Footer {
    /// Serializes the footer.
    pub fn to_bytes(&self) -> [u8; FOOTER_LEN] {
        let mut b = [0u8; FOOTER_LEN];
        b[..8].copy_from_slice(&self.index_offset.to_le_bytes());
        b[8..12].copy_from_slice(&self.index_len.to_le_bytes());
        let crc = crate::core::checksum::crc32(&b[..12]);
        b[12..16].copy_from_slice(&crc.to_le_bytes());
        b[16..24].copy_from_slice(&FOOTER_MAGIC);
        b
    }

    /// Footer bytes 0..12 (index offset and length): part of the index's associated data.
    pub fn fields(&self) -> [u8; 12] {
        self.to_bytes()[..12].try_into().expect("12 bytes")
    }

    /// Parses and checks a footer (magic and CRC).
    pub fn parse(bytes: &[u8]) -> Result<Footer> {
        if bytes.len() != FOOTER_LEN {
            return Err(err(ErrorCode::Truncated, "sealed footer is incomplete"));
        }
        if bytes[16..24] != FOOTER_MAGIC {
            return Err(err(ErrorCode::BadMagic, "sealed footer magic is missing (truncated or damaged)"));
        }
        let crc = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
        if crc != crate::core::checksum::crc32(&bytes[..12]) {
            return Err(err(ErrorCode::ChecksumMismatch, "sealed footer CRC does not match"));
        }
        Ok(Footer {
            index_offset: u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")),
            index_len: u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")),
        })
    }
}

/// The 4-byte prefix of a chunk record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordPrefix {
    /// Bytes after the prefix (body and tag or CRC).
    pub payload_len: u32,
    /// The body is raw deflate.
    pub deflated: bool,
    /// This is the last chunk.
    pub last: bool,
}

impl RecordPrefix {
    /// Serializes the prefix.
    pub fn to_bytes(self) -> [u8; PREFIX_LEN] {
        let mut v = self.payload_len & PREFIX_LEN_MASK;
        if self.deflated {
            v |= PREFIX_DEFLATED;
        }
        if self.last {
            v |= PREFIX_LAST;
        }
        v.to_le_bytes()
    }

    /// Parses a prefix.
    pub fn parse(bytes: [u8; PREFIX_LEN]) -> RecordPrefix {
        let v = u32::from_le_bytes(bytes);
        RecordPrefix {
            payload_len: v & PREFIX_LEN_MASK,
            deflated: v & PREFIX_DEFLATED != 0,
            last: v & PREFIX_LAST != 0,
        }
    }
}

/// What a codec may do: a codec of an existing file opens it; only a codec made for a new
/// file (fresh salt, so fresh nonces) or a worker's session of one seals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Open,
    Seal,
}

/// Per-file state and the stateless chunk primitives. Cheap to clone, so each worker can
/// hold its own.
#[derive(Clone, Debug)]
pub struct ChunkCodec {
    header: Header,
    header_bytes: Vec<u8>,
    cipher: Option<ChunkCipher>,
    role: Role,
}

/// The record lengths of a verified index, read in place from its decrypted body.
#[derive(Clone, Copy, Debug)]
pub struct IndexLens<'a>(&'a [u8]);

impl<'a> IndexLens<'a> {
    /// Number of entries (the chunk count).
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// True when there is none (never, in an index that verified).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The record length of chunk `i`.
    pub fn get(&self, i: usize) -> Option<u32> {
        let at = i.checked_mul(4)?;
        self.0.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    /// Every record length, in order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        self.0.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
    }
}

fn missing_key() -> StreamError {
    err(ErrorCode::KeyRequired, "the sealed data is encrypted: a key is required")
}

fn unexpected_key() -> StreamError {
    err(ErrorCode::NotEncrypted, "a key was given but the sealed data is not encrypted")
}

impl ChunkCodec {
    /// The codec that opens an existing file with this header. `key` must be present exactly
    /// when the header says the file is encrypted (a key for an unencrypted file is refused: it
    /// would let a stripped encryption go unnoticed). From version 2 the header's key
    /// commitment is checked here, in constant time, before any chunk: a wrong key is
    /// `AUTH_FAILED`, like tampering. This codec does not seal (that would reuse the file's
    /// nonces): new files are written by [`Sealer`] and [`ParallelSealer`].
    pub fn new(header: Header, key: Option<&Key>) -> Result<ChunkCodec> {
        let cipher = match (header.encrypted, key) {
            (true, Some(key)) => {
                let (cipher, commitment) = ChunkCipher::derive(key, &header.salt, header.version);
                if let Some(commitment) = commitment {
                    let stored = header.commitment.as_ref().map_or(&[][..], |c| &c[..]);
                    if !commitment_matches(&commitment, stored) {
                        return Err(auth_failed());
                    }
                }
                Some(cipher)
            }
            (true, None) => return Err(missing_key()),
            (false, Some(_)) => return Err(unexpected_key()),
            (false, None) => None,
        };
        Ok(ChunkCodec::build(header, cipher, Role::Open))
    }

    /// The codec that opens a file whose per-file subkey was derived elsewhere (see
    /// [`ChunkCodec::subkey`]), from a header that whoever derived it has authenticated
    /// (the commitment is not checked here: there is no key). It does not seal.
    pub fn with_subkey(header: Header, subkey: Option<&[u8; KEY_LEN]>) -> Result<ChunkCodec> {
        let cipher = ChunkCodec::session_cipher(&header, subkey)?;
        Ok(ChunkCodec::build(header, cipher, Role::Open))
    }

    /// A worker's codec of a session made on another thread (the wasm boundary's
    /// `WasmChunkCodec.fromSession`): opens, and seals the chunks of a new file whose header
    /// and subkey a [`ParallelSealer`] made. Sealing the chunks of an existing file with it
    /// would reuse that file's nonces: crate-private, for the worker pool only.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn session(header: Header, subkey: Option<&[u8; KEY_LEN]>) -> Result<ChunkCodec> {
        let cipher = ChunkCodec::session_cipher(&header, subkey)?;
        Ok(ChunkCodec::build(header, cipher, Role::Seal))
    }

    /// The codec that seals a file with this header: the sealers' (whose headers have a fresh
    /// salt) and `hazmat`'s. Fills in the key commitment of a version 2 encrypted header.
    pub(crate) fn sealing(mut header: Header, key: Option<&Key>) -> Result<ChunkCodec> {
        header_len_for(header.version).ok_or_else(|| {
            err(ErrorCode::UnsupportedVersion, format!("sealed format version {} cannot be written", header.version))
        })?;
        let cipher = match (header.encrypted, key) {
            (true, Some(key)) => {
                let (cipher, commitment) = ChunkCipher::derive(key, &header.salt, header.version);
                header.commitment = commitment;
                Some(cipher)
            }
            (true, None) => return Err(missing_key()),
            (false, Some(_)) => return Err(unexpected_key()),
            (false, None) => {
                header.commitment = None;
                None
            }
        };
        Ok(ChunkCodec::build(header, cipher, Role::Seal))
    }

    fn session_cipher(header: &Header, subkey: Option<&[u8; KEY_LEN]>) -> Result<Option<ChunkCipher>> {
        match (header.encrypted, subkey) {
            (true, Some(subkey)) => Ok(Some(ChunkCipher::from_subkey(subkey))),
            (true, None) => Err(missing_key()),
            (false, Some(_)) => Err(unexpected_key()),
            (false, None) => Ok(None),
        }
    }

    fn build(header: Header, cipher: Option<ChunkCipher>, role: Role) -> ChunkCodec {
        let header_bytes = header.to_bytes();
        ChunkCodec { header, header_bytes, cipher, role }
    }

    /// The per-file subkey of an encrypted file (what a worker needs to open or seal chunks).
    pub fn subkey(&self) -> Option<&[u8; KEY_LEN]> {
        self.cipher.as_ref().map(ChunkCipher::subkey)
    }

    /// True when this codec may seal (it belongs to a new file).
    pub fn can_seal(&self) -> bool {
        self.role == Role::Seal
    }

    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The serialized header (the associated data of every record).
    pub fn header_bytes(&self) -> &[u8] {
        &self.header_bytes
    }

    /// The header's length: where the first chunk record starts.
    pub fn header_len(&self) -> usize {
        self.header_bytes.len()
    }

    /// Plaintext bytes per chunk.
    pub fn chunk_size(&self) -> usize {
        self.header.chunk_size as usize
    }

    /// Tag or CRC bytes per record.
    pub fn overhead(&self) -> usize {
        if self.cipher.is_some() {
            TAG_LEN
        } else {
            CRC_LEN
        }
    }

    /// The largest chunk record this file can contain.
    pub fn max_record_len(&self) -> usize {
        PREFIX_LEN + self.chunk_size() + self.overhead()
    }

    /// The smallest chunk record (an empty chunk).
    pub fn min_record_len(&self) -> usize {
        PREFIX_LEN + self.overhead()
    }

    /// The length of the index record of a file of `count` chunks.
    pub fn index_len_for(&self, count: u64) -> Option<u64> {
        count.checked_mul(4)?.checked_add((INDEX_FIXED_LEN + self.overhead()) as u64)
    }

    /// Chunks needed for `total` plaintext bytes (at least one: an empty file has one empty
    /// last chunk).
    pub fn chunk_count_for(&self, total: u64) -> u64 {
        total.div_ceil(u64::from(self.header.chunk_size)).max(1)
    }

    fn check_sealing(&self) -> Result<()> {
        if self.role != Role::Seal {
            return Err(err(
                ErrorCode::InvalidArgument,
                "this codec opens an existing sealed file: sealing with it would reuse the file's nonces (seal new \
                 files with Sealer or ParallelSealer)",
            ));
        }
        Ok(())
    }

    /// Seals chunk `index` into `out` (cleared first): prefix, body (deflated if the file is
    /// compressed, a compressor is given and that shrinks it), tag or CRC. Only a codec of a new
    /// file seals ([`ChunkCodec::can_seal`]).
    pub fn seal_chunk(
        &self,
        index: u64,
        last: bool,
        plaintext: &[u8],
        compressor: Option<&mut ChunkCompressor>,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        self.check_sealing()?;
        if plaintext.len() > self.chunk_size() {
            return Err(err(ErrorCode::InvalidArgument, "a chunk is longer than the chunk size"));
        }
        out.clear();
        out.resize(PREFIX_LEN + plaintext.len() + self.overhead(), 0);
        let body = &mut out[PREFIX_LEN..PREFIX_LEN + plaintext.len()];
        let compressor = if self.header.compressed { compressor } else { None };
        let deflated_len = compressor.and_then(|c| c.compress_chunk(plaintext, body));
        let body_len = match deflated_len {
            Some(n) => n,
            None => {
                body.copy_from_slice(plaintext);
                plaintext.len()
            }
        };
        out.truncate(PREFIX_LEN + body_len + self.overhead());
        self.seal_record_in_place(index, last, deflated_len.is_some(), out)
    }

    /// Writes the prefix and the check of a record whose body is already in place
    /// (`record[PREFIX_LEN..len - overhead]`), encrypting the body if the file is encrypted.
    /// Used by `seal_chunk` and by `hazmat`'s crafting sealer (any flags, any body).
    fn seal_record_in_place(&self, index: u64, last: bool, deflated: bool, record: &mut [u8]) -> Result<()> {
        let payload_len = record.len() - PREFIX_LEN;
        let prefix = RecordPrefix {
            payload_len: u32::try_from(payload_len)
                .ok()
                .filter(|&p| p <= PREFIX_LEN_MASK)
                .ok_or_else(|| err(ErrorCode::InvalidArgument, "a record longer than its prefix can say"))?,
            deflated,
            last,
        };
        record[..PREFIX_LEN].copy_from_slice(&prefix.to_bytes());
        let nonce = sealed_nonce(index, if last { NonceKind::LastChunk } else { NonceKind::Chunk });
        let body_len = payload_len - self.overhead();
        let (head, rest) = record.split_at_mut(PREFIX_LEN);
        let (body, check) = rest.split_at_mut(body_len);
        match &self.cipher {
            Some(cipher) => {
                let (aad, aad_len) = self.aad(head);
                check.copy_from_slice(&cipher.seal(&nonce, &aad[..aad_len], body)?);
            }
            None => check.copy_from_slice(&self.record_crc(&nonce, head, body).to_le_bytes()),
        }
        Ok(())
    }

    /// Opens chunk record `index` (prefix included), decrypting in place, into `out`, whose
    /// length is the most plaintext this chunk may have. Returns (plaintext length, last).
    /// Checks the record's framing, its tag or CRC, and, when `expect_last` is given, that
    /// the last flag matches. Nothing is written to `out` unless the record verifies.
    pub fn open_chunk(
        &self,
        index: u64,
        expect_last: Option<bool>,
        record: &mut [u8],
        inflater: &mut ChunkInflater,
        out: &mut [u8],
    ) -> Result<(usize, bool)> {
        let corrupt = |msg: &str| err(ErrorCode::Corrupted, format!("chunk {index}: {msg}")).with_chunk(index);
        if record.len() < self.min_record_len() {
            return Err(corrupt("record is shorter than its prefix and check"));
        }
        let prefix = RecordPrefix::parse(record[..PREFIX_LEN].try_into().expect("4 bytes"));
        if prefix.payload_len as usize != record.len() - PREFIX_LEN {
            return Err(corrupt("record length does not match its prefix"));
        }
        if expect_last.is_some_and(|last| last != prefix.last) {
            return Err(corrupt("last-chunk flag is wrong (reordered, duplicated or truncated chunks)"));
        }
        if prefix.deflated && !self.header.compressed {
            return Err(corrupt("deflated chunk in an uncompressed file"));
        }
        let nonce = sealed_nonce(index, if prefix.last { NonceKind::LastChunk } else { NonceKind::Chunk });
        let body_len = record.len() - PREFIX_LEN - self.overhead();
        let (head, rest) = record.split_at_mut(PREFIX_LEN);
        let (body, check) = rest.split_at_mut(body_len);
        match &self.cipher {
            Some(cipher) => {
                let (aad, aad_len) = self.aad(head);
                cipher.open(&nonce, &aad[..aad_len], body, check).map_err(|e| e.with_chunk(index))?
            }
            None => {
                if check != self.record_crc(&nonce, head, body).to_le_bytes() {
                    return Err(err(ErrorCode::ChecksumMismatch, format!("chunk {index}: CRC does not match"))
                        .with_chunk(index));
                }
            }
        }
        let len = if prefix.deflated {
            inflater.inflate(body, out).map_err(|e| e.or_chunk(index))?
        } else {
            if body.len() > out.len() {
                return Err(corrupt("stored chunk is longer than the chunk size"));
            }
            out[..body.len()].copy_from_slice(body);
            body.len()
        };
        Ok((len, prefix.last))
    }

    /// Seals the index record: body = total length, chunk count, record lengths. Only a codec
    /// of a new file seals; more than [`MAX_CHUNKS`] chunks is an error.
    pub fn seal_index(&self, total_len: u64, record_lens: &[u32], index_offset: u64) -> Result<(Vec<u8>, Footer)> {
        self.check_sealing()?;
        let count = record_lens.len() as u64;
        check_chunk_count(count)?;
        let index_len = self
            .index_len_for(count)
            .and_then(|l| u32::try_from(l).ok())
            .ok_or_else(|| err(ErrorCode::InvalidArgument, "the index does not fit the footer's 32-bit length"))?;
        let footer = Footer { index_offset, index_len };
        let record = self.seal_index_record(total_len, count, record_lens.iter().copied(), &footer)?;
        Ok((record, footer))
    }

    /// The index record with exactly these fields, authenticated for `footer` (which need not
    /// describe it truthfully: `hazmat`'s crafting sealer makes such files).
    fn seal_index_record(
        &self,
        total_len: u64,
        count: u64,
        record_lens: impl ExactSizeIterator<Item = u32>,
        footer: &Footer,
    ) -> Result<Vec<u8>> {
        let mut record = Vec::new();
        let len = INDEX_FIXED_LEN + 4 * record_lens.len() + self.overhead();
        record.try_reserve_exact(len).map_err(|_| err(ErrorCode::MemoryLimit, "no memory for the index"))?;
        record.extend_from_slice(&total_len.to_le_bytes());
        record.extend_from_slice(&count.to_le_bytes());
        for len in record_lens {
            record.extend_from_slice(&len.to_le_bytes());
        }
        let footer_fields = footer.fields();
        let nonce = sealed_nonce(0, NonceKind::Index);
        match &self.cipher {
            Some(cipher) => {
                let (aad, aad_len) = self.aad(&footer_fields);
                let tag = cipher.seal(&nonce, &aad[..aad_len], &mut record)?;
                record.extend_from_slice(&tag);
            }
            None => {
                let crc = self.record_crc(&nonce, &footer_fields, &record);
                record.extend_from_slice(&crc.to_le_bytes());
            }
        }
        Ok(record)
    }

    /// Opens the index record (decrypting in place); returns the total length and the record
    /// lengths (read in place: nothing is allocated). Checks the tag or CRC, then that the
    /// chunk count matches the entries and the total length (and the header's total, if any).
    pub fn open_index<'a>(&self, record: &'a mut [u8], footer: &Footer) -> Result<(u64, IndexLens<'a>)> {
        let corrupt = |msg: &str| err(ErrorCode::Corrupted, format!("index: {msg}"));
        if record.len() != footer.index_len as usize || record.len() < INDEX_FIXED_LEN + self.overhead() {
            return Err(corrupt("record has the wrong length"));
        }
        let body_len = record.len() - self.overhead();
        let nonce = sealed_nonce(0, NonceKind::Index);
        let footer_fields = footer.fields();
        let (body, check) = record.split_at_mut(body_len);
        match &self.cipher {
            Some(cipher) => {
                let (aad, aad_len) = self.aad(&footer_fields);
                cipher.open(&nonce, &aad[..aad_len], body, check)?;
            }
            None => {
                if check != self.record_crc(&nonce, &footer_fields, body).to_le_bytes() {
                    return Err(err(ErrorCode::ChecksumMismatch, "index CRC does not match"));
                }
            }
        }
        let body = &record[..body_len];
        if (body_len - INDEX_FIXED_LEN) % 4 != 0 {
            return Err(corrupt("length is not a whole number of entries"));
        }
        let total = u64::from_le_bytes(body[..8].try_into().expect("8 bytes"));
        let count = u64::from_le_bytes(body[8..16].try_into().expect("8 bytes"));
        let lens = IndexLens(&body[INDEX_FIXED_LEN..]);
        self.check_index_fields(total, count, lens.len() as u64)?;
        Ok((total, lens))
    }

    /// The checks of an index's fixed fields, for both readers: the count is the number of
    /// entries and what the total needs, and the total is the header's (if it has one).
    fn check_index_fields(&self, total: u64, count: u64, entries: u64) -> Result<()> {
        if count != entries || count != self.chunk_count_for(total) {
            return Err(err(ErrorCode::Corrupted, "index: chunk count does not match the total length"));
        }
        if self.header.total_len.is_some_and(|t| t != total) {
            return Err(err(ErrorCode::Corrupted, "index: total length differs from the header's"));
        }
        Ok(())
    }

    /// The associated data of a record: the header, then `fields` (a record's prefix, or the
    /// index's footer fields). Returned as a buffer and its length.
    fn aad(&self, fields: &[u8]) -> ([u8; MAX_HEADER_LEN + 12], usize) {
        let mut aad = [0u8; MAX_HEADER_LEN + 12];
        let h = self.header_bytes.len();
        aad[..h].copy_from_slice(&self.header_bytes);
        aad[h..h + fields.len()].copy_from_slice(fields);
        (aad, h + fields.len())
    }

    /// The header bytes an unencrypted record's CRC starts with. Version 1 used the whole
    /// header, whose last 4 bytes are its own CRC: after a message and its CRC the CRC register
    /// always holds the same value, so those CRCs never depended on the header at all (chunks of
    /// one file pass in another with the same parameters). Version 2 uses the header without its
    /// CRC, which binds every record to its own file's header (salt included).
    fn crc_header(&self) -> &[u8] {
        if self.header.version >= 2 {
            &self.header_bytes[..self.header_bytes.len() - 4]
        } else {
            &self.header_bytes
        }
    }

    /// CRC-32 of an unencrypted record: header (see `crc_header`), nonce (position and kind),
    /// then the record's own fields, so moved or repeated records fail like damaged ones.
    fn record_crc(&self, nonce: &[u8; 12], fields: &[u8], body: &[u8]) -> u32 {
        let mut h = crate::core::checksum::Crc32::new();
        h.update(self.crc_header());
        h.update(nonce);
        h.update(fields);
        h.update(body);
        h.finalize()
    }
}

/// The error for data that does not start with the sealed magic: not damaged, just not sealed.
pub(crate) fn not_sealed() -> StreamError {
    err(ErrorCode::UnknownFormat, "not a sealed file: it does not start with the sealed format's magic bytes")
        .with_offset(0)
}

/// Most chunks a file can have: the index record's length (16 + 4 per chunk + the check) must
/// fit the footer's 32-bit field. The largest file is `MAX_CHUNKS` times its chunk size (see
/// FORMAT.md: 64 GiB at 64-byte chunks, 4 TiB at 4 KiB, 256 TiB at the default 256 KiB).
pub const MAX_CHUNKS: u64 = (u32::MAX as u64 - INDEX_FIXED_LEN as u64 - 16) / 4;

/// Refuses a chunk count past [`MAX_CHUNKS`].
pub(crate) fn check_chunk_count(count: u64) -> Result<()> {
    if count > MAX_CHUNKS {
        return Err(err(
            ErrorCode::InvalidArgument,
            format!(
                "more than {MAX_CHUNKS} chunks: the file is too large for its chunk size; seal it with a larger \
                 chunkSize"
            ),
        )
        .with_field("chunkSize"));
    }
    Ok(())
}

/// Validates a chunk size for sealing.
pub(crate) fn check_chunk_size(chunk_size: usize) -> Result<u32> {
    u32::try_from(chunk_size).ok().filter(|c| (MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(c)).ok_or_else(|| {
        StreamError::invalid("chunkSize", chunk_size, format!("from {MIN_CHUNK_SIZE} to {MAX_CHUNK_SIZE} bytes"))
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
