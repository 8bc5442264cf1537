//! What the targets share: both core readers, the engine over both kinds of source, and a
//! random-access source whose bytes change after open.
#![allow(dead_code)]

use novuspack_stream::core::compress::ChunkInflater;
use novuspack_stream::core::sealed::{IndexLocation, Opener, SealedIndex, FOOTER_LEN, MAX_HEADER_LEN};
use novuspack_stream::core::sync::block_on;
use novuspack_stream::{FileStream, Key, MemorySource, ReadSource, Result, Source, StreamConfig, StreamError};

/// The sequential reader in `step`-byte pieces: the plaintext it released, and its error.
pub fn open_sequential(sealed: &[u8], key: Option<Key>, step: usize) -> (Vec<u8>, Option<StreamError>) {
    let step = step.max(1);
    let mut opener = Opener::new(key);
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let end = (pos + step).min(sealed.len());
        let before = out.len();
        match opener.update(&sealed[pos..end], &mut out) {
            Ok(p) => {
                assert!(out.len() - before <= 64 << 20, "one chunk at most per call");
                pos += p.consumed;
                if p.done && pos < sealed.len() {
                    if let Err(e) = opener.update(&sealed[pos..], &mut out) {
                        return (out, Some(e));
                    }
                    panic!("the opener took bytes after its footer");
                }
                if p.done || (pos == sealed.len() && p.consumed == 0 && p.produced == 0) {
                    break;
                }
            }
            Err(e) => return (out, Some(e)),
        }
    }
    (out, opener.finish().err())
}

/// The random-access reader, every chunk.
pub fn open_random(sealed: &[u8], key: Option<&Key>) -> Result<Vec<u8>> {
    let head = &sealed[..sealed.len().min(MAX_HEADER_LEN)];
    let foot = &sealed[sealed.len().saturating_sub(FOOTER_LEN)..];
    let location = IndexLocation::locate(head, foot, sealed.len() as u64, key, false)?;
    let (offset, len) = location.index_range();
    assert!(offset as usize + len + FOOTER_LEN == sealed.len(), "the index lies inside the file");
    assert!(location.memory_peak() <= 2 * sealed.len() as u64 + 64, "the index peak is bounded by the file");
    let mut record = sealed[offset as usize..offset as usize + len].to_vec();
    let index = SealedIndex::load(location, &mut record)?;
    let mut out = Vec::new();
    let mut inflater = ChunkInflater::new();
    for chunk in 0..index.chunk_count() {
        let (at, len) = index.record_range(chunk);
        let mut record = sealed[at as usize..at as usize + len].to_vec();
        let mut plain = vec![0u8; index.chunk_size()];
        let n = index.open_chunk(chunk, &mut record, &mut inflater, &mut plain)?;
        out.extend_from_slice(&plain[..n]);
    }
    assert_eq!(out.len() as u64, index.total_len());
    Ok(out)
}

/// The total length of a file whose header, footer and index verify (its chunks unread).
pub fn verified_total(sealed: &[u8], key: Option<&Key>) -> Option<u64> {
    let head = &sealed[..sealed.len().min(MAX_HEADER_LEN)];
    let foot = &sealed[sealed.len().saturating_sub(FOOTER_LEN)..];
    let location = IndexLocation::locate(head, foot, sealed.len() as u64, key, false).ok()?;
    let (offset, len) = location.index_range();
    let mut record = sealed[offset as usize..offset as usize + len].to_vec();
    SealedIndex::load(location, &mut record).ok().map(|i| i.total_len())
}

/// The engine's random-access result agrees with the core reader's. The engine reads only
/// the chunks that hold the bytes asked for, so the one (empty) chunk of a file whose verified
/// index says it is empty is never opened: that file reads as empty even if the chunk is bad.
pub fn assert_engine_agrees(engine: &Result<Vec<u8>>, core: &Result<Vec<u8>>, sealed: &[u8], key: Option<&Key>) {
    match (engine, core) {
        (Ok(e), Ok(c)) => assert_eq!(e, c, "the engine released other bytes"),
        (Err(_), Err(_)) => {}
        (Ok(e), Err(_)) if e.is_empty() && verified_total(sealed, key) == Some(0) => {}
        (e, c) => panic!("the engine (random access) disagrees: {e:?} / {c:?}"),
    }
}

fn read_all<S: Source>(stream: &FileStream<S>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = block_on(stream.read_chunk())? {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

pub fn sealed_config(key: Option<Key>) -> StreamConfig {
    StreamConfig { is_compressed: true, key, ..StreamConfig::new() }
}

/// The engine over a random-access source, to the end.
pub fn engine_random(sealed: &[u8], key: Option<Key>) -> Result<Vec<u8>> {
    block_on(FileStream::open(MemorySource::new(sealed.to_vec()), sealed_config(key))).and_then(|s| read_all(&s))
}

/// The engine over a sequential source, to the end.
pub fn engine_sequential(sealed: &[u8], key: Option<Key>) -> Result<Vec<u8>> {
    let source = ReadSource::new(std::io::Cursor::new(sealed.to_vec()), None);
    block_on(FileStream::open(source, sealed_config(key))).and_then(|s| read_all(&s))
}

#[allow(unused_imports)]
pub use novuspack_stream::core::stream::MutableSource;
