//! NovusPack packages (`.nvpk`, FormatVersion 1): reading and writing the container, and the
//! building blocks that decode one file entry with bounded memory. How we read the public
//! specification (`docs/tech_specs/package_file_format.md` of Novus-Engine/novuspack) is
//! written down in FORMAT.md ("NovusPack packages: how we read the specification"); the comments
//! here cite the specification's sections as "§".
//!
//! * [`Header`] (112 bytes), [`FileIndex`], [`FileEntry`] (64-byte fixed part, paths, hashes,
//!   optional data) and the package comment: `parse` / `to_bytes` for each.
//! * [`Package::open`]: header, index, comment and entry records over any random-access
//!   [`Source`](crate::core::stream::Source), in few coalesced reads, every offset and size
//!   checked against the file and the other entries; never entry data beyond what a coalesced
//!   read happens to span.
//! * Entry decoding, push style like [`Inflater`](crate::core::compress::Inflater), so the
//!   FileStream engine drives it with async I/O: [`EntryCipher`] (a verification pass with
//!   [`TagVerifier`], then random access through [`EntryCipher::apply_keystream`]),
//!   [`EntryDecoder`] (stored, [`ZstdDecoder`], [`Lz4Decoder`], [`LzmaDecoder`], each with an
//!   output limit and a memory limit), [`Crc32Check`] / [`Sha256Check`], and the zstd
//!   [`FrameTable`] for random access into multi-frame entries. [`decode_entry`] runs the
//!   whole pipeline over one entry in memory.
//! * [`PackageWriter`]: entry records and data in order, one entry's stored bytes at a time,
//!   then the trailing index and comment plus the final header for offset 0.

mod check;
mod cipher;
mod decoder;
mod entry;
mod frame_input;
mod fuse;
mod header;
mod index;
mod lz4;
mod lzma;
mod package;
mod stream_writer;
mod writer;
mod zstd;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use check::{Crc32Check, EntryChecks, Sha256Check};
pub use cipher::{
    encrypt_entry, encrypt_entry_with, framing_len, framing_probe_len, kem_key_pair, DecapsulationKey, EncryptKey,
    EntryCipher, EntryKey, EntryRandomness, KemParams, TagVerifier, GCM_MAX_CIPHERTEXT, NONCE_LEN, TAG_LEN,
};
pub use decoder::{decode_entry, EntryDecoder, StoredDecoder};
pub use entry::{FileEntry, HashEntry, OptionalData, RecordParse};
pub use header::{flags, Header};
pub use index::{comment_to_bytes, parse_comment, FileIndex, IndexEntry, MAX_COMMENT_LEN};
pub use lz4::{lz4_compress, Lz4Decoder};
pub use lzma::{xz_compress, LzmaDecoder, LzmaFormat};
pub use package::{OpenOptions, Package};
pub use stream_writer::StreamWriter;
pub use writer::{
    normalize_path, prepare_entry, prepare_entry_with, EntrySpec, Finished, PackageWriter, PreparedEntry, WriterOptions,
};
pub use zstd::{
    parse_seek_table, seek_table_len, zstd_compress, FrameInfo, FrameTable, ZstdDecoder, SEEK_TABLE_FOOTER_LEN,
};

use crate::core::error::{err, ErrorCode, Result, StreamError};

/// The magic, a little-endian u32 (bytes `4B 50 56 4E`, "KPVN" on disk).
pub const MAGIC: u32 = 0x4E56_504B;
/// The only FormatVersion this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Package header length.
pub const HEADER_LEN: usize = 112;
/// Length of a FileEntry's fixed part.
pub const ENTRY_FIXED_LEN: usize = 64;
/// Length of the file index before its entries.
pub const INDEX_HEADER_LEN: usize = 16;
/// Length of one file index entry.
pub const INDEX_ENTRY_LEN: usize = 16;
/// HashType of SHA-256 (the one hash type that is checked).
pub const HASH_SHA256: u8 = 0x00;
/// First FileEntry Type of the special metadata files (§ File Types: 65000-65535).
pub const SPECIAL_TYPE_START: u16 = 65000;

/// An entry's CompressionType (§4.1.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    /// 0: stored as is.
    None,
    /// 1: one or more Zstandard frames (RFC 8878).
    Zstd,
    /// 2: the LZ4 frame format.
    Lz4,
    /// 3: an .xz stream or a .lzma ("LZMA alone") stream.
    Lzma,
}

