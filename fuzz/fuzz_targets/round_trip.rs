//! Seal arbitrary plaintext with options from the input, then read it back both ways: the
//! plaintext must come back exactly, and read_at must equal the slice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use novuspack_stream::core::sync::block_on;
use novuspack_stream::{FileStream, Key, MemorySource, ReadSource, SealOptions, Sealer, StreamConfig};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, plaintext)) = data.split_first() else { return };
    let key = (mode & 1 == 1).then(|| Key::from([7; 32]));
    let options = SealOptions {
        key: key.clone(),
        level: (mode & 2 == 2).then_some(mode >> 4 & 0x0f).map(|l| l.min(10)),
        chunk_size: Some(64 + usize::from(mode >> 2 & 3) * 100),
        ..Default::default()
    };
    let sealed = Sealer::seal_all(&options, plaintext).expect("sealing valid input succeeds");
    let config = StreamConfig { is_compressed: true, key, ..StreamConfig::new() };
    let stream = block_on(FileStream::open(MemorySource::new(sealed.clone()), config.clone())).unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = block_on(stream.read_chunk()).unwrap() {
        out.extend_from_slice(&chunk);
    }
    assert_eq!(out, plaintext);
    if !plaintext.is_empty() {
        let at = usize::from(mode) % plaintext.len();
        let mut buf = vec![0u8; 50];
        let n = block_on(stream.read_at(&mut buf, at as u64)).unwrap();
        assert_eq!(&buf[..n], &plaintext[at..(at + 50).min(plaintext.len())]);
    }
    let sequential = ReadSource::new(std::io::Cursor::new(sealed), None);
    let stream = block_on(FileStream::open(sequential, config)).unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = block_on(stream.read_chunk()).unwrap() {
        out.extend_from_slice(&chunk);
    }
    assert_eq!(out, plaintext);
});
