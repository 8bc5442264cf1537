//! The file index (§6.1: `EntryCount u32, Reserved u32, FirstEntryOffset u64`, then
//! `{FileID u64, Offset u64}` per entry) and the package comment section (§7.1:
//! `CommentLength u32`, the UTF-8 comment with its terminating NUL, 3 reserved bytes).

use super::{le_u32, le_u64, INDEX_ENTRY_LEN, INDEX_HEADER_LEN};
use crate::core::error::{err, ErrorCode, Result};

/// Longest comment, its NUL included (§7.1.1.1).
pub const MAX_COMMENT_LEN: u32 = 1_048_575;

/// One file index entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// The entry's FileID.
    pub file_id: u64,
    /// Offset of the entry's record.
    pub offset: u64,
}

/// The file index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileIndex {
    /// Reserved (0).
    pub reserved: u32,
    /// Offset of the first entry record.
    pub first_entry_offset: u64,
    /// The entries, in index order.
    pub entries: Vec<IndexEntry>,
}

impl FileIndex {
    /// Serialized length for `count` entries.
    pub fn len_for(count: u64) -> u64 {
        INDEX_HEADER_LEN as u64 + count.saturating_mul(INDEX_ENTRY_LEN as u64)
    }

    /// Parses an index that must fill `bytes` exactly (IndexSize = 16 + 16 × EntryCount);
    /// `CORRUPTED` otherwise, or when the reserved field is not 0, a FileID is 0 or repeats.
    pub fn parse(bytes: &[u8], at: u64) -> Result<FileIndex> {
        let corrupt = |what: &str| err(ErrorCode::Corrupted, what.to_owned()).with_offset(at);
        let Some(head) = bytes.first_chunk::<INDEX_HEADER_LEN>() else {
            return Err(corrupt("the file index is shorter than its 16-byte header"));
        };
        let count = u64::from(le_u32(head, 0));
        if FileIndex::len_for(count) != bytes.len() as u64 {
            return Err(corrupt(&format!(
                "the file index holds {count} entries but IndexSize is {} bytes (expected {})",
                bytes.len(),
                FileIndex::len_for(count)
            )));
        }
        let reserved = le_u32(head, 4);
        if reserved != 0 {
            return Err(corrupt("the file index's reserved field is not 0"));
        }
        let entries: Vec<IndexEntry> = bytes[INDEX_HEADER_LEN..]
            .chunks_exact(INDEX_ENTRY_LEN)
            .map(|c| IndexEntry { file_id: le_u64(c, 0), offset: le_u64(c, 8) })
            .collect();
        let mut ids: Vec<u64> = entries.iter().map(|e| e.file_id).collect();
        ids.sort_unstable();
        if ids.first() == Some(&0) {
            return Err(corrupt("the file index lists FileID 0 (reserved)"));
        }
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(corrupt("the file index lists a FileID twice"));
        }
        Ok(FileIndex { reserved, first_entry_offset: le_u64(head, 8), entries })
    }

    /// The index bytes. `INVALID_ARGUMENT` past 2^32 - 1 entries.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let count = u32::try_from(self.entries.len())
            .map_err(|_| err(ErrorCode::InvalidArgument, "a package holds at most 2^32 - 1 entries"))?;
        let mut b = Vec::with_capacity(INDEX_HEADER_LEN + self.entries.len() * INDEX_ENTRY_LEN);
        b.extend_from_slice(&count.to_le_bytes());
        b.extend_from_slice(&self.reserved.to_le_bytes());
        b.extend_from_slice(&self.first_entry_offset.to_le_bytes());
        for e in &self.entries {
            b.extend_from_slice(&e.file_id.to_le_bytes());
            b.extend_from_slice(&e.offset.to_le_bytes());
        }
        Ok(b)
    }
}

/// Parses a comment section that fills `bytes` exactly (CommentSize = 4 + CommentLength + 3).
/// The comment is returned without its NUL; `CORRUPTED` for a length that disagrees, a
/// missing NUL, an embedded NUL or invalid UTF-8. The reserved bytes are not checked (§7.1.1.1:
/// "should be ignored when reading").
pub fn parse_comment(bytes: &[u8], at: u64) -> Result<String> {
    let corrupt = |what: &str| err(ErrorCode::Corrupted, format!("package comment: {what}")).with_offset(at);
    let Some(len) = bytes.first_chunk::<4>() else {
        return Err(corrupt("shorter than its length field"));
    };
    let len = u32::from_le_bytes(*len);
    if len > MAX_COMMENT_LEN {
        return Err(corrupt("longer than 1,048,575 bytes"));
    }
    if u64::from(len) + 7 != bytes.len() as u64 {
        return Err(corrupt("CommentLength disagrees with CommentSize"));
    }
    let text = &bytes[4..4 + len as usize];
    let Some((&0, text)) = text.split_last() else {
        return Err(corrupt("not NUL-terminated"));
    };
    if text.contains(&0) {
        return Err(corrupt("contains a NUL"));
    }
    String::from_utf8(text.to_vec()).map_err(|_| corrupt("not valid UTF-8"))
}

/// The comment section for `comment` (NUL added). `INVALID_ARGUMENT` for an embedded NUL or
/// a comment longer than 1,048,574 bytes.
pub fn comment_to_bytes(comment: &str) -> Result<Vec<u8>> {
    if comment.contains('\0') {
        return Err(invalid_comment("contains a NUL character"));
    }
    let len = u32::try_from(comment.len() + 1)
        .ok()
        .filter(|&l| l <= MAX_COMMENT_LEN)
        .ok_or_else(|| invalid_comment("is longer than 1,048,574 bytes"))?;
    let mut b = Vec::with_capacity(comment.len() + 8);
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(comment.as_bytes());
    b.extend_from_slice(&[0, 0, 0, 0]);
    Ok(b)
}

fn invalid_comment(why: &str) -> crate::core::error::StreamError {
    err(ErrorCode::InvalidArgument, format!("the package comment {why}")).with_field("comment")
}