impl Compression {
    /// The id for `id`; unknown ids are `UNSUPPORTED_ALGORITHM`.
    pub fn from_id(id: u8) -> Result<Compression> {
        Ok(match id {
            0 => Compression::None,
            1 => Compression::Zstd,
            2 => Compression::Lz4,
            3 => Compression::Lzma,
            _ => {
                return Err(err(ErrorCode::UnsupportedAlgorithm, format!("unknown NovusPack compression type {id}"))
                    .with_field("compressionType")
                    .with_value(id))
            }
        })
    }

    /// The on-disk id.
    pub fn id(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Zstd => 1,
            Compression::Lz4 => 2,
            Compression::Lzma => 3,
        }
    }

    /// `"none"`, `"zstd"`, `"lz4"` or `"lzma"` (the JS API's names).
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Zstd => "zstd",
            Compression::Lz4 => "lz4",
            Compression::Lzma => "lzma",
        }
    }

    /// The compression named `name` (see [`Compression::as_str`]); `field` names the option.
    pub fn from_name(name: &str, field: &str) -> Result<Compression> {
        [Compression::None, Compression::Zstd, Compression::Lz4, Compression::Lzma]
            .into_iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| StreamError::invalid(field, name, "'none', 'zstd', 'lz4' or 'lzma'"))
    }
}

/// An entry's EncryptionType (§4.1.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encryption {
    /// 0x00: not encrypted.
    None,
    /// 0x01: AES-256-GCM, `nonce(12) || ciphertext || tag(16)`.
    Aes256Gcm,
    /// 0x02: ML-KEM, then AES-256-GCM under an HKDF-SHA256 key (§4.1.1.8).
    MlKem,
    /// 0x03: ChaCha20-Poly1305, `nonce(12) || ciphertext || tag(16)`.
    ChaCha20Poly1305,
}

impl Encryption {
    /// The id for `id`; unknown ids are `UNSUPPORTED_ALGORITHM`.
    pub fn from_id(id: u8) -> Result<Encryption> {
        Ok(match id {
            0 => Encryption::None,
            1 => Encryption::Aes256Gcm,
            2 => Encryption::MlKem,
            3 => Encryption::ChaCha20Poly1305,
            _ => {
                return Err(err(ErrorCode::UnsupportedAlgorithm, format!("unknown NovusPack encryption type {id}"))
                    .with_field("encryptionType")
                    .with_value(id))
            }
        })
    }

    /// The on-disk id.
    pub fn id(self) -> u8 {
        match self {
            Encryption::None => 0,
            Encryption::Aes256Gcm => 1,
            Encryption::MlKem => 2,
            Encryption::ChaCha20Poly1305 => 3,
        }
    }

    /// `"none"`, `"aes-256-gcm"`, `"ml-kem"` or `"chacha20-poly1305"` (the JS API's names).
    pub fn as_str(self) -> &'static str {
        match self {
            Encryption::None => "none",
            Encryption::Aes256Gcm => "aes-256-gcm",
            Encryption::MlKem => "ml-kem",
            Encryption::ChaCha20Poly1305 => "chacha20-poly1305",
        }
    }

    /// The encryption named `name` (see [`Encryption::as_str`]); `field` names the option.
    pub fn from_name(name: &str, field: &str) -> Result<Encryption> {
        [Encryption::None, Encryption::Aes256Gcm, Encryption::MlKem, Encryption::ChaCha20Poly1305]
            .into_iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| StreamError::invalid(field, name, "'none', 'aes-256-gcm', 'chacha20-poly1305' or 'ml-kem'"))
    }
}

/// Little-endian readers over a slice whose length the caller has checked.
pub(crate) fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// `a + b` for offsets read from a file: overflow is a damaged package, not a panic.
pub(crate) fn add(a: u64, b: u64, what: &str) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| err(ErrorCode::Corrupted, format!("{what} overflows a 64-bit offset")))
}

/// A `u64` size read from a file as a `usize` (wasm32 has 32-bit `usize`).
pub(crate) fn to_usize(value: u64, what: &str) -> Result<usize> {
    usize::try_from(value)
        .map_err(|_| err(ErrorCode::MemoryLimit, format!("{what} of {value} bytes does not fit in memory here")))
}
