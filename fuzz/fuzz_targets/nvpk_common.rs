//! What the NovusPack targets share: an entry's stream opened over its stored bytes, and an
//! entry decoder driven over arbitrary bytes in pieces.
#![allow(dead_code)]

use novuspack_stream::core::clock::system_clock;
use novuspack_stream::core::nvpk::{Compression, EntryDecoder, EntryKey, FileEntry};
use novuspack_stream::core::stream::{EntryOpen, LocalDecoder};
use novuspack_stream::core::sync::block_on;
use novuspack_stream::{FileStream, Key, MemorySource, Result, StreamConfig};

/// A FileStream over `entry`, whose stored bytes are `stored`, with the key 0x42... when `keyed`.
pub fn open_entry(entry: &FileEntry, stored: &[u8], keyed: bool) -> Result<FileStream<MemorySource>> {
    let keys = EntryKey { key: keyed.then(|| Key::from([0x42; 32])), decapsulation_key: None };
    let config = StreamConfig { memory_limit: 32 << 20, ..StreamConfig::new() };
    block_on(FileStream::open_entry(
        MemorySource::new(stored.to_vec()),
        EntryOpen { entry: entry.clone(), keys },
        config,
        None,
        system_clock(),
        LocalDecoder,
    ))
}

const OUTPUT_LIMIT: u64 = 8 << 20;

/// `input` through `compression`'s decoder in pieces of a size taken from `mode`, into outputs
/// of another: errors are fine; panics, output past the limit, consuming more than given, and
/// no progress are not.
pub fn drive_decoder(compression: Compression, mode: u8, input: &[u8]) {
    let step = 1 + usize::from(mode & 15) * 37;
    let mut out = vec![0u8; 1 + usize::from(mode >> 4) * 4099];
    // Every step consumes or produces at least one byte, and a few hundred input bytes can
    // legitimately expand to megabytes (zstd RLE blocks): with tiny outputs the limit is smaller,
    // so the step count stays bounded by input + limit.
    let limit = OUTPUT_LIMIT.min(out.len() as u64 * 65_536);
    let mut decoder = EntryDecoder::new(compression, limit, 4 << 20, Some(input.len() as u64));
    let (mut pos, mut produced) = (0usize, 0u64);
    for _ in 0..input.len() as u64 + limit + 1_000 {
        let end = (pos + step).min(input.len());
        // When a step's piece is not enough, the rest at once.
        let Ok(p) = decoder.update(&input[pos..end], &mut out) else { return };
        let p = if p.consumed == 0 && p.produced == 0 && end < input.len() {
            match decoder.update(&input[pos..], &mut out) {
                Ok(q) if q.consumed == 0 && q.produced == 0 => return,
                Ok(q) => q,
                Err(_) => return,
            }
        } else {
            p
        };
        produced += p.produced as u64;
        assert!(produced <= limit, "output past the limit");
        assert!(pos + p.consumed <= input.len(), "consumed more than it was given");
        pos += p.consumed;
        if pos == input.len() && p.produced == 0 {
            let _ = decoder.finish();
            return;
        }
    }
    panic!("the decoder made no progress: more steps than input and output bytes");
}
