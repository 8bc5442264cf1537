//! Configuration: `StreamConfig` (one FileStream), `BufferConfig` (a BufferPool), and the
//! streaming concurrency family (`ConcurrencyConfig`, `StreamingConcurrencyConfig`,
//! `StreamingConfig` with its builder, defaults and validation).
//!
//! Validation lives here and only here: the wasm boundary converts JS numbers with
//! [`integer_field`] and then calls the same `validate` methods, so JS and Rust users get the
//! same errors, each naming the field, the value and what was expected.

use std::time::Duration;

use super::crypto::Key;
use super::error::{ErrorCode, Result, StreamError};

/// Default read buffer of a FileStream (bytes read from the source per operation).
pub const DEFAULT_BUFFER_SIZE: usize = 256 * 1024;
/// Largest accepted `buffer_size` / `chunk_size` / `stream_buffer_size`.
pub const MAX_BUFFER_SIZE: usize = 256 * 1024 * 1024;
/// Smallest accepted non-zero `memory_limit`.
pub const MIN_MEMORY_LIMIT: u64 = 64 * 1024;
/// How far ahead `read_at` may buffer a sequential source when `memory_limit` is 0.
pub const DEFAULT_READAHEAD_LIMIT: u64 = 64 * 1024 * 1024;
/// Largest `max_workers`.
pub const MAX_WORKERS: usize = 256;

