//! Writing packages in one forward pass, one entry's stored bytes at a time.
//!
//! The header sits at offset 0, but IndexStart, IndexSize, CommentStart, CommentSize,
//! PackageCRC and the content flags (compressed, encrypted, comment, special metadata,
//! metadata-only) are only known at the end. So [`PackageWriter`] hands out a placeholder
//! header first (IndexStart 0, which readers refuse as an unfinished package), then each
//! entry's record (the caller writes it, then the entry's stored bytes), and at the end the
//! trailing bytes (file index and comment) and the final header, which the caller writes over
//! the placeholder: by seeking back, or by sending the header last when its destination
//! takes writes at an offset. The writer itself keeps only the index entries and running
//! CRC: 16 bytes and one path set entry per file.
//!
//! [`prepare_entry`] turns an entry's original bytes into its stored bytes: compressed
//! (zstd seekable frames, LZ4 frame, .xz), then encrypted with a fresh nonce (and a fresh
//! ML-KEM encapsulation), with its RawChecksum and SHA-256.

use std::collections::HashSet;

use super::cipher::{encrypt_entry_with, EncryptKey, EntryRandomness};
use super::entry::{FileEntry, HashEntry};
use super::header::{flags, Header};
use super::index::{comment_to_bytes, FileIndex, IndexEntry};
use super::lz4::lz4_compress;
use super::lzma::xz_compress;
use super::zstd::zstd_compress;
use super::{Compression, Encryption, HASH_SHA256, HEADER_LEN, SPECIAL_TYPE_START};
use crate::core::crypto::Digest;
use crate::core::error::{err, ErrorCode, Result, StreamError};

/// Package-wide settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriterOptions {
    /// The package comment.
    pub comment: Option<String>,
    /// VendorID.
    pub vendor_id: u32,
    /// AppID.
    pub app_id: u64,
    /// CreatorID.
    pub creator_id: u32,
    /// LocaleID.
    pub locale_id: u32,
    /// CreatedTime and ModifiedTime, Unix nanoseconds (the caller's clock: wasm32 has none).
    pub created_time: u64,
}

/// How one entry is stored.
#[derive(Clone, Debug)]
pub struct EntrySpec {
    /// Its paths (normalized by [`normalize_path`]); the first is the primary one.
    pub paths: Vec<String>,
    /// File type (0 = generic binary).
    pub entry_type: u16,
    /// Compression.
    pub compression: Compression,
    /// Compression level (0 = the codec's default).
    pub compression_level: u8,
    /// Encryption.
    pub encryption: Encryption,
    /// The key, when encrypted.
    pub key: Option<EncryptKey>,
}

impl EntrySpec {
    /// A stored, unencrypted entry at `path`.
    pub fn new(path: impl Into<String>) -> Self {
        EntrySpec {
            paths: vec![path.into()],
            entry_type: 0,
            compression: Compression::None,
            compression_level: 0,
            encryption: Encryption::None,
            key: None,
        }
    }
}

/// An entry ready to be written: its metadata and stored bytes.
#[derive(Clone, Debug)]
pub struct PreparedEntry {
    /// The record's fields (FileID and offsets are the writer's).
    pub entry: FileEntry,
    /// The stored bytes.
    pub stored: Vec<u8>,
}

/// What [`PackageWriter::finish`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    /// The bytes that end the package: file index, then comment.
    pub trailer: Vec<u8>,
    /// The final header, to be written at offset 0 over the placeholder.
    pub header: [u8; HEADER_LEN],
    /// The package's length.
    pub len: u64,
}

/// Normalizes a package path (§ Package Path Semantics): `\` becomes `/`, a leading `/` is
/// added, `.` and empty segments are dropped and `..` resolved. `INVALID_ARGUMENT` for an empty
/// path, a NUL, a path that escapes the root, or one longer than 65,535 bytes.
pub fn normalize_path(path: &str) -> Result<String> {
    let bad = |why: &str| StreamError::invalid("path", format!("{path:?}"), why.to_owned());
    if path.contains('\0') {
        return Err(bad("a path without NUL characters"));
    }
    let unified = path.replace('\\', "/");
    let mut parts: Vec<&str> = Vec::new();
    for seg in unified.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(bad("a path that stays inside the package"));
                }
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return Err(bad("a path naming a file"));
    }
    let mut out = String::with_capacity(unified.len() + 1);
    for p in parts {
        out.push('/');
        out.push_str(p);
    }
    if unified.ends_with('/') {
        out.push('/');
    }
    if out.len() > usize::from(u16::MAX) {
        return Err(bad("a path of at most 65,535 bytes"));
    }
    Ok(out)
}

/// Compresses, then encrypts `data` as `spec` says, and fills in the entry's sizes, checksums
/// and SHA-256 hash entry. LZMA is written as .xz.
pub fn prepare_entry(spec: &EntrySpec, data: &[u8]) -> Result<PreparedEntry> {
    prepare_entry_with(spec, data, &EntryRandomness::fresh()?)
}

