//! The FileStream engine: logical (decompressed, decrypted) bytes over a [`Source`] of stored
//! bytes, with sequential reads, seeks, position-free `read_at`, progress, ETA, statistics and a
//! memory limit that is never exceeded. This file holds the stream and its public API; the
//! rest is one job per file:
//!
//! * `open.rs`: deciding the layout at open (`layout.rs` lists the layouts)
//! * `memory.rs`: sizing caches and windows within the memory limit
//! * `indexed.rs`: reads through a sealed file's index, local or on a [`ChunkDecoder`]
//! * `sequential.rs`: reads in order through a decoder's window
//! * `base.rs`: stored bytes, or NovusPack v1 framing verified once and checked on every read
//! * `buffers.rs`, `sink.rs`: counted buffers, and where read bytes come from and go to
//! * `io.rs`: native `std::io` adapters
//!
//! All operations are `async` and take `&self`: the wasm boundary drives them from JS promises
//! (nothing blocks), `read_at` may run concurrently with anything, and the position-moving
//! operations are serialized by an async mutex.

mod base;
mod buffers;
mod decoder;
#[cfg(feature = "nvpk")]
mod entry;
mod indexed;
#[cfg(not(target_arch = "wasm32"))]
mod io;
mod layout;
mod memory;
mod open;
mod sequential;
mod sink;
mod source;

pub use decoder::{ChunkDecoder, ChunkRequest, DecodeSession, Decoded, LocalDecoder};
#[cfg(feature = "nvpk")]
pub use entry::EntryOpen;
#[cfg(not(target_arch = "wasm32"))]
pub use io::default_pool;
pub use sink::{ByteSink, ChunkBytes, ChunkData, LocalChunk};
#[cfg(not(target_arch = "wasm32"))]
pub use source::FileSource;
#[cfg(any(test, feature = "hazmat"))]
pub use source::MutableSource;
pub use source::{MemorySource, ReadSource, Source};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use self::base::Base;
use self::buffers::{Buf, Drawn};
use self::indexed::IndexedState;
use self::layout::{Layout, RandomLayout};
use self::memory::memory_limit;
use self::open::Plan;
#[cfg(feature = "nvpk")]
use self::sequential::EndChecks;
use self::sequential::{SeqState, WholeCheck};
use self::sink::{ChunkStore, DecodedChunk};
use super::clock::SharedClock;
use super::config::{StreamConfig, DEFAULT_READAHEAD_LIMIT};
use super::error::{err, ErrorCode, ErrorType, Result, StreamError};
use super::pool::BufferPool;
use super::sync::{AsyncMutex, Meter};

/// Counters of one stream (the spec's GetStats).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamStats {
    /// Logical bytes delivered to the caller (read, read_chunk, read_at).
    pub bytes_read: u64,
    /// Read operations (read, read_chunk, read_at calls).
    pub read_ops: u64,
    /// Chunks decoded (sealed chunks, or blocks of other layouts).
    pub chunks_read: u64,
    /// Seeks.
    pub seeks: u64,
    /// Stored bytes read from the source.
    pub stored_bytes_read: u64,
    /// Bytes produced by decompression.
    pub decompressed_bytes: u64,
    /// Bytes decrypted.
    pub decrypted_bytes: u64,
    /// Buffers reused from the pool.
    pub pool_hits: u64,
    /// Buffers the pool had to allocate (or could not lend).
    pub pool_misses: u64,
    /// Most bytes this stream held buffered at once.
    pub peak_buffered_bytes: u64,
    /// Time since open.
    pub elapsed: Duration,
    /// `bytes_read` per second since open.
    pub read_speed: f64,
}

/// Where a sequential reader stands (the spec's Progress).
#[derive(Clone, Debug, PartialEq)]
pub struct StreamProgress {
    /// How far the sequential reader has come (the position, at most the total).
    pub bytes_read: u64,
    /// Logical size, when known.
    pub total_bytes: Option<u64>,
    /// Bytes delivered per second since open.
    pub read_speed: f64,
    /// Time since open.
    pub elapsed: Duration,
}

