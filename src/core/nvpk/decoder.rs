//! One decoder shape for every CompressionType, and [`decode_entry`]: the whole read pipeline
//! of one entry in memory, which is also the reference for how the FileStream engine drives
//! the building blocks:
//!
//! 1. Stored bytes `prefix || ciphertext || tag` (or just the compressed bytes): one pass
//!    feeds the ciphertext to the [`TagVerifier`](super::TagVerifier) and every stored byte to
//!    the StoredChecksum; a failed tag is `AUTH_FAILED` (it takes precedence: tampering is
//!    not reported as a checksum error), then a wrong StoredChecksum `CHECKSUM_MISMATCH`.
//! 2. A second pass decrypts by keystream (any range), decompresses with an
//!    [`EntryDecoder`] whose output limit is OriginalSize, and feeds the original bytes to
//!    [`EntryChecks`] (length, RawChecksum, SHA-256 hashes), checked at the end.

use super::check::{Crc32Check, EntryChecks};
use super::cipher::{framing_len, framing_probe_len, EntryCipher, EntryKey, TAG_LEN};
use super::entry::FileEntry;
use super::lz4::Lz4Decoder;
use super::lzma::LzmaDecoder;
use super::zstd::ZstdDecoder;
use super::{Compression, Encryption};
use crate::core::compress::Progress;
use crate::core::error::{err, ErrorCode, Result};

/// A stored (uncompressed) entry: bytes pass through, at most `output_limit` of them.
#[derive(Clone, Debug)]
pub struct StoredDecoder {
    output_limit: u64,
    total_out: u64,
}

impl StoredDecoder {
    /// A pass-through of exactly `output_limit` bytes.
    pub fn new(output_limit: u64) -> Self {
        StoredDecoder { output_limit, total_out: 0 }
    }

    /// Copies what fits; more than `output_limit` bytes in all is `OUTPUT_LIMIT`.
    pub fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress> {
        let n = input.len().min(out.len());
        if self.total_out + n as u64 > self.output_limit {
            return Err(err(ErrorCode::OutputLimit, "the stored entry is longer than its OriginalSize"));
        }
        out[..n].copy_from_slice(&input[..n]);
        self.total_out += n as u64;
        Ok(Progress { consumed: n, produced: n, done: self.is_done() })
    }

    /// True once all `output_limit` bytes went through.
    pub fn is_done(&self) -> bool {
        self.total_out == self.output_limit
    }

    /// `TRUNCATED` before all bytes went through.
    pub fn finish(&self) -> Result<()> {
        if self.is_done() {
            return Ok(());
        }
        Err(err(ErrorCode::Truncated, "the stored entry ends early").with_offset(self.total_out))
    }
}

/// The decompressor of an entry, whatever its CompressionType.
#[derive(Debug)]
pub enum EntryDecoder {
    /// CompressionType 0.
    Stored(StoredDecoder),
    /// CompressionType 1.
    Zstd(Box<ZstdDecoder>),
    /// CompressionType 2.
    Lz4(Box<Lz4Decoder>),
    /// CompressionType 3.
    Lzma(Box<LzmaDecoder>),
}

impl EntryDecoder {
    /// A decoder producing at most `output_limit` bytes (the entry's OriginalSize, or what is
    /// left of it from a zstd frame on), with `memory_limit` for its window; `input_len` is the
    /// compressed length when known.
    pub fn new(compression: Compression, output_limit: u64, memory_limit: u64, input_len: Option<u64>) -> Self {
        match compression {
            Compression::None => EntryDecoder::Stored(StoredDecoder::new(output_limit)),
            Compression::Zstd => EntryDecoder::Zstd(Box::new(ZstdDecoder::new(output_limit, memory_limit))),
            Compression::Lz4 => EntryDecoder::Lz4(Box::new(Lz4Decoder::new(output_limit, memory_limit))),
            Compression::Lzma => EntryDecoder::Lzma(Box::new(LzmaDecoder::new(output_limit, memory_limit, input_len))),
        }
    }

