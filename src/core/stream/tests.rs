//! FileStream tests through the public engine API, over random-access and sequential
//! sources: round trips, random access, seeks, progress and ETA on a fake clock, memory
//! limits, timeouts, interop with gzip/zlib and NovusPack v1 produced by other programs.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::core::block_tags::TAG_BLOCK;
use crate::core::clock::ManualClock;
use crate::core::config::BufferConfig;
use crate::core::crypto::{v1_encrypt_with_nonce, Key};
use crate::core::error::ErrorType;
use crate::core::sealed::{SealOptions, Sealer};
use crate::core::sync::block_on;
use crate::core::testing::{noise, text};

fn key() -> Key {
    Key::from([0x11; 32])
}

fn seal(data: &[u8], key: Option<Key>, level: Option<u8>, chunk_size: usize) -> Vec<u8> {
    Sealer::seal_all(&SealOptions { key, level, chunk_size: Some(chunk_size), ..Default::default() }, data).unwrap()
}

/// Yields to the executor once, so concurrent futures really interleave.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A test source: random access or sequential (delivering pieces of varying size), that
/// yields before every read and counts what is read.
struct TestSource {
    data: Arc<[u8]>,
    random: bool,
    pos: Mutex<usize>,
    piece: usize,
    reads: AtomicUsize,
    bytes: AtomicU64,
    clock: Option<(Arc<ManualClock>, Duration)>,
    reveal_len: bool,
}

impl TestSource {
    fn random(data: Vec<u8>) -> Self {
        Self::new(data, true, 0)
    }

    fn sequential(data: Vec<u8>, piece: usize) -> Self {
        Self::new(data, false, piece)
    }

    fn new(data: Vec<u8>, random: bool, piece: usize) -> Self {
        TestSource {
            data: data.into(),
            random,
            pos: Mutex::new(0),
            piece,
            reads: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            clock: None,
            reveal_len: random,
        }
    }

    fn tick(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
        if let Some((clock, step)) = &self.clock {
            clock.advance(*step);
        }
    }
}

impl Source for TestSource {
    fn stored_len(&self) -> Option<u64> {
        self.reveal_len.then_some(self.data.len() as u64)
    }