/// What the stream found in its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatInfo {
    /// `"plain"`, `"sealed"`, `"gzip"`, `"zlib"`, `"deflate-raw"` or `"v1"` (NovusPack v1
    /// encryption; with compression inside, `"v1+gzip"` and so on).
    pub kind: String,
    /// Data is decompressed on the way.
    pub compressed: bool,
    /// Data is decrypted on the way.
    pub encrypted: bool,
    /// Sealed chunk size.
    pub chunk_size: Option<usize>,
    /// Sealed chunk count (known for random-access sources).
    pub chunk_count: Option<u64>,
    /// Stored size, when known.
    pub stored_size: Option<u64>,
}

#[derive(Default)]
struct Counters {
    bytes_read: u64,
    read_ops: u64,
    chunks_read: u64,
    seeks: u64,
    stored_bytes_read: u64,
    decompressed_bytes: u64,
    decrypted_bytes: u64,
    pool_hits: u64,
    pool_misses: u64,
}

const UNKNOWN: u64 = u64::MAX;

/// A logical byte stream over a [`Source`]; sealed chunks are decoded by `D` (by default on
/// the calling thread).
pub struct FileStream<S: Source, D: ChunkDecoder = LocalDecoder> {
    source: S,
    decoder: D,
    config: StreamConfig,
    buffer_size: usize,
    pool: Option<BufferPool>,
    clock: SharedClock,
    layout: Layout,
    /// The position and a sequential layout's decoding state; position-moving operations
    /// hold it.
    seq: AsyncMutex<SeqState>,
    indexed: IndexedState<D::Chunk>,
    counters: Mutex<Counters>,
    meter: Arc<Meter>,
    closed: AtomicBool,
    opened_at: Duration,
    size: AtomicU64,
    position: AtomicU64,
    /// Most decoded bytes a sequential layout may keep in its window.
    retention_limit: u64,
    /// Bytes kept behind the position for short backward seeks on sequential sources.
    lookback: u64,
    /// Random-access layouts with checks of the whole stream (a package entry): where the
    /// sequential reader has come in order from the start, and the checks fed so far.
    in_order: Mutex<Option<InOrder>>,
    /// What `format().kind` says whatever the layout ("entry" for a package entry).
    kind: Option<&'static str>,
}

/// Checks fed the bytes a sequential reader read in order from the start.
struct InOrder {
    next: u64,
    output: Box<dyn WholeCheck + Send + Sync>,
    input: Option<Box<dyn WholeCheck + Send + Sync>>,
}

impl<S: Source, D: ChunkDecoder> std::fmt::Debug for FileStream<S, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStream")
            .field("format", &self.format().kind)
            .field("size", &self.size())
            .field("position", &self.position())
            .field("closed", &self.is_closed())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl<S: Source> FileStream<S> {
    /// Opens a stream with the shared default pool and the system clock.
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn open(source: S, config: StreamConfig) -> Result<Self> {
        Self::open_with(source, config, Some(default_pool()), super::clock::system_clock()).await
    }

    /// Opens a stream with the given pool (used when `config.use_buffer_pool`) and clock.
    /// Reads what it must to know the layout: a header, a footer and index, or (NovusPack v1)
    /// the whole ciphertext once to verify its tag before anything is released.
    pub async fn open_with(
        source: S,
        config: StreamConfig,
        pool: Option<BufferPool>,
        clock: SharedClock,
    ) -> Result<Self> {
        Self::open_with_decoder(source, config, pool, clock, LocalDecoder).await
    }
}

impl<S: Source, D: ChunkDecoder> FileStream<S, D> {
    /// [`FileStream::open_with`] with sealed chunks decoded by `decoder` (a worker pool, say).
    pub async fn open_with_decoder(
        source: S,
        config: StreamConfig,
        pool: Option<BufferPool>,
        clock: SharedClock,
        decoder: D,
    ) -> Result<Self> {
        Self::open_planned(source, config, pool, clock, decoder, Plan::Detect).await
    }

