//! Valid sealed files (versions 1 and 2, encrypted and not, stored and deflated, one or many
//! chunks) and NovusPack v1 framing, mutated: before open (flips, byte writes, truncation,
//! insertion, removal, copies within the file, splices from another file under the same key)
//! or after open (the source changes under an open stream). Under a key: the sequential reader
//! gives an error or the plaintext, releasing only a prefix of it before an error; random access
//! gives an error or the right bytes. Without a key (a CRC is not a MAC, and the fuzzer can fix
//! a CRC) the readers must still agree.
#![no_main]

mod common;

use std::sync::{Arc, Mutex};

use arbitrary::Arbitrary;
use common::{engine_random, open_random, open_sequential, MutableSource};
use libfuzzer_sys::fuzz_target;
use novuspack_stream::core::crypto::hazmat::v1_encrypt_with_nonce;
use novuspack_stream::core::sealed::hazmat::seal_with_salt;
use novuspack_stream::core::sync::block_on;
use novuspack_stream::{FileStream, Key, SealOptions, StreamConfig};

#[derive(Arbitrary, Debug)]
enum Mutation {
    Flip(u16, u8),
    Set(u16, u8),
    Truncate(u16),
    Insert(u16, u8),
    Remove(u16),
    Copy {
        from: u16,
        to: u16,
        len: u8,
    },
    /// Bytes of the other file (same key and parameters, another salt and plaintext).
    Splice {
        from: u16,
        to: u16,
        len: u16,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    v1_framing: bool,
    version2: bool,
    encrypted: bool,
    level: Option<u8>,
    chunk_size: u8,
    plaintext: Vec<u8>,
    after_open: bool,
    mutations: Vec<Mutation>,
    probes: Vec<(u16, u8)>,
    step: u16,
}

fn apply(file: &mut Vec<u8>, other: &[u8], m: &Mutation) {
    let n = file.len();
    if n == 0 {
        return;
    }
    match *m {
        Mutation::Flip(at, bit) => file[usize::from(at) % n] ^= 1 << (bit % 8),
        Mutation::Set(at, byte) => file[usize::from(at) % n] = byte,
        Mutation::Truncate(at) => file.truncate(usize::from(at) % n),
        Mutation::Insert(at, byte) => file.insert(usize::from(at) % (n + 1), byte),
        Mutation::Remove(at) => {
            file.remove(usize::from(at) % n);
        }
        Mutation::Copy { from, to, len } => {
            let (from, to) = (usize::from(from) % n, usize::from(to) % n);
            let len = usize::from(len).min(n - from).min(n - to);
            file.copy_within(from..from + len, to);
        }
        Mutation::Splice { from, to, len } => {
            let (from, to) = (usize::from(from) % other.len(), usize::from(to) % n);
            let len = usize::from(len).min(other.len() - from).min(n - to);
            file[to..to + len].copy_from_slice(&other[from..from + len]);
        }
    }
}

fuzz_target!(|input: Input| {
    let plaintext = &input.plaintext[..input.plaintext.len().min(6000)];
    let key = (input.encrypted || input.v1_framing).then(|| Key::from([0x42; 32]));
    let other_plain: Vec<u8> = plaintext.iter().map(|b| b.wrapping_add(1)).collect();
    let (file, other) = if input.v1_framing {
        let k = key.as_ref().unwrap();
        (
            v1_encrypt_with_nonce(k, &[1; 12], plaintext).unwrap(),
            v1_encrypt_with_nonce(k, &[2; 12], &other_plain).unwrap(),
        )
    } else {
        let options = SealOptions {
            key: key.clone(),
            level: input.level.map(|l| l % 10),
            chunk_size: Some(64 + usize::from(input.chunk_size) * 4),
            total_len: None,
        };
        let version = if input.version2 { 2 } else { 1 };
        (
            seal_with_salt(&options, [1; 16], version, plaintext).unwrap(),
            seal_with_salt(&options, [2; 16], version, &other_plain).unwrap(),
        )
    };
    let mutations = &input.mutations[..input.mutations.len().min(4)];
    let mut bad = file.clone();
    for m in mutations {
        apply(&mut bad, &other, m);
    }
    let probes: Vec<(u64, usize)> = input
        .probes
        .iter()
        .take(4)
        .map(|&(at, len)| (u64::from(at) % (plaintext.len() as u64 + 10), usize::from(len)))
        .collect();

    if input.after_open {
        // Open the true file, then change the source under the open stream.
        let source = MutableSource(Arc::new(Mutex::new(file.clone())));
        let config = if input.v1_framing {
            StreamConfig { key: key.clone(), ..StreamConfig::new() }
        } else {
            common::sealed_config(key.clone())
        };
        let stream = block_on(FileStream::open(source.clone(), config)).expect("the true file opens");
        let mut buf = vec![0u8; 300];
        let _ = block_on(stream.read_at(&mut buf[..10], 0));
        *source.0.lock().unwrap() = bad.clone();
        for &(at, len) in &probes {
            let buf = &mut buf[..len];
            if let Ok(n) = block_on(stream.read_at(buf, at)) {
                if key.is_some() {
                    let want = &plaintext[(at as usize).min(plaintext.len())..];
                    assert_eq!(&buf[..n], &want[..n.min(want.len())], "changed bytes were released at {at}");
                    assert_eq!(n, len.min(want.len()));
                }
            }
        }
        return;
    }
    if bad == file {
        return;
    }
    if input.v1_framing {
        // v1 framing changed before open: verification fails (it has one tag), unless the
        // splices made it the other file (same key), which then reads as itself.
        let config = StreamConfig { key: key.clone(), ..StreamConfig::new() };
        if let Ok(stream) = block_on(FileStream::open(novuspack_stream::MemorySource::new(bad.clone()), config)) {
            assert_eq!(bad, other, "changed v1 framing verified");
            let mut all = vec![0u8; other_plain.len() + 1];
            let n = block_on(stream.read_at(&mut all, 0)).unwrap();
            assert_eq!(&all[..n], &other_plain[..]);
        }
        return;
    }
    let (out, seq_err) = open_sequential(&bad, key.clone(), usize::from(input.step) + 1);
    let random = open_random(&bad, key.as_ref());
    if key.is_some() {
        // Spliced bytes can make the file the other one (same key): its plaintext is then as
        // right as this one's. Anything else is an error, after a prefix at most.
        let right = |p: &[u8]| p == plaintext || p == &other_plain[..];
        let prefix = |p: &[u8]| plaintext.starts_with(p) || other_plain.starts_with(p);
        assert!(prefix(&out), "the sequential reader released other bytes");
        if seq_err.is_none() {
            assert!(right(&out), "a changed file opened with other plaintext");
        }
        if let Ok(r) = &random {
            assert!(right(r), "random access released other bytes");
        }
        // The engine: read_at probes give an error or the right bytes.
        if let Ok(stream) = block_on(FileStream::open(
            novuspack_stream::MemorySource::new(bad.clone()),
            common::sealed_config(key.clone()),
        )) {
            let mut buf = vec![0u8; 300];
            for &(at, len) in &probes {
                if let Ok(n) = block_on(stream.read_at(&mut buf[..len], at)) {
                    let from = |p: &[u8]| p[(at as usize).min(p.len())..].starts_with(&buf[..n]);
                    assert!(from(plaintext) || from(&other_plain), "read_at released other bytes at {at}");
                }
            }
        }
    } else {
        match (&seq_err, &random) {
            (None, Ok(r)) => assert_eq!(&out, r, "the readers released different bytes"),
            (Some(_), Err(_)) => {}
            (s, r) => panic!("the readers disagree: {s:?} / {:?}", r.as_ref().err()),
        }
        common::assert_engine_agrees(&engine_random(&bad, None), &random, &bad, None);
    }
});
