//! Where decoded bytes come from and go to, without copies the caller did not ask for.
//!
//! * [`ChunkData`]: plaintext a [`super::ChunkDecoder`] decoded somewhere else and keeps in its
//!   own memory (a worker's transferred `ArrayBuffer`, at the wasm boundary).
//! * [`ByteSink`]: the destination of `read` / `read_at`: a slice, or (at the boundary) a JS
//!   array that is written straight from a decoded chunk, with no scratch copy in between.
//! * [`ChunkBytes`]: what `read_chunk` hands out: a copy, a view of a cached chunk, or the
//!   decoder's own buffer when the chunk is handed over whole.

use std::ops::Range;
use std::sync::Arc;

use super::buffers::{Buf, Counted};

/// Decoded plaintext held by a chunk decoder.
pub trait ChunkData: Clone {
    /// Length in bytes.
    fn len(&self) -> usize;

    /// True when empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies `out.len()` bytes starting at `from` into `out`.
    fn copy_to(&self, from: usize, out: &mut [u8]);
}

impl ChunkData for Arc<[u8]> {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn copy_to(&self, from: usize, out: &mut [u8]) {
        out.copy_from_slice(&self[from..from + out.len()]);
    }
}

/// A destination of read bytes.
pub trait ByteSink<C: ChunkData> {
    /// Bytes the sink can take.
    fn len(&self) -> usize;

    /// True when it takes nothing.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes `bytes` at `at`.
    fn put(&mut self, at: usize, bytes: &[u8]);

    /// Writes `len` bytes of `chunk` from `from` at `at`.
    fn put_chunk(&mut self, at: usize, chunk: &C, from: usize, len: usize);

    /// The sink as a slice of engine memory, when it is one: sources then read into it
    /// directly instead of through a buffer.
    fn as_slice_mut(&mut self) -> Option<&mut [u8]> {
        None
    }
}

impl<C: ChunkData> ByteSink<C> for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn put(&mut self, at: usize, bytes: &[u8]) {
        self[at..at + bytes.len()].copy_from_slice(bytes);
    }

    fn put_chunk(&mut self, at: usize, chunk: &C, from: usize, len: usize) {
        chunk.copy_to(from, &mut self[at..at + len]);
    }

    fn as_slice_mut(&mut self) -> Option<&mut [u8]> {
        Some(self)
    }
}

/// A decoded sealed chunk: in engine memory, or in the decoder's.
pub(super) enum ChunkStore<C> {
    /// Decoded here, in a (pooled) buffer.
    Local(Buf),
    /// Decoded elsewhere; the decoder's buffer (counted by the stream's meter while held).
    External { data: C, _held: Counted },
}

/// A decoded chunk shared by concurrent readers; `len` bytes of plaintext.
pub(super) struct DecodedChunk<C> {
    pub(super) store: ChunkStore<C>,
    pub(super) len: usize,
}

impl<C: ChunkData> DecodedChunk<C> {
    /// Writes `len` bytes from `from` into `sink` at `at`.
    pub(super) fn write_to<K: ByteSink<C> + ?Sized>(&self, sink: &mut K, at: usize, from: usize, len: usize) {
        match &self.store {
            ChunkStore::Local(buf) => sink.put(at, &buf[from..from + len]),
            ChunkStore::External { data, .. } => sink.put_chunk(at, data, from, len),
        }
    }
}

/// The bytes of one `read_chunk`.
pub enum ChunkBytes<C> {
    /// A copy (pieces of several chunks, or of a sequential window).
    Owned(Vec<u8>),
    /// A view of a chunk decoded in engine memory (copy it out; the view lives as long as this).
    Local(LocalChunk<C>),
    /// A range of a chunk decoded elsewhere, handed over without a copy.
    External(C, Range<usize>),
}

impl<C: ChunkData> ChunkBytes<C> {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        match self {
            ChunkBytes::Owned(v) => v.len(),
            ChunkBytes::Local(l) => l.range.len(),
            ChunkBytes::External(_, r) => r.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes as a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            ChunkBytes::Owned(v) => v.clone(),
            ChunkBytes::Local(l) => l.to_vec(),
            ChunkBytes::External(c, r) => {
                let mut out = vec![0u8; r.len()];
                c.copy_to(r.start, &mut out);
                out
            }
        }
    }
}

/// A range of a chunk decoded in engine memory, kept alive while it is read.
pub struct LocalChunk<C> {
    chunk: Arc<DecodedChunk<C>>,
    range: Range<usize>,
}

impl<C> LocalChunk<C> {
    pub(super) fn new(chunk: Arc<DecodedChunk<C>>, range: Range<usize>) -> Self {
        LocalChunk { chunk, range }
    }
}

impl<C> std::ops::Deref for LocalChunk<C> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.chunk.store {
            ChunkStore::Local(buf) => &buf[self.range.clone()],
            // Never made for external chunks (see `ChunkBytes::External`).
            ChunkStore::External { .. } => &[],
        }
    }
}
