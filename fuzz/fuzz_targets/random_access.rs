//! FileStream over arbitrary bytes, as sealed / compressed / encrypted data, through both a
//! random-access and a sequential source: read_chunk to the end, read_at and seek at offsets
//! taken from the input. Errors are fine; panics, hangs and unbounded memory are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use novuspack_stream::core::sync::block_on;
use novuspack_stream::{FileStream, Key, MemorySource, ReadSource, StreamConfig};

fn exercise<S: novuspack_stream::Source>(stream: &FileStream<S>, probes: &[u8]) {
    for &p in probes.iter().take(4) {
        let offset = u64::from(p) * 97;
        let mut buf = [0u8; 300];
        let _ = block_on(stream.read_at(&mut buf, offset));
        let _ = block_on(stream.seek(offset));
    }
    for _ in 0..10_000 {
        match block_on(stream.read_chunk()) {
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    let _ = stream.stats();
    let _ = stream.estimated_time_remaining();
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let config = StreamConfig {
        is_compressed: mode & 1 == 1,
        is_encrypted: mode & 2 == 2,
        key: (mode & 4 == 4).then(|| Key::from([0x42; 32])),
        memory_limit: if mode & 8 == 8 { 1 << 20 } else { 0 },
        buffer_size: if mode & 16 == 16 { 4096 } else { 0 },
        ..StreamConfig::new()
    };
    let probes = &rest[..rest.len().min(4)];
    if let Ok(stream) = block_on(FileStream::open(MemorySource::new(rest.to_vec()), config.clone())) {
        exercise(&stream, probes);
    }
    let sequential = ReadSource::new(std::io::Cursor::new(rest.to_vec()), None);
    if let Ok(stream) = block_on(FileStream::open(sequential, config)) {
        exercise(&stream, probes);
    }
});
