//! The random-access reader of the sealed format: header and footer say where the index is,
//! the index (authenticated) says where every chunk is, and each chunk is opened alone.
//! The caller does the I/O, so the same code serves a `std::fs::File` and a JS `Blob`.

use super::{ChunkCodec, Footer, Header, FOOTER_LEN, HEADER_LEN, PREFIX_LEN};
use crate::core::compress::ChunkInflater;
use crate::core::crypto::Key;
use crate::core::error::{err, ErrorCode, Result};
use crate::core::stream::Source;

/// Where the index record is, from a file's first and last bytes.
#[derive(Clone, Debug)]
pub struct IndexLocation {
    codec: ChunkCodec,
    footer: Footer,
}

impl IndexLocation {
    /// Checks the header (first [`HEADER_LEN`] bytes) and footer (last [`FOOTER_LEN`] bytes)
    /// of a sealed file of `stored_len` bytes, and that the index lies between them.
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
        if stored_len < (HEADER_LEN + FOOTER_LEN) as u64 {
            return Err(err(ErrorCode::Truncated, "the sealed data is too short for its header and footer"));
        }
        let footer = Footer::parse(footer)?;
        let index_end = footer.index_offset.checked_add(u64::from(footer.index_len));
        if footer.index_offset < HEADER_LEN as u64 || index_end != Some(stored_len - FOOTER_LEN as u64) {
            return Err(
                err(ErrorCode::Corrupted, "the footer points outside the data").with_offset(footer.index_offset)
            );
        }
        Ok(IndexLocation { codec, footer })
    }

    /// Stored offset and length of the index record.
    pub fn index_range(&self) -> (u64, usize) {
        (self.footer.index_offset, self.footer.index_len as usize)
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

/// Reads a sealed file's header (first [`HEADER_LEN`] bytes) and footer (last
/// [`FOOTER_LEN`] bytes) without a key, checking their CRCs and that the index lies between them.
pub fn inspect(header: &[u8], footer: &[u8], stored_len: u64) -> Result<SealedInfo> {
    let header = Header::parse(header)?;
    if stored_len < (HEADER_LEN + FOOTER_LEN) as u64 {
        return Err(err(ErrorCode::Truncated, "the sealed data is too short for its header and footer"));
    }
    let footer = Footer::parse(footer)?;
    let overhead = if header.encrypted { crate::core::crypto::TAG_LEN } else { super::CRC_LEN } as u64;
    let index_end = footer.index_offset.checked_add(u64::from(footer.index_len));
    let entries = u64::from(footer.index_len).checked_sub(overhead + 16);
    match (index_end, entries) {
        (Some(end), Some(entries)) if end + FOOTER_LEN as u64 == stored_len && entries % 4 == 0 => {
            Ok(SealedInfo { header, footer, chunk_count: entries / 4, stored_len })
        }
        _ => Err(err(ErrorCode::Corrupted, "the footer points outside the data").with_offset(footer.index_offset)),
    }
}

/// [`inspect`] over a random-access source: reads its first and last bytes only.
pub async fn inspect_source<S: Source>(source: &S) -> Result<SealedInfo> {
    let stored_len = source.stored_len().ok_or_else(|| err(ErrorCode::ReadFailed, "the source has no known length"))?;
    let mut head = [0u8; HEADER_LEN];
    let n = source.read_at(0, &mut head).await?;
    let mut foot = [0u8; FOOTER_LEN];
    let footer_at = stored_len.saturating_sub(FOOTER_LEN as u64);
    let m = if stored_len >= FOOTER_LEN as u64 { source.read_at(footer_at, &mut foot).await? } else { 0 };
    inspect(&head[..n], &foot[..m], stored_len)
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
    /// exactly tile the space between header and index.
    pub fn load(location: IndexLocation, index_record: &mut [u8]) -> Result<SealedIndex> {
        let IndexLocation { codec, footer } = location;
        let (total_len, lens) = codec.open_index(index_record, &footer)?;
        let min = (PREFIX_LEN + codec.overhead()) as u64;
        let max = codec.max_record_len() as u64;
        let mut offsets = Vec::with_capacity(lens.len() + 1);
        let mut offset = HEADER_LEN as u64;
        for (chunk, &len) in lens.iter().enumerate() {
            let len = u64::from(len);
            if !(min..=max).contains(&len) {
                return Err(err(ErrorCode::Corrupted, format!("index: chunk {chunk} has an impossible length {len}"))
                    .with_chunk(chunk as u64));
            }
            offsets.push(offset);
            offset += len;
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
        let start = chunk * self.chunk_size() as u64;
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
