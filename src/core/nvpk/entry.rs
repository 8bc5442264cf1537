//! A FileEntry record (§4.1): the 64-byte fixed part, then the variable data (paths, hash
//! entries, optional data), then the entry's stored bytes.
//!
//! Fixed part, in the order of the §4.1.1 table (which Go's `FileEntryFixed` writes; §4.1.3.1
//! lists another, size-sorted order that no implementation uses):
//!
//! | at | field | | at | field |
//! | -- | ----- |-| -- | ----- |
//! | 0 | FileID u64 | | 44 | CompressionType u8 |
//! | 8 | OriginalSize u64 | | 45 | CompressionLevel u8 |
//! | 16 | StoredSize u64 | | 46 | EncryptionType u8 |
//! | 24 | RawChecksum u32 | | 47 | HashCount u8 |
//! | 28 | StoredChecksum u32 | | 48 | HashDataOffset u32 |
//! | 32 | FileVersion u32 | | 52 | HashDataLen u16 |
//! | 36 | MetadataVersion u32 | | 54 | OptionalDataLen u16 |
//! | 40 | PathCount u16 | | 56 | OptionalDataOffset u32 |
//! | 42 | Type u16 | | 60 | Reserved u32 |
//!
//! Variable data: PathCount × `u16 length + UTF-8` from offset 0; HashCount × `type u8,
//! purpose u8, length u16, data` at HashDataOffset; `type u8, length u16, data` entries filling
//! OptionalDataLen at OptionalDataOffset; no count prefixes. Its length is the largest end of
//! the three (§4.1.1.10), and the stored bytes start there (§4.1.1.11).

use super::{le_u16, le_u32, le_u64, Compression, Encryption, ENTRY_FIXED_LEN, HASH_SHA256};
use crate::core::error::{err, ErrorCode, Result, StreamError};

/// One hash entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashEntry {
    /// HashType (0x00 SHA-256, 0x01 SHA-512, ... §4.1.5).
    pub hash_type: u8,
    /// HashPurpose (0x00 content verification, ...).
    pub purpose: u8,
    /// The hash bytes.
    pub value: Vec<u8>,
}

/// One optional data entry (§4.1.4.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionalData {
    /// DataType (0x00 tags, 0x01 path encoding, ...).
    pub data_type: u8,
    /// The data.
    pub data: Vec<u8>,
}

/// A file entry: every field of its record, plus where the record and its stored bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Unique, non-zero identifier.
    pub file_id: u64,
    /// Size of the original bytes.
    pub original_size: u64,
    /// Size of the stored (compressed, then encrypted) bytes, framing included.
    pub stored_size: u64,
    /// CRC-32 (IEEE) of the original bytes.
    pub raw_checksum: u32,
    /// CRC-32 (IEEE) of the stored bytes.
    pub stored_checksum: u32,
    /// File data version.
    pub file_version: u32,
    /// File metadata version.
    pub metadata_version: u32,
    /// File type (§ File Types; 65000-65535 are special metadata files).
    pub entry_type: u16,
    /// CompressionType id (see [`FileEntry::compression`]).
    pub compression_type: u8,
    /// CompressionLevel (0 = default).
    pub compression_level: u8,
    /// EncryptionType id (see [`FileEntry::encryption`]).
    pub encryption_type: u8,
    /// HashDataOffset, from the start of the variable data.
    pub hash_data_offset: u32,
    /// HashDataLen.
    pub hash_data_len: u16,
    /// OptionalDataOffset, from the start of the variable data.
    pub optional_data_offset: u32,
    /// OptionalDataLen.
    pub optional_data_len: u16,
    /// Reserved (0).
    pub reserved: u32,
    /// The paths; the first is the primary one.
    pub paths: Vec<String>,
    /// The hash entries.
    pub hashes: Vec<HashEntry>,
    /// The optional data entries.
    pub optional_data: Vec<OptionalData>,
    /// Offset of the record in the package.
    pub offset: u64,
    /// Offset of the stored bytes in the package (the end of the record).
    pub data_offset: u64,
}

/// What [`FileEntry::parse_record`] made of the bytes it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordParse {
    /// The whole record, parsed.
    Complete(FileEntry),
    /// The record is longer than the bytes given: at least this many are needed (from the
    /// record's start).
    NeedBytes(u64),
}

/// `bytes[start..end]` for offsets computed in u64 (which may not fit a 32-bit `usize`).
fn range(bytes: &[u8], start: u64, end: u64) -> Option<&[u8]> {
    bytes.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
}

fn corrupt(offset: u64, what: impl Into<String>) -> StreamError {
    err(ErrorCode::Corrupted, what).with_offset(offset)
}

impl FileEntry {
    /// The record's length (fixed part and variable data).
    pub fn record_len(&self) -> u64 {
        self.data_offset - self.offset
    }

    /// The compression, or `UNSUPPORTED_ALGORITHM` for an unknown id.
    pub fn compression(&self) -> Result<Compression> {
        Compression::from_id(self.compression_type).map_err(|e| e.with_offset(self.offset + 44))
    }

