//! The random-access reader of the sealed format: header and footer say where the index is,
//! the index (authenticated) says where every chunk is, and each chunk is opened alone.
//! The caller does the I/O, so the same code serves a `std::fs::File` and a JS `Blob`.
//!
//! Nothing is allocated from what the footer declares until it has been checked against the
//! file's geometry: the index's length must be that of a whole number of entries, at most
//! [`MAX_CHUNKS`], that many records must fit between header and index, and a declared total
//! must need exactly that many chunks. [`IndexLocation::memory_peak`] is then what loading it
//! holds at once, for the caller's memory limit.

use super::{ChunkCodec, Footer, Header, CRC_LEN, FOOTER_LEN, HEADER_LEN_V1, INDEX_FIXED_LEN, MAX_CHUNKS};
use super::{MAX_HEADER_LEN, PREFIX_LEN};
use crate::core::compress::ChunkInflater;
use crate::core::crypto::{Key, TAG_LEN};
use crate::core::error::{err, ErrorCode, Result, StreamError};
use crate::core::stream::Source;

/// Where the index record is, from a file's first and last bytes.
#[derive(Clone, Debug)]
pub struct IndexLocation {
    codec: ChunkCodec,
    footer: Footer,
    chunk_count: u64,
}

fn outside(footer: &Footer) -> StreamError {
    err(ErrorCode::Corrupted, "the footer points outside the data").with_offset(footer.index_offset)
}

/// The chunk count a footer declares (through its index length), checked against the file's
/// geometry before anything is allocated from it: the index lies between header and footer;
/// its length is that of a whole number (1 to [`MAX_CHUNKS`]) of entries; that many records,
/// each from `4 + check` to `4 + chunk size + check` bytes, can fill the space between header
/// and index; and a total length in the header needs exactly that many chunks.
fn geometry(header: &Header, header_len: usize, footer: &Footer, stored_len: u64) -> Result<u64> {
    let overhead = if header.encrypted { TAG_LEN } else { CRC_LEN } as u64;
    let index_end = footer.index_offset.checked_add(u64::from(footer.index_len));
    let data_end = stored_len.checked_sub(FOOTER_LEN as u64);
    if footer.index_offset < header_len as u64 || index_end.is_none() || index_end != data_end {
        return Err(outside(footer));
    }
    let entries = u64::from(footer.index_len).checked_sub(INDEX_FIXED_LEN as u64 + overhead);
    let count = match entries {
        Some(e) if e % 4 == 0 && (1..=MAX_CHUNKS).contains(&(e / 4)) => e / 4,
        _ => return Err(err(ErrorCode::Corrupted, "the index length is not that of a whole number of chunks")),
    };
    let data = footer.index_offset - header_len as u64;
    let min = count * (PREFIX_LEN as u64 + overhead);
    let max = count * (PREFIX_LEN as u64 + u64::from(header.chunk_size) + overhead);
    if data < min || data > max {
        return Err(err(
            ErrorCode::Corrupted,
            format!("the index lists {count} chunks, which cannot fill the {data} bytes before it"),
        ));
    }
    if let Some(total) = header.total_len {
        if total.div_ceil(u64::from(header.chunk_size)).max(1) != count {
            return Err(err(ErrorCode::Corrupted, "the index's chunk count does not match the header's total length"));
        }
    }
    Ok(count)
}

impl IndexLocation {
    /// Checks the header (first bytes: [`MAX_HEADER_LEN`] read any version's) and footer
    /// (last [`FOOTER_LEN`] bytes) of a sealed file of `stored_len` bytes, the key (and, from
    /// version 2, the key commitment: a wrong key is `AUTH_FAILED` here, before any chunk), and
    /// that the index fits the file's geometry.
    pub fn locate(
        header: &[u8],
        footer: &[u8],
        stored_len: u64,
        key: Option<&Key>,
        require_encryption: bool,
    ) -> Result<IndexLocation> {
        let header = Header::parse(header)?;
        if require_encryption && !header.encrypted {
            return Err(err(ErrorCode::NotEncrypted, "encryption was expected but the sealed data is not encrypted"));
        }
        let codec = ChunkCodec::new(header, key)?;
        if stored_len < (codec.header_len() + FOOTER_LEN) as u64 {
            return Err(err(ErrorCode::Truncated, "the sealed data is too short for its header and footer"));
        }
        let footer = Footer::parse(footer)?;
        let chunk_count = geometry(codec.header(), codec.header_len(), &footer, stored_len)?;
        Ok(IndexLocation { codec, footer, chunk_count })
    }

