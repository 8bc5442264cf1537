//! Reads through a sealed file's authenticated index: each chunk is read and opened alone, on
//! this thread or by the [`ChunkDecoder`] (a worker pool), cached for concurrent readers, and
//! started ahead of a sequential reader within the memory limit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::buffers::Counted;
use super::sink::{ByteSink, ChunkBytes, ChunkData, ChunkStore, DecodedChunk, LocalChunk};
use super::{err, lock, to_usize, ChunkDecoder, ChunkRequest, ErrorCode, FileStream, Result, Source};
use crate::core::compress::ChunkInflater;
use crate::core::crypto::TAG_LEN;
use crate::core::sealed::{RecordPrefix, SealedIndex, PREFIX_LEN};
use crate::core::sync::Semaphore;

/// Decoded chunks, most recently used last.
struct ChunkCache<C> {
    entries: VecDeque<(u64, Arc<DecodedChunk<C>>)>,
    capacity: usize,
}

impl<C> ChunkCache<C> {
    fn get(&mut self, chunk: u64) -> Option<Arc<DecodedChunk<C>>> {
        let at = self.entries.iter().position(|(i, _)| *i == chunk)?;
        let entry = self.entries.remove(at)?;
        let data = Arc::clone(&entry.1);
        self.entries.push_back(entry);
        Some(data)
    }

    fn contains(&self, chunk: u64) -> bool {
        self.entries.iter().any(|(i, _)| *i == chunk)
    }

    fn put(&mut self, chunk: u64, data: Arc<DecodedChunk<C>>) {
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back((chunk, data));
    }

    fn remove(&mut self, chunk: u64) {
        self.entries.retain(|(i, _)| *i != chunk);
    }
}

/// The state of indexed reading (unused by other layouts).
pub(super) struct IndexedState<C> {
    /// Chunks started on the decoder ahead of the reader: chunk -> (ticket, bytes counted).
    pub(super) read_ahead: Mutex<HashMap<u64, (u64, usize)>>,
    /// Most chunks kept in flight by read-ahead (from the memory limit).
    pub(super) max_window: usize,
    /// Chunk decodes on this thread at once.
    pub(super) decode_slots: Semaphore,
    cache: Mutex<ChunkCache<C>>,
    inflaters: Mutex<Vec<ChunkInflater>>,
}

