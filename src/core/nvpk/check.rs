//! Incremental integrity checks of an entry: RawChecksum over the original bytes,
//! StoredChecksum over the stored bytes (both CRC-32, IEEE), and the SHA-256 hash entries.
//! Each is fed bytes in order and checked at the end (`CHECKSUM_MISMATCH`).

use subtle::ConstantTimeEq;

use super::entry::FileEntry;
use super::HASH_SHA256;
use crate::core::crypto::Digest;
use crate::core::error::{err, ErrorCode, Result};

/// A CRC-32 (IEEE) that must come out as `expected`.
#[derive(Clone, Debug)]
pub struct Crc32Check {
    hasher: crate::core::checksum::Crc32,
    expected: u32,
    what: &'static str,
}

impl Crc32Check {
    /// A check of `what` (named in the error) against `expected`.
    pub fn new(expected: u32, what: &'static str) -> Self {
        Crc32Check { hasher: crate::core::checksum::Crc32::new(), expected, what }
    }

    /// The entry's RawChecksum, over the original bytes.
    pub fn raw(entry: &FileEntry) -> Self {
        Crc32Check::new(entry.raw_checksum, "RawChecksum")
    }

    /// The entry's StoredChecksum, over the stored bytes (framing included).
    pub fn stored(entry: &FileEntry) -> Self {
        Crc32Check::new(entry.stored_checksum, "StoredChecksum")
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    /// `CHECKSUM_MISMATCH` unless the bytes fed hash to the expected value.
    pub fn finish(self) -> Result<()> {
        let actual = self.hasher.finalize();
        if actual != self.expected {
            return Err(err(
                ErrorCode::ChecksumMismatch,
                format!("the entry's {} is {:08x}, its bytes give {actual:08x}", self.what, self.expected),
            ));
        }
        Ok(())
    }
}

/// A SHA-256 hash entry that must match.
#[derive(Clone, Debug)]
pub struct Sha256Check {
    digest: Digest,
    expected: Vec<u8>,
}

impl Sha256Check {
    /// A check against `expected`; a value that is not 32 bytes never matches.
    pub fn new(expected: &[u8]) -> Self {
        Sha256Check { digest: Digest::new(), expected: expected.to_vec() }
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.digest.update(data);
    }

    /// `CHECKSUM_MISMATCH` unless the bytes fed hash to the expected value.
    pub fn finish(self) -> Result<()> {
        let actual = self.digest.finish();
        if !bool::from(actual.as_slice().ct_eq(&self.expected)) {
            return Err(err(ErrorCode::ChecksumMismatch, "the entry's SHA-256 hash does not match its bytes"));
        }
        Ok(())
    }
}

/// Every check of an entry's original bytes: RawChecksum and each SHA-256 hash entry.
#[derive(Clone, Debug)]
pub struct EntryChecks {
    raw: Crc32Check,
    sha256: Vec<Sha256Check>,
    len: u64,
    expected_len: u64,
}

impl EntryChecks {
    /// The checks of `entry`'s original bytes.
    pub fn new(entry: &FileEntry) -> Self {
        let sha256 =
            entry.hashes.iter().filter(|h| h.hash_type == HASH_SHA256).map(|h| Sha256Check::new(&h.value)).collect();
        EntryChecks { raw: Crc32Check::raw(entry), sha256, len: 0, expected_len: entry.original_size }
    }

    /// Feeds the next original bytes, in order.
    pub fn update(&mut self, data: &[u8]) {
        self.raw.update(data);
        for s in &mut self.sha256 {
            s.update(data);
        }
        self.len += data.len() as u64;
    }

    /// At the end of the entry: the length, then RawChecksum, then the hashes.
    pub fn finish(self) -> Result<()> {
        if self.len != self.expected_len {
            return Err(err(
                ErrorCode::Corrupted,
                format!("the entry decodes to {} bytes, its OriginalSize is {}", self.len, self.expected_len),
            ));
        }
        self.raw.finish()?;
        self.sha256.into_iter().try_for_each(Sha256Check::finish)
    }
}
