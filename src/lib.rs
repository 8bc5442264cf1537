//! novuspack-stream: stream, seek, decompress and decrypt large files with bounded memory.
//!
//! * [`core`]: the pure Rust library (native users start here).
//! * `wasm` (wasm32 only): the `#[wasm_bindgen]` boundary used by the npm package.
//!
//! ```
//! use novuspack_stream::{FileStream, MemorySource, SealOptions, Sealer, StreamConfig, Key};
//! # novuspack_stream::core::sync::block_on(async {
//! let key = Key::generate()?;
//! let sealed = Sealer::seal_all(&SealOptions { key: Some(key.clone()), level: Some(6), ..Default::default() }, b"hello")?;
//! let config = StreamConfig { key: Some(key), ..StreamConfig::new() };
//! let stream = FileStream::open(MemorySource::new(sealed), config).await?;
//! let mut buf = [0u8; 5];
//! stream.read_at(&mut buf, 0).await?;
//! assert_eq!(&buf, b"hello");
//! # Ok::<(), novuspack_stream::StreamError>(()) }).unwrap();
//! ```

pub mod core;

/// The `#[wasm_bindgen]` boundary that the npm package calls (public so the wasm-bindgen test
/// suites under `tests/` can drive it with real JS objects).
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use crate::core::clock::{Clock, ManualClock, SharedClock};
pub use crate::core::compress::{CompressedFormat, Inflater};
pub use crate::core::config::{
    create_streaming_config, create_streaming_config_for, streaming_config_defaults, validate_streaming_config,
    BufferConfig, ChunkMode, ConcurrencyConfig, EvictionPolicy, StreamConfig, StreamingConcurrencyConfig,
    StreamingConfig, StreamingConfigBuilder,
};
pub use crate::core::crypto::Key;
pub use crate::core::error::{ErrorCode, ErrorContext, ErrorType, Result, StreamError};
pub use crate::core::pool::{BufferPool, PoolStats, PooledBuffer};
pub use crate::core::sealed::{Opener, SealOptions, SealedIndex, Sealer};
#[cfg(not(target_arch = "wasm32"))]
pub use crate::core::stream::FileSource;
pub use crate::core::stream::{FileStream, FormatInfo, MemorySource, ReadSource, Source, StreamProgress, StreamStats};