    fn is_random_access(&self) -> bool {
        self.random
    }

    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        assert!(self.random, "read_at on a sequential source");
        YieldOnce(false).await;
        self.tick();
        let start = (offset as usize).min(self.data.len());
        let n = buf.len().min(self.data.len() - start);
        buf[..n].copy_from_slice(&self.data[start..start + n]);
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    async fn read_next(&self, buf: &mut [u8]) -> Result<usize> {
        assert!(!self.random, "read_next on a random-access source");
        YieldOnce(false).await;
        self.tick();
        let mut pos = self.pos.lock().unwrap();
        let piece = 1 + (*pos * 7919 + 13) % self.piece.max(1);
        let n = buf.len().min(piece).min(self.data.len() - *pos);
        buf[..n].copy_from_slice(&self.data[*pos..*pos + n]);
        *pos += n;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn pool() -> BufferPool {
    BufferPool::with_clock(BufferConfig::default(), ManualClock::new()).unwrap()
}

fn open<S: Source>(source: S, config: StreamConfig) -> Result<FileStream<S>> {
    block_on(FileStream::open_with(source, config, Some(pool()), ManualClock::new()))
}

fn sealed_config(key: Option<Key>) -> StreamConfig {
    StreamConfig { is_compressed: true, key, ..StreamConfig::new() }
}

fn read_all<S: Source, D: ChunkDecoder>(stream: &FileStream<S, D>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = block_on(stream.read_chunk())? {
        assert!(!chunk.is_empty());
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Polls every future in turn until all are done (interleaving them at each await).
fn join_all<T>(futures: Vec<BoxFuture<'_, T>>) -> Vec<T> {
    let mut futures: Vec<_> = futures.into_iter().map(Some).collect();
    let mut results: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    while results.iter().any(Option::is_none) {
        for (slot, result) in futures.iter_mut().zip(results.iter_mut()) {
            if let Some(f) = slot {
                if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                    *result = Some(v);
                    *slot = None;
                }
            }
        }
    }
    results.into_iter().map(Option::unwrap).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sealed_round_trip_random_reads_and_seeks(
        len in prop_oneof![Just(0usize), Just(1usize), Just(512usize), Just(513usize), 0usize..20_000],
        chunk_size in prop_oneof![Just(512usize), 64usize..4096],
        level in proptest::option::of(0u8..=10),
        encrypted in any::<bool>(),
        compressible in any::<bool>(),
        random in any::<bool>(),
        ranges in proptest::collection::vec((0.0f64..1.0, 0usize..3000), 8),
        seek_to in 0.0f64..1.0,
    ) {
        let data = if compressible { text(len) } else { noise(len, len as u64) };
        let k = encrypted.then(key);
        let sealed = seal(&data, k.clone(), level, chunk_size);
        let source = if random { TestSource::random(sealed.clone()) } else { TestSource::sequential(sealed.clone(), 5000) };
        let stream = open(source, sealed_config(k.clone())).unwrap();
        if random {
            prop_assert_eq!(stream.size(), Some(len as u64), "the index gives the size at open");
        }
        prop_assert_eq!(read_all(&stream).unwrap(), data.clone());
        prop_assert_eq!(stream.size(), Some(len as u64));

        if random {
            for (at, n) in ranges {
                let offset = (at * len as f64) as u64;
                let mut buf = vec![0u8; n];
                let got = block_on(stream.read_at(&mut buf, offset)).unwrap();
                let end = (offset as usize + n).min(len);
                prop_assert_eq!(&buf[..got], &data[offset as usize..end]);
            }
            let target = (seek_to * len as f64) as u64;
            block_on(stream.seek(target)).unwrap();
            let mut rest = Vec::new();
            while let Some(c) = block_on(stream.read_chunk()).unwrap() {
                rest.extend_from_slice(&c);
            }
            prop_assert_eq!(&rest[..], &data[target as usize..]);
        }
        let stream = open(TestSource::random(sealed), sealed_config(k)).unwrap();
        let target = (seek_to * len as f64) as u64;
        block_on(stream.seek(target)).unwrap();
        let chunk = block_on(stream.read_chunk()).unwrap().unwrap_or_default();
        prop_assert_eq!(&chunk[..], &data[target as usize..(target as usize + chunk.len())]);
        prop_assert!(target as usize == len || !chunk.is_empty());
    }
}

#[test]
fn round_trips_at_exact_chunk_edges_over_both_source_kinds() {
    let cs = 1024;
    for len in [0, 1, cs - 1, cs, cs + 1, 4 * cs, 4 * cs + 1] {
        for k in [None, Some(key())] {
            let data = text(len);
            let sealed = seal(&data, k.clone(), Some(6), cs);
            for source in [TestSource::random(sealed.clone()), TestSource::sequential(sealed.clone(), 300)] {
                let stream = open(source, sealed_config(k.clone())).unwrap();
                assert_eq!(stream.format().kind, "sealed");
                let out = read_all(&stream).unwrap();
                assert_eq!(out, data, "len {len}");
                assert_eq!(stream.position(), len as u64);
                assert_eq!(block_on(stream.read_chunk()).unwrap(), None);
            }
        }
    }
}

#[test]
fn read_chunk_follows_sealed_chunk_boundaries_or_the_configured_size() {
    let data = text(10_000);
    let sealed = seal(&data, None, Some(6), 4096);
    let stream = open(TestSource::random(sealed.clone()), sealed_config(None)).unwrap();
    block_on(stream.seek(1000)).unwrap();
    assert_eq!(block_on(stream.read_chunk()).unwrap().unwrap().len(), 3096, "the rest of chunk 0");
    assert_eq!(block_on(stream.read_chunk()).unwrap().unwrap().len(), 4096);
    assert_eq!(block_on(stream.read_chunk()).unwrap().unwrap().len(), 10_000 - 8192);
    let config = StreamConfig { chunk_size: 3000, ..sealed_config(None) };
    let stream = open(TestSource::random(sealed), config).unwrap();
    let sizes: Vec<usize> = std::iter::from_fn(|| block_on(stream.read_chunk()).unwrap().map(|c| c.len())).collect();
    assert_eq!(sizes, [3000, 3000, 3000, 1000]);
}

#[test]
fn random_access_reads_only_the_chunks_it_needs() {
    let data = noise(100 * 4096, 3);
    let sealed = seal(&data, Some(key()), None, 4096);
    let source = TestSource::random(sealed.clone());
    let stream = open(source, sealed_config(Some(key()))).unwrap();
    let after_open = stream.stats().stored_bytes_read;
    assert!(after_open < 2048, "open reads header, footer and index only: {after_open}");
    let mut buf = [0u8; 100];
    block_on(stream.read_at(&mut buf, 50 * 4096 + 10)).unwrap();
    assert_eq!(&buf[..], &data[50 * 4096 + 10..50 * 4096 + 110]);
    let record = 4 + 4096 + 16;
    assert_eq!(stream.stats().stored_bytes_read, after_open + record as u64);
    block_on(stream.read_at(&mut buf, 50 * 4096 + 500)).unwrap();
    assert_eq!(stream.stats().stored_bytes_read, after_open + record as u64, "the decoded chunk is cached");
    let stats = stream.stats();
    assert_eq!((stats.chunks_read, stats.read_ops, stats.bytes_read), (1, 2, 200));
    assert_eq!(stats.decrypted_bytes, 4096);
}

#[test]
fn concurrent_read_at_calls_interleave_and_are_all_correct() {
    let data = text(64 * 1024);
    let sealed = seal(&data, Some(key()), Some(6), 2048);
    let stream = open(TestSource::random(sealed), sealed_config(Some(key()))).unwrap();
    let ranges: Vec<(u64, usize)> = (0..40).map(|i| ((i * 1637 % 60_000) as u64, 100 + i * 97)).collect();
    let futures: Vec<BoxFuture<'_, (u64, Vec<u8>)>> = ranges
        .iter()
        .map(|&(offset, len)| {
            let stream = &stream;
            Box::pin(async move {
                let mut buf = vec![0u8; len];
                let n = stream.read_at(&mut buf, offset).await.unwrap();
                buf.truncate(n);
                (offset, buf)
            }) as Pin<Box<dyn Future<Output = _>>>
        })
        .collect();
    for (offset, buf) in join_all(futures) {
        let end = (offset as usize + buf.len()).min(data.len());
        assert_eq!(&buf[..], &data[offset as usize..end]);
        assert!(!buf.is_empty());
    }
    assert_eq!(stream.position(), 0, "read_at never moves the position");
}

#[test]
fn concurrent_sequential_operations_are_serialized() {
    let data = noise(50_000, 77);
    let sealed = seal(&data, None, Some(1), 1000);
    let stream = open(TestSource::sequential(sealed, 700), sealed_config(None)).unwrap();
    let futures: Vec<BoxFuture<'_, Vec<u8>>> = (0..50)
        .map(|_| {
            let stream = &stream;
            Box::pin(async move { stream.read_chunk().await.unwrap().unwrap() }) as Pin<Box<dyn Future<Output = _>>>
        })
        .collect();
    let mut chunks = join_all(futures);
    let mut expected: Vec<Vec<u8>> = data.chunks(1000).map(<[u8]>::to_vec).collect();
    chunks.sort();
    expected.sort();
    assert!(chunks == expected, "every chunk read exactly once, none torn");
    assert_eq!(stream.position(), 50_000);
}

#[test]
fn seeks_and_bad_offsets() {
    let data = text(5000);
    let sealed = seal(&data, None, Some(6), 1024);
    let stream = open(TestSource::random(sealed), sealed_config(None)).unwrap();
    assert_eq!(block_on(stream.seek(5000)).unwrap(), 5000);
    assert_eq!(block_on(stream.read_chunk()).unwrap(), None);
    let e = block_on(stream.seek(5001)).unwrap_err();
    assert_eq!((e.code(), e.error_type()), (ErrorCode::InvalidOffset, ErrorType::Validation));
    assert_eq!(e.context().offset, Some(5001));
    let mut buf = [0u8; 10];
    assert_eq!(block_on(stream.read_at(&mut buf, 5000)).unwrap(), 0);
    assert_eq!(block_on(stream.read_at(&mut buf, 5001)).unwrap_err().code(), ErrorCode::InvalidOffset);
    assert_eq!(block_on(stream.read_at(&mut buf, u64::MAX)).unwrap_err().code(), ErrorCode::InvalidOffset);
    assert_eq!(block_on(stream.read_at(&mut buf, 4995)).unwrap(), 5);
    block_on(stream.seek(100)).unwrap();
    let mut into = [0u8; 50];
    let n = block_on(stream.read(&mut into)).unwrap();
    assert_eq!(&into[..n], &data[100..100 + n]);
    assert_eq!(stream.stats().seeks, 2);
}

#[test]
fn reads_after_close_fail_and_buffers_go_back_to_the_pool() {
    let data = text(20_000);
    let sealed = seal(&data, Some(key()), Some(6), 4096);
    let pool = pool();
    let stream = block_on(FileStream::open_with(
        TestSource::random(sealed),
        sealed_config(Some(key())),
        Some(pool.clone()),
        ManualClock::new(),
    ))
    .unwrap();
    read_all(&stream).unwrap();
    assert!(pool.stats().active_buffers > 0, "decoded chunks are cached in pooled buffers");
    stream.close();
    stream.close();
    assert!(stream.is_closed());
    assert_eq!(pool.stats().active_buffers, 0);
    assert!(stream.buffered_bytes() < 1024, "only the index is left: {}", stream.buffered_bytes());
    for e in [
        block_on(stream.read_chunk()).unwrap_err(),
        block_on(stream.seek(0)).unwrap_err(),
        block_on(stream.read_at(&mut [0; 4], 0)).unwrap_err(),
        block_on(stream.read(&mut [0; 4])).unwrap_err(),
    ] {
        assert_eq!((e.code(), e.error_type()), (ErrorCode::Closed, ErrorType::Context));
    }
    let reused = open(TestSource::random(seal(&data, None, None, 4096)), sealed_config(None)).unwrap();
    read_all(&reused).unwrap();
}

#[test]
fn pool_buffers_are_reused_across_chunks() {
    let data = noise(200_000, 9);
    let chunks = 200_000u64.div_ceil(8192);
    let sealed = seal(&data, Some(key()), None, 8192);
    let shared = pool();
    let open_shared = || {
        let source = TestSource::random(sealed.clone());
        block_on(FileStream::open_with(source, sealed_config(Some(key())), Some(shared.clone()), ManualClock::new()))
            .unwrap()
    };
    let first = open_shared();
    read_all(&first).unwrap();
    let s = first.stats();
    assert!(s.pool_hits >= chunks - 3, "the record buffer is reused for every chunk: {s:?}");
    first.close();
    let second = open_shared();
    read_all(&second).unwrap();
    let s = second.stats();
    assert_eq!((s.pool_hits, s.pool_misses), (2 * chunks, 0), "a later stream reuses every buffer");
    let off = open(
        TestSource::random(seal(&data, None, None, 8192)),
        StreamConfig { use_buffer_pool: false, ..sealed_config(None) },
    )
    .unwrap();
    read_all(&off).unwrap();
    assert_eq!((off.stats().pool_hits, off.stats().pool_misses), (0, 0));
}

#[test]
fn the_memory_limit_is_never_exceeded_and_too_small_a_limit_is_refused() {
    let data = text(4 << 20);
    let sealed = seal(&data, Some(key()), Some(1), 64 << 10);
    for source in [TestSource::random(sealed.clone()), TestSource::sequential(sealed.clone(), 100_000)] {
        let config = StreamConfig { memory_limit: 512 << 10, ..sealed_config(Some(key())) };
        let stream = open(source, config).unwrap();
        let mut n = 0;
        while let Some(c) = block_on(stream.read_chunk()).unwrap() {
            assert_eq!(&c[..], &data[n..n + c.len()]);
            n += c.len();
        }
        assert_eq!(n, data.len());
        let peak = stream.stats().peak_buffered_bytes;
        assert!(peak <= 512 << 10, "peak {peak}");
        assert!(peak >= 64 << 10, "peak {peak} counts at least one chunk");
    }
    let big_chunks = seal(&text(3 << 20), None, None, 1 << 20);
    let config = StreamConfig { memory_limit: 1 << 20, ..sealed_config(None) };
    let e = open(TestSource::random(big_chunks), config).unwrap_err();
    assert_eq!((e.code(), e.error_type()), (ErrorCode::MemoryLimit, ErrorType::Validation));
}

#[test]
fn progress_and_eta_follow_the_clock() {
    let data = text(100_000);
    let sealed = seal(&data, None, Some(6), 10_000);
    let clock = ManualClock::new();
    let stream =
        block_on(FileStream::open_with(TestSource::random(sealed), sealed_config(None), Some(pool()), clock.clone()))
            .unwrap();
    assert_eq!(stream.estimated_time_remaining(), None, "no speed yet");
    clock.advance(Duration::from_secs(2));
    for _ in 0..4 {
        block_on(stream.read_chunk()).unwrap();
    }
    let p = stream.progress();
    assert_eq!(p.bytes_read, 40_000);
    assert_eq!(p.total_bytes, Some(100_000));
    assert_eq!(p.elapsed, Duration::from_secs(2));
    assert!((p.read_speed - 20_000.0).abs() < 1e-6);
    assert_eq!(stream.estimated_time_remaining(), Some(Duration::from_secs(3)));
    let s = stream.stats();
    assert_eq!(s.elapsed, Duration::from_secs(2));
    assert!((s.read_speed - 20_000.0).abs() < 1e-6);
    read_all(&stream).unwrap();
    assert_eq!(stream.estimated_time_remaining(), Some(Duration::ZERO));

    let unknown = open(
        TestSource::sequential(miniz_oxide::deflate::compress_to_vec(&data, 6), 1000),
        StreamConfig { is_compressed: true, ..StreamConfig::new() },
    )
    .unwrap();
    assert_eq!(unknown.size(), None);
    assert_eq!(unknown.estimated_time_remaining(), None, "unknown size");
    read_all(&unknown).unwrap();
    assert_eq!(unknown.size(), Some(100_000), "known at the end");
}

#[test]
fn a_timeout_fails_the_operation_and_closes_the_stream() {
    let data = noise(200_000, 3);
    let sealed = seal(&data, None, None, 4096);
    let clock = ManualClock::new();
    let mut source = TestSource::sequential(sealed, 4096);
    source.clock = Some((clock.clone(), Duration::from_millis(30)));
    assert!(data.len() / 4096 > 10, "enough reads to pass the timeout");
    let config = StreamConfig { timeout: Some(Duration::from_millis(300)), buffer_size: 4096, ..sealed_config(None) };
    let stream = block_on(FileStream::open_with(source, config, Some(pool()), clock)).unwrap();
    let mut big = vec![0u8; 100_000];
    let e = block_on(stream.read_at(&mut big, 0)).unwrap_err();
    assert_eq!((e.code(), e.error_type()), (ErrorCode::Timeout, ErrorType::Context));
    assert!(stream.is_closed());
    assert_eq!(block_on(stream.read_chunk()).unwrap_err().code(), ErrorCode::Closed);
}

#[test]
fn keys_and_expectations_are_checked_at_open() {
    let sealed = seal(b"secret", Some(key()), None, 64);
    for random in [true, false] {
        let src =
            |d: &Vec<u8>| if random { TestSource::random(d.clone()) } else { TestSource::sequential(d.clone(), 9) };
        assert_eq!(open(src(&sealed), sealed_config(None)).unwrap_err().code(), ErrorCode::KeyRequired);
        assert_eq!(
            open(src(&sealed), sealed_config(Some(Key::from([3; 32])))).unwrap_err().code(),
            ErrorCode::AuthFailed
        );
        let plain = seal(b"public", None, None, 64);
        let e = open(src(&plain), StreamConfig { is_encrypted: true, ..sealed_config(None) }).unwrap_err();
        assert_eq!((e.code(), e.error_type()), (ErrorCode::NotEncrypted, ErrorType::Security));
        assert_eq!(open(src(&plain), sealed_config(Some(key()))).unwrap_err().code(), ErrorCode::NotEncrypted);
    }
}

#[test]
fn damage_is_reported_through_the_stream_and_never_as_other_bytes() {
    let data = text(3000);
    let sealed = seal(&data, Some(key()), Some(6), 512);
    for at in (0..sealed.len()).step_by(37) {
        let mut bad = sealed.clone();
        bad[at] ^= 0x10;
        for random in [true, false] {
            let source =
                if random { TestSource::random(bad.clone()) } else { TestSource::sequential(bad.clone(), 200) };
            let Ok(stream) = open(source, sealed_config(Some(key()))) else { continue };
            let mut got = Vec::new();
            let result = loop {
                match block_on(stream.read_chunk()) {
                    Ok(Some(c)) => got.extend_from_slice(&c),
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            };
            assert!(data.starts_with(&got), "byte {at}: other plaintext released");
            assert!(result.is_err(), "byte {at} ({}) accepted", if random { "random" } else { "sequential" });
        }
    }
    let mut trailing = sealed.clone();
    trailing.extend_from_slice(b"junk");
    let stream = open(TestSource::sequential(trailing, 100), sealed_config(Some(key()))).unwrap();
    assert_eq!(read_all(&stream).unwrap_err().code(), ErrorCode::Corrupted);
}

#[test]
fn sequential_sources_keep_bytes_for_read_at_ahead_and_refuse_going_back_too_far() {
    let data = text(300_000);
    let sealed = seal(&data, None, Some(6), 4096);
    let config = StreamConfig { buffer_size: 8192, ..sealed_config(None) };
    let stream = open(TestSource::sequential(sealed.clone(), 3000), config.clone()).unwrap();
    let mut ahead = vec![0u8; 1000];
    block_on(stream.read_at(&mut ahead, 100_000)).unwrap();
    assert_eq!(&ahead[..], &data[100_000..101_000]);
    assert_eq!(stream.position(), 0);
    assert_eq!(read_all(&stream).unwrap(), data, "bytes before the read_at were kept");
    let e = block_on(stream.seek(1000)).unwrap_err();
    assert_eq!((e.code(), e.error_type()), (ErrorCode::NotSeekable, ErrorType::Unsupported));
    block_on(stream.seek(data.len() as u64 - 100)).unwrap();

    let limited = StreamConfig { memory_limit: 128 << 10, ..config };
    let stream = open(TestSource::sequential(sealed, 3000), limited).unwrap();
    let e = block_on(stream.read_at(&mut ahead, 250_000)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::MemoryLimit);
}

/// Runs a program, feeding `input`, and returns its stdout.
fn run(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} is needed for this interop test: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "{program} failed");
    out.stdout
}

fn compressed_config() -> StreamConfig {
    StreamConfig { is_compressed: true, ..StreamConfig::new() }
}

#[test]
fn reads_gzip_zlib_and_raw_deflate_made_by_other_programs() {
    let data = [text(300_000), noise(50_000, 4)].concat();
    let gzip = run("gzip", &["-c", "-6"], &data);
    let two_members = [run("gzip", &["-c", "-1"], &data[..1000]), run("gzip", &["-c"], &data[1000..])].concat();
    let py = |wbits: i32| {
        let script = format!("import sys,zlib; c=zlib.compressobj(6, zlib.DEFLATED, {wbits}); sys.stdout.buffer.write(c.compress(sys.stdin.buffer.read())+c.flush())");
        run("python3", &["-c", &script], &data)
    };
    let cases = [(gzip, "gzip"), (two_members, "gzip"), (py(15), "zlib"), (py(-15), "deflate-raw"), (py(31), "gzip")];
    for (stored, kind) in cases {
        for random in [true, false] {
            let source = if random {
                TestSource::random(stored.clone())
            } else {
                TestSource::sequential(stored.clone(), 10_000)
            };
            let stream = open(source, compressed_config()).unwrap();
            assert_eq!(stream.format().kind, kind);
            assert_eq!(read_all(&stream).unwrap(), data, "{kind}");
            assert_eq!(stream.size(), Some(data.len() as u64));
            assert_eq!(stream.stats().decompressed_bytes, data.len() as u64);
        }
    }
}

#[test]
fn damaged_gzip_is_reported() {
    let data = text(100_000);
    let gzip = run("gzip", &["-c"], &data);
    let mut bad_crc = gzip.clone();
    let n = bad_crc.len();
    bad_crc[n - 6] ^= 1;
    let stream = open(TestSource::random(bad_crc), compressed_config()).unwrap();
    let e = read_all(&stream).unwrap_err();
    assert_eq!((e.code(), e.error_type()), (ErrorCode::ChecksumMismatch, ErrorType::Corruption));
    let stream = open(TestSource::sequential(gzip[..gzip.len() / 2].to_vec(), 999), compressed_config()).unwrap();
    assert_eq!(read_all(&stream).unwrap_err().code(), ErrorCode::Truncated);
    let mut bad_data = gzip.clone();
    bad_data[20] ^= 0xFF;
    let stream = open(TestSource::random(bad_data), compressed_config()).unwrap();
    let e = read_all(&stream).unwrap_err();
    assert!(matches!(e.error_type(), ErrorType::Compression | ErrorType::Corruption), "{e}");
}

#[test]
fn compressed_streams_seek_forward_by_decoding_and_back_by_restarting() {
    let data = text(500_000);
    let raw = miniz_oxide::deflate::compress_to_vec(&data, 6);
    let stream = open(TestSource::random(raw.clone()), compressed_config()).unwrap();
    block_on(stream.seek(400_000)).unwrap();
    let c = block_on(stream.read_chunk()).unwrap().unwrap();
    assert_eq!(&c[..], &data[400_000..400_000 + c.len()]);
    block_on(stream.seek(10)).unwrap();
    let c = block_on(stream.read_chunk()).unwrap().unwrap();
    assert_eq!(&c[..], &data[10..10 + c.len()]);
    let mut buf = vec![0u8; 5000];
    block_on(stream.read_at(&mut buf, 250_000)).unwrap();
    assert_eq!(&buf[..], &data[250_000..255_000]);
    assert_eq!(block_on(stream.seek(500_001)).unwrap_err().code(), ErrorCode::InvalidOffset);

    let seq = open(TestSource::sequential(raw, 4000), compressed_config()).unwrap();
    block_on(seq.seek(300_000)).unwrap();
    assert_eq!(block_on(seq.seek(0)).unwrap_err().code(), ErrorCode::NotSeekable);
}

#[test]
fn v1_framing_from_node_crypto_decrypts_with_random_access_and_rejects_tampering() {
    let data = text(200_000);
    let script = r#"
        const c = require('crypto');
        const chunks = [];
        process.stdin.on('data', d => chunks.push(d)).on('end', () => {
          const input = Buffer.concat(chunks);
          const key = Buffer.alloc(32, 0x11), nonce = c.randomBytes(12);
          const e = c.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
          process.stdout.write(Buffer.concat([nonce, e.update(input), e.final(), e.getAuthTag()]));
        });"#;
    let framed = run("node", &["-e", script], &data);
    assert_eq!(framed.len(), data.len() + 28);
    let config = StreamConfig { is_encrypted: true, key: Some(key()), ..StreamConfig::new() };
    for random in [true, false] {
        let source =
            if random { TestSource::random(framed.clone()) } else { TestSource::sequential(framed.clone(), 50_000) };
        let stream = open(source, config.clone()).unwrap();
        assert_eq!(stream.format().kind, "v1");
        assert_eq!(stream.size(), Some(data.len() as u64));
        let mut buf = vec![0u8; 777];
        block_on(stream.read_at(&mut buf, 123_456)).unwrap();
        assert_eq!(&buf[..], &data[123_456..124_233]);
        assert_eq!(read_all(&stream).unwrap(), data);
    }
    for at in [0, 12, 1000, framed.len() - 1] {
        let mut bad = framed.clone();
        bad[at] ^= 1;
        let e = open(TestSource::random(bad), config.clone()).unwrap_err();
        assert_eq!((e.code(), e.error_type()), (ErrorCode::AuthFailed, ErrorType::Encryption));
    }
    let e = open(TestSource::random(framed[..20].to_vec()), config.clone()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Truncated);
    let limited = StreamConfig { memory_limit: 100_000, ..config.clone() };
    let e = open(TestSource::sequential(framed.clone(), 50_000), limited).unwrap_err();
    assert_eq!(e.code(), ErrorCode::MemoryLimit);
    assert_eq!(
        open(TestSource::random(framed), StreamConfig { key: None, ..config }).unwrap_err().code(),
        ErrorCode::KeyRequired
    );
}

#[test]
fn v1_framing_with_compressed_plaintext_is_decrypted_then_inflated() {
    let data = text(100_000);
    let gz = run("gzip", &["-c"], &data);
    let framed = v1_encrypt_with_nonce(&key(), &[5; 12], &gz);
    let config = StreamConfig { is_encrypted: true, is_compressed: true, key: Some(key()), ..StreamConfig::new() };
    let stream = open(TestSource::random(framed), config).unwrap();
    assert_eq!(stream.format().kind, "v1+gzip");
    assert_eq!(read_all(&stream).unwrap(), data);
}

#[test]
fn plain_sources_and_a_declared_size() {
    let data = noise(70_000, 1);
    let stream = open(TestSource::random(data.clone()), StreamConfig::new()).unwrap();
    assert_eq!(stream.format().kind, "plain");
    assert_eq!(read_all(&stream).unwrap(), data);
    let mut buf = [0u8; 100];
    block_on(stream.read_at(&mut buf, 69_950)).unwrap();
    let seq =
        open(TestSource::sequential(data.clone(), 3000), StreamConfig { size: Some(70_000), ..StreamConfig::new() })
            .unwrap();
    assert_eq!(seq.size(), Some(70_000));
    assert_eq!(read_all(&seq).unwrap(), data);
    let wrong =
        open(TestSource::sequential(data.clone(), 3000), StreamConfig { size: Some(80_000), ..StreamConfig::new() })
            .unwrap();
    assert_eq!(read_all(&wrong).unwrap_err().code(), ErrorCode::SizeMismatch);
    let short =
        open(TestSource::sequential(data, 3000), StreamConfig { size: Some(60_000), ..StreamConfig::new() }).unwrap();
    assert_eq!(read_all(&short).unwrap_err().code(), ErrorCode::SizeMismatch);
}

#[test]
fn std_io_read_and_seek_over_a_file() {
    use std::io::{Read, Seek, SeekFrom};
    let data = text(123_457);
    let path = std::env::temp_dir().join(format!("novuspack-io-{}.sealed", std::process::id()));
    std::fs::write(&path, seal(&data, Some(key()), Some(6), 8192)).unwrap();
    let config = StreamConfig { key: Some(key()), ..StreamConfig::new() };
    let mut stream = FileStream::open_path(&path, config).unwrap();
    let mut all = Vec::new();
    stream.read_to_end(&mut all).unwrap();
    assert_eq!(all, data);
    assert_eq!(Seek::seek(&mut stream, SeekFrom::End(-10)).unwrap(), 123_447);
    let mut tail = Vec::new();
    stream.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, &data[123_447..]);
    Seek::seek(&mut stream, SeekFrom::Start(5)).unwrap();
    assert_eq!(Seek::seek(&mut stream, SeekFrom::Current(-2)).unwrap(), 3);
    assert_eq!(Seek::seek(&mut stream, SeekFrom::Current(-5)).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    let mut buf = [0u8; 10];
    assert_eq!(stream.read_at_blocking(&mut buf, 1000).unwrap(), 10);
    assert_eq!(&buf, &data[1000..1010]);
    assert_eq!(Seek::seek(&mut stream, SeekFrom::Start(200_000)).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    std::fs::remove_file(&path).unwrap();
    let e = FileStream::open_path(&path, StreamConfig::new()).unwrap_err();
    assert_eq!((e.code(), e.error_type()), (ErrorCode::ReadFailed, ErrorType::IO));
}

#[test]
fn a_reader_source_streams_sequentially() {
    let data = text(50_000);
    let sealed = seal(&data, None, Some(6), 2048);
    let source = ReadSource::new(std::io::Cursor::new(sealed), None);
    let stream = block_on(FileStream::open(source, sealed_config(None))).unwrap();
    assert_eq!(read_all(&stream).unwrap(), data);
}

/// Finished decodes by ticket: plaintext and whether it was deflated.
type Results = Arc<Mutex<std::collections::HashMap<u64, Result<(Vec<u8>, bool)>>>>;

/// Decodes chunks on background threads, as a worker pool would, recording what it was asked.
struct ThreadDecoder {
    sealed: Arc<[u8]>,
    index: crate::core::sealed::SealedIndex,
    window: usize,
    next: AtomicU64,
    started: Mutex<Vec<u64>>,
    cancelled: Mutex<Vec<u64>>,
    results: Results,
}

impl ThreadDecoder {
    fn new(sealed: &[u8], key: Option<&Key>, window: usize) -> Self {
        use crate::core::sealed::{IndexLocation, SealedIndex, FOOTER_LEN as F, HEADER_LEN as H};
        let location =
            IndexLocation::locate(&sealed[..H], &sealed[sealed.len() - F..], sealed.len() as u64, key, false).unwrap();
        let (at, len) = location.index_range();
        let index = SealedIndex::load(location, &mut sealed[at as usize..at as usize + len].to_vec()).unwrap();
        ThreadDecoder {
            sealed: sealed.into(),
            index,
            window,
            next: AtomicU64::new(1),
            started: Mutex::new(Vec::new()),
            cancelled: Mutex::new(Vec::new()),
            results: Arc::new(Mutex::new(std::collections::HashMap::new())),
        }
    }
}

impl ChunkDecoder for ThreadDecoder {
    type Chunk = Arc<[u8]>;

    fn start(&self, request: &ChunkRequest) -> Option<u64> {
        let ticket = self.next.fetch_add(1, Ordering::SeqCst);
        self.started.lock().unwrap().push(request.chunk);
        let (sealed, index, results, r) =
            (Arc::clone(&self.sealed), self.index.clone(), Arc::clone(&self.results), *request);
        std::thread::spawn(move || {
            let mut record = sealed[r.record_offset as usize..r.record_offset as usize + r.record_len].to_vec();
            let deflated = crate::core::sealed::RecordPrefix::parse(record[..4].try_into().unwrap()).deflated;
            let mut out = vec![0u8; index.chunk_size()];
            let opened = index
                .open_chunk(r.chunk, &mut record, &mut crate::core::compress::ChunkInflater::new(), &mut out)
                .map(|n| (out[..n].to_vec(), deflated));
            results.lock().unwrap().insert(ticket, opened);
        });
        Some(ticket)
    }

    async fn finish(&self, ticket: u64) -> Result<(Arc<[u8]>, Decoded)> {
        loop {
            if let Some(result) = self.results.lock().unwrap().remove(&ticket) {
                let (plain, deflated) = result?;
                return Ok((plain.into(), Decoded { deflated }));
            }
            YieldOnce(false).await;
        }
    }

    fn cancel(&self, ticket: u64) {
        self.cancelled.lock().unwrap().push(ticket);
    }

    fn window(&self) -> usize {
        self.window
    }
}

fn open_decoded(
    sealed: &[u8],
    key: Option<Key>,
    window: usize,
    memory_limit: u64,
) -> FileStream<TestSource, ThreadDecoder> {
    let decoder = ThreadDecoder::new(sealed, key.as_ref(), window);
    let config = StreamConfig { memory_limit, ..sealed_config(key) };
    block_on(FileStream::open_with_decoder(
        TestSource::random(sealed.to_vec()),
        config,
        Some(pool()),
        ManualClock::new(),
        decoder,
    ))
    .unwrap()
}

#[test]
fn a_decoder_reads_ahead_of_a_sequential_reader_and_starts_each_chunk_once() {
    let data = noise(40 * 4096 + 100, 5);
    let sealed = seal(&data, Some(key()), Some(1), 4096);
    let stream = open_decoded(&sealed, Some(key()), 4, 0);
    assert_eq!(read_all(&stream).unwrap(), data);
    let mut started = stream.decoder.started.lock().unwrap().clone();
    assert_eq!(started.len(), 41, "every chunk started once");
    assert_eq!(started[..4], [0, 1, 2, 3], "the first read started the next three as well");
    started.sort_unstable();
    assert_eq!(started, (0..41).collect::<Vec<_>>());
    let s = stream.stats();
    assert_eq!(s.chunks_read, 41);
    assert_eq!(
        s.decrypted_bytes,
        sealed.len() as u64 - crate::core::sealed::HEADER_LEN as u64 - 24 - (16 + 41 * 4 + 16) - 41 * 20
    );
    assert!(stream.decoder.cancelled.lock().unwrap().is_empty());
    assert!(stream.indexed.read_ahead.lock().unwrap().is_empty(), "nothing is left in flight at the end");
}

#[test]
fn read_at_does_not_read_ahead_and_seek_and_close_cancel_what_is_in_flight() {
    let data = text(30 * 4096);
    let sealed = seal(&data, None, Some(6), 4096);
    let stream = open_decoded(&sealed, None, 8, 0);
    let mut buf = [0u8; 10];
    block_on(stream.read_at(&mut buf, 10 * 4096 + 5)).unwrap();
    assert_eq!(&buf, &data[10 * 4096 + 5..10 * 4096 + 15]);
    assert_eq!(*stream.decoder.started.lock().unwrap(), [10]);
    block_on(stream.read_chunk()).unwrap();
    assert_eq!(stream.decoder.started.lock().unwrap().len(), 1 + 8, "chunk 0 and seven ahead");
    block_on(stream.seek(25 * 4096)).unwrap();
    assert_eq!(stream.decoder.cancelled.lock().unwrap().len(), 7, "read-ahead of chunks 1..=7 is abandoned");
    let c = block_on(stream.read_chunk()).unwrap().unwrap();
    assert_eq!(&c[..], &data[25 * 4096..26 * 4096]);
    let in_flight = stream.indexed.read_ahead.lock().unwrap().len();
    assert_eq!(in_flight, 4, "chunks 26..=29 are in flight");
    stream.close();
    assert_eq!(stream.decoder.cancelled.lock().unwrap().len(), 7 + in_flight);
    assert!(stream.buffered_bytes() < 4096, "no read-ahead is counted after close");
}

#[test]
fn decoder_errors_are_the_chunks_errors() {
    let data = noise(10 * 4096, 8);
    let mut sealed = seal(&data, Some(key()), None, 4096);
    sealed[crate::core::sealed::HEADER_LEN + 3 * (4 + 4096 + 16) + 100] ^= 1; // inside chunk 3
    let stream = open_decoded(&sealed, Some(key()), 3, 0);
    let e = read_all(&stream).unwrap_err();
    assert_eq!((e.code(), e.context().chunk), (ErrorCode::AuthFailed, Some(3)));
}

#[test]
fn the_memory_limit_caps_the_read_ahead_window() {
    let data = noise(64 * 16384, 9);
    let sealed = seal(&data, None, None, 16384);
    let stream = open_decoded(&sealed, None, 64, 256 * 1024);
    assert!(stream.indexed.max_window < 64, "max window {}", stream.indexed.max_window);
    assert_eq!(read_all(&stream).unwrap(), data);
    let peak = stream.stats().peak_buffered_bytes;
    assert!(peak <= 256 * 1024, "peak {peak}");
}

#[test]
fn sealed_data_is_opened_as_sealed_whatever_the_flags() {
    let data = text(50_000);
    let locked = seal(&data, Some(key()), Some(6), 4096);
    let open_plain = seal(&data, None, Some(6), 4096);
    for random in [true, false] {
        let source = |bytes: &[u8]| {
            if random {
                TestSource::random(bytes.to_vec())
            } else {
                TestSource::sequential(bytes.to_vec(), 1000)
            }
        };
        // No flags, no key: an encrypted sealed file needs its key, never reads as ciphertext.
        let e = open(source(&locked), StreamConfig::new()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::KeyRequired, "random {random}");
        // An unencrypted sealed file opened without flags gives its plaintext.
        let stream = open(source(&open_plain), StreamConfig::new()).unwrap();
        assert_eq!(read_all(&stream).unwrap(), data, "random {random}");
        // raw: the stored bytes, as they are.
        let stream = open(source(&locked), StreamConfig { raw: true, ..StreamConfig::new() }).unwrap();
        assert_eq!(read_all(&stream).unwrap(), locked, "random {random}");
        // Plain data without flags is still plain, from its first byte.
        let stream = open(source(&data), StreamConfig::new()).unwrap();
        assert_eq!(read_all(&stream).unwrap(), data, "random {random}");
    }
}

#[test]
fn data_that_is_not_sealed_gzip_or_zlib_is_an_unknown_format_at_open() {
    // 'n' starts no valid deflate block (block type 3): raw deflate, the one guess, fails at once.
    let plain = b"not sealed, not gzip, not zlib: some text\n".repeat(100);
    for random in [true, false] {
        for bytes in [&plain[..], &[][..]] {
            let source =
                if random { TestSource::random(bytes.to_vec()) } else { TestSource::sequential(bytes.to_vec(), 100) };
            let e = open(source, StreamConfig { is_compressed: true, ..StreamConfig::new() }).unwrap_err();
            assert_eq!(e.code(), ErrorCode::UnknownFormat, "random {random}, {} bytes: {e}", bytes.len());
        }
    }
    // A key on unsealed data means v1 framing; failing it says so, and stays AUTH_FAILED.
    let e =
        open(TestSource::random(plain.clone()), StreamConfig { key: Some(key()), ..StreamConfig::new() }).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthFailed);
    assert!(e.message().contains("not a sealed file"), "{e}");
}

#[test]
fn a_memory_limit_too_small_says_the_smallest_that_works() {
    let sealed = seal(&noise(300_000, 3), None, None, 256 << 10);
    let e = open(TestSource::random(sealed.clone()), StreamConfig { memory_limit: 128 << 10, ..StreamConfig::new() })
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::MemoryLimit);
    let needed: u64 = e.context().expected.as_deref().unwrap().trim_start_matches("at least ").parse().unwrap();
    assert!(e.message().contains(&format!("set memoryLimit to at least {needed}")), "{e}");
    assert!(e.message().contains("chunk size"), "says why: {e}");
    let stream =
        open(TestSource::random(sealed), StreamConfig { memory_limit: needed, ..StreamConfig::new() }).unwrap();
    assert_eq!(read_all(&stream).unwrap().len(), 300_000, "the limit it names is enough");
}

#[test]
fn v1_bytes_changed_after_verification_are_an_error_never_plaintext() {
    let data = noise(300_000, 21);
    let framed = v1_encrypt_with_nonce(&key(), &[9; 12], &data);
    let shared = Arc::new(Mutex::new(framed));
    let config = StreamConfig { key: Some(key()), ..StreamConfig::new() };
    let stream = open(MutableSource(Arc::clone(&shared)), config.clone()).unwrap();
    let mut buf = vec![0u8; 1000];
    block_on(stream.read_at(&mut buf, 150_000)).unwrap();
    assert_eq!(&buf[..], &data[150_000..151_000]);
    // Flip one ciphertext bit inside the range, then read it again: refused.
    shared.lock().unwrap()[12 + 150_500] ^= 1;
    let e = block_on(stream.read_at(&mut buf, 150_000)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthFailed, "{e}");
    // A range in another (unchanged) block still reads, byte for byte.
    block_on(stream.read_at(&mut buf, 10)).unwrap();
    assert_eq!(&buf[..], &data[10..1010]);
    // Every read size and position around the changed block fails; none returns its bytes.
    let block = 150_500 / TAG_BLOCK as u64 * TAG_BLOCK as u64;
    for (offset, len) in
        [(150_500u64, 1usize), (block, TAG_BLOCK), (100_000, 100_000), (block + TAG_BLOCK as u64 - 1, 2)]
    {
        let mut out = vec![0u8; len];
        assert!(block_on(stream.read_at(&mut out, offset)).is_err(), "{offset}+{len}");
    }
    // Compressed inside v1 (read through a cursor over the same base): refused too.
    let packed = miniz_oxide::deflate::compress_to_vec(&data, 1);
    let framed = v1_encrypt_with_nonce(&key(), &[3; 12], &packed);
    let shared = Arc::new(Mutex::new(framed));
    let stream = open(
        MutableSource(Arc::clone(&shared)),
        StreamConfig { is_compressed: true, key: Some(key()), ..StreamConfig::new() },
    )
    .unwrap();
    let last = shared.lock().unwrap().len() - 20;
    shared.lock().unwrap()[last] ^= 1;
    assert_eq!(read_all(&stream).unwrap_err().code(), ErrorCode::AuthFailed);
}
