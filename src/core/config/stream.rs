//! `StreamConfig`: the configuration of one FileStream, its defaults and validation.

use super::*;

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