impl<C> IndexedState<C> {
    pub(super) fn new() -> Self {
        IndexedState {
            read_ahead: Mutex::new(HashMap::new()),
            max_window: 64,
            decode_slots: Semaphore::new(1),
            cache: Mutex::new(ChunkCache { entries: VecDeque::new(), capacity: 1 }),
            inflaters: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn set_cache_capacity(&mut self, capacity: usize) {
        lock(&self.cache).capacity = capacity;
    }

    pub(super) fn clear_cache(&self) {
        lock(&self.cache).entries.clear();
    }
}

fn request(index: &SealedIndex, chunk: u64) -> ChunkRequest {
    let (record_offset, record_len) = index.record_range(chunk);
    let (_, plain_len) = index.plain_range(chunk);
    ChunkRequest { chunk, record_offset, record_len, plain_len, last: chunk + 1 == index.chunk_count() }
}

impl<S: Source, D: ChunkDecoder> FileStream<S, D> {
    /// Writes logical bytes from `offset` into `sink[at..at + len]`, from one chunk: returns how
    /// many (0 at the end). Sequential reads start the next chunks ahead of time.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn read_indexed<K: ByteSink<D::Chunk> + ?Sized>(
        &self,
        index: &SealedIndex,
        offset: u64,
        sink: &mut K,
        at: usize,
        len: usize,
        deadline: Option<Duration>,
        sequential: bool,
    ) -> Result<usize> {
        if offset >= index.total_len() {
            return Ok(0);
        }
        let chunk = index.chunk_at(offset);
        let data = self.decoded_chunk(index, chunk, deadline, sequential).await?;
        let (start, _) = index.plain_range(chunk);
        let within = to_usize(offset - start);
        let n = len.min(data.len - within);
        data.write_to(sink, at, within, n);
        Ok(n)
    }

    /// The rest of the chunk holding `offset`, for `read_chunk`: a view of a locally decoded
    /// chunk, or a decoder's chunk handed over whole (taken out of the cache, so the caller
    /// owns it alone).
    pub(super) async fn chunk_at(
        &self,
        index: &SealedIndex,
        offset: u64,
        deadline: Option<Duration>,
    ) -> Result<Option<ChunkBytes<D::Chunk>>> {
        if offset >= index.total_len() {
            return Ok(None);
        }
        let chunk = index.chunk_at(offset);
        let data = self.decoded_chunk(index, chunk, deadline, true).await?;
        let (start, _) = index.plain_range(chunk);
        let range = to_usize(offset - start)..data.len;
        Ok(Some(match &data.store {
            ChunkStore::Local(_) => ChunkBytes::Local(LocalChunk::new(data, range)),
            ChunkStore::External { data: c, .. } => {
                lock(&self.indexed.cache).remove(chunk);
                ChunkBytes::External(c.clone(), range)
            }
        }))
    }

    /// A decoded chunk: from the cache, from the decoder (started earlier by read-ahead, or
    /// now), or read and opened on this thread.
    async fn decoded_chunk(
        &self,
        index: &SealedIndex,
        chunk: u64,
        deadline: Option<Duration>,
        read_ahead: bool,
    ) -> Result<Arc<DecodedChunk<D::Chunk>>> {
        let cached = lock(&self.indexed.cache).get(chunk);
        let ticket = if cached.is_some() { None } else { self.take_or_start(index, chunk) };
        if read_ahead {
            self.read_ahead(index, chunk + 1);
        }
        if let Some(data) = cached {
            return Ok(data);
        }
        match ticket {
            Some(ticket) => self.finish_external(index, chunk, ticket, deadline).await,
            None => self.decode_local(index, chunk, deadline).await,
        }
    }

    /// The ticket of a chunk started by read-ahead, or one started now; `None` = decode here.
    fn take_or_start(&self, index: &SealedIndex, chunk: u64) -> Option<u64> {
        if let Some((ticket, bytes)) = lock(&self.indexed.read_ahead).remove(&chunk) {
            self.meter.sub(bytes as u64);
            return Some(ticket);
        }
        self.decoder.start(&request(index, chunk))
    }

    /// Keeps the chunks after `next - 1` in flight on the decoder, up to its window.
    fn read_ahead(&self, index: &SealedIndex, next: u64) {
        let window = self.decoder.window().clamp(1, self.indexed.max_window) as u64;
        if window <= 1 || self.is_closed() {
            return;
        }
        let last = (next + window - 2).min(index.chunk_count() - 1);
        for chunk in next..=last {
            if lock(&self.indexed.read_ahead).contains_key(&chunk) || lock(&self.indexed.cache).contains(chunk) {
                continue;
            }
            let request = request(index, chunk);
            let Some(ticket) = self.decoder.start(&request) else { return };
            // Counted while in flight: the record being read and the plaintext being made.
            let bytes = request.plain_len + request.record_len;
            self.meter.add(bytes as u64);
            lock(&self.indexed.read_ahead).insert(chunk, (ticket, bytes));
        }
    }

    /// Abandons read-ahead outside `keep` (all of it when `keep` is empty).
    pub(super) fn trim_read_ahead(&self, keep: std::ops::Range<u64>) {
        let dropped: Vec<(u64, usize)> = {
            let mut map = lock(&self.indexed.read_ahead);
            let gone: Vec<u64> = map.keys().copied().filter(|c| !keep.contains(c)).collect();
            gone.into_iter().filter_map(|c| map.remove(&c)).collect()
        };
        for (ticket, bytes) in dropped {
            self.meter.sub(bytes as u64);
            self.decoder.cancel(ticket);
        }
    }

    /// Waits for a chunk decoded elsewhere and caches it.
    async fn finish_external(
        &self,
        index: &SealedIndex,
        chunk: u64,
        ticket: u64,
        deadline: Option<Duration>,
    ) -> Result<Arc<DecodedChunk<D::Chunk>>> {
        let request = request(index, chunk);
        let finished = self.decoder.finish(ticket).await;
        self.check(deadline)?;
        let (data, decoded) = finished.map_err(|e| e.or_chunk(chunk))?;
        if data.len() != request.plain_len {
            return Err(err(
                ErrorCode::Corrupted,
                format!("chunk {chunk}: the decoder returned {} bytes, expected {}", data.len(), request.plain_len),
            )
            .with_chunk(chunk));
        }
        let encrypted = index.codec().header().encrypted;
        self.count(|k| {
            k.chunks_read += 1;
            k.stored_bytes_read += request.record_len as u64;
            if encrypted {
                k.decrypted_bytes += (request.record_len - PREFIX_LEN - TAG_LEN) as u64;
            }
            if decoded.deflated {
                k.decompressed_bytes += request.plain_len as u64;
            }
        });
        let counted = Counted::new(request.plain_len as u64, &self.meter);
        let data =
            Arc::new(DecodedChunk { store: ChunkStore::External { data, _held: counted }, len: request.plain_len });
        if !self.is_closed() {
            lock(&self.indexed.cache).put(chunk, Arc::clone(&data));
        }
        Ok(data)
    }

    /// Reads and opens a chunk on this thread (at most `decode_slots` at once).
    async fn decode_local(
        &self,
        index: &SealedIndex,
        chunk: u64,
        deadline: Option<Duration>,
    ) -> Result<Arc<DecodedChunk<D::Chunk>>> {
        let _permit = self.indexed.decode_slots.acquire().await;
        if let Some(data) = lock(&self.indexed.cache).get(chunk) {
            return Ok(data);
        }
        self.check(deadline)?;
        let (offset, len) = index.record_range(chunk);
        let mut record = self.buffer(len)?;
        let n = self.source.read_at(offset, &mut record[..len]).await;
        self.check(deadline)?;
        let n = n?;
        self.count(|k| k.stored_bytes_read += n as u64);
        if n != len {
            return Err(err(ErrorCode::Truncated, format!("the source ended inside chunk {chunk}"))
                .with_chunk(chunk)
                .with_offset(offset + n as u64));
        }
        self.check(deadline)?;
        let (_, plain_len) = index.plain_range(chunk);
        let mut out = self.buffer(plain_len.max(1))?;
        let prefix = RecordPrefix::parse(record[..PREFIX_LEN].try_into().expect("records hold a prefix"));
        let mut inflater = lock(&self.indexed.inflaters).pop().unwrap_or_default();
        let opened = index.open_chunk(chunk, &mut record[..len], &mut inflater, &mut out);
        lock(&self.indexed.inflaters).push(inflater);
        opened?;
        let header = index.codec().header();
        self.count(|k| {
            k.chunks_read += 1;
            if header.encrypted {
                k.decrypted_bytes += (len - PREFIX_LEN - TAG_LEN) as u64;
            }
            if prefix.deflated {
                k.decompressed_bytes += plain_len as u64;
            }
        });
        drop(record);
        let data = Arc::new(DecodedChunk { store: ChunkStore::Local(out), len: plain_len });
        if !self.is_closed() {
            lock(&self.indexed.cache).put(chunk, Arc::clone(&data));
        }
        Ok(data)
    }
}
