//! The shared wasm-bindgen suite in a dedicated Web Worker: `wasm-pack test --headless --chrome`
//! (or `--firefox`) `-- --test worker`.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

mod common;
