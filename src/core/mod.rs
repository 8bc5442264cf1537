//! The pure Rust core of novuspack-stream: configuration, the buffer pool, codecs, the
//! sealed format, NovusPack packages (feature `nvpk`) and the FileStream engine. No
//! wasm-bindgen, js-sys or web-sys here, and no `unsafe`: everything runs natively under
//! `cargo test` and compiles unchanged to wasm32.

#![forbid(unsafe_code)]

pub mod block_tags;
pub mod chacha;
pub mod checksum;
pub mod clock;
pub mod compress;
pub mod config;
pub mod crypto;
pub mod error;
#[cfg(feature = "nvpk")]
pub mod nvpk;
pub mod pool;
pub mod sealed;
pub mod stream;
pub mod sync;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod testing;