/// A JS number as JS would print it for the values errors show (integers, NaN, infinities,
/// fractions to six decimals), without the float formatting machinery `{}` of an f64 brings
/// into the wasm module.
fn js_number(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let abs = value.abs();
    if abs.is_infinite() {
        return format!("{sign}Infinity");
    }
    if abs >= 1e18 {
        // Rare in an error: the order of magnitude is enough.
        #[allow(clippy::cast_possible_truncation)]
        return format!("{sign}about 1e{}", abs.log10().floor() as i32);
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = abs.trunc() as u64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let micros = ((abs - abs.trunc()) * 1e6).round() as u64;
    match micros {
        0 => format!("{sign}{whole}"),
        1_000_000 => format!("{sign}{}", whole + 1),
        m => format!("{sign}{whole}.{}", format!("{m:06}").trim_end_matches('0')),
    }
}

/// Checks that a JS number is an integer within `[min, max]` and converts it.
///
/// The one place where untyped numbers (from JS or a config file) become sizes, so that
/// negative, fractional, NaN and out-of-range values all get the same typed error.
pub fn integer_field(field: &str, value: f64, min: u64, max: u64) -> Result<u64> {
    #[allow(clippy::cast_precision_loss)]
    let (lo, hi) = (min as f64, max as f64);
    if !value.is_finite() || value.fract() != 0.0 || value < lo || value > hi {
        return Err(StreamError::invalid(field, js_number(value), format!("an integer from {min} to {max}")));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(value as u64)
}

/// Checks that a JS number is a valid byte offset (an integer from 0 to 2^53 - 1).
pub fn offset_field(field: &str, value: f64) -> Result<u64> {
    const MAX_SAFE: u64 = (1 << 53) - 1;
    integer_field(field, value, 0, MAX_SAFE).map_err(|e| e.with_code(ErrorCode::InvalidOffset))
}

// The option names each JS options object accepts. The JS package gets them from the generated
// pkg-js/src/tables.js and refuses any other name (a misspelt `keyy` must never silently mean
// "no key"); the wasm boundary reads exactly these.

/// The option names of a FileStream's configuration (the JS `StreamConfig`).
pub const STREAM_OPTIONS: &[&str] = &[
    "bufferSize",
    "chunkSize",
    "memoryLimit",
    "useBufferPool",
    "isCompressed",
    "isEncrypted",
    "key",
    "size",
    "timeout",
    "signal",
    "pool",
    "raw",
];
/// What `pool.open` accepts besides [`STREAM_OPTIONS`].
pub const POOL_STREAM_OPTIONS: &[&str] = &["chunkProcessingMode", "priority"];
/// The option names of sealing (`seal`, `sealTransform`, a pooled seal).
pub const SEAL_OPTIONS: &[&str] = &["key", "compress", "chunkSize", "size", "signal", "pool", "priority"];
/// The option names of `unsealTransform`.
pub const UNSEAL_OPTIONS: &[&str] = &["key", "signal"];
/// The option names of a `BufferConfig`.
pub const BUFFER_OPTIONS: &[&str] = &["maxTotalSize", "maxBufferSize", "evictionPolicy", "evictionTimeout"];
/// The option names of a streaming configuration (`StreamingConfig` and its parts).
pub const STREAMING_OPTIONS: &[&str] = &[
    "maxWorkers",
    "workerTimeout",
    "workerBufferSize",
    "maxConcurrentOps",
    "maxStreamsPerWorker",
    "streamBufferSize",
    "chunkProcessingMode",
    "streamTimeout",
];
/// What the worker pool's constructor accepts besides [`STREAMING_OPTIONS`].
pub const POOL_OPTIONS: &[&str] = &["transport", "workerUrl", "createWorker"];
/// The option names of `httpSource` (a file read with HTTP Range requests).
pub const HTTP_OPTIONS: &[&str] =
    &["headers", "fetch", "maxRetries", "maxRangeSize", "concurrency", "signal", "timeout", "cacheSize"];
/// The options of `openPackage`.
pub const PACKAGE_OPTIONS: &[&str] = &["memoryLimit", "timeout", "signal"];
/// The options of a package entry's stream (`pkg.open`): the entry's record says how it is
/// stored, so only reading options and keys (the package module has its own buffer pool).
pub const ENTRY_OPTIONS: &[&str] =
    &["bufferSize", "chunkSize", "memoryLimit", "useBufferPool", "key", "decapsulationKey", "timeout", "signal"];
/// The options of `writePackage`.
pub const WRITE_PACKAGE_OPTIONS: &[&str] = &["comment", "vendorId", "appId", "creatorId", "localeId", "signal"];
/// The fields of a `PackageFile` given to `writePackage`.
pub const PACKAGE_FILE_FIELDS: &[&str] =
    &["path", "source", "type", "compression", "compressionLevel", "encryption", "key", "encapsulationKey"];
/// What `serveRange` accepts besides [`STREAM_OPTIONS`].
pub const SERVE_RANGE_OPTIONS: &[&str] = &["contentType", "headers"];

/// Configuration of one FileStream. All sizes in bytes; zero means "default" where noted.
#[derive(Clone, Debug, Default)]
pub struct StreamConfig {
    /// Bytes read from the source per operation (0 = [`DEFAULT_BUFFER_SIZE`]).
    pub buffer_size: usize,
    /// Bytes returned per `read_chunk` (0 = the sealed chunk size, else the buffer size).
    pub chunk_size: usize,
    /// Most bytes this stream may hold buffered (0 = no limit).
    pub memory_limit: u64,
    /// Draw buffers from the pool (otherwise allocate and free per use).
    pub use_buffer_pool: bool,
    /// The data is compressed: sealed container, gzip, zlib or raw deflate (detected).
    pub is_compressed: bool,
    /// The data is encrypted: sealed container or NovusPack v1 framing.
    pub is_encrypted: bool,
    /// Key for encrypted data.
    pub key: Option<Key>,
    /// Logical size of a sequential source, when the caller knows it.
    pub size: Option<u64>,
    /// Time allowed for each operation, checked between chunks.
    pub timeout: Option<Duration>,
    /// Read the stored bytes as they are, even when they start with the sealed magic (which
    /// is otherwise always opened as sealed, whatever the other flags say).
    pub raw: bool,
}

impl StreamConfig {
    /// The configuration of a plain, pooled stream.
    pub fn new() -> Self {
        StreamConfig { use_buffer_pool: true, ..Default::default() }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if self.buffer_size > MAX_BUFFER_SIZE {
            return Err(StreamError::invalid(
                "bufferSize",
                self.buffer_size,
                format!("at most {MAX_BUFFER_SIZE} (0 = default)"),
            ));
        }
        if self.chunk_size > MAX_BUFFER_SIZE {
            return Err(StreamError::invalid(
                "chunkSize",
                self.chunk_size,
                format!("at most {MAX_BUFFER_SIZE} (0 = calculated)"),
            ));
        }
        if self.memory_limit != 0 && self.memory_limit < MIN_MEMORY_LIMIT {
            return Err(StreamError::invalid(
                "memoryLimit",
                self.memory_limit,
                format!("0 (no limit) or at least {MIN_MEMORY_LIMIT}"),
            ));
        }
        if self.timeout == Some(Duration::ZERO) {
            return Err(StreamError::invalid("timeout", 0, "a positive number of milliseconds"));
        }
        if self.raw && (self.is_compressed || self.is_encrypted || self.key.is_some()) {
            let set = if self.key.is_some() {
                "key"
            } else if self.is_compressed {
                "isCompressed"
            } else {
                "isEncrypted"
            };
            return Err(StreamError::invalid(
                "raw",
                true,
                format!("raw alone: it reads the stored bytes undecoded, which {set} contradicts"),
            ));
        }
        Ok(())
    }

    /// The effective read buffer size.
    pub fn effective_buffer_size(&self) -> usize {
        if self.buffer_size == 0 {
            DEFAULT_BUFFER_SIZE
        } else {
            self.buffer_size
        }
    }
}

/// How a pool chooses which free buffers to release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum EvictionPolicy {
    /// Free buffers stay until room is needed; then the least recently used go first.
    #[default]
    Lru,
    /// As `Lru`, and a free buffer unused for `eviction_timeout` is released.
    Time,
}

impl EvictionPolicy {
    /// `"lru"` or `"time"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EvictionPolicy::Lru => "lru",
            EvictionPolicy::Time => "time",
        }
    }

    /// Parses `"lru"` or `"time"`.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "lru" => Ok(EvictionPolicy::Lru),
            "time" => Ok(EvictionPolicy::Time),
            other => Err(StreamError::invalid("evictionPolicy", format!("{other:?}"), "'lru' or 'time'")),
        }
    }
}