    /// The encryption, or `UNSUPPORTED_ALGORITHM` for an unknown id.
    pub fn encryption(&self) -> Result<Encryption> {
        Encryption::from_id(self.encryption_type).map_err(|e| e.with_offset(self.offset + 46))
    }

    /// The primary path (the first one), if any.
    pub fn path(&self) -> Option<&str> {
        self.paths.first().map(String::as_str)
    }

    /// The SHA-256 value of the first SHA-256 hash entry, if there is one.
    pub fn sha256(&self) -> Option<&[u8]> {
        self.hashes.iter().find(|h| h.hash_type == HASH_SHA256).map(|h| h.value.as_slice())
    }

    /// True for the special metadata files (Type 65000-65535).
    pub fn is_special(&self) -> bool {
        self.entry_type >= super::SPECIAL_TYPE_START
    }

    /// Parses the record that starts at `bytes[0]`, which is at package offset `offset`. When
    /// `bytes` ends before the record does, returns how many bytes are needed (a lower bound
    /// while path lengths are still unknown). `CORRUPTED` for a record that contradicts itself.
    pub fn parse_record(bytes: &[u8], offset: u64) -> Result<RecordParse> {
        let Some(f) = bytes.first_chunk::<ENTRY_FIXED_LEN>() else {
            return Ok(RecordParse::NeedBytes(ENTRY_FIXED_LEN as u64));
        };
        let mut e = FileEntry {
            file_id: le_u64(f, 0),
            original_size: le_u64(f, 8),
            stored_size: le_u64(f, 16),
            raw_checksum: le_u32(f, 24),
            stored_checksum: le_u32(f, 28),
            file_version: le_u32(f, 32),
            metadata_version: le_u32(f, 36),
            entry_type: le_u16(f, 42),
            compression_type: f[44],
            compression_level: f[45],
            encryption_type: f[46],
            hash_data_offset: le_u32(f, 48),
            hash_data_len: le_u16(f, 52),
            optional_data_len: le_u16(f, 54),
            optional_data_offset: le_u32(f, 56),
            reserved: le_u32(f, 60),
            paths: Vec::new(),
            hashes: Vec::new(),
            optional_data: Vec::new(),
            offset,
            data_offset: 0,
        };
        let path_count = le_u16(f, 40);
        let hash_count = f[47];
        if e.file_id == 0 {
            return Err(corrupt(offset, "a file entry has FileID 0 (reserved)"));
        }
        if e.reserved != 0 {
            return Err(corrupt(offset + 60, "a file entry's reserved field is not 0"));
        }
        // All in u64: offsets are u32 and lengths u16, so none of these can overflow.
        let hash_start = u64::from(e.hash_data_offset);
        let hash_end = hash_start + u64::from(e.hash_data_len);
        let opt_start = u64::from(e.optional_data_offset);
        let opt_end = opt_start + u64::from(e.optional_data_len);
        let fixed = ENTRY_FIXED_LEN as u64;
        let var = &bytes[ENTRY_FIXED_LEN..];

        // Paths, sequentially from the start of the variable data.
        let mut pos: u64 = 0;
        for _ in 0..path_count {
            let need = fixed + (pos + 2).max(hash_end).max(opt_end);
            let Some(len) = range(var, pos, pos + 2) else {
                return Ok(RecordParse::NeedBytes(need));
            };
            let len = u64::from(u16::from_le_bytes([len[0], len[1]]));
            let end = pos + 2 + len;
            let Some(path) = range(var, pos + 2, end) else {
                return Ok(RecordParse::NeedBytes(need.max(fixed + end)));
            };
            let path = std::str::from_utf8(path)
                .map_err(|_| corrupt(offset + fixed + pos, "a file entry path is not valid UTF-8"))?;
            e.paths.push(path.to_owned());
            pos = end;
        }
        let paths_end = pos;
        let var_end = paths_end.max(hash_end).max(opt_end);
        if (var.len() as u64) < var_end {
            return Ok(RecordParse::NeedBytes(fixed + var_end));
        }

        // The hash and optional data regions lie after the paths and apart from each other.
        let nonempty = |start: u64, end: u64| start < end;
        if nonempty(hash_start, hash_end) && hash_start < paths_end
            || nonempty(opt_start, opt_end) && opt_start < paths_end
            || nonempty(hash_start, hash_end)
                && nonempty(opt_start, opt_end)
                && hash_start < opt_end
                && opt_start < hash_end
        {
            return Err(corrupt(offset, "a file entry's paths, hash data and optional data overlap"));
        }

        let mut hash = range(var, hash_start, hash_end).unwrap_or_default();
        for _ in 0..hash_count {
            let [hash_type, purpose, l0, l1, rest @ ..] = hash else {
                return Err(corrupt(offset, "a file entry's hash entries run past HashDataLen"));
            };
            let len = usize::from(u16::from_le_bytes([*l0, *l1]));
            let Some(value) = rest.get(..len) else {
                return Err(corrupt(offset, "a file entry's hash entries run past HashDataLen"));
            };
            e.hashes.push(HashEntry { hash_type: *hash_type, purpose: *purpose, value: value.to_vec() });
            hash = &rest[len..];
        }
        if !hash.is_empty() {
            return Err(corrupt(offset, "a file entry's HashDataLen does not match its HashCount entries"));
        }

        let mut opt = range(var, opt_start, opt_end).unwrap_or_default();
        while !opt.is_empty() {
            let [data_type, l0, l1, rest @ ..] = opt else {
                return Err(corrupt(offset, "a file entry's optional data entries run past OptionalDataLen"));
            };
            let len = usize::from(u16::from_le_bytes([*l0, *l1]));
            let Some(data) = rest.get(..len) else {
                return Err(corrupt(offset, "a file entry's optional data entries run past OptionalDataLen"));
            };
            e.optional_data.push(OptionalData { data_type: *data_type, data: data.to_vec() });
            opt = &rest[len..];
        }

        e.data_offset = super::add(offset, fixed + var_end, "a file entry's data offset")?;
        Ok(RecordParse::Complete(e))
    }

