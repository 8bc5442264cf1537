//! The shared wasm-bindgen suite on a browser page: `wasm-pack test --headless --chrome` (or
//! `--firefox`) `-- --test browser`.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;
