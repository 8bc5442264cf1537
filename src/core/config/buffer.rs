//! `BufferConfig` and `EvictionPolicy`: the configuration of a BufferPool.

use super::*;

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
