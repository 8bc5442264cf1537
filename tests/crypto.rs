//! The cipher suite of `tests/common/crypto.rs`, natively (`cargo test --test crypto`); the
//! wasm-bindgen suites (`--test node`, `--test browser`, `--test worker`) run the same checks in
//! the SIMD and plain wasm builds.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/crypto.rs"]
mod crypto;