/// Configuration of a BufferPool (the spec's BufferConfig).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferConfig {
    /// Bytes held by the pool at most (free and lent out).
    pub max_total_size: usize,
    /// Largest single buffer.
    pub max_buffer_size: usize,
    /// How free buffers are chosen for release.
    pub eviction_policy: EvictionPolicy,
    /// Idle time after which a free buffer is released (policy `Time`).
    pub eviction_timeout: Duration,
}

impl Default for BufferConfig {
    /// DefaultBufferConfig: 1 GiB, 1 MiB, LRU, 5 minutes.
    fn default() -> Self {
        BufferConfig {
            max_total_size: 1 << 30,
            max_buffer_size: 1 << 20,
            eviction_policy: EvictionPolicy::Lru,
            eviction_timeout: Duration::from_secs(300),
        }
    }
}

impl BufferConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if self.max_total_size == 0 {
            return Err(StreamError::invalid("maxTotalSize", 0, "a positive number of bytes"));
        }
        if self.max_buffer_size == 0 {
            return Err(StreamError::invalid("maxBufferSize", 0, "a positive number of bytes"));
        }
        if self.max_buffer_size > self.max_total_size {
            return Err(StreamError::invalid(
                "maxBufferSize",
                self.max_buffer_size,
                format!("at most maxTotalSize ({})", self.max_total_size),
            ));
        }
        if self.eviction_timeout.is_zero() {
            return Err(StreamError::invalid("evictionTimeout", 0, "a positive number of milliseconds"));
        }
        Ok(())
    }
}

/// How a stream's chunks are processed by a worker pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ChunkMode {
    /// One chunk at a time, in order.
    Sequential = 0,
    /// A window of chunks in flight; output reassembled in order.
    Parallel = 1,
    /// The window tuned from measured throughput and queue wait.
    #[default]
    Adaptive = 2,
}

impl ChunkMode {
    /// Every mode with its name, in numeric order.
    pub const ALL: [(ChunkMode, &'static str); 3] =
        [(ChunkMode::Sequential, "Sequential"), (ChunkMode::Parallel, "Parallel"), (ChunkMode::Adaptive, "Adaptive")];

    /// From the numeric form used in JS (0, 1, 2).
    pub fn from_number(value: u64) -> Result<Self> {
        match value {
            0 => Ok(ChunkMode::Sequential),
            1 => Ok(ChunkMode::Parallel),
            2 => Ok(ChunkMode::Adaptive),
            other => {
                Err(StreamError::invalid("chunkProcessingMode", other, "0 (Sequential), 1 (Parallel) or 2 (Adaptive)"))
            }
        }
    }
}

/// Worker pool sizing and limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConcurrencyConfig {
    /// Workers (0 = auto: available parallelism).
    pub max_workers: usize,
    /// Time a graceful stop waits for running jobs.
    pub worker_timeout: Duration,
    /// Job queue capacity (0 = auto).
    pub worker_buffer_size: usize,
    /// Jobs running at once (0 = no limit).
    pub max_concurrent_ops: usize,
}

impl Default for ConcurrencyConfig {
    fn default() -> Self {
        ConcurrencyConfig {
            max_workers: 0,
            worker_timeout: Duration::from_secs(30),
            worker_buffer_size: 0,
            max_concurrent_ops: 0,
        }
    }
}

impl ConcurrencyConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        check_workers(self.max_workers)?;
        check_positive_duration("workerTimeout", self.worker_timeout)?;
        check_queue(self.worker_buffer_size)
    }
}