    /// Stored offset and length of the index record.
    pub fn index_range(&self) -> (u64, usize) {
        (self.footer.index_offset, self.footer.index_len as usize)
    }

    /// The chunk count the footer declares (checked against the geometry, not yet
    /// authenticated).
    pub fn chunk_count(&self) -> u64 {
        self.chunk_count
    }

    /// The most memory loading the index holds at once: its record and the chunk offsets
    /// [`SealedIndex`] keeps (the record lengths are read in place).
    pub fn memory_peak(&self) -> u64 {
        u64::from(self.footer.index_len) + 8 * (self.chunk_count + 1)
    }

    /// The codec (header and subkey) of the file.
    pub fn codec(&self) -> &ChunkCodec {
        &self.codec
    }
}

/// What a sealed file's header and footer say, read without a key. Nothing here is
/// authenticated: use it to describe a file, not to trust one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedInfo {
    /// The parsed header.
    pub header: Header,
    /// Where the index is.
    pub footer: Footer,
    /// Chunk count implied by the index length.
    pub chunk_count: u64,
    /// Stored size of the file.
    pub stored_len: u64,
}

/// Reads a sealed file's header (its first bytes: [`MAX_HEADER_LEN`] read any version's) and
/// footer (last [`FOOTER_LEN`] bytes) without a key, checking their CRCs and that the index
/// fits the file's geometry (as the readers do before they allocate anything).
pub fn inspect(header: &[u8], footer: &[u8], stored_len: u64) -> Result<SealedInfo> {
    let header = Header::parse(header)?;
    if stored_len < (header.len() + FOOTER_LEN) as u64 {
        return Err(err(ErrorCode::Truncated, "the sealed data is too short for its header and footer"));
    }
    let footer = Footer::parse(footer)?;
    let chunk_count = geometry(&header, header.len(), &footer, stored_len)?;
    Ok(SealedInfo { header, footer, chunk_count, stored_len })
}

/// [`inspect`] over a random-access source: reads its first and last bytes only.
pub async fn inspect_source<S: Source>(source: &S) -> Result<SealedInfo> {
    let stored_len = source.stored_len().ok_or_else(|| err(ErrorCode::ReadFailed, "the source has no known length"))?;
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = source.read_at(0, &mut head).await?;
    let mut foot = [0u8; FOOTER_LEN];
    let footer_at = stored_len.saturating_sub(FOOTER_LEN as u64);
    let m =
        if stored_len >= (HEADER_LEN_V1 + FOOTER_LEN) as u64 { source.read_at(footer_at, &mut foot).await? } else { 0 };
    inspect(&head[..n.min(head.len())], &foot[..m.min(foot.len())], stored_len)
}

/// A loaded, verified index: random access to any chunk.
#[derive(Clone, Debug)]
pub struct SealedIndex {
    codec: ChunkCodec,
    total_len: u64,
    /// Stored offset of each chunk record, then the index offset.
    offsets: Vec<u64>,
}

