//! The FileStream engine: logical (decompressed, decrypted) bytes over a [`Source`] of
//! stored bytes, with sequential reads, seeks, position-free `read_at`, progress, ETA,
//! statistics and a memory limit that is never exceeded.
//!
//! What the source holds is decided once, at open:
//!
//! | layout      | stored bytes                         | logical access                      |
//! |-------------|--------------------------------------|-------------------------------------|
//! | `Direct`    | plain, or NovusPack v1 (verified)    | random if the source (or buffer) is |
//! | `Indexed`   | sealed, random-access source         | random: footer -> index -> chunk    |
//! | `Opener`    | sealed, sequential source            | in order, through the `Opener`      |
//! | `Inflate`   | gzip / zlib / raw deflate over Direct | in order; restarts if the base is random |
//!
//! The decode path is a pipeline of stages (stored bytes -> decrypt -> inflate -> caller).
//! Per-chunk buffers come from the [`BufferPool`] and go back after each chunk; every buffer
//! is counted by a [`Meter`], and the number of chunk decodes in flight and cached decoded
//! chunks are sized at open so their sum stays within `memory_limit`.
//!
//! All operations are `async` and take `&self`: the wasm boundary drives them from JS
//! promises (nothing blocks), `read_at` may run concurrently with anything, and the
//! position-moving operations are serialized by an async mutex.

mod decoder;
mod source;

pub use decoder::{ChunkDecoder, ChunkRequest, Decoded, LocalDecoder};

#[cfg(not(target_arch = "wasm32"))]
pub use source::FileSource;
pub use source::{MemorySource, ReadSource, Source};

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::clock::SharedClock;
use super::compress::{ChunkInflater, CompressedFormat, Inflater};
use super::config::{StreamConfig, DEFAULT_READAHEAD_LIMIT};
use super::crypto::{
    v1_apply_keystream, v1_decrypt_in_place, Key, V1Verifier, TAG_LEN, V1_MAX_CIPHERTEXT, V1_NONCE_LEN, V1_OVERHEAD,
};
use super::error::{err, ErrorCode, ErrorType, Result, StreamError};
use super::pool::{BufferPool, PooledBuffer};
use super::sealed::{Header, IndexLocation, Opener, RecordPrefix, SealedIndex, FOOTER_LEN, HEADER_LEN, PREFIX_LEN};
use super::sync::{AsyncMutex, Gauge, Meter, Semaphore};

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

/// A buffer drawn from the pool (or allocated when the pool is off or cannot lend),
/// counted by the stream's meter for as long as it lives.
struct Buf {
    data: BufData,
    meter: Arc<Meter>,
}

enum BufData {
    Pooled(PooledBuffer),
    Owned(Vec<u8>),
}

impl Buf {
    fn len(&self) -> usize {
        match &self.data {
            BufData::Pooled(b) => b.len(),
            BufData::Owned(v) => v.len(),
        }
    }
}

impl std::ops::Deref for Buf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.data {
            BufData::Pooled(b) => b,
            BufData::Owned(v) => v,
        }
    }
}

impl std::ops::DerefMut for Buf {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.data {
            BufData::Pooled(b) => b,
            BufData::Owned(v) => v,
        }
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        self.meter.sub(self.len() as u64);
    }
}

/// A decoded sealed chunk, shared by concurrent readers.
struct DecodedChunk {
    buf: Buf,
    len: usize,
}

/// Decoded chunks, most recently used last.
struct ChunkCache {
    entries: VecDeque<(u64, Arc<DecodedChunk>)>,
    capacity: usize,
}

impl ChunkCache {
    fn get(&mut self, chunk: u64) -> Option<Arc<DecodedChunk>> {
        let at = self.entries.iter().position(|(i, _)| *i == chunk)?;
        let entry = self.entries.remove(at).expect("position is valid");
        let data = Arc::clone(&entry.1);
        self.entries.push_back(entry);
        Some(data)
    }

    fn contains(&self, chunk: u64) -> bool {
        self.entries.iter().any(|(i, _)| *i == chunk)
    }

    fn put(&mut self, chunk: u64, data: Arc<DecodedChunk>) {
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back((chunk, data));
    }
}

/// NovusPack v1 framing as a random-access layer: verified once, then decrypted by range.
struct V1Base {
    key: Key,
    nonce: [u8; V1_NONCE_LEN],
    len: u64,
    /// Sequential sources: the verified plaintext, held whole (within the memory limit).
    plaintext: Option<Vec<u8>>,
}

enum Base {
    Stored,
    V1(V1Base),
}

enum Layout {
    Direct(Base),
    Inflate(Base, CompressedFormat),
    Indexed(SealedIndex),
    Opener { chunk_size: usize, encrypted: bool, compressed: bool },
}

enum Decoder {
    /// Random-access layouts do not decode sequentially.
    None,
    Passthrough,
    Opener(Box<Opener>),
    Inflater(Box<Inflater>),
}

/// Decoded bytes of a sequential layout: `buf[head..]` holds logical bytes from `start`.
#[derive(Default)]
struct Window {
    buf: Vec<u8>,
    head: usize,
    start: u64,
}