/// Concurrency settings of streaming work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamingConcurrencyConfig {
    /// The general worker settings.
    pub concurrency: ConcurrencyConfig,
    /// Streams one worker may serve at once (0 = no limit).
    pub max_streams_per_worker: usize,
    /// Buffer per stream in bytes.
    pub stream_buffer_size: usize,
    /// How chunks are processed.
    pub chunk_processing_mode: ChunkMode,
}

impl Default for StreamingConcurrencyConfig {
    fn default() -> Self {
        StreamingConcurrencyConfig {
            concurrency: ConcurrencyConfig::default(),
            max_streams_per_worker: 0,
            stream_buffer_size: 1 << 20,
            chunk_processing_mode: ChunkMode::Adaptive,
        }
    }
}

impl StreamingConcurrencyConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        self.concurrency.validate()?;
        check_stream_buffer(self.stream_buffer_size)
    }
}

/// Streaming configuration with "unset" distinct from "set": `None` means the caller did not
/// choose, and the consumer applies its own default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamingConfig {
    /// See [`ConcurrencyConfig::max_workers`].
    pub max_workers: Option<usize>,
    /// See [`ConcurrencyConfig::worker_timeout`].
    pub worker_timeout: Option<Duration>,
    /// See [`ConcurrencyConfig::worker_buffer_size`].
    pub worker_buffer_size: Option<usize>,
    /// See [`ConcurrencyConfig::max_concurrent_ops`].
    pub max_concurrent_ops: Option<usize>,
    /// See [`StreamingConcurrencyConfig::max_streams_per_worker`].
    pub max_streams_per_worker: Option<usize>,
    /// See [`StreamingConcurrencyConfig::stream_buffer_size`].
    pub stream_buffer_size: Option<usize>,
    /// See [`StreamingConcurrencyConfig::chunk_processing_mode`].
    pub chunk_processing_mode: Option<ChunkMode>,
    /// Time allowed for one stream.
    pub stream_timeout: Option<Duration>,
}

impl StreamingConfig {
    /// The concurrency settings with every unset field at its default.
    pub fn resolve(&self) -> StreamingConcurrencyConfig {
        let d = StreamingConcurrencyConfig::default();
        StreamingConcurrencyConfig {
            concurrency: ConcurrencyConfig {
                max_workers: self.max_workers.unwrap_or(d.concurrency.max_workers),
                worker_timeout: self.worker_timeout.unwrap_or(d.concurrency.worker_timeout),
                worker_buffer_size: self.worker_buffer_size.unwrap_or(d.concurrency.worker_buffer_size),
                max_concurrent_ops: self.max_concurrent_ops.unwrap_or(d.concurrency.max_concurrent_ops),
            },
            max_streams_per_worker: self.max_streams_per_worker.unwrap_or(d.max_streams_per_worker),
            stream_buffer_size: self.stream_buffer_size.unwrap_or(d.stream_buffer_size),
            chunk_processing_mode: self.chunk_processing_mode.unwrap_or(d.chunk_processing_mode),
        }
    }
}

/// A worker pool's settings with every default applied, for a runtime with `parallelism`
/// hardware threads (what the JS pool runs with; see [`StreamingConfig::pool_settings`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// Workers to start (1 without Workers: the calling thread).
    pub workers: usize,
    /// Time a graceful stop waits for running jobs.
    pub worker_timeout: Duration,
    /// Jobs that may wait in the queue (submitters wait, or fail with QUEUE_FULL, past it).
    pub queue_capacity: usize,
    /// Jobs running at once (0 = no limit beyond the workers).
    pub max_concurrent_ops: usize,
    /// Streams one worker serves at once (0 = no limit).
    pub max_streams_per_worker: usize,
    /// Buffer per stream in bytes: how many bytes of chunks a pool stream keeps in flight.
    pub stream_buffer_size: usize,
    /// How chunks are processed.
    pub chunk_processing_mode: ChunkMode,
    /// Time allowed for each operation of a pool stream (and each stream of
    /// `processStreamsConcurrently`), when set.
    pub stream_timeout: Option<Duration>,
}