impl SealedIndex {
    /// Verifies the index record (decrypting it in place) and checks that its chunk records
    /// exactly tile the space between header and index. The offsets are the only allocation
    /// (`MEMORY_LIMIT` if it fails).
    pub fn load(location: IndexLocation, index_record: &mut [u8]) -> Result<SealedIndex> {
        let IndexLocation { codec, footer, chunk_count } = location;
        let (total_len, lens) = codec.open_index(index_record, &footer)?;
        if lens.len() as u64 != chunk_count {
            return Err(err(ErrorCode::Corrupted, "index: chunk count differs from the footer's"));
        }
        let min = codec.min_record_len() as u64;
        let max = codec.max_record_len() as u64;
        let mut offsets = Vec::new();
        offsets
            .try_reserve_exact(lens.len() + 1)
            .map_err(|_| err(ErrorCode::MemoryLimit, format!("no memory for the offsets of {} chunks", lens.len())))?;
        let mut offset = codec.header_len() as u64;
        for (chunk, len) in lens.iter().enumerate() {
            let len = u64::from(len);
            if !(min..=max).contains(&len) {
                return Err(err(ErrorCode::Corrupted, format!("index: chunk {chunk} has an impossible length {len}"))
                    .with_chunk(chunk as u64));
            }
            offsets.push(offset);
            offset = offset
                .checked_add(len)
                .filter(|&end| end <= footer.index_offset)
                .ok_or_else(|| err(ErrorCode::Corrupted, "index: chunk lengths run past the index offset"))?;
        }
        if offset != footer.index_offset {
            return Err(err(ErrorCode::Corrupted, "index: chunk lengths do not reach the index offset"));
        }
        offsets.push(offset);
        Ok(SealedIndex { codec, total_len, offsets })
    }

    /// The codec.
    pub fn codec(&self) -> &ChunkCodec {
        &self.codec
    }

    /// Total plaintext length (authenticated).
    pub fn total_len(&self) -> u64 {
        self.total_len
    }

    /// Number of chunks (at least one).
    pub fn chunk_count(&self) -> u64 {
        self.offsets.len() as u64 - 1
    }

    /// Plaintext bytes per chunk.
    pub fn chunk_size(&self) -> usize {
        self.codec.chunk_size()
    }

    /// The chunk holding logical byte `offset` (the last chunk for `offset >= total`).
    pub fn chunk_at(&self, offset: u64) -> u64 {
        (offset / self.chunk_size() as u64).min(self.chunk_count() - 1)
    }

    /// Stored offset and length of chunk record `chunk`.
    pub fn record_range(&self, chunk: u64) -> (u64, usize) {
        let i = usize::try_from(chunk).expect("chunk index fits memory");
        let len = usize::try_from(self.offsets[i + 1] - self.offsets[i]).expect("record fits memory");
        (self.offsets[i], len)
    }

    /// Logical offset and length of chunk `chunk`'s plaintext.
    pub fn plain_range(&self, chunk: u64) -> (u64, usize) {
        // chunk < count <= MAX_CHUNKS < 2^30 and chunk size <= 2^26: no overflow.
        let start = chunk.saturating_mul(self.chunk_size() as u64);
        let len = self.total_len.saturating_sub(start).min(self.chunk_size() as u64);
        (start, usize::try_from(len).expect("chunk fits memory"))
    }

    /// Stored offset of each chunk record, then the index offset.
    pub fn record_offsets(&self) -> &[u64] {
        &self.offsets
    }

    /// Bytes of memory the index holds.
    pub fn memory_bytes(&self) -> usize {
        self.offsets.capacity() * 8
    }

    /// Opens chunk `chunk` from its record (decrypted in place) into `out`, which must hold
    /// at least the chunk's plaintext; returns the plaintext length. Checks the last-chunk
    /// flag and that the plaintext has exactly the length the index implies.
    pub fn open_chunk(
        &self,
        chunk: u64,
        record: &mut [u8],
        inflater: &mut ChunkInflater,
        out: &mut [u8],
    ) -> Result<usize> {
        let (_, expected) = self.plain_range(chunk);
        let last = chunk + 1 == self.chunk_count();
        let (len, _) = self.codec.open_chunk(chunk, Some(last), record, inflater, &mut out[..expected])?;
        if len != expected {
            return Err(err(
                ErrorCode::Corrupted,
                format!("chunk {chunk}: {len} plaintext bytes, expected {expected}"),
            )
            .with_chunk(chunk));
        }
        Ok(len)
    }
}