    /// A stream over one NovusPack package entry: `source` holds the entry's stored bytes (a
    /// window of the package at `entry.data_offset`), read as its record says (decrypted, then
    /// decompressed, then checked).
    #[cfg(feature = "nvpk")]
    pub async fn open_entry(
        source: S,
        entry: EntryOpen,
        config: StreamConfig,
        pool: Option<BufferPool>,
        clock: SharedClock,
        decoder: D,
    ) -> Result<Self> {
        Self::open_planned(source, config, pool, clock, decoder, Plan::Entry(Box::new(entry))).await
    }

    async fn open_planned(
        source: S,
        config: StreamConfig,
        pool: Option<BufferPool>,
        clock: SharedClock,
        decoder: D,
        plan: Plan,
    ) -> Result<Self> {
        config.validate()?;
        // Under a memory limit the read buffer shrinks to leave room for chunks and windows.
        let mut buffer_size = config.effective_buffer_size();
        if config.memory_limit > 0 && config.buffer_size == 0 {
            buffer_size = buffer_size.min(to_usize(config.memory_limit / 8).max(4096));
        }
        let opened_at = clock.now();
        let mut stream = FileStream {
            pool: if config.use_buffer_pool { pool } else { None },
            buffer_size,
            clock,
            layout: Layout::Random(RandomLayout::Direct(Base::Stored)),
            seq: AsyncMutex::new(SeqState::new()),
            indexed: IndexedState::new(),
            counters: Mutex::new(Counters::default()),
            meter: Arc::new(Meter::default()),
            closed: AtomicBool::new(false),
            opened_at,
            size: AtomicU64::new(UNKNOWN),
            position: AtomicU64::new(0),
            retention_limit: DEFAULT_READAHEAD_LIMIT,
            lookback: buffer_size as u64,
            in_order: Mutex::new(None),
            kind: None,
            source,
            decoder,
            config,
        };
        let deadline = stream.deadline();
        let mut seq = stream.seq.try_lock().expect("a new stream is not locked");
        #[cfg(feature = "nvpk")]
        if matches!(plan, Plan::Entry(_)) {
            stream.kind = Some("entry");
        }
        let layout = stream.layout_for(plan, &mut seq, deadline).await;
        drop(seq);
        let layout = match layout {
            Ok(layout) => layout,
            Err(e) => {
                stream.release();
                return Err(e);
            }
        };
        if let Layout::Random(RandomLayout::Indexed(index)) = &layout {
            let codec = index.codec();
            stream.decoder.begin(&DecodeSession {
                header: codec.header_bytes(),
                subkey: codec.subkey(),
                record_offsets: index.record_offsets(),
                total_len: index.total_len(),
                chunk_size: index.chunk_size(),
            });
        }
        stream.layout = layout;
        stream.size_memory()?;
        stream.prime(deadline).await?;
        Ok(stream)
    }

    // ----- public API -----

    /// Logical size (decompressed, decrypted), when known.
    pub fn size(&self) -> Option<u64> {
        match self.size.load(Ordering::Relaxed) {
            UNKNOWN => None,
            size => Some(size),
        }
    }

