//! The sealed format: a seekable, chunked, optionally deflated and ChaCha20-Poly1305
//! encrypted container. The byte layout is specified in FORMAT.md; this module is its
//! reference implementation.
//!
//! * [`Header`], [`Footer`], [`RecordPrefix`]: the fixed-size structures.
//! * [`ChunkCodec`]: the per-file state (parsed header, derived subkey) and the stateless,
//!   position-explicit primitives `seal_chunk` / `open_chunk` / `seal_index` / `open_index`
//!   that any worker can run on any chunk.
//! * [`Sealer`] (streaming writer), [`Opener`] (sequential reader), [`SealedIndex`]
//!   (random-access reader: footer -> index -> only the chunks it needs).

mod index;
mod opener;
mod parallel;
mod sealer;

pub use index::{inspect, inspect_source, IndexLocation, SealedIndex, SealedInfo};
pub use opener::Opener;
pub use parallel::ParallelSealer;
pub use sealer::{SealOptions, Sealer};

use super::compress::{ChunkCompressor, ChunkInflater};
use super::crypto::{sealed_nonce, ChunkCipher, Key, NonceKind, TAG_LEN};
use super::error::{err, ErrorCode, Result, StreamError};

/// The first 8 bytes of every sealed file.
pub const MAGIC: [u8; 8] = *b"\x89NPKS\r\n\x1a";
/// The last 8 bytes of every sealed file.
pub const FOOTER_MAGIC: [u8; 8] = *b"NPKS-END";
/// The format version this code writes and reads.
pub const VERSION: u8 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 48;
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

/// The fixed 48-byte header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Chunks are raw deflate when they shrink.
    pub compressed: bool,
    /// Chunks and index are ChaCha20-Poly1305 encrypted.
    pub encrypted: bool,
    /// Plaintext bytes per chunk (the last chunk may be shorter).
    pub chunk_size: u32,
    /// Total plaintext length, when the writer knew it up front.
    pub total_len: Option<u64>,
    /// Random per-file salt: the subkey is derived from it.
    pub salt: [u8; 16],
}

impl Header {
    /// Serializes the header.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..8].copy_from_slice(&MAGIC);
        b[8] = VERSION;
        b[9] = if self.total_len.is_some() { FLAG_TOTAL_LEN } else { 0 };
        b[10] = if self.compressed { COMPRESSION_DEFLATE } else { 0 };
        b[11] = if self.encrypted { ENCRYPTION_CHACHA20_POLY1305 } else { 0 };
        b[12..16].copy_from_slice(&self.chunk_size.to_le_bytes());
        b[16..24].copy_from_slice(&self.total_len.unwrap_or(0).to_le_bytes());
        b[24..40].copy_from_slice(&self.salt);
        let crc = crc32fast::hash(&b[..44]);
        b[44..48].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// True if `bytes` starts with the sealed magic.
    pub fn has_magic(bytes: &[u8]) -> bool {
        bytes.len() >= MAGIC.len() && bytes[..MAGIC.len()] == MAGIC
    }

