//! The 112-byte package header (§2.1): every field, little-endian, in the table's order (the
//! order Go's `binary.Write` of its `PackageHeader` struct produces).

use super::{le_u32, le_u64, FORMAT_VERSION, HEADER_LEN, MAGIC};
use crate::core::error::{err, ErrorCode, Result};

/// The Flags bits (§2.5.1). Bits 8-15 are the package compression type, 16-31 reserved.
pub mod flags {
    /// Bit 0: has signatures.
    pub const HAS_SIGNATURES: u32 = 1 << 0;
    /// Bit 1: has compressed files.
    pub const HAS_COMPRESSED_FILES: u32 = 1 << 1;
    /// Bit 2: has encrypted files.
    pub const HAS_ENCRYPTED_FILES: u32 = 1 << 2;
    /// Bit 3: has extended attributes.
    pub const HAS_EXTENDED_ATTRIBUTES: u32 = 1 << 3;
    /// Bit 4: has a package comment.
    pub const HAS_COMMENT: u32 = 1 << 4;
    /// Bit 5: has per-file tags.
    pub const HAS_PER_FILE_TAGS: u32 = 1 << 5;
    /// Bit 6: has special metadata files (types 65000-65535).
    pub const HAS_SPECIAL_METADATA: u32 = 1 << 6;
    /// Bit 7: metadata-only package (no regular files).
    pub const METADATA_ONLY: u32 = 1 << 7;
    /// Bits 8-15: package compression type (0 = none).
    pub const PACKAGE_COMPRESSION_MASK: u32 = 0xFF00;
    /// Bits 16-31: reserved, must be 0.
    pub const RESERVED_MASK: u32 = 0xFFFF_0000;
}

/// The package header, every field as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// `MAGIC` in a valid package.
    pub magic: u32,
    /// 1.
    pub format_version: u32,
    /// Feature bits and the package compression type (see [`flags`]).
    pub flags: u32,
    /// Package data version.
    pub package_data_version: u32,
    /// Package metadata version.
    pub metadata_version: u32,
    /// CRC-32 of everything after the header except signatures; 0 when skipped.
    pub package_crc: u32,
    /// Creation time, Unix nanoseconds.
    pub created_time: u64,
    /// Modification time, Unix nanoseconds.
    pub modified_time: u64,
    /// Locale of the paths (0 = system default).
    pub locale_id: u32,
    /// Must be 0.
    pub reserved: u32,
    /// Application or game identifier.
    pub app_id: u64,
    /// Storefront or platform identifier.
    pub vendor_id: u32,
    /// Creator identifier.
    pub creator_id: u32,
    /// Offset of the file index.
    pub index_start: u64,
    /// Length of the file index.
    pub index_size: u64,
    /// Archive chain identifier.
    pub archive_chain_id: u64,
    /// Part number (bits 31-16) and total parts (bits 15-0).
    pub archive_part_info: u32,
    /// Length of the comment section (0 = no comment).
    pub comment_size: u32,
    /// Offset of the comment section.
    pub comment_start: u64,
    /// Offset of the first signature (0 = unsigned).
    pub signature_offset: u64,
}

impl Header {
    /// A new package's header (§2.8.1, as Go's `NewPackageHeader`): magic, version 1, data and
    /// metadata versions 1, part 1 of 1, everything else 0.
    pub fn new() -> Header {
        Header {
            magic: MAGIC,
            format_version: FORMAT_VERSION,
            package_data_version: 1,
            metadata_version: 1,
            archive_part_info: 0x0001_0001,
            ..Header::default()
        }
    }

    /// True if `bytes` starts with the magic (or with a prefix of it, when shorter).
    pub fn has_magic(bytes: &[u8]) -> bool {
        let magic = MAGIC.to_le_bytes();
        let n = bytes.len().min(4);
        n > 0 && bytes[..n] == magic[..n]
    }

