//! Structure-aware: seals arbitrary record and index layouts *with the key* (the `hazmat`
//! crafting sealer: any flags, positions, bodies, lengths, counts, totals and footers, each
//! record and the index with a correct tag or CRC), so every input reaches the code after
//! authentication. Both core readers and the engine over both kinds of source must agree: they
//! accept the same files, and then release the same bytes, which are what the records hold.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use common::{engine_random, engine_sequential, open_random, open_sequential};
use libfuzzer_sys::fuzz_target;
use novuspack_stream::core::compress::{deflate_all, ChunkInflater};
use novuspack_stream::core::sealed::hazmat::Crafter;
use novuspack_stream::core::sealed::{Footer, Header};
use novuspack_stream::Key;

#[derive(Arbitrary, Debug)]
enum Body {
    /// `len` copies of `byte` (stored).
    Fill { len: u16, byte: u8 },
    /// Raw deflate of `len` bytes of text (any length: short, full, or longer than a chunk).
    Deflate { len: u16, level: u8 },
    /// Anything.
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Record {
    /// Sealed at position `i + shift` (0 almost always: the true position).
    shift: i8,
    last: bool,
    deflated: bool,
    body: Body,
}

#[derive(Arbitrary, Debug)]
enum Lens {
    True,
    DropLast,
    Extra(u32),
    Perturb(u8, i16),
    Swap(u8, u8),
    Any(Vec<u32>),
}

#[derive(Arbitrary, Debug)]
struct Layout {
    version2: bool,
    encrypted: bool,
    compressed: bool,
    chunk_size: u8,
    header_total: Option<i16>,
    records: Vec<Record>,
    total_delta: i16,
    count_delta: i8,
    lens: Lens,
    footer: Option<(u64, u32)>,
    trailing: Vec<u8>,
    step: u16,
}

fn text(len: usize) -> Vec<u8> {
    let words = b"chunk index footer header nonce ";
    (0..len).map(|i| words[(i * 7 + i / 5) % words.len()]).collect()
}

fn shifted(base: u64, delta: i64) -> u64 {
    base.saturating_add_signed(delta)
}

fuzz_target!(|l: Layout| {
    let chunk_size = [64u32, 65, 100, 128, 256, 1000][usize::from(l.chunk_size) % 6];
    let cs = chunk_size as usize;
    let key = l.encrypted.then(|| Key::from([0x42; 32]));
    let records = &l.records[..l.records.len().min(12)];
    // What the records hold, decoded as a reader would, so the declared total can be right.
    let mut bodies = Vec::new();
    let mut content = Vec::new();
    for r in records {
        let body = match &r.body {
            Body::Fill { len, byte } => vec![*byte; usize::from(*len) % (2 * cs + 2)],
            Body::Deflate { len, level } => deflate_all(&text(usize::from(*len) % (2 * cs + 2)), level % 10).unwrap(),
            Body::Raw(bytes) => bytes[..bytes.len().min(2 * cs)].to_vec(),
        };
        let plain = if r.deflated {
            // As the readers inflate a record: raw deflate, all of it, into at most a chunk.
            let mut out = vec![0u8; 4 * cs];
            ChunkInflater::new().inflate(&body, &mut out).map(|n| out[..n].to_vec()).unwrap_or_default()
        } else {
            body.clone()
        };
        content.extend_from_slice(&plain);
        bodies.push(body);
    }
    let true_total = content.len() as u64;
    let header = Header {
        version: if l.version2 { 2 } else { 1 },
        compressed: l.compressed,
        encrypted: l.encrypted,
        chunk_size,
        total_len: l.header_total.map(|d| shifted(true_total, i64::from(d % 4))),
        salt: [7; 16],
        commitment: None,
    };
    let Ok(mut crafter) = Crafter::new(header, key.as_ref()) else { return };
    for (i, (r, body)) in records.iter().zip(&bodies).enumerate() {
        let position = shifted(i as u64, i64::from(r.shift % 3));
        if crafter.record(position, r.last, r.deflated, body).is_err() {
            return;
        }
    }
    let mut lens = crafter.lens().to_vec();
    match &l.lens {
        Lens::True => {}
        Lens::DropLast => {
            lens.pop();
        }
        Lens::Extra(x) => lens.push(*x % (4 * chunk_size + 64)),
        Lens::Perturb(i, d) if !lens.is_empty() => {
            let i = usize::from(*i) % lens.len();
            lens[i] = lens[i].saturating_add_signed(i32::from(*d % 64));
        }
        Lens::Swap(a, b) if !lens.is_empty() => {
            let n = lens.len();
            lens.swap(usize::from(*a) % n, usize::from(*b) % n);
        }
        Lens::Any(any) => lens = any.iter().take(16).map(|x| x % (4 * chunk_size + 64)).collect(),
        _ => {}
    }
    let total = shifted(true_total, i64::from(l.total_delta % 300));
    let count = shifted(lens.len() as u64, i64::from(l.count_delta % 3));
    let written = match l.footer {
        None => crafter.index(total, count, &lens).is_ok(),
        Some((offset, len)) => {
            let offset = if offset % 4 == 0 { crafter.len() } else { offset % (crafter.len() + 64) };
            crafter
                .index_with_footer(total, count, &lens, Footer { index_offset: offset, index_len: len % 4096 })
                .is_ok()
        }
    };
    if !written {
        return;
    }
    crafter.raw(&l.trailing[..l.trailing.len().min(8)]);
    let file = crafter.finish();

    let (seq_out, seq_err) = open_sequential(&file, key.clone(), usize::from(l.step) + 1);
    let random = open_random(&file, key.as_ref());
    let engine_r = engine_random(&file, key.clone());
    let engine_s = engine_sequential(&file, key.clone());
    match (&seq_err, &random) {
        (None, Ok(r)) => {
            assert_eq!(&seq_out, r, "the readers released different bytes");
            assert_eq!(r, &content, "an accepted file releases what its records hold");
        }
        (Some(_), Err(_)) => {
            // The sequential reader released whole verified chunks, in order: a prefix.
            assert!(content.starts_with(&seq_out), "the sequential reader released bytes out of order");
        }
        (s, r) => panic!("the readers disagree: sequential {s:?}, random access {:?}", r.as_ref().err()),
    }
    common::assert_engine_agrees(&engine_r, &random, &file, key.as_ref());
    assert_eq!(
        engine_s.as_ref().ok(),
        seq_err.is_none().then_some(&seq_out),
        "the engine (in order) disagrees: {engine_s:?}"
    );
});