    /// Logical read position.
    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }

    /// True after `close` (or a timeout).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// What the stream found in its source.
    pub fn format(&self) -> FormatInfo {
        let mut format = self.layout.format(self.source.stored_len());
        if let Some(kind) = self.kind {
            format.kind = kind.into();
        }
        format
    }

    /// Reads from the position into `into`, moving the position; returns the bytes read,
    /// 0 only at the end (the `io::Read` contract).
    pub async fn read(&self, into: &mut [u8]) -> Result<usize> {
        self.read_into(into).await
    }

    /// [`FileStream::read`] into any [`ByteSink`].
    pub async fn read_into<K: ByteSink<D::Chunk> + ?Sized>(&self, sink: &mut K) -> Result<usize> {
        let deadline = self.begin()?;
        let mut st = self.seq.lock().await;
        let len = sink.len();
        let result = self.read_locked(&mut st, sink, 0, len, deadline).await;
        self.finish_op(&mut st);
        result
    }

    /// The next chunk from the position (`None` at the end), as a new vector. Its length is
    /// `chunk_size` if configured; otherwise, on sealed data, the rest of the current sealed
    /// chunk, and on other data the buffer size.
    pub async fn read_chunk(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.read_chunk_bytes().await?.map(|c| c.to_vec()))
    }

    /// [`FileStream::read_chunk`] without copies the caller did not ask for: a view of a
    /// decoded chunk, or a chunk a decoder handed over whole.
    pub async fn read_chunk_bytes(&self) -> Result<Option<ChunkBytes<D::Chunk>>> {
        let deadline = self.begin()?;
        let mut st = self.seq.lock().await;
        let result = self.next_chunk(&mut st, deadline).await;
        if let Ok(Some(chunk)) = &result {
            st.position += chunk.len() as u64;
            self.position.store(st.position, Ordering::Relaxed);
            self.count(|k| k.bytes_read += chunk.len() as u64);
        }
        self.finish_op(&mut st);
        result
    }

    async fn next_chunk(&self, st: &mut SeqState, deadline: Option<Duration>) -> Result<Option<ChunkBytes<D::Chunk>>> {
        let position = st.position;
        let want = self.chunk_len_at(position);
        if self.config.chunk_size == 0 {
            match &self.layout {
                Layout::Random(RandomLayout::Indexed(index)) => return self.chunk_at(index, position, deadline).await,
                Layout::Random(RandomLayout::Direct(base)) => return self.direct_chunk(base, position, want).await,
                Layout::Sequential(_) => {}
            }
        }
        let mut out = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            let n =
                self.read_piece(st, position + filled as u64, &mut out[..], filled, want - filled, deadline).await?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            return Ok(None);
        }
        out.truncate(filled);
        Ok(Some(ChunkBytes::Owned(out)))
    }

    /// The length of the next `read_chunk` from `position`.
    pub fn chunk_len_at(&self, position: u64) -> usize {
        if self.config.chunk_size > 0 {
            return self.config.chunk_size;
        }
        match self.layout.sealed_chunk_size() {
            Some(chunk) => chunk - to_usize(position % chunk as u64),
            None => self.buffer_size,
        }
    }

    /// Moves the position to `offset` (0..=size). On sequential layouts a forward seek
    /// decodes and discards; a backward one restarts a random-access base, or fails with
    /// `NOT_SEEKABLE` once the bytes are no longer buffered.
    pub async fn seek(&self, offset: u64) -> Result<u64> {
        let deadline = self.begin()?;
        let mut st = self.seq.lock().await;
        let result = self.seek_locked(&mut st, offset, deadline).await;
        if result.is_ok() {
            self.count(|k| k.seeks += 1);
            st.position = offset;
            self.position.store(offset, Ordering::Relaxed);
        }
        self.release_if_closed(&mut st);
        result.map(|()| offset)
    }

    /// Reads at `offset` without moving the position, filling `into` unless the end comes
    /// first. Safe to call many times concurrently.
    pub async fn read_at(&self, into: &mut [u8], offset: u64) -> Result<usize> {
        self.read_at_into(into, offset).await
    }

    /// [`FileStream::read_at`] into any [`ByteSink`].
    pub async fn read_at_into<K: ByteSink<D::Chunk> + ?Sized>(&self, sink: &mut K, offset: u64) -> Result<usize> {
        let deadline = self.begin()?;
        self.check_offset(offset)?;
        let total = sink.len();
        let mut filled = 0;
        let result = match &self.layout {
            Layout::Random(random) => {
                let mut result = Ok(());
                while filled < total {
                    let at = offset + filled as u64;
                    match self.read_random(random, at, sink, filled, total - filled, deadline, false).await {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) => {
                            if self.is_closed() {
                                self.release();
                            }
                            result = Err(e);
                            break;
                        }
                    }
                }
                result
            }
            Layout::Sequential(layout) => {
                let mut st = self.seq.lock().await;
                let mut result = Ok(());
                while filled < total {
                    let at = offset + filled as u64;
                    match self.read_sequential(layout, &mut st, at, sink, filled, total - filled, false, deadline).await
                    {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                self.release_if_closed(&mut st);
                result
            }
        };
        result?;
        if filled == 0 && total > 0 {
            self.check_offset(offset)?;
        }
        self.count(|k| {
            k.bytes_read += filled as u64;
            k.read_ops += 1;
        });
        Ok(filled)
    }

    /// Closes the stream: later operations fail with `CLOSED`, buffers go back to the pool.
    /// Idempotent.
    pub fn close(&self) {
        if !self.closed.swap(true, Ordering::Relaxed) {
            self.source.close();
        }
        self.release();
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> StreamStats {
        let elapsed = self.elapsed();
        let k = lock(&self.counters);
        StreamStats {
            bytes_read: k.bytes_read,
            read_ops: k.read_ops,
            chunks_read: k.chunks_read,
            seeks: k.seeks,
            stored_bytes_read: k.stored_bytes_read,
            decompressed_bytes: k.decompressed_bytes,
            decrypted_bytes: k.decrypted_bytes,
            pool_hits: k.pool_hits,
            pool_misses: k.pool_misses,
            peak_buffered_bytes: self.meter.peak(),
            elapsed,
            read_speed: speed(k.bytes_read, elapsed),
        }
    }

    /// Bytes this stream holds buffered now.
    pub fn buffered_bytes(&self) -> u64 {
        self.meter.held()
    }

    /// Where the sequential reader stands.
    pub fn progress(&self) -> StreamProgress {
        let elapsed = self.elapsed();
        let total = self.size();
        let position = self.position();
        StreamProgress {
            bytes_read: total.map_or(position, |t| position.min(t)),
            total_bytes: total,
            read_speed: speed(lock(&self.counters).bytes_read, elapsed),
            elapsed,
        }
    }

    /// (total - position) / speed; zero when done; `None` when the size or speed is unknown.
    pub fn estimated_time_remaining(&self) -> Option<Duration> {
        let p = self.progress();
        let total = p.total_bytes?;
        if p.bytes_read >= total {
            return Some(Duration::ZERO);
        }
        if p.read_speed <= 0.0 {
            return None;
        }
        #[allow(clippy::cast_precision_loss)]
        let secs = (total - p.bytes_read) as f64 / p.read_speed;
        Some(Duration::from_secs_f64(secs))
    }

    // ----- reading -----

    /// Bytes a sequential decoder adds to its window per step.
    fn block_size(&self) -> usize {
        self.buffer_size.max(self.layout.sealed_chunk_size().unwrap_or(0))
    }

    /// One read from the position into `sink[at..at + len]`, moving the position.
    async fn read_locked<K: ByteSink<D::Chunk> + ?Sized>(
        &self,
        st: &mut SeqState,
        sink: &mut K,
        at: usize,
        len: usize,
        deadline: Option<Duration>,
    ) -> Result<usize> {
        if len == 0 {
            return Ok(0);
        }
        let n = self.read_piece(st, st.position, sink, at, len, deadline).await?;
        st.position += n as u64;
        self.position.store(st.position, Ordering::Relaxed);
        self.count(|k| k.bytes_read += n as u64);
        Ok(n)
    }

    /// One piece of the sequential reader's bytes at `offset` (its own position, or past it
    /// within one `read_chunk`).
    async fn read_piece<K: ByteSink<D::Chunk> + ?Sized>(
        &self,
        st: &mut SeqState,
        offset: u64,
        sink: &mut K,
        at: usize,
        len: usize,
        deadline: Option<Duration>,
    ) -> Result<usize> {
        match &self.layout {
            Layout::Random(random) => self.read_random(random, offset, sink, at, len, deadline, true).await,
            Layout::Sequential(layout) => self.read_sequential(layout, st, offset, sink, at, len, true, deadline).await,
        }
    }

    /// One piece of logical bytes at `offset` from a random-access layout. `sequential` reads
    /// start the next chunks on the decoder ahead of time.
    #[allow(clippy::too_many_arguments)]
    async fn read_random<K: ByteSink<D::Chunk> + ?Sized>(
        &self,
        layout: &RandomLayout,
        offset: u64,
        sink: &mut K,
        at: usize,
        len: usize,
        deadline: Option<Duration>,
        sequential: bool,
    ) -> Result<usize> {
        self.check(deadline)?;
        match layout {
            RandomLayout::Indexed(index) => self.read_indexed(index, offset, sink, at, len, deadline, sequential).await,
            RandomLayout::Direct(base) => self.read_direct(base, offset, sink, at, len).await,
        }
    }

    /// Bytes of a random-access base: straight into a slice sink, else through a buffer.
    async fn read_direct<K: ByteSink<D::Chunk> + ?Sized>(
        &self,
        base: &Base,
        offset: u64,
        sink: &mut K,
        at: usize,
        len: usize,
    ) -> Result<usize> {
        let n = len.min(self.buffer_size);
        let read = match sink.as_slice_mut() {
            Some(slice) => {
                let read = self.base_read_at(base, offset, &mut slice[at..at + n]).await?;
                self.check_in_order(offset, &slice[at..at + read])?;
                read
            }
            None => {
                let mut buf = self.buffer(n)?;
                let read = self.base_read_at(base, offset, &mut buf[..n]).await?;
                self.check_in_order(offset, &buf[..read])?;
                sink.put(at, &buf[..read]);
                read
            }
        };
        self.end_of_base(offset, read)?;
        self.count(|k| k.chunks_read += u64::from(read > 0));
        Ok(read)
    }

    /// A `read_chunk` of a random-access base: a block read into a pooled buffer.
    async fn direct_chunk(&self, base: &Base, offset: u64, want: usize) -> Result<Option<ChunkBytes<D::Chunk>>> {
        let mut buf = self.buffer(want.max(1))?;
        let mut filled = 0;
        while filled < want {
            let n = self.base_read_at(base, offset + filled as u64, &mut buf[filled..want]).await?;
            self.end_of_base(offset + filled as u64, n)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            return Ok(None);
        }
        self.check_in_order(offset, &buf[..filled])?;
        self.count(|k| k.chunks_read += 1);
        let chunk = Arc::new(DecodedChunk { store: ChunkStore::Local(buf), len: filled });
        Ok(Some(ChunkBytes::Local(LocalChunk::new(chunk, 0..filled))))
    }

    /// Checks the whole stream, a random-access one, as it is read in order from the start.
    #[cfg(feature = "nvpk")]
    fn track_in_order(&self, checks: &dyn EndChecks) {
        *lock(&self.in_order) = Some(InOrder { next: 0, output: checks.output(), input: checks.input() });
    }

    /// Feeds `bytes`, read at `offset`, to the in-order checks when they continue them; at
    /// the end of the stream the checks decide (a mismatch fails this read).
    fn check_in_order(&self, offset: u64, bytes: &[u8]) -> Result<()> {
        let mut slot = lock(&self.in_order);
        let Some(state) = slot.as_mut() else { return Ok(()) };
        if state.next != offset || bytes.is_empty() {
            return Ok(());
        }
        state.output.update(bytes);
        if let Some(input) = state.input.as_mut() {
            input.update(bytes);
        }
        state.next += bytes.len() as u64;
        if Some(state.next) == self.size() {
            let state = slot.take().expect("checked above");
            if let Some(input) = state.input {
                input.finish()?;
            }
            state.output.finish()?;
        }
        Ok(())
    }

    /// A base that ends before its known size is truncated.
    fn end_of_base(&self, offset: u64, read: usize) -> Result<()> {
        if read == 0 {
            if let Some(size) = self.size() {
                if offset < size {
                    return Err(
                        err(ErrorCode::Truncated, "the source is shorter than its declared size").with_offset(offset)
                    );
                }
            }
        }
        Ok(())
    }

    async fn seek_locked(&self, st: &mut SeqState, offset: u64, deadline: Option<Duration>) -> Result<()> {
        self.check_offset(offset)?;
        match &self.layout {
            Layout::Random(RandomLayout::Indexed(index)) => {
                let chunk = index.chunk_at(offset);
                self.trim_read_ahead(chunk..chunk + self.indexed.max_window as u64);
                Ok(())
            }
            Layout::Random(RandomLayout::Direct(_)) => Ok(()),
            Layout::Sequential(layout) => self.seek_sequential(layout, st, offset, deadline).await,
        }
    }

    // ----- plumbing -----

    fn elapsed(&self) -> Duration {
        self.clock.now().saturating_sub(self.opened_at)
    }

    fn deadline(&self) -> Option<Duration> {
        self.config.timeout.map(|t| self.clock.now() + t)
    }

    /// Starts an operation: refuses closed streams, returns its deadline.
    fn begin(&self) -> Result<Option<Duration>> {
        if self.is_closed() {
            return Err(closed());
        }
        Ok(self.deadline())
    }

    /// Checked between chunks: closed, or past the deadline (which closes the stream).
    fn check(&self, deadline: Option<Duration>) -> Result<()> {
        if self.is_closed() {
            return Err(closed());
        }
        if deadline.is_some_and(|d| self.clock.now() > d) {
            self.close();
            let ms = self.config.timeout.map_or(0, |t| t.as_millis());
            return Err(err(ErrorCode::Timeout, format!("the operation took longer than its timeout of {ms} ms")));
        }
        Ok(())
    }

    fn check_offset(&self, offset: u64) -> Result<()> {
        if let Some(size) = self.size() {
            if offset > size {
                return Err(err(ErrorCode::InvalidOffset, format!("offset {offset} is past the end ({size})"))
                    .with_field("offset")
                    .with_value(offset)
                    .with_expected(format!("0 to {size}"))
                    .with_offset(offset));
            }
        }
        Ok(())
    }

    fn finish_op(&self, st: &mut SeqState) {
        self.count(|k| k.read_ops += 1);
        self.release_if_closed(st);
    }

    fn release_if_closed(&self, st: &mut SeqState) {
        if self.is_closed() {
            st.release(&self.meter);
        }
    }

    /// Returns cached buffers to the pool, abandons read-ahead, and frees the sequential state
    /// if it is idle.
    fn release(&self) {
        self.trim_read_ahead(0..0);
        self.indexed.clear_cache();
        if let Some(mut st) = self.seq.try_lock() {
            st.release(&self.meter);
        }
    }

    fn set_size(&self, size: Option<u64>) {
        self.size.store(size.unwrap_or(UNKNOWN), Ordering::Relaxed);
    }

    fn count(&self, f: impl FnOnce(&mut Counters)) {
        f(&mut lock(&self.counters));
    }

    /// A buffer of at least `len` bytes from the pool, or allocated if the pool is off or
    /// cannot lend one; counted by the meter while it lives.
    fn buffer(&self, len: usize) -> Result<Buf> {
        let (buf, drawn) = Buf::draw(self.pool.as_ref(), len, &self.meter);
        match drawn {
            Drawn::Hit => self.count(|k| k.pool_hits += 1),
            Drawn::Miss => self.count(|k| k.pool_misses += 1),
            Drawn::Unpooled => {}
        }
        Ok(buf)
    }
}

fn speed(bytes: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    if secs > 0.0 {
        bytes as f64 / secs
    } else {
        0.0
    }
}

fn closed() -> StreamError {
    err(ErrorCode::Closed, "the stream is closed")
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

#[cfg(all(test, feature = "nvpk", not(target_arch = "wasm32")))]
mod entry_tests;
