//! `inspect` (header and footer, no key) on arbitrary bytes, and on valid files whose header
//! and footer fields are replaced with arbitrary values (CRCs recomputed, so the checks after
//! them run). It must never panic, and what it accepts must be consistent: the index lies
//! between header and footer, its length is a whole number of entries, and a file that opens
//! has the chunk count and header `inspect` reported.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use common::open_random;
use libfuzzer_sys::fuzz_target;
use novuspack_stream::core::sealed::{inspect, inspect_source, Header, FOOTER_LEN, MAX_CHUNKS, MAX_HEADER_LEN};
use novuspack_stream::core::sync::block_on;
use novuspack_stream::{MemorySource, SealOptions, Sealer};

#[derive(Arbitrary, Debug)]
enum Input {
    Raw(Vec<u8>),
    Fields {
        len: u16,
        chunk_size: u8,
        level: bool,
        /// (offset in the header, bytes) written over it, then its CRC recomputed.
        header_edits: Vec<(u8, u8)>,
        index_offset: Option<u64>,
        index_len: Option<u32>,
        cut: u8,
    },
}

fn recrc(file: &mut [u8]) {
    if let Ok(len) = Header::peek_len(file) {
        if file.len() >= len {
            let crc = crc32fast_hash(&file[..len - 4]);
            file[len - 4..len].copy_from_slice(&crc.to_le_bytes());
        }
    }
}

/// CRC-32 (ISO-HDLC), bitwise: the fuzz crate does not depend on crc32fast.
fn crc32fast_hash(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn footer_crc(file: &mut [u8]) {
    let n = file.len();
    if n >= FOOTER_LEN {
        let crc = crc32fast_hash(&file[n - 24..n - 12]);
        file[n - 12..n - 8].copy_from_slice(&crc.to_le_bytes());
    }
}

fuzz_target!(|input: Input| {
    let file = match input {
        Input::Raw(bytes) => bytes,
        Input::Fields { len, chunk_size, level, header_edits, index_offset, index_len, cut } => {
            let data: Vec<u8> = (0..usize::from(len) % 5000).map(|i| (i % 251) as u8).collect();
            let options = SealOptions {
                level: level.then_some(6),
                chunk_size: Some(64 + usize::from(chunk_size) * 8),
                ..Default::default()
            };
            let mut file = Sealer::seal_all(&options, &data).unwrap();
            for (at, byte) in header_edits.iter().take(6) {
                let at = usize::from(*at) % 80;
                file[at] = *byte;
            }
            recrc(&mut file);
            let n = file.len();
            if let Some(offset) = index_offset {
                file[n - 24..n - 16].copy_from_slice(&offset.to_le_bytes());
            }
            if let Some(len) = index_len {
                file[n - 16..n - 12].copy_from_slice(&len.to_le_bytes());
            }
            footer_crc(&mut file);
            file.truncate(n - usize::from(cut % 4) * usize::from(cut % 7));
            file
        }
    };
    let n = file.len();
    let head = &file[..n.min(MAX_HEADER_LEN)];
    let foot = &file[n.saturating_sub(FOOTER_LEN)..];
    let info = inspect(head, foot, n as u64);
    let from_source = block_on(inspect_source(&MemorySource::new(file.clone())));
    assert_eq!(info.as_ref().ok(), from_source.as_ref().ok(), "inspect and inspect_source disagree");
    if let Ok(info) = &info {
        let header_len = info.header.len() as u64;
        let end = info.footer.index_offset + u64::from(info.footer.index_len) + FOOTER_LEN as u64;
        assert!(info.footer.index_offset >= header_len && end == n as u64, "the index lies inside the file");
        assert!((1..=MAX_CHUNKS).contains(&info.chunk_count));
        let overhead = if info.header.encrypted { 16 } else { 4 };
        assert_eq!(u64::from(info.footer.index_len), 16 + 4 * info.chunk_count + overhead);
        assert_eq!(Header::parse(&file).ok().as_ref(), Some(&info.header));
    }
    // A file that opens (no key: only unencrypted ones can) was inspected the same.
    if let Ok(plain) = open_random(&file, None) {
        let info = info.expect("a file that opens inspects");
        assert!(info.header.total_len.is_none_or(|t| t == plain.len() as u64));
        let cs = u64::from(info.header.chunk_size);
        assert_eq!(info.chunk_count, (plain.len() as u64).div_ceil(cs).max(1));
    }
});
