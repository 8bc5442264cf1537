//! The ChaCha20 keystream (RFC 8439) used by the AEAD in [`super::crypto`].
//!
//! Native builds and the baseline wasm build use the RustCrypto `chacha20` crate (which has
//! SSE2 / AVX2 / NEON backends). RustCrypto has no wasm SIMD backend, so the `+simd128` wasm
//! build uses [`Lanes4`] below: four blocks computed side by side, one block per 32-bit lane,
//! over `core::arch::wasm32::v128`. The same generic code runs natively over a portable
//! `[u32; 4]` lane type in the tests, checked against the crate, so the algorithm the SIMD build
//! ships is the one the native tests prove.

// Natively the lanes run only in the tests (the crate's own SIMD backends are faster there).
#![cfg_attr(not(all(target_arch = "wasm32", target_feature = "simd128")), allow(dead_code))]

/// "expand 32-byte k".
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
/// Bytes of keystream one [`Lanes4`] step produces: four 64-byte blocks.
const STEP: usize = 256;

/// Four 32-bit lanes, one per ChaCha20 block computed in parallel.
pub(crate) trait Lanes4: Copy {
    fn splat(x: u32) -> Self;
    /// `c, c + 1, c + 2, c + 3` (wrapping): the block counters of the four blocks.
    fn counters(c: u32) -> Self;
    fn add(self, other: Self) -> Self;
    fn xor(self, other: Self) -> Self;
    fn rotl<const N: u32>(self) -> Self;
    /// Writes word `w` of the four blocks, for `w` in `4 * group .. 4 * group + 4`, into their
    /// places in the 256-byte keystream (a 4x4 transpose).
    fn store_group(words: [Self; 4], group: usize, out: &mut [u8; STEP]);
}

