//! The NovusPack zstd entry decoder on arbitrary bytes, fed in pieces of a size taken from the
//! first byte into outputs of another, with output and memory limits (nvpk_common.rs).
#![no_main]

mod nvpk_common;

use libfuzzer_sys::fuzz_target;
use novuspack_stream::core::nvpk::Compression;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else { return };
    nvpk_common::drive_decoder(Compression::Zstd, mode, input);
});
