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

mod buffer;
mod fields;
mod stream;
mod streaming;

pub use buffer::*;
pub use fields::*;
pub use stream::*;
pub use streaming::*;

/// A validation error for a key of the wrong length.
pub(crate) fn invalid_key_length(len: usize) -> StreamError {
    StreamError::new(ErrorCode::InvalidKey, format!("key must be 32 bytes, got {len}"))
        .with_field("key")
        .with_value(len)
        .with_expected("32 bytes")
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