/// The portable lane type: plain arrays (tests, and any target without SIMD).
impl Lanes4 for [u32; 4] {
    fn splat(x: u32) -> Self {
        [x; 4]
    }
    fn counters(c: u32) -> Self {
        [c, c.wrapping_add(1), c.wrapping_add(2), c.wrapping_add(3)]
    }
    fn add(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i].wrapping_add(o[i]))
    }
    fn xor(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i] ^ o[i])
    }
    fn rotl<const N: u32>(self) -> Self {
        self.map(|x| x.rotate_left(N))
    }
    fn store_group(words: [Self; 4], group: usize, out: &mut [u8; STEP]) {
        for (w, lanes) in words.iter().enumerate() {
            for (block, word) in lanes.iter().enumerate() {
                let at = block * 64 + (group * 4 + w) * 4;
                out[at..at + 4].copy_from_slice(&word.to_le_bytes());
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{Lanes4, STEP};
    use core::arch::wasm32::{
        i32x4_shuffle, i64x2_shuffle, i8x16_shuffle, u32x4, u32x4_add, u32x4_extract_lane, u32x4_shl, u32x4_shr,
        u32x4_splat, v128, v128_or, v128_xor,
    };

    // The wasm32 SIMD intrinsics are safe functions: an engine without SIMD rejects the whole
    // module at validation, so nothing here can run where the instructions are missing.
    impl Lanes4 for v128 {
        #[inline(always)]
        fn splat(x: u32) -> Self {
            u32x4_splat(x)
        }
        #[inline(always)]
        fn counters(c: u32) -> Self {
            u32x4(c, c.wrapping_add(1), c.wrapping_add(2), c.wrapping_add(3))
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            u32x4_add(self, o)
        }
        #[inline(always)]
        fn xor(self, o: Self) -> Self {
            v128_xor(self, o)
        }
        #[inline(always)]
        fn rotl<const N: u32>(self) -> Self {
            // Byte-aligned rotations are one shuffle; the others shift both ways.
            match N {
                16 => i8x16_shuffle::<2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13>(self, self),
                8 => i8x16_shuffle::<3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14>(self, self),
                _ => v128_or(u32x4_shl(self, N), u32x4_shr(self, 32 - N)),
            }
        }
        #[inline(always)]
        fn store_group(words: [Self; 4], group: usize, out: &mut [u8; STEP]) {
            let [a, b, c, d] = words;
            let ab_lo = i32x4_shuffle::<0, 4, 1, 5>(a, b);
            let ab_hi = i32x4_shuffle::<2, 6, 3, 7>(a, b);
            let cd_lo = i32x4_shuffle::<0, 4, 1, 5>(c, d);
            let cd_hi = i32x4_shuffle::<2, 6, 3, 7>(c, d);
            let rows = [
                i64x2_shuffle::<0, 2>(ab_lo, cd_lo),
                i64x2_shuffle::<1, 3>(ab_lo, cd_lo),
                i64x2_shuffle::<0, 2>(ab_hi, cd_hi),
                i64x2_shuffle::<1, 3>(ab_hi, cd_hi),
            ];
            for (block, row) in rows.into_iter().enumerate() {
                let at = block * 64 + group * 16;
                let o = &mut out[at..at + 16];
                o[0..4].copy_from_slice(&u32x4_extract_lane::<0>(row).to_le_bytes());
                o[4..8].copy_from_slice(&u32x4_extract_lane::<1>(row).to_le_bytes());
                o[8..12].copy_from_slice(&u32x4_extract_lane::<2>(row).to_le_bytes());
                o[12..16].copy_from_slice(&u32x4_extract_lane::<3>(row).to_le_bytes());
            }
        }
    }
}

#[inline(always)]
fn quarter<L: Lanes4>(x: &mut [L; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].add(x[b]);
    x[d] = x[d].xor(x[a]).rotl::<16>();
    x[c] = x[c].add(x[d]);
    x[b] = x[b].xor(x[c]).rotl::<12>();
    x[a] = x[a].add(x[b]);
    x[d] = x[d].xor(x[a]).rotl::<8>();
    x[c] = x[c].add(x[d]);
    x[b] = x[b].xor(x[c]).rotl::<7>();
}

/// Four keystream blocks starting at block `counter`.
#[inline(always)]
fn blocks4<L: Lanes4>(input: &[u32; 16], counter: u32, out: &mut [u8; STEP]) {
    let mut init = [L::splat(0); 16];
    for (lane, word) in init.iter_mut().zip(input) {
        *lane = L::splat(*word);
    }
    init[12] = L::counters(counter);
    let mut x = init;
    for _ in 0..10 {
        quarter(&mut x, 0, 4, 8, 12);
        quarter(&mut x, 1, 5, 9, 13);
        quarter(&mut x, 2, 6, 10, 14);
        quarter(&mut x, 3, 7, 11, 15);
        quarter(&mut x, 0, 5, 10, 15);
        quarter(&mut x, 1, 6, 11, 12);
        quarter(&mut x, 2, 7, 8, 13);
        quarter(&mut x, 3, 4, 9, 14);
    }
    for (word, start) in x.iter_mut().zip(init) {
        *word = word.add(start);
    }
    for group in 0..4 {
        L::store_group([x[4 * group], x[4 * group + 1], x[4 * group + 2], x[4 * group + 3]], group, out);
    }
}

/// XORs the keystream of (`key`, `nonce`) from byte `offset` of the keystream into `buf`,
/// over lanes of type `L`. The caller keeps `offset + buf.len()` within 2^32 blocks.
pub(crate) fn xor_keystream_lanes<L: Lanes4>(key: &[u8; 32], nonce: &[u8; 12], offset: u64, buf: &mut [u8]) {
    let mut input = [0u32; 16];
    input[..4].copy_from_slice(&SIGMA);
    for (i, word) in key.chunks_exact(4).enumerate() {
        input[4 + i] = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
    }
    for (i, word) in nonce.chunks_exact(4).enumerate() {
        input[13 + i] = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
    }
    #[allow(clippy::cast_possible_truncation)] // the 32-bit block counter wraps, as in RFC 8439
    let mut block = (offset / 64) as u32;
    let mut skip = (offset % 64) as usize;
    let mut keystream = [0u8; STEP];
    let mut rest = buf;
    while !rest.is_empty() {
        blocks4::<L>(&input, block, &mut keystream);
        let n = (STEP - skip).min(rest.len());
        let (now, later) = rest.split_at_mut(n);
        for (b, k) in now.iter_mut().zip(&keystream[skip..skip + n]) {
            *b ^= k;
        }
        rest = later;
        skip = 0;
        block = block.wrapping_add(4);
    }
    zeroize::Zeroize::zeroize(&mut input);
    zeroize::Zeroize::zeroize(&mut keystream);
}

/// XORs the ChaCha20 keystream of (`key`, `nonce`) from byte `offset` into `buf` (RFC 8439
/// block counter = offset / 64). Encryption and decryption alike.
pub fn xor_keystream(key: &[u8; 32], nonce: &[u8; 12], offset: u64, buf: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        xor_keystream_lanes::<core::arch::wasm32::v128>(key, nonce, offset, buf);
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
        let mut cipher = chacha20::ChaCha20::new(&chacha20::Key::from(*key), &chacha20::Nonce::from(*nonce));
        cipher.seek(offset);
        cipher.apply_keystream(buf);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
    use proptest::prelude::*;

    fn reference(key: &[u8; 32], nonce: &[u8; 12], offset: u64, buf: &mut [u8]) {
        let mut c = chacha20::ChaCha20::new(&(*key).into(), &(*nonce).into());
        c.seek(offset);
        c.apply_keystream(buf);
    }

    #[test]
    fn rfc8439_section_2_4_2_encryption() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let nonce = [0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        let mut text = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".to_vec();
        xor_keystream_lanes::<[u32; 4]>(&key, &nonce, 64, &mut text);
        assert_eq!(
            &text[..16],
            &[0x6e, 0x2e, 0x35, 0x9a, 0x25, 0x68, 0xf9, 0x80, 0x41, 0xba, 0x07, 0x28, 0xdd, 0x0d, 0x69, 0x81]
        );
        assert_eq!(&text[text.len() - 4..], &[0x5e, 0x42, 0x87, 0x4d]);
    }

    #[test]
    fn lanes_match_the_crate_at_block_and_step_edges() {
        let key = [0x42; 32];
        let nonce = [7; 12];
        for offset in [0u64, 1, 63, 64, 65, 255, 256, 257, 1000] {
            for len in [0usize, 1, 15, 63, 64, 65, 255, 256, 257, 511, 512, 4097] {
                let mut a = vec![0x5a; len];
                let mut b = a.clone();
                xor_keystream_lanes::<[u32; 4]>(&key, &nonce, offset, &mut a);
                reference(&key, &nonce, offset, &mut b);
                assert_eq!(a, b, "offset {offset} len {len}");
                let mut c = vec![0x5a; len];
                xor_keystream(&key, &nonce, offset, &mut c);
                assert_eq!(c, b);
            }
        }
    }

    proptest! {
        #[test]
        fn lanes_match_the_crate(key in any::<[u8; 32]>(), nonce in any::<[u8; 12]>(),
                                 offset in 0u64..100_000, data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let mut a = data.clone();
            let mut b = data;
            xor_keystream_lanes::<[u32; 4]>(&key, &nonce, offset, &mut a);
            reference(&key, &nonce, offset, &mut b);
            prop_assert_eq!(a, b);
        }
    }
}