    /// Parses and checks a header: magic, version, CRC, known ids, reserved bits, chunk size.
    pub fn parse(bytes: &[u8]) -> Result<Header> {
        if bytes.len() < HEADER_LEN {
            if bytes.is_empty() || !MAGIC.starts_with(&bytes[..bytes.len().min(8)]) {
                return Err(not_sealed());
            }
            return Err(err(
                ErrorCode::Truncated,
                format!("sealed header is {} bytes, expected {HEADER_LEN}", bytes.len()),
            ));
        }
        let b = &bytes[..HEADER_LEN];
        if !Header::has_magic(b) {
            return Err(not_sealed());
        }
        if b[8] != VERSION {
            return Err(err(
                ErrorCode::UnsupportedVersion,
                format!("sealed format version {} (this reader knows {VERSION})", b[8]),
            )
            .with_offset(8));
        }
        let crc = u32::from_le_bytes(b[44..48].try_into().expect("4 bytes"));
        if crc != crc32fast::hash(&b[..44]) {
            return Err(err(ErrorCode::ChecksumMismatch, "sealed header CRC does not match").with_offset(44));
        }
        let flags = b[9];
        if flags & !FLAG_TOTAL_LEN != 0 || b[40..44] != [0; 4] {
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
        let chunk_size = u32::from_le_bytes(b[12..16].try_into().expect("4 bytes"));
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
            return Err(err(ErrorCode::Corrupted, format!("chunk size {chunk_size} is out of range")).with_offset(12));
        }
        let total = u64::from_le_bytes(b[16..24].try_into().expect("8 bytes"));
        let total_len = if flags & FLAG_TOTAL_LEN != 0 {
            Some(total)
        } else if total != 0 {
            return Err(err(ErrorCode::Corrupted, "total length set without its flag").with_offset(16));
        } else {
            None
        };
        let salt = b[24..40].try_into().expect("16 bytes");
        Ok(Header { compressed, encrypted, chunk_size, total_len, salt })
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
        let crc = crc32fast::hash(&b[..12]);
        b[12..16].copy_from_slice(&crc.to_le_bytes());
        b[16..24].copy_from_slice(&FOOTER_MAGIC);
        b
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
        if crc != crc32fast::hash(&bytes[..12]) {
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

/// Per-file state and the stateless chunk primitives. Cheap to clone, so each worker can
/// hold its own.
#[derive(Clone, Debug)]
pub struct ChunkCodec {
    header: Header,
    header_bytes: [u8; HEADER_LEN],
    cipher: Option<ChunkCipher>,
}

impl ChunkCodec {
    /// The codec of a file with this header. `key` must be present exactly when the header
    /// says the file is encrypted (a key for an unencrypted file is refused: it would let a
    /// stripped encryption go unnoticed).
    pub fn new(header: Header, key: Option<&Key>) -> Result<ChunkCodec> {
        let cipher = match (header.encrypted, key) {
            (true, Some(key)) => Some(ChunkCipher::derive(key, &header.salt)),
            (true, None) => return Err(err(ErrorCode::KeyRequired, "the sealed data is encrypted: a key is required")),
            (false, Some(_)) => {
                return Err(err(ErrorCode::NotEncrypted, "a key was given but the sealed data is not encrypted"))
            }
            (false, None) => None,
        };
        let header_bytes = header.to_bytes();
        Ok(ChunkCodec { header, header_bytes, cipher })
    }

    /// The codec of a file with this header whose per-file subkey was derived elsewhere (see
    /// [`ChunkCodec::subkey`]): how workers decode chunks without the caller's key.
    pub fn with_subkey(header: Header, subkey: Option<&[u8; 32]>) -> Result<ChunkCodec> {
        let cipher = match (header.encrypted, subkey) {
            (true, Some(subkey)) => Some(ChunkCipher::from_subkey(subkey)),
            (true, None) => return Err(err(ErrorCode::KeyRequired, "the sealed data is encrypted: a key is required")),
            (false, Some(_)) => {
                return Err(err(ErrorCode::NotEncrypted, "a key was given but the sealed data is not encrypted"))
            }
            (false, None) => None,
        };
        let header_bytes = header.to_bytes();
        Ok(ChunkCodec { header, header_bytes, cipher })
    }

    /// The per-file subkey of an encrypted file (what a worker needs to open or seal chunks).
    pub fn subkey(&self) -> Option<&[u8; 32]> {
        self.cipher.as_ref().map(ChunkCipher::subkey)
    }

    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The serialized header (the associated data of every record).
    pub fn header_bytes(&self) -> &[u8; HEADER_LEN] {
        &self.header_bytes
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

    /// Chunks needed for `total` plaintext bytes (at least one: an empty file has one empty
    /// last chunk).
    pub fn chunk_count_for(&self, total: u64) -> u64 {
        total.div_ceil(u64::from(self.header.chunk_size)).max(1)
    }

    /// Seals chunk `index` into `out` (cleared first): prefix, body (deflated if that
    /// shrinks it and a compressor is given), tag or CRC.
    pub fn seal_chunk(
        &self,
        index: u64,
        last: bool,
        plaintext: &[u8],
        compressor: Option<&mut ChunkCompressor>,
        out: &mut Vec<u8>,
    ) {
        debug_assert!(plaintext.len() <= self.chunk_size());
        out.clear();
        out.resize(PREFIX_LEN + plaintext.len() + self.overhead(), 0);
        let body = &mut out[PREFIX_LEN..PREFIX_LEN + plaintext.len()];
        let deflated_len = compressor.and_then(|c| c.compress_chunk(plaintext, body));
        let body_len = match deflated_len {
            Some(n) => n,
            None => {
                body.copy_from_slice(plaintext);
                plaintext.len()
            }
        };
        let payload_len = body_len + self.overhead();
        out.truncate(PREFIX_LEN + payload_len);
        let prefix = RecordPrefix {
            payload_len: u32::try_from(payload_len).expect("chunk size is bounded"),
            deflated: deflated_len.is_some(),
            last,
        };
        out[..PREFIX_LEN].copy_from_slice(&prefix.to_bytes());
        let nonce = sealed_nonce(index, if last { NonceKind::LastChunk } else { NonceKind::Chunk });
        let (head, rest) = out.split_at_mut(PREFIX_LEN);
        let (body, check) = rest.split_at_mut(body_len);
        match &self.cipher {
            Some(cipher) => check.copy_from_slice(&cipher.seal(&nonce, &self.record_aad(head), body)),
            None => check.copy_from_slice(&self.record_crc(&nonce, head, body).to_le_bytes()),
        }
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
        if record.len() < PREFIX_LEN + self.overhead() {
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
                cipher.open(&nonce, &self.record_aad(head), body, check).map_err(|e| e.with_chunk(index))?
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

    /// Seals the index record: body = total length, chunk count, record lengths.
    pub fn seal_index(&self, total_len: u64, record_lens: &[u32], index_offset: u64) -> (Vec<u8>, Footer) {
        let body_len = INDEX_FIXED_LEN + 4 * record_lens.len();
        let index_len = u32::try_from(body_len + self.overhead()).expect("index fits the footer's 32-bit length");
        let footer = Footer { index_offset, index_len };
        let mut record = Vec::with_capacity(index_len as usize);
        record.extend_from_slice(&total_len.to_le_bytes());
        record.extend_from_slice(&(record_lens.len() as u64).to_le_bytes());
        for len in record_lens {
            record.extend_from_slice(&len.to_le_bytes());
        }
        let aad = self.index_aad(&footer);
        let nonce = sealed_nonce(0, NonceKind::Index);
        match &self.cipher {
            Some(cipher) => {
                let tag = cipher.seal(&nonce, &aad, &mut record);
                record.extend_from_slice(&tag);
            }
            None => {
                let crc = self.record_crc(&nonce, &aad[HEADER_LEN..], &record);
                record.extend_from_slice(&crc.to_le_bytes());
            }
        }
        (record, footer)
    }

    /// Opens the index record (decrypting in place); returns (total length, record lengths).
    pub fn open_index(&self, record: &mut [u8], footer: &Footer) -> Result<(u64, Vec<u32>)> {
        let corrupt = |msg: &str| err(ErrorCode::Corrupted, format!("index: {msg}"));
        if record.len() != footer.index_len as usize || record.len() < INDEX_FIXED_LEN + self.overhead() {
            return Err(corrupt("record has the wrong length"));
        }
        let body_len = record.len() - self.overhead();
        let aad = self.index_aad(footer);
        let nonce = sealed_nonce(0, NonceKind::Index);
        let (body, check) = record.split_at_mut(body_len);
        match &self.cipher {
            Some(cipher) => cipher.open(&nonce, &aad, body, check)?,
            None => {
                if check != self.record_crc(&nonce, &aad[HEADER_LEN..], body).to_le_bytes() {
                    return Err(err(ErrorCode::ChecksumMismatch, "index CRC does not match"));
                }
            }
        }
        if (body_len - INDEX_FIXED_LEN) % 4 != 0 {
            return Err(corrupt("length is not a whole number of entries"));
        }
        let total = u64::from_le_bytes(body[..8].try_into().expect("8 bytes"));
        let count = u64::from_le_bytes(body[8..16].try_into().expect("8 bytes"));
        let lens: Vec<u32> = body[INDEX_FIXED_LEN..]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        if count != lens.len() as u64 || count != self.chunk_count_for(total) {
            return Err(corrupt("chunk count does not match the total length"));
        }
        if self.header.total_len.is_some_and(|t| t != total) {
            return Err(corrupt("total length differs from the header's"));
        }
        Ok((total, lens))
    }

    fn record_aad(&self, prefix: &[u8]) -> [u8; HEADER_LEN + PREFIX_LEN] {
        let mut aad = [0u8; HEADER_LEN + PREFIX_LEN];
        aad[..HEADER_LEN].copy_from_slice(&self.header_bytes);
        aad[HEADER_LEN..].copy_from_slice(prefix);
        aad
    }

    fn index_aad(&self, footer: &Footer) -> [u8; HEADER_LEN + 12] {
        let mut aad = [0u8; HEADER_LEN + 12];
        aad[..HEADER_LEN].copy_from_slice(&self.header_bytes);
        aad[HEADER_LEN..].copy_from_slice(&footer.to_bytes()[..12]);
        aad
    }

    /// CRC-32 of an unencrypted record: header, nonce (position and kind), then the record's
    /// own fields, so moved or repeated records fail like damaged ones.
    fn record_crc(&self, nonce: &[u8; 12], fields: &[u8], body: &[u8]) -> u32 {
        let mut h = crc32fast::Hasher::new();
        h.update(&self.header_bytes);
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
/// fit the footer's 32-bit field.
pub const MAX_CHUNKS: u64 = (u32::MAX as u64 - INDEX_FIXED_LEN as u64 - 16) / 4;

/// Refuses a chunk count past [`MAX_CHUNKS`] (the largest file is `MAX_CHUNKS` times the
/// chunk size: about 64 TiB at the default 256 KiB, 4 TiB at 4 KiB).
pub(crate) fn check_chunk_count(count: u64) -> Result<()> {
    if count > MAX_CHUNKS {
        return Err(err(
            ErrorCode::InvalidArgument,
            format!("more than {MAX_CHUNKS} chunks: the file is too large for its chunk size; seal it with a larger chunkSize"),
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
