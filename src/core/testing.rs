//! Test data shared by the core's unit tests: compressible text and incompressible noise,
//! both deterministic.

/// `len` bytes of repetitive text (compresses well).
pub fn text(len: usize) -> Vec<u8> {
    let words = b"stream seek chunk seal open index footer header nonce deflate ";
    (0..len).map(|i| words[(i * 7 + i / 13) % words.len()]).collect()
}

/// `len` pseudo-random bytes (xorshift; does not compress).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