    /// The record bytes (fixed part and variable data) for this entry's paths, hashes and
    /// optional data, laid out as Go lays them out (paths, then hashes, then optional data,
    /// contiguous); the offsets and lengths fields are recomputed. `INVALID_ARGUMENT` when a
    /// count or length does not fit its field.
    pub fn to_record_bytes(&self) -> Result<Vec<u8>> {
        let too_long = |what: &str| err(ErrorCode::InvalidArgument, format!("a file entry's {what} is too long"));
        let path_count = u16::try_from(self.paths.len()).map_err(|_| too_long("path list"))?;
        let hash_count = u8::try_from(self.hashes.len()).map_err(|_| too_long("hash list"))?;
        let mut var = Vec::new();
        for p in &self.paths {
            let len = u16::try_from(p.len()).map_err(|_| too_long("path"))?;
            var.extend_from_slice(&len.to_le_bytes());
            var.extend_from_slice(p.as_bytes());
        }
        let hash_offset = u32::try_from(var.len()).map_err(|_| too_long("path list"))?;
        for h in &self.hashes {
            let len = u16::try_from(h.value.len()).map_err(|_| too_long("hash"))?;
            var.extend_from_slice(&[h.hash_type, h.purpose]);
            var.extend_from_slice(&len.to_le_bytes());
            var.extend_from_slice(&h.value);
        }
        let hash_len = u16::try_from(var.len() - hash_offset as usize).map_err(|_| too_long("hash data"))?;
        let opt_offset = u32::try_from(var.len()).map_err(|_| too_long("variable data"))?;
        for o in &self.optional_data {
            let len = u16::try_from(o.data.len()).map_err(|_| too_long("optional data entry"))?;
            var.push(o.data_type);
            var.extend_from_slice(&len.to_le_bytes());
            var.extend_from_slice(&o.data);
        }
        let opt_len = u16::try_from(var.len() - opt_offset as usize).map_err(|_| too_long("optional data"))?;

        let mut b = Vec::with_capacity(ENTRY_FIXED_LEN + var.len());
        b.extend_from_slice(&self.file_id.to_le_bytes());
        b.extend_from_slice(&self.original_size.to_le_bytes());
        b.extend_from_slice(&self.stored_size.to_le_bytes());
        b.extend_from_slice(&self.raw_checksum.to_le_bytes());
        b.extend_from_slice(&self.stored_checksum.to_le_bytes());
        b.extend_from_slice(&self.file_version.to_le_bytes());
        b.extend_from_slice(&self.metadata_version.to_le_bytes());
        b.extend_from_slice(&path_count.to_le_bytes());
        b.extend_from_slice(&self.entry_type.to_le_bytes());
        b.extend_from_slice(&[self.compression_type, self.compression_level, self.encryption_type, hash_count]);
        b.extend_from_slice(&hash_offset.to_le_bytes());
        b.extend_from_slice(&hash_len.to_le_bytes());
        b.extend_from_slice(&opt_len.to_le_bytes());
        b.extend_from_slice(&opt_offset.to_le_bytes());
        b.extend_from_slice(&self.reserved.to_le_bytes());
        b.extend_from_slice(&var);
        Ok(b)
    }

    /// Heap bytes this entry holds (paths, hashes, optional data), for memory accounting.
    pub(crate) fn heap_len(&self) -> u64 {
        let strings: usize = self.paths.iter().map(|p| p.len() + std::mem::size_of::<String>()).sum();
        let hashes: usize = self.hashes.iter().map(|h| h.value.len() + std::mem::size_of::<HashEntry>()).sum();
        let opts: usize = self.optional_data.iter().map(|o| o.data.len() + std::mem::size_of::<OptionalData>()).sum();
        (strings + hashes + opts + std::mem::size_of::<FileEntry>()) as u64
    }
}