impl StreamingConfig {
    /// Every unset option at its default, for a runtime with `parallelism` hardware threads;
    /// `has_workers` is false where there is no Worker (everything runs on the calling thread).
    pub fn pool_settings(&self, parallelism: usize, has_workers: bool) -> PoolSettings {
        let resolved = self.resolve();
        let auto = parallelism.clamp(1, MAX_WORKERS);
        let workers = if has_workers {
            match resolved.concurrency.max_workers {
                0 => auto,
                n => n,
            }
        } else {
            1
        };
        let defaults = create_streaming_config_for(workers);
        PoolSettings {
            workers,
            worker_timeout: resolved.concurrency.worker_timeout,
            queue_capacity: match resolved.concurrency.worker_buffer_size {
                0 => defaults.worker_buffer_size.unwrap_or(workers * 4),
                n => n,
            },
            max_concurrent_ops: resolved.concurrency.max_concurrent_ops,
            max_streams_per_worker: resolved.max_streams_per_worker,
            stream_buffer_size: resolved.stream_buffer_size,
            chunk_processing_mode: resolved.chunk_processing_mode,
            stream_timeout: self.stream_timeout,
        }
    }
}

/// Builds a [`StreamingConfig`], validating on `build`.
#[derive(Clone, Debug, Default)]
pub struct StreamingConfigBuilder {
    config: StreamingConfig,
}

impl StreamingConfigBuilder {
    /// Starts with every option unset.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the per-stream buffer size in bytes.
    #[must_use]
    pub fn with_stream_buffer_size(mut self, bytes: usize) -> Self {
        self.config.stream_buffer_size = Some(bytes);
        self
    }

    /// Sets the chunk processing mode.
    #[must_use]
    pub fn with_chunk_processing_mode(mut self, mode: ChunkMode) -> Self {
        self.config.chunk_processing_mode = Some(mode);
        self
    }

    /// Sets how many streams one worker may serve (0 = no limit).
    #[must_use]
    pub fn with_max_streams_per_worker(mut self, max: usize) -> Self {
        self.config.max_streams_per_worker = Some(max);
        self
    }

    /// Sets the per-stream timeout.
    #[must_use]
    pub fn with_stream_timeout(mut self, timeout: Duration) -> Self {
        self.config.stream_timeout = Some(timeout);
        self
    }

    /// Sets the worker count (0 = auto).
    #[must_use]
    pub fn with_max_workers(mut self, workers: usize) -> Self {
        self.config.max_workers = Some(workers);
        self
    }

    /// Validates the options that are set and returns the configuration.
    pub fn build(self) -> Result<StreamingConfig> {
        validate_streaming_config(&self.config)?;
        Ok(self.config)
    }
}

/// A configuration with every option set to a sensible default for a machine with
/// `parallelism` hardware threads.
pub fn create_streaming_config_for(parallelism: usize) -> StreamingConfig {
    let workers = parallelism.clamp(1, MAX_WORKERS);
    let d = StreamingConcurrencyConfig::default();
    StreamingConfig {
        max_workers: Some(workers),
        worker_timeout: Some(d.concurrency.worker_timeout),
        // Enough queued jobs to keep every worker fed while results are reassembled.
        worker_buffer_size: Some(workers * 4),
        max_concurrent_ops: Some(0),
        max_streams_per_worker: Some(0),
        stream_buffer_size: Some(d.stream_buffer_size),
        chunk_processing_mode: Some(if workers > 1 { ChunkMode::Adaptive } else { ChunkMode::Sequential }),
        stream_timeout: Some(Duration::from_secs(300)),
    }
}