/// [`prepare_entry`] with the encryption's random choices given (the same choices and bytes
/// give the same stored bytes: the codecs are deterministic).
pub fn prepare_entry_with(spec: &EntrySpec, data: &[u8], randomness: &EntryRandomness) -> Result<PreparedEntry> {
    let paths = spec.paths.iter().map(|p| normalize_path(p)).collect::<Result<Vec<_>>>()?;
    if paths.is_empty() {
        return Err(StreamError::invalid("paths", "[]", "at least one path"));
    }
    let compressed = match spec.compression {
        Compression::None => None,
        Compression::Zstd => Some(zstd_compress(data, spec.compression_level)?),
        Compression::Lz4 => Some(lz4_compress(data)),
        Compression::Lzma => Some(xz_compress(data, spec.compression_level)?),
    };
    let payload = compressed.as_deref().unwrap_or(data);
    let stored = match spec.encryption {
        Encryption::None => {
            if spec.key.is_some() {
                return Err(err(ErrorCode::NotEncrypted, "a key was given for an entry that is not encrypted"));
            }
            compressed.unwrap_or_else(|| data.to_vec())
        }
        enc => {
            let key = spec.key.as_ref().ok_or_else(|| {
                err(ErrorCode::KeyRequired, format!("encrypting an entry with {} needs a key", enc.as_str()))
            })?;
            encrypt_entry_with(enc, key, payload, randomness)?
        }
    };
    let mut digest = Digest::new();
    digest.update(data);
    let level = match spec.compression {
        Compression::Lz4 | Compression::None => 0,
        _ => spec.compression_level,
    };
    let entry = FileEntry {
        file_id: 0,
        original_size: data.len() as u64,
        stored_size: stored.len() as u64,
        raw_checksum: crate::core::checksum::crc32(data),
        stored_checksum: crate::core::checksum::crc32(&stored),
        file_version: 1,
        metadata_version: 1,
        entry_type: spec.entry_type,
        compression_type: spec.compression.id(),
        compression_level: level,
        encryption_type: spec.encryption.id(),
        hash_data_offset: 0,
        hash_data_len: 0,
        optional_data_offset: 0,
        optional_data_len: 0,
        reserved: 0,
        paths,
        hashes: vec![HashEntry { hash_type: HASH_SHA256, purpose: 0, value: digest.finish().to_vec() }],
        optional_data: Vec::new(),
        offset: 0,
        data_offset: 0,
    };
    Ok(PreparedEntry { entry, stored })
}

/// Writes a package front to back.
#[derive(Debug)]
pub struct PackageWriter {
    header: Header,
    comment: Option<Vec<u8>>,
    index: Vec<IndexEntry>,
    paths: HashSet<String>,
    offset: u64,
    crc: crate::core::checksum::Crc32,
    regular_files: u64,
}

impl PackageWriter {
    /// A writer, and the placeholder header to write at offset 0 first.
    pub fn new(options: &WriterOptions) -> Result<(PackageWriter, [u8; HEADER_LEN])> {
        let comment = options.comment.as_deref().map(comment_to_bytes).transpose()?;
        let mut header = Header::new();
        header.vendor_id = options.vendor_id;
        header.app_id = options.app_id;
        header.creator_id = options.creator_id;
        header.locale_id = options.locale_id;
        header.created_time = options.created_time;
        header.modified_time = options.created_time;
        let placeholder = header.to_bytes();
        let writer = PackageWriter {
            header,
            comment,
            index: Vec::new(),
            paths: HashSet::new(),
            offset: HEADER_LEN as u64,
            crc: crate::core::checksum::Crc32::new(),
            regular_files: 0,
        };
        Ok((writer, placeholder))
    }

    /// Bytes written so far (placeholder header included).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Adds the next entry: returns its record, which the caller writes, followed by
    /// `entry.stored`. `INVALID_ARGUMENT` for a path already in the package.
    pub fn add(&mut self, prepared: &PreparedEntry) -> Result<Vec<u8>> {
        let mut entry = prepared.entry.clone();
        if entry.stored_size != prepared.stored.len() as u64 {
            return Err(err(ErrorCode::InvalidArgument, "the entry's StoredSize is not its stored bytes' length"));
        }
        for p in &entry.paths {
            if !self.paths.insert(p.clone()) {
                return Err(StreamError::invalid("path", p, "a path not already in the package"));
            }
        }
        entry.file_id = self.index.len() as u64 + 1;
        entry.stored_checksum = crate::core::checksum::crc32(&prepared.stored);
        let record = entry.to_record_bytes()?;
        self.index.push(IndexEntry { file_id: entry.file_id, offset: self.offset });
        self.crc.update(&record);
        self.crc.update(&prepared.stored);
        self.offset += record.len() as u64 + prepared.stored.len() as u64;
        let h = &mut self.header;
        if entry.compression_type != 0 {
            h.flags |= flags::HAS_COMPRESSED_FILES;
        }
        if entry.encryption_type != 0 {
            h.flags |= flags::HAS_ENCRYPTED_FILES;
        }
        if entry.entry_type >= SPECIAL_TYPE_START {
            h.flags |= flags::HAS_SPECIAL_METADATA;
        } else {
            self.regular_files += 1;
        }
        Ok(record)
    }

    /// Ends the package: the index and comment to append, and the final header for offset 0.
    pub fn finish(mut self) -> Result<Finished> {
        let index = FileIndex { reserved: 0, first_entry_offset: HEADER_LEN as u64, entries: self.index };
        let mut trailer = index.to_bytes()?;
        let h = &mut self.header;
        h.index_start = self.offset;
        h.index_size = trailer.len() as u64;
        if let Some(comment) = &self.comment {
            h.comment_start = self.offset + trailer.len() as u64;
            h.comment_size = u32::try_from(comment.len()).expect("comments are at most 1 MiB");
            h.flags |= flags::HAS_COMMENT;
            trailer.extend_from_slice(comment);
        }
        if self.regular_files == 0 {
            h.flags |= flags::METADATA_ONLY;
        }
        self.crc.update(&trailer);
        h.package_crc = self.crc.finalize();
        Ok(Finished { header: h.to_bytes(), len: self.offset + trailer.len() as u64, trailer })
    }
}