    /// Decodes the 112 bytes without checking anything.
    pub fn decode(b: &[u8; HEADER_LEN]) -> Header {
        Header {
            magic: le_u32(b, 0),
            format_version: le_u32(b, 4),
            flags: le_u32(b, 8),
            package_data_version: le_u32(b, 12),
            metadata_version: le_u32(b, 16),
            package_crc: le_u32(b, 20),
            created_time: le_u64(b, 24),
            modified_time: le_u64(b, 32),
            locale_id: le_u32(b, 40),
            reserved: le_u32(b, 44),
            app_id: le_u64(b, 48),
            vendor_id: le_u32(b, 56),
            creator_id: le_u32(b, 60),
            index_start: le_u64(b, 64),
            index_size: le_u64(b, 72),
            archive_chain_id: le_u64(b, 80),
            archive_part_info: le_u32(b, 88),
            comment_size: le_u32(b, 92),
            comment_start: le_u64(b, 96),
            signature_offset: le_u64(b, 104),
        }
    }

    /// Parses and checks a header: magic (`BAD_MAGIC`), FormatVersion 1
    /// (`UNSUPPORTED_VERSION`), no package compression (`UNSUPPORTED_ALGORITHM`), reserved
    /// field and flag bits 0 (`CORRUPTED`). Fewer than 112 bytes is `TRUNCATED` when they
    /// start like a package, `BAD_MAGIC` otherwise.
    pub fn parse(bytes: &[u8]) -> Result<Header> {
        let Some(b) = bytes.first_chunk::<HEADER_LEN>() else {
            if !Header::has_magic(bytes) {
                return Err(not_a_package());
            }
            return Err(err(
                ErrorCode::Truncated,
                format!("the package is {} bytes, shorter than its {HEADER_LEN}-byte header", bytes.len()),
            ));
        };
        let h = Header::decode(b);
        if h.magic != MAGIC {
            return Err(not_a_package());
        }
        if h.format_version != FORMAT_VERSION {
            return Err(err(
                ErrorCode::UnsupportedVersion,
                format!("NovusPack FormatVersion {} (this reader knows {FORMAT_VERSION})", h.format_version),
            )
            .with_field("formatVersion")
            .with_value(h.format_version)
            .with_offset(4));
        }
        if h.package_compression() != 0 {
            return Err(err(
                ErrorCode::UnsupportedAlgorithm,
                format!(
                    "package-level compression (type {}) is not supported: only per-file compression is",
                    h.package_compression()
                ),
            )
            .with_field("flags")
            .with_offset(8));
        }
        if h.flags & flags::RESERVED_MASK != 0 {
            return Err(err(ErrorCode::Corrupted, format!("header flags 0x{:08x} set reserved bits 16-31", h.flags))
                .with_field("flags")
                .with_offset(8));
        }
        if h.reserved != 0 {
            return Err(err(ErrorCode::Corrupted, "the header's reserved field is not 0")
                .with_field("reserved")
                .with_offset(44));
        }
        Ok(h)
    }

    /// The 112 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            b[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        put(&self.magic.to_le_bytes());
        put(&self.format_version.to_le_bytes());
        put(&self.flags.to_le_bytes());
        put(&self.package_data_version.to_le_bytes());
        put(&self.metadata_version.to_le_bytes());
        put(&self.package_crc.to_le_bytes());
        put(&self.created_time.to_le_bytes());
        put(&self.modified_time.to_le_bytes());
        put(&self.locale_id.to_le_bytes());
        put(&self.reserved.to_le_bytes());
        put(&self.app_id.to_le_bytes());
        put(&self.vendor_id.to_le_bytes());
        put(&self.creator_id.to_le_bytes());
        put(&self.index_start.to_le_bytes());
        put(&self.index_size.to_le_bytes());
        put(&self.archive_chain_id.to_le_bytes());
        put(&self.archive_part_info.to_le_bytes());
        put(&self.comment_size.to_le_bytes());
        put(&self.comment_start.to_le_bytes());
        put(&self.signature_offset.to_le_bytes());
        b
    }

    /// The package compression type (flag bits 8-15).
    pub fn package_compression(&self) -> u8 {
        ((self.flags & flags::PACKAGE_COMPRESSION_MASK) >> 8) as u8
    }

    /// Archive part number (bits 31-16 of ArchivePartInfo).
    pub fn archive_part(&self) -> u16 {
        (self.archive_part_info >> 16) as u16
    }

    /// Total archive parts (bits 15-0 of ArchivePartInfo).
    pub fn archive_total(&self) -> u16 {
        (self.archive_part_info & 0xFFFF) as u16
    }
}

fn not_a_package() -> crate::core::error::StreamError {
    err(ErrorCode::BadMagic, "not a NovusPack package (no NVPK magic)").with_offset(0)
}