/// [`create_streaming_config_for`] this machine's available parallelism.
pub fn create_streaming_config() -> StreamingConfig {
    create_streaming_config_for(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

/// Every default, as a fully set configuration (the spec's GetStreamingConfigDefaults).
pub fn streaming_config_defaults() -> StreamingConfig {
    let d = StreamingConcurrencyConfig::default();
    StreamingConfig {
        max_workers: Some(d.concurrency.max_workers),
        worker_timeout: Some(d.concurrency.worker_timeout),
        worker_buffer_size: Some(d.concurrency.worker_buffer_size),
        max_concurrent_ops: Some(d.concurrency.max_concurrent_ops),
        max_streams_per_worker: Some(d.max_streams_per_worker),
        stream_buffer_size: Some(d.stream_buffer_size),
        chunk_processing_mode: Some(d.chunk_processing_mode),
        stream_timeout: Some(Duration::from_secs(300)),
    }
}

/// Checks every option that is set.
pub fn validate_streaming_config(config: &StreamingConfig) -> Result<()> {
    if let Some(workers) = config.max_workers {
        check_workers(workers)?;
    }
    if let Some(timeout) = config.worker_timeout {
        check_positive_duration("workerTimeout", timeout)?;
    }
    if let Some(queue) = config.worker_buffer_size {
        check_queue(queue)?;
    }
    if let Some(bytes) = config.stream_buffer_size {
        check_stream_buffer(bytes)?;
    }
    if let Some(timeout) = config.stream_timeout {
        check_positive_duration("streamTimeout", timeout)?;
    }
    Ok(())
}

fn check_workers(workers: usize) -> Result<()> {
    if workers > MAX_WORKERS {
        return Err(StreamError::invalid("maxWorkers", workers, format!("0 (auto) to {MAX_WORKERS}")));
    }
    Ok(())
}

fn check_queue(queue: usize) -> Result<()> {
    const MAX_QUEUE: usize = 1 << 20;
    if queue > MAX_QUEUE {
        return Err(StreamError::invalid("workerBufferSize", queue, format!("0 (auto) to {MAX_QUEUE}")));
    }
    Ok(())
}

fn check_stream_buffer(bytes: usize) -> Result<()> {
    if bytes == 0 || bytes > MAX_BUFFER_SIZE {
        return Err(StreamError::invalid("streamBufferSize", bytes, format!("from 1 to {MAX_BUFFER_SIZE} bytes")));
    }
    Ok(())
}

fn check_positive_duration(field: &str, value: Duration) -> Result<()> {
    if value.is_zero() {
        return Err(StreamError::invalid(field, 0, "a positive number of milliseconds"));
    }
    Ok(())
}

/// A validation error for a key of the wrong length.
pub(crate) fn invalid_key_length(len: usize) -> StreamError {
    StreamError::new(ErrorCode::InvalidKey, format!("key must be 32 bytes, got {len}"))
        .with_field("key")
        .with_value(len)
        .with_expected("32 bytes")
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::error::ErrorType;

    #[test]
    fn default_buffer_config_matches_the_spec() {
        let c = BufferConfig::default();
        assert_eq!(c.max_total_size, 1024 * 1024 * 1024);
        assert_eq!(c.max_buffer_size, 1024 * 1024);
        assert_eq!(c.eviction_policy, EvictionPolicy::Lru);
        assert_eq!(c.eviction_timeout, Duration::from_millis(300_000));
        c.validate().unwrap();
    }

    #[test]
    fn buffer_config_rejects_each_bad_field_by_name() {
        let bad = [
            (BufferConfig { max_total_size: 0, ..Default::default() }, "maxTotalSize"),
            (BufferConfig { max_buffer_size: 0, ..Default::default() }, "maxBufferSize"),
            (BufferConfig { max_total_size: 10, max_buffer_size: 11, ..Default::default() }, "maxBufferSize"),
            (BufferConfig { eviction_timeout: Duration::ZERO, ..Default::default() }, "evictionTimeout"),
        ];
        for (config, field) in bad {
            let e = config.validate().unwrap_err();
            assert_eq!(e.error_type(), ErrorType::Validation);
            assert_eq!(e.context().field.as_deref(), Some(field));
            assert!(e.context().expected.is_some());
        }
        assert_eq!(EvictionPolicy::parse("time").unwrap(), EvictionPolicy::Time);
        let e = EvictionPolicy::parse("fifo").unwrap_err();
        assert_eq!(e.context().field.as_deref(), Some("evictionPolicy"));
        assert_eq!(e.context().value.as_deref(), Some("\"fifo\""));
    }

    #[test]
    fn integer_field_rejects_negative_fractional_nan_and_too_large() {
        assert_eq!(integer_field("bufferSize", 4096.0, 0, 1 << 20).unwrap(), 4096);
        for (value, shown) in [
            (1.5, "1.5"),
            (-2.0, "-2"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
            (0.125, "0.125"),
            (3e20, "about 1e20"),
        ] {
            assert_eq!(js_number(value), shown);
        }
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 2e6] {
            let e = integer_field("bufferSize", bad, 0, 1 << 20).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument);
            assert_eq!(e.context().field.as_deref(), Some("bufferSize"));
        }
    }

    #[test]
    fn stream_config_rejects_oversized_buffers_and_tiny_limits() {
        StreamConfig::new().validate().unwrap();
        let e = StreamConfig { buffer_size: MAX_BUFFER_SIZE + 1, ..StreamConfig::new() }.validate().unwrap_err();
        assert_eq!(e.context().field.as_deref(), Some("bufferSize"));
        let e = StreamConfig { chunk_size: MAX_BUFFER_SIZE + 1, ..StreamConfig::new() }.validate().unwrap_err();
        assert_eq!(e.context().field.as_deref(), Some("chunkSize"));
        let e = StreamConfig { memory_limit: 10, ..StreamConfig::new() }.validate().unwrap_err();
        assert_eq!(e.context().field.as_deref(), Some("memoryLimit"));
        let e = StreamConfig { timeout: Some(Duration::ZERO), ..StreamConfig::new() }.validate().unwrap_err();
        assert_eq!(e.context().field.as_deref(), Some("timeout"));
    }

    #[test]
    fn builder_keeps_unset_options_unset_and_validates_set_ones() {
        let c = StreamingConfigBuilder::new().with_stream_buffer_size(4096).build().unwrap();
        assert_eq!(c.stream_buffer_size, Some(4096));
        assert_eq!(c.chunk_processing_mode, None);
        assert_eq!(c.max_streams_per_worker, None);
        assert_eq!(c.resolve().chunk_processing_mode, ChunkMode::Adaptive);

        let c = StreamingConfigBuilder::new()
            .with_chunk_processing_mode(ChunkMode::Parallel)
            .with_max_streams_per_worker(3)
            .with_stream_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        assert_eq!(c.chunk_processing_mode, Some(ChunkMode::Parallel));
        assert_eq!(c.max_streams_per_worker, Some(3));
        assert_eq!(c.stream_timeout, Some(Duration::from_secs(1)));

        for (builder, field) in [
            (StreamingConfigBuilder::new().with_stream_buffer_size(0), "streamBufferSize"),
            (StreamingConfigBuilder::new().with_stream_buffer_size(MAX_BUFFER_SIZE + 1), "streamBufferSize"),
            (StreamingConfigBuilder::new().with_stream_timeout(Duration::ZERO), "streamTimeout"),
            (StreamingConfigBuilder::new().with_max_workers(MAX_WORKERS + 1), "maxWorkers"),
        ] {
            let e = builder.build().unwrap_err();
            assert_eq!(e.error_type(), ErrorType::Validation);
            assert_eq!(e.context().field.as_deref(), Some(field));
        }
        assert_eq!(ChunkMode::from_number(1).unwrap(), ChunkMode::Parallel);
        assert_eq!(ChunkMode::from_number(3).unwrap_err().context().field.as_deref(), Some("chunkProcessingMode"));
    }

    #[test]
    fn created_and_default_configs_are_fully_set_and_valid() {
        for c in [create_streaming_config(), create_streaming_config_for(8), streaming_config_defaults()] {
            validate_streaming_config(&c).unwrap();
            assert!(c.max_workers.is_some() && c.stream_buffer_size.is_some() && c.stream_timeout.is_some());
        }
        assert_eq!(create_streaming_config_for(1).chunk_processing_mode, Some(ChunkMode::Sequential));
        assert_eq!(create_streaming_config_for(1000).max_workers, Some(MAX_WORKERS));
        assert_eq!(streaming_config_defaults().max_workers, Some(0));
    }

    #[test]
    fn raw_contradicts_every_decoding_flag() {
        let mut c = StreamConfig { raw: true, ..StreamConfig::new() };
        c.validate().unwrap();
        c.is_compressed = true;
        assert_eq!(c.validate().unwrap_err().context().field.as_deref(), Some("raw"));
    }
}
