//! The streaming concurrency family: `ChunkMode`, `ConcurrencyConfig`,
//! `StreamingConcurrencyConfig`, `StreamingConfig` with its builder, defaults, the pool settings
//! resolved from it, and validation.

use super::*;

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
