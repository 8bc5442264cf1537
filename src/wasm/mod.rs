//! The `#[wasm_bindgen]` boundary (wasm32 only): thin newtypes over the core, conversion of JS
//! values to core types and of core errors to JS, and the core's `Source` over the JS package's
//! byte sources. Nothing here that the core could hold.
//!
//! Every error leaves Rust through [`error::to_js`] as plain data (`{ name, type, code,
//! message, context }`), which the JS package rebuilds as a `StreamError`. The only `unsafe`
//! in the crate is what `#[wasm_bindgen]` generates.

mod clock;
mod config;
mod decoder;
mod error;
mod jobs;
#[cfg(feature = "nvpk")]
mod package;
mod pool;
mod seal;
mod source;
mod stream;

pub use config::{
    build_streaming_config, create_streaming_config_js, default_buffer_config, streaming_config_defaults_js,
    validate_streaming_config_js,
};
pub use decoder::PoolSession;
pub use error::last_panic;
pub use jobs::{WasmChunkCodec, WasmDeflater, WasmDigest, WasmInflater};
#[cfg(feature = "nvpk")]
pub use package::{kem_key_pair, WasmPackage, WasmStreamWriter};
pub use pool::WasmBufferPool;
pub use seal::{WasmOpener, WasmParallelSealer, WasmSealer};
pub use source::ByteSource;
pub use stream::{WasmFileStream, WasmOpening};

use wasm_bindgen::prelude::*;

/// Runs when the module is instantiated: panics are recorded so the JS side can report them
/// as a `StreamError` instead of a bare `unreachable` trap.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(error::record_panic));
}

/// Bytes of wasm linear memory now (it only grows).
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    let buffer: js_sys::ArrayBuffer = memory.buffer().unchecked_into();
    f64::from(buffer.byte_length())
}

/// The wasm memory object (for short-lived views into pooled buffers).
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Panics on purpose: the one way for a test to make the module trap, to check that a trap
/// reaches the caller as `INTERNAL_ERROR` (with this message) and that every later call fails
/// the same way (pkg-js/src/runtime.js). Reached only through a `Symbol.for` hook.
#[wasm_bindgen(js_name = deliberateTrap)]
pub fn deliberate_trap() {
    panic!("a deliberate trap, asked for by a test");
}

/// True in the WebAssembly SIMD build, false in the plain one (see pkg-js/src/simd.js).
#[wasm_bindgen(js_name = simdBuild)]
pub fn simd_build() -> bool {
    cfg!(target_feature = "simd128")
}
