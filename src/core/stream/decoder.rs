//! Where sealed chunks are decoded. By default the engine reads and opens each record itself
//! ([`LocalDecoder`]); a [`ChunkDecoder`] can take the work elsewhere, such as a pool of Web
//! Workers. Work is handed over as a plain ticket, so the engine can start chunks ahead of a
//! sequential reader (they progress while it waits for the current one) without owning
//! futures: the decoder keeps whatever is in flight. A decoded chunk stays in the decoder's own
//! memory ([`ChunkData`]): the engine copies from it only into what a reader asked for.

use std::future::Future;
use std::sync::Arc;

use super::sink::ChunkData;
use crate::core::error::{err, ErrorCode, Result};

/// One sealed chunk to decode: where its record is, and what its plaintext must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkRequest {
    /// Chunk number.
    pub chunk: u64,
    /// Stored offset of its record.
    pub record_offset: u64,
    /// Stored length of its record.
    pub record_len: usize,
    /// Exact plaintext length.
    pub plain_len: usize,
    /// It is the file's last chunk.
    pub last: bool,
}

/// What a decoder needs to decode any chunk of one sealed file on its own: handed over once,
/// after the engine has authenticated the header and the index (never the caller's key: the
/// per-file subkey).
#[derive(Debug)]
pub struct DecodeSession<'a> {
    /// The authenticated header bytes (the associated data of every record).
    pub header: &'a [u8],
    /// The per-file subkey, for encrypted files.
    pub subkey: Option<&'a [u8; 32]>,
    /// Stored offset of each chunk record, then the index offset (`chunk count + 1` entries).
    pub record_offsets: &'a [u64],
    /// Total plaintext length.
    pub total_len: u64,
    /// Plaintext bytes per chunk.
    pub chunk_size: usize,
}

/// What a decoder reports with a chunk's plaintext.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The record's body was deflated.
    pub deflated: bool,
}

/// Decodes sealed chunks somewhere else than the calling thread.
pub trait ChunkDecoder {
    /// A decoded chunk's plaintext, as the decoder holds it.
    type Chunk: ChunkData;

    /// Called once the sealed file's index is authenticated, before any `start`. The default
    /// ignores it.
    fn begin(&self, _session: &DecodeSession<'_>) {}

    /// Begins decoding `request` now and returns a ticket; `None` means "decode it yourself"
    /// (the engine then reads and opens the record on this thread).
    fn start(&self, request: &ChunkRequest) -> Option<u64>;

    /// Waits for a started chunk: its plaintext (exactly `request.plain_len` bytes, checked by
    /// the engine). Errors are those of opening the record.
    fn finish(&self, ticket: u64) -> impl Future<Output = Result<(Self::Chunk, Decoded)>>;

    /// Abandons a started chunk (its result is no longer wanted).
    fn cancel(&self, ticket: u64);

    /// How many chunks a sequential reader keeps in flight, the one it needs included
    /// (1 = no read-ahead). Asked before each read-ahead, so it may change over time.
    fn window(&self) -> usize {
        1
    }
}

/// Decodes every chunk on the calling thread, without read-ahead.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalDecoder;

impl ChunkDecoder for LocalDecoder {
    type Chunk = Arc<[u8]>;

    fn start(&self, _request: &ChunkRequest) -> Option<u64> {
        None
    }

    async fn finish(&self, _ticket: u64) -> Result<(Arc<[u8]>, Decoded)> {
        Err(err(ErrorCode::InternalError, "LocalDecoder hands out no tickets"))
    }

    fn cancel(&self, _ticket: u64) {}
}