impl Window {
    fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    fn end(&self) -> u64 {
        self.start + self.len() as u64
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    /// Drops bytes before logical offset `keep_from`.
    fn discard_before(&mut self, keep_from: u64) {
        if keep_from <= self.start {
            return;
        }
        let drop = usize::try_from(keep_from - self.start).unwrap_or(usize::MAX).min(self.len());
        self.head += drop;
        self.start += drop as u64;
        if self.head == self.buf.len() {
            self.buf.clear();
            self.head = 0;
        } else if self.head > self.buf.len() / 2 {
            self.buf.drain(..self.head);
            self.head = 0;
        }
    }

    fn reset(&mut self, start: u64) {
        self.buf.clear();
        self.head = 0;
        self.start = start;
    }
}

/// State of the sequential reader, behind the async mutex.
struct SeqState {
    position: u64,
    decoder: Decoder,
    window: Window,
    input: Vec<u8>,
    input_pos: usize,
    input_len: usize,
    input_eof: bool,
    /// Next stored (or v1 plaintext) offset to read, for decoders over a random-access base.
    cursor: u64,
    done: bool,
    window_gauge: Gauge,
    input_gauge: Gauge,
}

impl SeqState {
    fn new() -> Self {
        SeqState {
            position: 0,
            decoder: Decoder::None,
            window: Window::default(),
            input: Vec::new(),
            input_pos: 0,
            input_len: 0,
            input_eof: false,
            cursor: 0,
            done: false,
            window_gauge: Gauge::default(),
            input_gauge: Gauge::default(),
        }
    }

    fn pending_input(&self) -> &[u8] {
        &self.input[self.input_pos..self.input_len]
    }

    fn report(&mut self, meter: &Meter) {
        self.window_gauge.set(meter, self.window.buf.capacity() as u64);
        self.input_gauge.set(meter, self.input.capacity() as u64);
    }

    fn release(&mut self, meter: &Meter) {
        self.window = Window::default();
        self.input = Vec::new();
        self.input_pos = 0;
        self.input_len = 0;
        self.decoder = Decoder::None;
        self.report(meter);
    }
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
/// Bytes decoded at open to check that data guessed to be raw deflate is.
const PRIME_BLOCK: usize = 1024;

/// A logical byte stream over a [`Source`]; sealed chunks are decoded by `D` (by default on
/// the calling thread).
pub struct FileStream<S: Source, D: ChunkDecoder = LocalDecoder> {
    source: S,
    decoder: D,
    /// Chunks started on the decoder ahead of the reader: chunk -> (ticket, plaintext bytes).
    read_ahead: Mutex<HashMap<u64, (u64, usize)>>,
    /// Most chunks kept in flight by read-ahead (from the memory limit).
    max_window: usize,
    config: StreamConfig,
    buffer_size: usize,
    pool: Option<BufferPool>,
    clock: SharedClock,
    layout: Layout,
    seq: AsyncMutex<SeqState>,
    cache: Mutex<ChunkCache>,
    decode_slots: Semaphore,
    inflaters: Mutex<Vec<ChunkInflater>>,
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
            layout: Layout::Direct(Base::Stored),
            seq: AsyncMutex::new(SeqState::new()),
            cache: Mutex::new(ChunkCache { entries: VecDeque::new(), capacity: 1 }),
            decode_slots: Semaphore::new(1),
            inflaters: Mutex::new(Vec::new()),
            counters: Mutex::new(Counters::default()),
            meter: Arc::new(Meter::default()),
            closed: AtomicBool::new(false),
            opened_at,
            size: AtomicU64::new(UNKNOWN),
            position: AtomicU64::new(0),
            retention_limit: DEFAULT_READAHEAD_LIMIT,
            lookback: buffer_size as u64,
            source,
            decoder,
            read_ahead: Mutex::new(HashMap::new()),
            max_window: 64,
            config,
        };
        let deadline = stream.deadline();
        let mut seq = stream.seq.try_lock().expect("a new stream is not locked");
        let layout = stream.detect(&mut seq, deadline).await;
        drop(seq);
        let layout = match layout {
            Ok(layout) => layout,
            Err(e) => {
                stream.release();
                return Err(e);
            }
        };
        stream.layout = layout;
        stream.size_memory()?;
        stream.prime(deadline).await?;
        Ok(stream)
    }

    /// Decides the layout, reading the least it can. A source that starts with the sealed magic
    /// is opened as sealed whatever the flags say (unless `raw`): sealed data is never read as
    /// if it were the file.
    async fn detect(&self, st: &mut SeqState, deadline: Option<Duration>) -> Result<Layout> {
        let c = &self.config;
        let random = self.source.is_random_access();
        if random {
            self.set_size(self.source.stored_len());
        } else {
            self.set_size(c.size.or(self.source.stored_len()));
        }
        if c.raw {
            if !random {
                st.decoder = Decoder::Passthrough;
            }
            return Ok(Layout::Direct(Base::Stored));
        }
        let head = self.peek_head(st, deadline).await?;
        let flagged = c.is_compressed || c.is_encrypted || c.key.is_some();
        // With a decoding flag, a prefix of the magic is a truncated sealed file.
        let looks_sealed = Header::has_magic(&head)
            || (flagged && !head.is_empty() && head.len() < 8 && head[..] == super::sealed::MAGIC[..head.len()]);
        if looks_sealed {
            self.set_size(None);
            return if random { self.open_indexed(&head).await } else { self.open_sequential_sealed(st, &head) };
        }
        if !flagged {
            if !random {
                // The peeked bytes are the stream's first: they start the window.
                st.decoder = Decoder::Passthrough;
                let (start, end) = (st.input_pos, st.input_len);
                let input = std::mem::take(&mut st.input);
                st.window.buf.extend_from_slice(&input[start..end]);
                st.input_pos = 0;
                st.input_len = 0;
                st.report(&self.meter);
            }
            return Ok(Layout::Direct(Base::Stored));
        }
        self.set_size(None);
        if head.is_empty() {
            return Err(err(
                ErrorCode::UnknownFormat,
                "the source is empty: there is no sealed, gzip, zlib, deflate or v1-encrypted data in it",
            ));
        }
        if c.is_encrypted || c.key.is_some() {
            let key =
                c.key.clone().ok_or_else(|| err(ErrorCode::KeyRequired, "the data is encrypted: a key is required"))?;
            let v1 = if random { self.verify_v1(key, deadline).await } else { self.buffer_v1(st, key, deadline).await };
            let v1 = v1.map_err(|e| {
                if e.code() == ErrorCode::AuthFailed {
                    err(
                        ErrorCode::AuthFailed,
                        "not a sealed file; read as NovusPack v1 ChaCha20-Poly1305 framing (what a key means for \
                         unsealed data) it does not authenticate: wrong key, modified data, or not encrypted",
                    )
                } else {
                    e
                }
            })?;
            self.set_size(Some(v1.len));
            let base = Base::V1(v1);
            if !c.is_compressed {
                return Ok(Layout::Direct(base));
            }
            let mut first = [0u8; 2];
            let n = self.base_read_at(&base, 0, &mut first).await?;
            let format = CompressedFormat::detect(&first[..n]);
            self.set_size(c.size);
            st.decoder = Decoder::Inflater(Box::new(Inflater::new(format)));
            return Ok(Layout::Inflate(base, format));
        }
        // Compressed, not sealed: gzip, zlib or raw deflate, decoded in order.
        let format = CompressedFormat::detect(&head);
        self.set_size(c.size);
        st.decoder = Decoder::Inflater(Box::new(Inflater::new(format)));
        Ok(Layout::Inflate(Base::Stored, format))
    }

