//! NovusPack packages: arbitrary bytes opened as a package (the container parser), then every
//! listed entry (at most 8) opened as a FileStream over its stored bytes, read to the end and
//! at offsets taken from the input. Errors are fine; panics, hangs and unbounded memory are not.
#![no_main]

mod nvpk_common;

use libfuzzer_sys::fuzz_target;
use novuspack_stream::core::nvpk::{OpenOptions, Package};
use novuspack_stream::core::sync::block_on;
use novuspack_stream::MemorySource;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    let options = OpenOptions { memory_limit: 8 << 20, max_read: 1 << 20, max_gap: 4096 };
    let source = MemorySource::new(bytes.to_vec());
    let Ok(package) = block_on(Package::open(&source, &options)) else { return };
    for entry in package.entries.iter().take(8) {
        let (start, len) = (entry.data_offset as usize, entry.stored_size as usize);
        let Some(stored) = bytes.get(start..start.saturating_add(len)) else { continue };
        let Ok(stream) = nvpk_common::open_entry(entry, stored, mode & 1 == 1) else { continue };
        for &p in bytes.iter().take(3) {
            let mut buf = [0u8; 512];
            let _ = block_on(stream.read_at(&mut buf, u64::from(p) * 1031));
        }
        for _ in 0..100_000 {
            match block_on(stream.read_chunk()) {
                Ok(Some(_)) => {}
                _ => break,
            }
        }
    }
});
