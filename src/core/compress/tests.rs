use super::*;

fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"the quick brown fox jumps over the lazy dog "[i % 44] ^ (i / 977) as u8).collect()
}

#[test]
fn chunk_round_trip_and_stored_fallback() {
    let data = sample(70_000);
    let mut c = ChunkCompressor::new(6).unwrap();
    let mut out = vec![0u8; data.len()];
    let n = c.compress_chunk(&data, &mut out).expect("text compresses");
    assert!(n < data.len() / 4);
    let mut back = vec![0u8; data.len() + 10];
    let len = ChunkInflater::new().inflate(&out[..n], &mut back).unwrap();
    assert_eq!(&back[..len], &data[..]);

    let mut x = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..5000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    assert_eq!(c.compress_chunk(&random, &mut vec![0; 5000]), None, "incompressible is stored");
    assert_eq!(c.compress_chunk(&[], &mut [0; 10]), None);
    assert!(ChunkCompressor::new(11).is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
    /// Every level, on text, noise and their mixtures at any length: the chunk compressor
    /// never panics, and what it returns inflates back exactly (or it says "store").
    #[test]
    fn chunk_compression_round_trips_at_every_level(level in 0u8..=10, text_len in 0usize..40_000,
                                                    noise_len in 0usize..40_000, seed in 0u64..u64::MAX,
                                                    noise_first in proptest::bool::ANY, room in 0usize..3) {
        let mut x = seed | 1;
        let noise: Vec<u8> = (0..noise_len).map(|_| { x ^= x << 13; x ^= x >> 7; x ^= x << 17; (x >> 24) as u8 }).collect();
        let text = sample(text_len);
        let data = if noise_first { [noise, text].concat() } else { [text, noise].concat() };
        let mut out = vec![0u8; data.len().saturating_sub(room * data.len() / 4)];
        let mut c = ChunkCompressor::new(level).unwrap();
        for _ in 0..2 {
            if let Some(n) = c.compress_chunk(&data, &mut out) {
                proptest::prop_assert!(n < data.len() && n <= out.len());
                let mut back = vec![0u8; data.len()];
                proptest::prop_assert_eq!(ChunkInflater::new().inflate(&out[..n], &mut back).unwrap(), data.len());
                proptest::prop_assert_eq!(&back, &data);
            }
        }
    }
}

#[test]
fn chunk_inflate_refuses_bombs_short_output_and_garbage() {
    let big = vec![0u8; 100_000];
    let packed = deflate_all(&big, 9).unwrap();
    let mut d = ChunkInflater::new();
    let mut small = vec![0u8; 65_536];
    assert_eq!(d.inflate(&packed, &mut small).unwrap_err().code(), ErrorCode::OutputLimit);
    assert_eq!(d.inflate(&packed, &mut vec![0u8; 99_999]).unwrap_err().code(), ErrorCode::OutputLimit);
    let mut trailing = packed.clone();
    trailing.push(0);
    let mut exact = vec![0u8; 100_000];
    assert_eq!(d.inflate(&trailing, &mut exact).unwrap_err().code(), ErrorCode::Corrupted);
    assert_eq!(d.inflate(&packed[..packed.len() / 2], &mut exact).unwrap_err().code(), ErrorCode::Corrupted);
    assert_eq!(d.inflate(&[0xFF, 0xFF, 0xFF], &mut exact).unwrap_err().code(), ErrorCode::InvalidData);
    assert_eq!(d.inflate(&packed, &mut exact).unwrap(), 100_000);
    assert_eq!(d.inflate(&packed, &mut vec![0u8; 100_001]).unwrap(), 100_000);
}

#[test]
fn detects_wrappers() {
    assert_eq!(CompressedFormat::detect(&[0x1f, 0x8b, 8]), CompressedFormat::Gzip);
    assert_eq!(CompressedFormat::detect(&[0x78, 0x9c]), CompressedFormat::Zlib);
    assert_eq!(CompressedFormat::detect(&[0x78, 0x01]), CompressedFormat::Zlib);
    assert_eq!(CompressedFormat::detect(&[0x78, 0xda]), CompressedFormat::Zlib);
    assert_eq!(CompressedFormat::detect(&[0x78, 0x9d]), CompressedFormat::Raw);
    assert_eq!(CompressedFormat::detect(&[]), CompressedFormat::Raw);
}

fn stream_decode(input: &[u8], in_step: usize, out_step: usize) -> Result<Vec<u8>> {
    let mut inf = Inflater::new(CompressedFormat::detect(input));
    let mut result = Vec::new();
    let mut pos = 0;
    let mut out = vec![0u8; out_step];
    loop {
        let end = (pos + in_step).min(input.len());
        let p = inf.update(&input[pos..end], &mut out)?;
        result.extend_from_slice(&out[..p.produced]);
        pos += p.consumed;
        if p.done || (pos == input.len() && p.produced == 0 && p.consumed == 0) {
            break;
        }
    }
    inf.finish()?;
    Ok(result)
}

#[test]
fn streams_zlib_and_raw_in_any_piece_sizes() {
    let data = sample(200_000);
    let zlib = miniz_oxide::deflate::compress_to_vec_zlib(&data, 6);
    let raw = deflate_all(&data, 1).unwrap();
    for (input, fmt) in [(&zlib, CompressedFormat::Zlib), (&raw, CompressedFormat::Raw)] {
        assert_eq!(CompressedFormat::detect(input), fmt);
        for (i, o) in [(1, 7), (13, 1 << 16), (input.len(), 1), (4096, 4096)] {
            assert_eq!(stream_decode(input, i, o).unwrap(), data, "{fmt:?} {i}/{o}");
        }
    }
    let mut bad = zlib.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert_eq!(stream_decode(&bad, 1000, 1000).unwrap_err().code(), ErrorCode::ChecksumMismatch);
    assert_eq!(stream_decode(&zlib[..n - 2], 1000, 1000).unwrap_err().code(), ErrorCode::Truncated);
    assert_eq!(stream_decode(&raw[..raw.len() / 2], 1000, 1000).unwrap_err().code(), ErrorCode::Truncated);
}

#[test]
fn the_streaming_deflater_makes_raw_deflate_in_any_piece_sizes() {
    let data = sample(300_000);
    for (piece, out_len) in [(1_000, 100), (65_536, 4096), (300_000, 1 << 20)] {
        let mut d = Deflater::new(6).unwrap();
        let mut packed = Vec::new();
        let mut out = vec![0u8; out_len];
        let mut pos = 0;
        loop {
            let end = (pos + piece).min(data.len());
            let p = d.update(&data[pos..end], &mut out, end == data.len()).unwrap();
            packed.extend_from_slice(&out[..p.produced]);
            pos += p.consumed;
            if p.done {
                break;
            }
        }
        assert_eq!(pos, data.len());
        assert!(packed.len() < data.len() / 5);
        assert_eq!(inflate_all(&packed, data.len()).unwrap(), data, "piece {piece}");
    }
    assert!(Deflater::new(11).is_err());
}

#[test]
fn inflate_all_honours_its_limit() {
    let data = sample(10_000);
    let z = miniz_oxide::deflate::compress_to_vec_zlib(&data, 6);
    assert_eq!(inflate_all(&z, 10_000).unwrap(), data);
    assert_eq!(inflate_all(&z, 9_999).unwrap_err().code(), ErrorCode::OutputLimit);
    assert_eq!(inflate_all(&deflate_all(&[], 6).unwrap(), 0).unwrap(), Vec::<u8>::new());
}