    /// The first [`HEADER_LEN`] stored bytes (fewer if the source is shorter). A sequential
    /// source keeps them in its input buffer, where the decoder (or the window) takes them.
    async fn peek_head(&self, st: &mut SeqState, deadline: Option<Duration>) -> Result<Vec<u8>> {
        if self.source.is_random_access() {
            let mut head = vec![0u8; HEADER_LEN];
            let n = self.source.read_at(0, &mut head).await?;
            self.count(|k| k.stored_bytes_read += n as u64);
            head.truncate(n);
            Ok(head)
        } else {
            self.fill_input_to(st, HEADER_LEN, deadline).await?;
            let pending = st.pending_input();
            Ok(pending[..pending.len().min(HEADER_LEN)].to_vec())
        }
    }

    async fn open_indexed(&self, head: &[u8]) -> Result<Layout> {
        let stored_len = self
            .source
            .stored_len()
            .ok_or_else(|| err(ErrorCode::ReadFailed, "random-access source without a length"))?;
        let mut footer = [0u8; FOOTER_LEN];
        let footer_at = stored_len.saturating_sub(FOOTER_LEN as u64);
        let n = if stored_len >= (HEADER_LEN + FOOTER_LEN) as u64 {
            self.source.read_at(footer_at, &mut footer).await?
        } else {
            0
        };
        self.count(|k| k.stored_bytes_read += n as u64);
        let location =
            IndexLocation::locate(head, &footer[..n], stored_len, self.config.key.as_ref(), self.config.is_encrypted)?;
        let (index_offset, index_len) = location.index_range();
        let limit = self.config.memory_limit;
        if limit > 0 && index_len as u64 > limit {
            return Err(memory_limit(limit, index_len as u64, "the sealed index"));
        }
        let mut record = vec![0u8; index_len];
        self.meter.add(index_len as u64);
        let read = self.source.read_at(index_offset, &mut record).await;
        self.meter.sub(index_len as u64);
        let read = read?;
        self.count(|k| k.stored_bytes_read += read as u64);
        if read != index_len {
            return Err(err(ErrorCode::Truncated, "the source ended inside the sealed index"));
        }
        let index = SealedIndex::load(location, &mut record)?;
        self.meter.add(index.memory_bytes() as u64);
        self.set_size(Some(index.total_len()));
        Ok(Layout::Indexed(index))
    }

    fn open_sequential_sealed(&self, st: &mut SeqState, head: &[u8]) -> Result<Layout> {
        let header = Header::parse(head)?;
        let mut opener = Opener::new(self.config.key.clone());
        if self.config.is_encrypted {
            opener = opener.require_encryption();
        }
        // Check key / encryption expectations now rather than at the first read.
        super::sealed::ChunkCodec::new(header.clone(), self.config.key.as_ref()).map(drop)?;
        if self.config.is_encrypted && !header.encrypted {
            return Err(err(ErrorCode::NotEncrypted, "encryption was expected but the sealed data is not encrypted"));
        }
        st.decoder = Decoder::Opener(Box::new(opener));
        Ok(Layout::Opener {
            chunk_size: header.chunk_size as usize,
            encrypted: header.encrypted,
            compressed: header.compressed,
        })
    }

    /// One pass over a random-access v1 source computing the tag; nothing is released unless
    /// it matches.
    async fn verify_v1(&self, key: Key, deadline: Option<Duration>) -> Result<V1Base> {
        let stored = self.source.stored_len().unwrap_or(0);
        if stored < V1_OVERHEAD {
            return Err(err(ErrorCode::Truncated, "v1 data is shorter than its nonce and tag"));
        }
        let len = stored - V1_OVERHEAD;
        if len > V1_MAX_CIPHERTEXT {
            return Err(err(ErrorCode::UnsupportedAlgorithm, "v1 data is larger than ChaCha20's 256 GiB limit"));
        }
        let mut nonce = [0u8; V1_NONCE_LEN];
        self.read_exact_at(0, &mut nonce).await?;
        let mut verifier = V1Verifier::new(&key, &nonce);
        let mut buf = self.buffer(self.buffer_size.min(to_usize(len)).max(1))?;
        let mut offset = 0u64;
        while offset < len {
            self.check(deadline)?;
            let n = to_usize(len - offset).min(buf.len());
            self.read_exact_at(V1_NONCE_LEN as u64 + offset, &mut buf[..n]).await?;
            verifier.update(&buf[..n]);
            offset += n as u64;
        }
        drop(buf);
        let mut tag = [0u8; TAG_LEN];
        self.read_exact_at(stored - TAG_LEN as u64, &mut tag).await?;
        verifier.finish(&tag)?;
        Ok(V1Base { key, nonce, len, plaintext: None })
    }