    /// Decodes as much of `input` into `out` (not empty) as fits.
    pub fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress> {
        match self {
            EntryDecoder::Stored(d) => d.update(input, out),
            EntryDecoder::Zstd(d) => d.update(input, out),
            EntryDecoder::Lz4(d) => d.update(input, out),
            EntryDecoder::Lzma(d) => d.update(input, out),
        }
    }

    /// End of input: an error unless the stream is complete.
    pub fn finish(&self) -> Result<()> {
        match self {
            EntryDecoder::Stored(d) => d.finish(),
            EntryDecoder::Zstd(d) => d.finish(),
            EntryDecoder::Lz4(d) => d.finish(),
            EntryDecoder::Lzma(d) => d.finish(),
        }
    }

    /// True at a point where the stream may end.
    pub fn is_done(&self) -> bool {
        match self {
            EntryDecoder::Stored(d) => d.is_done(),
            EntryDecoder::Zstd(d) => d.is_done(),
            EntryDecoder::Lz4(d) => d.is_done(),
            EntryDecoder::Lzma(d) => d.is_done(),
        }
    }
}

/// Decodes one whole entry from its stored bytes in memory: every check of the pipeline above,
/// the output at most OriginalSize bytes.
pub fn decode_entry(entry: &FileEntry, stored: &[u8], keys: &EntryKey, memory_limit: u64) -> Result<Vec<u8>> {
    if stored.len() as u64 != entry.stored_size {
        return Err(err(
            ErrorCode::Truncated,
            format!("{} stored bytes given, the entry has {}", stored.len(), entry.stored_size),
        ));
    }
    let compression = entry.compression()?;
    let encryption = entry.encryption()?;
    let mut stored_crc = Crc32Check::stored(entry);
    stored_crc.update(stored);

    let mut plain;
    let payload: &[u8] = if encryption == Encryption::None {
        stored_crc.finish()?;
        stored
    } else {
        let probe = stored
            .get(..framing_probe_len(encryption))
            .ok_or_else(|| err(ErrorCode::Corrupted, "the entry is shorter than its encryption framing"))?;
        let prefix_len = framing_len(encryption, probe)?;
        let prefix = stored
            .get(..prefix_len)
            .ok_or_else(|| err(ErrorCode::Corrupted, "the entry is shorter than its encryption framing"))?;
        let cipher = EntryCipher::new(encryption, prefix, keys)?;
        let ct_len = super::to_usize(cipher.ciphertext_len(entry.stored_size)?, "an entry")?;
        let (ct, tag) = stored[prefix_len..].split_at(ct_len);
        debug_assert_eq!(tag.len(), TAG_LEN);
        let mut verifier = cipher.verifier();
        verifier.update(ct);
        verifier.finish(tag)?;
        stored_crc.finish()?;
        plain = ct.to_vec();
        cipher.apply_keystream(0, &mut plain);
        &plain
    };

    let mut decoder = EntryDecoder::new(compression, entry.original_size, memory_limit, Some(payload.len() as u64));
    let mut checks = EntryChecks::new(entry);
    let mut out = Vec::with_capacity(super::to_usize(entry.original_size.min(64 << 20), "an entry")?);
    let mut buf = vec![0u8; 64 << 10];
    let mut pos = 0;
    loop {
        let p = decoder.update(&payload[pos..], &mut buf)?;
        pos += p.consumed;
        checks.update(&buf[..p.produced]);
        out.extend_from_slice(&buf[..p.produced]);
        if p.consumed == 0 && p.produced == 0 {
            break;
        }
    }
    if pos < payload.len() {
        return Err(err(ErrorCode::Corrupted, "data follows the end of the entry's compressed stream"));
    }
    decoder.finish()?;
    checks.finish()?;
    Ok(out)
}