    /// A sequential v1 source is read whole (within the memory limit), verified, decrypted.
    async fn buffer_v1(&self, st: &mut SeqState, key: Key, deadline: Option<Duration>) -> Result<V1Base> {
        let limit = self.config.memory_limit;
        loop {
            self.check(deadline)?;
            if limit > 0 && st.input_len as u64 > limit {
                return Err(memory_limit(limit, st.input_len as u64, "v1 data from a sequential source"));
            }
            if st.input_eof {
                break;
            }
            let want = st.input_len + self.buffer_size;
            self.fill_input_to(st, want, deadline).await?;
        }
        let mut data = std::mem::take(&mut st.input);
        data.truncate(st.input_len);
        st.input_len = 0;
        st.input_pos = 0;
        let range = v1_decrypt_in_place(&key, &mut data)?;
        self.count(|k| k.decrypted_bytes += range.len() as u64);
        let nonce = data[..V1_NONCE_LEN].try_into().expect("length checked by decrypt");
        data.truncate(range.end);
        data.drain(..range.start);
        st.report(&self.meter);
        self.meter.add(data.capacity() as u64);
        Ok(V1Base { key, nonce, len: data.len() as u64, plaintext: Some(data) })
    }

    /// Sizes the chunk cache and decode concurrency so the stream stays within its limit.
    fn size_memory(&mut self) -> Result<()> {
        let limit = self.config.memory_limit;
        match &self.layout {
            Layout::Indexed(index) => {
                let record = index.codec().max_record_len() as u64;
                let chunk = index.chunk_size() as u64;
                let per_decode = record + chunk;
                let mut cache = (self.buffer_size as u64 / chunk).clamp(2, 32);
                let mut slots = 4u64;
                if limit > 0 {
                    let index_mem = index.memory_bytes() as u64;
                    let budget = limit.saturating_sub(index_mem);
                    if budget < per_decode + chunk {
                        return Err(memory_limit(
                            limit,
                            index_mem + per_decode + chunk,
                            &format!(
                                "this file's {chunk}-byte chunks (its chunk size, set when it was sealed) need a \
                                 record buffer of {record}, a decoded chunk and a cached one, and its index \
                                 {index_mem}, so reading it"
                            ),
                        ));
                    }
                    slots = slots.min((budget - chunk) / per_decode).max(1);
                    cache = cache.min((budget - slots * per_decode) / chunk).max(1);
                    // Read-ahead holds decoded chunks elsewhere until they are needed.
                    let spare = budget - slots * per_decode - cache * chunk;
                    self.max_window = to_usize(spare / chunk + 1).clamp(1, 64);
                }
                lock(&self.cache).capacity = to_usize(cache);
                self.decode_slots = Semaphore::new(to_usize(slots));
            }
            _ if self.random_access() => {}
            _ => {
                let block = self.block_size() as u64;
                let record = match &self.layout {
                    Layout::Opener { chunk_size, .. } => (chunk_size + PREFIX_LEN + TAG_LEN) as u64,
                    _ => 0,
                };
                let fixed = self.buffer_size as u64 + record + self.meter.held();
                if limit > 0 {
                    if fixed + block > limit {
                        return Err(memory_limit(
                            limit,
                            fixed + block,
                            &format!(
                                "reading in order with a {block}-byte block (the chunk size or bufferSize, \
                                 whichever is larger) and {fixed} bytes of read buffers"
                            ),
                        ));
                    }
                    self.retention_limit = limit - fixed;
                    self.lookback = self.lookback.min(self.retention_limit / 4);
                }
            }
        }
        Ok(())
    }

    /// Decodes the first block of a sequential layout at open: a sealed source's first chunk
    /// authenticates the header (and with it the total length), and data guessed to be raw
    /// deflate (it has no magic) that is not fails here as UNKNOWN_FORMAT, not at the first read.
    async fn prime(&self, deadline: Option<Duration>) -> Result<()> {
        if let Layout::Inflate(_, CompressedFormat::Raw) = self.layout {
            let mut st = self.seq.lock().await;
            // A small first step: enough to tell deflate from something else.
            let primed = self.decode_step(&mut st, deadline, PRIME_BLOCK).await;
            if let Err(e) = primed {
                let nothing_decoded = st.window.end() == 0;
                st.release(&self.meter);
                let data_error = matches!(e.error_type(), ErrorType::Compression | ErrorType::Corruption);
                if nothing_decoded && data_error {
                    return Err(err(
                        ErrorCode::UnknownFormat,
                        format!("not sealed, gzip or zlib data, and not raw deflate either ({})", e.message()),
                    ));
                }
                return Err(e);
            }
        }
        if let Layout::Opener { .. } = self.layout {
            let mut st = self.seq.lock().await;
            while st.window.len() == 0 && !st.done {
                if let Err(e) = self.decode_more(&mut st, deadline).await {
                    st.release(&self.meter);
                    return Err(e);
                }
            }
            if let Decoder::Opener(opener) = &st.decoder {
                self.set_size(opener.total_len());
            }
        }
        Ok(())
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
        let stored_size = self.source.stored_len();
        let base_kind = |base: &Base| match base {
            Base::Stored => "plain",
            Base::V1(_) => "v1",
        };
        match &self.layout {
            Layout::Direct(base) => FormatInfo {
                kind: base_kind(base).into(),
                compressed: false,
                encrypted: matches!(base, Base::V1(_)),
                chunk_size: None,
                chunk_count: None,
                stored_size,
            },
            Layout::Inflate(base, format) => FormatInfo {
                kind: match base {
                    Base::Stored => format.as_str().to_string(),
                    Base::V1(_) => format!("v1+{}", format.as_str()),
                },
                compressed: true,
                encrypted: matches!(base, Base::V1(_)),
                chunk_size: None,
                chunk_count: None,
                stored_size,
            },
            Layout::Indexed(index) => FormatInfo {
                kind: "sealed".into(),
                compressed: index.codec().header().compressed,
                encrypted: index.codec().header().encrypted,
                chunk_size: Some(index.chunk_size()),
                chunk_count: Some(index.chunk_count()),
                stored_size,
            },
            Layout::Opener { chunk_size, encrypted, compressed } => FormatInfo {
                kind: "sealed".into(),
                compressed: *compressed,
                encrypted: *encrypted,
                chunk_size: Some(*chunk_size),
                chunk_count: None,
                stored_size,
            },
        }
    }

    /// Reads from the position into `into`, moving the position; returns the bytes read,
    /// 0 only at the end (the `io::Read` contract).
    pub async fn read(&self, into: &mut [u8]) -> Result<usize> {
        let deadline = self.begin()?;
        let mut st = self.seq.lock().await;
        let result = self.read_locked(&mut st, into, deadline).await;
        self.finish_op(&mut st);
        result
    }

    /// The next chunk from the position (`None` at the end). Its length is `chunk_size` if
    /// configured; otherwise, on sealed data, the rest of the current sealed chunk, and on
    /// other data the buffer size.
    pub async fn read_chunk(&self) -> Result<Option<Vec<u8>>> {
        let deadline = self.begin()?;
        let mut st = self.seq.lock().await;
        let want = self.chunk_len_at(st.position);
        let mut out = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            match self.read_locked(&mut st, &mut out[filled..], deadline).await {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => {
                    self.finish_op(&mut st);
                    return Err(e);
                }
            }
        }
        self.finish_op(&mut st);
        if filled == 0 {
            return Ok(None);
        }
        out.truncate(filled);
        Ok(Some(out))
    }

    /// The length of the next `read_chunk` from `position`.
    pub fn chunk_len_at(&self, position: u64) -> usize {
        if self.config.chunk_size > 0 {
            return self.config.chunk_size;
        }
        match self.sealed_chunk_size() {
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
        let deadline = self.begin()?;
        self.check_offset(offset)?;
        let mut filled = 0;
        if self.random_access() {
            while filled < into.len() {
                match self.read_random(offset + filled as u64, &mut into[filled..], deadline, false).await {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) => {
                        if self.is_closed() {
                            self.release();
                        }
                        return Err(e);
                    }
                }
            }
        } else {
            let mut st = self.seq.lock().await;
            let mut result = Ok(());
            while filled < into.len() {
                let at = offset + filled as u64;
                match self.read_sequential(&mut st, at, &mut into[filled..], false, deadline).await {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            self.release_if_closed(&mut st);
            result?;
            if filled == 0 && !into.is_empty() {
                self.check_offset(offset)?;
            }
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

    fn random_access(&self) -> bool {
        match &self.layout {
            Layout::Indexed(_) => true,
            Layout::Direct(base) => self.base_is_random(base),
            _ => false,
        }
    }

    fn base_is_random(&self, base: &Base) -> bool {
        match base {
            Base::Stored => self.source.is_random_access(),
            Base::V1(_) => true,
        }
    }

    fn sealed_chunk_size(&self) -> Option<usize> {
        match &self.layout {
            Layout::Indexed(index) => Some(index.chunk_size()),
            Layout::Opener { chunk_size, .. } => Some(*chunk_size),
            _ => None,
        }
    }

    /// Bytes a sequential decoder adds to its window per step.
    fn block_size(&self) -> usize {
        self.buffer_size.max(self.sealed_chunk_size().unwrap_or(0))
    }

    async fn read_locked(&self, st: &mut SeqState, into: &mut [u8], deadline: Option<Duration>) -> Result<usize> {
        if into.is_empty() {
            return Ok(0);
        }
        let position = st.position;
        let n = if self.random_access() {
            self.read_random(position, into, deadline, true).await?
        } else {
            self.read_sequential(st, position, into, true, deadline).await?
        };
        st.position += n as u64;
        self.position.store(st.position, Ordering::Relaxed);
        self.count(|k| k.bytes_read += n as u64);
        Ok(n)
    }

    /// One piece of logical bytes at `offset` from a random-access layout. `sequential` reads
    /// start the next chunks on the decoder ahead of time.
    async fn read_random(
        &self,
        offset: u64,
        into: &mut [u8],
        deadline: Option<Duration>,
        sequential: bool,
    ) -> Result<usize> {
        self.check(deadline)?;
        match &self.layout {
            Layout::Indexed(index) => {
                if offset >= index.total_len() {
                    return Ok(0);
                }
                let chunk = index.chunk_at(offset);
                let data = self.decoded_chunk(index, chunk, deadline, sequential).await?;
                let (start, _) = index.plain_range(chunk);
                let at = to_usize(offset - start);
                let n = into.len().min(data.len - at);
                into[..n].copy_from_slice(&data.buf[at..at + n]);
                Ok(n)
            }
            Layout::Direct(base) => {
                let n = into.len().min(self.buffer_size);
                let read = self.base_read_at(base, offset, &mut into[..n]).await?;
                if read == 0 {
                    if let Some(size) = self.size() {
                        if offset < size {
                            return Err(err(ErrorCode::Truncated, "the source is shorter than its declared size")
                                .with_offset(offset));
                        }
                    }
                }
                Ok(read)
            }
            _ => unreachable!("read_random is only called on random-access layouts"),
        }
    }

    /// Reads stored bytes (or verified v1 plaintext) at `offset` of a random-access base.
    async fn base_read_at(&self, base: &Base, offset: u64, into: &mut [u8]) -> Result<usize> {
        match base {
            Base::Stored => {
                let n = self.source.read_at(offset, into).await?;
                self.count(|k| k.stored_bytes_read += n as u64);
                Ok(n)
            }
            Base::V1(v1) => {
                if offset >= v1.len {
                    return Ok(0);
                }
                let n = into.len().min(to_usize(v1.len - offset));
                match &v1.plaintext {
                    Some(plain) => {
                        let at = to_usize(offset);
                        into[..n].copy_from_slice(&plain[at..at + n]);
                    }
                    None => {
                        self.read_exact_at(V1_NONCE_LEN as u64 + offset, &mut into[..n]).await?;
                        v1_apply_keystream(&v1.key, &v1.nonce, offset, &mut into[..n]);
                        self.count(|k| k.decrypted_bytes += n as u64);
                    }
                }
                Ok(n)
            }
        }
    }

    async fn read_exact_at(&self, offset: u64, into: &mut [u8]) -> Result<()> {
        let n = self.source.read_at(offset, into).await?;
        self.count(|k| k.stored_bytes_read += n as u64);
        if n != into.len() {
            return Err(err(ErrorCode::Truncated, "the source ended early").with_offset(offset + n as u64));
        }
        Ok(())
    }

    /// A decoded sealed chunk: from the cache, from the decoder (started earlier by read-ahead,
    /// or now), or read and opened on this thread.
    async fn decoded_chunk(
        &self,
        index: &SealedIndex,
        chunk: u64,
        deadline: Option<Duration>,
        read_ahead: bool,
    ) -> Result<Arc<DecodedChunk>> {
        let cached = lock(&self.cache).get(chunk);
        let ticket = if cached.is_some() { None } else { self.take_or_start(index, chunk) };
        if read_ahead {
            self.read_ahead(index, chunk + 1);
        }
        if let Some(data) = cached {
            return Ok(data);
        }
        match ticket {
            Some((ticket, _)) => self.finish_external(index, chunk, ticket, deadline).await,
            None => self.decode_local(index, chunk, deadline).await,
        }
    }

    fn request(index: &SealedIndex, chunk: u64) -> ChunkRequest {
        let (record_offset, record_len) = index.record_range(chunk);
        let (_, plain_len) = index.plain_range(chunk);
        ChunkRequest { chunk, record_offset, record_len, plain_len, last: chunk + 1 == index.chunk_count() }
    }

    /// The ticket of a chunk started by read-ahead, or one started now; `None` = decode here.
    fn take_or_start(&self, index: &SealedIndex, chunk: u64) -> Option<(u64, usize)> {
        if let Some((ticket, bytes)) = lock(&self.read_ahead).remove(&chunk) {
            self.meter.sub(bytes as u64);
            return Some((ticket, bytes));
        }
        let request = Self::request(index, chunk);
        self.decoder.start(&request).map(|ticket| (ticket, request.plain_len))
    }

    /// Keeps the chunks after `next - 1` in flight on the decoder, up to its window.
    fn read_ahead(&self, index: &SealedIndex, next: u64) {
        let window = self.decoder.window().clamp(1, self.max_window) as u64;
        if window <= 1 || self.is_closed() {
            return;
        }
        let last = (next + window - 2).min(index.chunk_count() - 1);
        for chunk in next..=last {
            if lock(&self.read_ahead).contains_key(&chunk) || lock(&self.cache).contains(chunk) {
                continue;
            }
            let request = Self::request(index, chunk);
            let Some(ticket) = self.decoder.start(&request) else { return };
            self.meter.add(request.plain_len as u64);
            lock(&self.read_ahead).insert(chunk, (ticket, request.plain_len));
        }
    }

    /// Abandons read-ahead outside `keep` (all of it when `keep` is empty).
    fn trim_read_ahead(&self, keep: std::ops::Range<u64>) {
        let dropped: Vec<(u64, usize)> = {
            let mut map = lock(&self.read_ahead);
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
    ) -> Result<Arc<DecodedChunk>> {
        let request = Self::request(index, chunk);
        let mut out = self.buffer(request.plain_len.max(1))?;
        let decoded = self.decoder.finish(ticket, &mut out[..request.plain_len]).await;
        self.check(deadline)?;
        let decoded = decoded.map_err(|e| e.or_chunk(chunk))?;
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
        let data = Arc::new(DecodedChunk { buf: out, len: request.plain_len });
        if !self.is_closed() {
            lock(&self.cache).put(chunk, Arc::clone(&data));
        }
        Ok(data)
    }

    /// Reads and opens a chunk on this thread (at most `decode_slots` at once).
    async fn decode_local(
        &self,
        index: &SealedIndex,
        chunk: u64,
        deadline: Option<Duration>,
    ) -> Result<Arc<DecodedChunk>> {
        let _permit = self.decode_slots.acquire().await;
        if let Some(data) = lock(&self.cache).get(chunk) {
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
        let mut inflater = lock(&self.inflaters).pop().unwrap_or_default();
        let opened = index.open_chunk(chunk, &mut record[..len], &mut inflater, &mut out);
        lock(&self.inflaters).push(inflater);
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
        let data = Arc::new(DecodedChunk { buf: out, len: plain_len });
        if !self.is_closed() {
            lock(&self.cache).put(chunk, Arc::clone(&data));
        }
        Ok(data)
    }

    /// One piece of logical bytes at `offset` from a sequential layout. `moving` reads are
    /// the sequential reader's own; others (read_at) keep the bytes from the position on, so
    /// the reader can still get them.
    async fn read_sequential(
        &self,
        st: &mut SeqState,
        offset: u64,
        into: &mut [u8],
        moving: bool,
        deadline: Option<Duration>,
    ) -> Result<usize> {
        loop {
            self.check(deadline)?;
            if offset >= st.window.start && offset < st.window.end() {
                let at = to_usize(offset - st.window.start);
                let bytes = &st.window.bytes()[at..];
                let n = into.len().min(bytes.len());
                into[..n].copy_from_slice(&bytes[..n]);
                return Ok(n);
            }
            if offset < st.window.start {
                self.restart(st)?;
                continue;
            }
            if st.done {
                return Ok(0);
            }
            let keep_from = if moving || self.restartable() { offset } else { offset.min(st.position) };
            st.window.discard_before(keep_from.saturating_sub(self.lookback));
            self.decode_more(st, deadline).await?;
        }
    }

    async fn seek_locked(&self, st: &mut SeqState, offset: u64, deadline: Option<Duration>) -> Result<()> {
        self.check_offset(offset)?;
        if let Layout::Indexed(index) = &self.layout {
            let chunk = index.chunk_at(offset);
            self.trim_read_ahead(chunk..chunk + self.max_window as u64);
        }
        if self.random_access() {
            return Ok(());
        }
        if offset < st.window.start && !self.restartable() {
            return Err(not_seekable(offset, st.window.start));
        }
        // Decode up to the target now, so a seek past the end fails here, not later.
        let mut probe = [0u8; 1];
        let n = self.read_sequential(st, offset, &mut probe, true, deadline).await?;
        if n == 0 {
            self.check_offset(offset)?;
        }
        Ok(())
    }

    fn restartable(&self) -> bool {
        match &self.layout {
            Layout::Inflate(base, _) => self.base_is_random(base),
            _ => false,
        }
    }

    fn restart(&self, st: &mut SeqState) -> Result<()> {
        let Layout::Inflate(_, format) = &self.layout else {
            return Err(not_seekable(st.position, st.window.start));
        };
        if !self.restartable() {
            return Err(not_seekable(st.position, st.window.start));
        }
        st.decoder = Decoder::Inflater(Box::new(Inflater::new(*format)));
        st.window.reset(0);
        st.input_pos = 0;
        st.input_len = 0;
        st.input_eof = false;
        st.cursor = 0;
        st.done = false;
        Ok(())
    }

    /// Adds the next block of decoded bytes to the window (or marks the end).
    async fn decode_more(&self, st: &mut SeqState, deadline: Option<Duration>) -> Result<()> {
        self.decode_step(st, deadline, self.block_size()).await
    }

    /// [`Self::decode_more`] adding at most `block` bytes.
    async fn decode_step(&self, st: &mut SeqState, deadline: Option<Duration>, block: usize) -> Result<()> {
        let needed = st.window.len() as u64 + block as u64;
        if needed > self.retention_limit {
            return Err(memory_limit(
                self.retention_limit,
                needed,
                "bytes kept for a read ahead of the position on a sequential source",
            ));
        }
        match &mut st.decoder {
            Decoder::None => unreachable!("random-access layouts do not decode sequentially"),
            Decoder::Passthrough => {
                let len = st.window.buf.len();
                st.window.buf.resize(len + block, 0);
                let n = self.source.read_next(&mut st.window.buf[len..]).await;
                // A close while waiting wins over whatever the cancelled source returned.
                let n = self.check(deadline).and(n);
                let n = match n {
                    Ok(n) => n,
                    Err(e) => {
                        st.window.buf.truncate(len);
                        return Err(e);
                    }
                };
                st.window.buf.truncate(len + n);
                self.count(|k| k.stored_bytes_read += n as u64);
                if n == 0 {
                    st.done = true;
                }
            }
            Decoder::Opener(_) | Decoder::Inflater(_) => {
                if st.input_pos == st.input_len && !st.input_eof {
                    self.refill_input(st, deadline).await?;
                }
                let at_end = st.input_eof && st.input_pos == st.input_len;
                let (input, window) = (&st.input[st.input_pos..st.input_len], &mut st.window);
                let (consumed, done) = match &mut st.decoder {
                    Decoder::Opener(opener) => {
                        let p = opener.update(input, &mut window.buf)?;
                        if at_end && !p.done && p.produced == 0 {
                            opener.finish()?;
                        }
                        if p.produced > 0 {
                            self.count(|k| {
                                k.chunks_read += 1;
                                k.decrypted_bytes += p.produced as u64;
                            });
                        }
                        (p.consumed, p.done || opener.is_done())
                    }
                    Decoder::Inflater(inflater) => {
                        let len = window.buf.len();
                        window.buf.resize(len + block, 0);
                        let p = inflater.update(input, &mut window.buf[len..]);
                        let p = match p {
                            Ok(p) => p,
                            Err(e) => {
                                window.buf.truncate(len);
                                return Err(e);
                            }
                        };
                        window.buf.truncate(len + p.produced);
                        if at_end && !p.done && p.produced == 0 {
                            inflater.finish()?;
                        }
                        self.count(|k| {
                            k.decompressed_bytes += p.produced as u64;
                            k.chunks_read += u64::from(p.produced > 0);
                        });
                        (p.consumed, p.done || (at_end && p.produced == 0))
                    }
                    _ => unreachable!(),
                };
                st.input_pos += consumed;
                if done {
                    self.expect_end(st, deadline).await?;
                }
                st.done = done;
            }
        }
        st.report(&self.meter);
        self.check_declared_size(st)?;
        Ok(())
    }

    /// Checks a sequential layout's length against the declared size, and records the size
    /// once the end is reached.
    fn check_declared_size(&self, st: &SeqState) -> Result<()> {
        let end = st.window.end();
        let declared = match &self.layout {
            Layout::Opener { .. } => {
                if let Decoder::Opener(opener) = &st.decoder {
                    self.set_size(opener.total_len());
                }
                return Ok(());
            }
            Layout::Direct(_) => self.config.size.or(self.source.stored_len()),
            _ => self.config.size,
        };
        if let Some(declared) = declared {
            if end > declared || (st.done && end != declared) {
                return Err(err(
                    ErrorCode::SizeMismatch,
                    format!(
                        "the data is {} bytes but {declared} were declared",
                        if st.done { end.to_string() } else { format!("more than {end}") }
                    ),
                )
                .with_field("size")
                .with_expected(declared.to_string()));
            }
        }
        if st.done {
            self.set_size(Some(end));
        }
        Ok(())
    }

    /// After a decoder finished: nothing may follow in the input or the source.
    async fn expect_end(&self, st: &mut SeqState, deadline: Option<Duration>) -> Result<()> {
        if st.input_pos == st.input_len && !st.input_eof {
            self.refill_input(st, deadline).await?;
        }
        if st.input_pos < st.input_len {
            return Err(
                err(ErrorCode::Corrupted, "data follows the end of the encoded stream").with_offset(st.window.end())
            );
        }
        Ok(())
    }

    /// Reads the next stored bytes for a decoder into the input buffer.
    async fn refill_input(&self, st: &mut SeqState, deadline: Option<Duration>) -> Result<()> {
        st.input_pos = 0;
        st.input_len = 0;
        self.fill_input_to(st, 1, deadline).await
    }

    /// Makes the input buffer hold at least `want` pending bytes, unless the source ends.
    async fn fill_input_to(&self, st: &mut SeqState, want: usize, deadline: Option<Duration>) -> Result<()> {
        if st.input_pos > 0 {
            st.input.copy_within(st.input_pos..st.input_len, 0);
            st.input_len -= st.input_pos;
            st.input_pos = 0;
        }
        while st.input_len < want && !st.input_eof {
            self.check(deadline)?;
            let capacity = want.max(self.buffer_size).max(st.input_len + 1);
            if st.input.len() < capacity {
                st.input.resize(capacity, 0);
            }
            let len = st.input_len;
            let n = match &self.layout {
                Layout::Inflate(base, _) if self.base_is_random(base) => {
                    let cursor = st.cursor;
                    let n = self.base_read_at(base, cursor, &mut st.input[len..]).await?;
                    st.cursor += n as u64;
                    n
                }
                _ => {
                    let n = self.source.read_next(&mut st.input[len..]).await;
                    self.check(deadline)?;
                    let n = n?;
                    self.count(|k| k.stored_bytes_read += n as u64);
                    n
                }
            };
            st.input_len += n;
            if n == 0 {
                st.input_eof = true;
            }
            st.report(&self.meter);
        }
        Ok(())
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
        lock(&self.cache).entries.clear();
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
    /// cannot lend one.
    fn buffer(&self, len: usize) -> Result<Buf> {
        let data = match self.pool.as_ref().map(|p| p.get(len)) {
            Some(Ok(b)) => {
                let hit = b.access_count() > 1;
                self.count(|k| if hit { k.pool_hits += 1 } else { k.pool_misses += 1 });
                BufData::Pooled(b)
            }
            Some(Err(_)) => {
                self.count(|k| k.pool_misses += 1);
                BufData::Owned(vec![0u8; len])
            }
            None => BufData::Owned(vec![0u8; len]),
        };
        let buf = Buf { data, meter: Arc::clone(&self.meter) };
        self.meter.add(buf.len() as u64);
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

fn not_seekable(offset: u64, earliest: u64) -> StreamError {
    err(
        ErrorCode::NotSeekable,
        format!(
            "cannot go back to offset {offset} on a sequential source: bytes before {earliest} are no longer buffered"
        ),
    )
    .with_offset(offset)
}

/// `what` needs `needed` bytes, more than `limit`: the message says the smallest limit that
/// works and why.
fn memory_limit(limit: u64, needed: u64, what: &str) -> StreamError {
    err(
        ErrorCode::MemoryLimit,
        format!(
            "memoryLimit is {limit} bytes, but {what} needs {needed}: set memoryLimit to at least {needed} (or 0 for \
             no limit)"
        ),
    )
    .with_field("memoryLimit")
    .with_value(limit)
    .with_expected(format!("at least {needed}"))
}

/// The pool streams share unless configured otherwise (natively).
#[cfg(not(target_arch = "wasm32"))]
pub fn default_pool() -> BufferPool {
    static POOL: std::sync::OnceLock<BufferPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| BufferPool::new(super::config::BufferConfig::default()).expect("the default config is valid"))
        .clone()
}

#[cfg(not(target_arch = "wasm32"))]
impl<S: Source> FileStream<S> {
    /// `read_at` for synchronous callers (native sources complete at once).
    pub fn read_at_blocking(&self, into: &mut [u8], offset: u64) -> Result<usize> {
        super::sync::block_on(self.read_at(into, offset))
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl FileStream<FileSource> {
    /// Opens a file on disk (synchronously).
    pub fn open_path(path: impl AsRef<std::path::Path>, config: StreamConfig) -> Result<Self> {
        let source = FileSource::open(path)?;
        super::sync::block_on(Self::open(source, config))
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<S: Source> std::io::Read for FileStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        super::sync::block_on(FileStream::read(self, buf)).map_err(Into::into)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<S: Source> std::io::Seek for FileStream<S> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        use std::io::SeekFrom;
        let target = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.position().checked_add_signed(d),
            SeekFrom::End(d) => {
                let size = self.size().ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::Unsupported, "the logical size is not known yet")
                })?;
                size.checked_add_signed(d)
            }
        };
        let target =
            target.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start"))?;
        super::sync::block_on(FileStream::seek(self, target)).map_err(Into::into)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
