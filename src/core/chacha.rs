//! The ChaCha20 keystream (RFC 8439) used by the AEAD in [`super::crypto`]. Crate-private: the
//! rest of the crate reaches it through the AEAD and the v1 framing, which bound its range.
//!
//! Native builds and the baseline wasm build use the RustCrypto `chacha20` crate (which has
//! SSE2 / AVX2 / NEON backends; on wasm32 its portable software backend). RustCrypto has no wasm
//! SIMD backend, so the `+simd128` wasm build uses `Lanes4` below: four blocks computed side by
//! side, one block per 32-bit lane, over `core::arch::wasm32::v128`. The same generic code runs
//! over a portable `[u32; 4]` lane type, and the tests (native, and under wasm-bindgen-test in
//! both wasm builds: `tests/common/crypto.rs`) check the shipped keystream against the portable
//! lanes and the crate, so the algorithm the SIMD build ships is the one the tests prove.
//!
//! The 32-bit block counter never wraps: a range that would need block 2^32 - 1 or later is an
//! error (`UNSUPPORTED_ALGORITHM`), in every build. (The crate refuses the last block, so this
//! limit is the crate's: every build reads the same keystream and refuses the same ranges.)

// Natively the lanes run only in the tests (the crate's own SIMD backends are faster there).
#![cfg_attr(not(all(target_arch = "wasm32", target_feature = "simd128")), allow(dead_code))]

use super::error::{err, ErrorCode, Result, StreamError};

/// Bytes of keystream one (key, nonce) pair has: blocks 0 to 2^32 - 2 (the block counter is
/// 32 bits and never wraps; block 2^32 - 1 is refused, as the `chacha20` crate refuses it).
pub(crate) const KEYSTREAM_LIMIT: u64 = u32::MAX as u64 * 64;

/// "expand 32-byte k".
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
/// Bytes of keystream one [`Lanes4`] step produces: four 64-byte blocks.
const STEP: usize = 256;

/// Four 32-bit lanes, one per ChaCha20 block computed in parallel.
pub(crate) trait Lanes4: Copy {
    fn splat(x: u32) -> Self;
    /// Overwrites `lanes` with zeros in a way the optimiser keeps (they held key material).
    fn wipe(lanes: &mut [Self; 16]) {
        *lanes = [Self::splat(0); 16];
        core::hint::black_box(&*lanes);
    }
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
    L::wipe(&mut x);
    L::wipe(&mut init);
}

/// The error for a keystream range past [`KEYSTREAM_LIMIT`].
pub(crate) fn counter_overflow() -> StreamError {
    err(
        ErrorCode::UnsupportedAlgorithm,
        "ChaCha20's 32-bit block counter would wrap: more than 256 GiB of keystream under one nonce",
    )
}

/// Refuses a range of keystream bytes that does not lie within [`KEYSTREAM_LIMIT`].
fn check_range(offset: u64, len: usize) -> Result<()> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= KEYSTREAM_LIMIT => Ok(()),
        _ if len == 0 => Ok(()),
        _ => Err(counter_overflow()),
    }
}

/// XORs the keystream of (`key`, `nonce`) from byte `offset` of the keystream into `buf`,
/// over lanes of type `L`. A range past [`KEYSTREAM_LIMIT`] is an error and `buf` is untouched.
pub(crate) fn xor_keystream_lanes<L: Lanes4>(
    key: &[u8; 32],
    nonce: &[u8; 12],
    offset: u64,
    buf: &mut [u8],
) -> Result<()> {
    check_range(offset, buf.len())?;
    let mut input = [0u32; 16];
    input[..4].copy_from_slice(&SIGMA);
    for (i, word) in key.chunks_exact(4).enumerate() {
        input[4 + i] = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
    }
    for (i, word) in nonce.chunks_exact(4).enumerate() {
        input[13 + i] = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
    }
    #[allow(clippy::cast_possible_truncation)] // checked: offset / 64 < 2^32 - 1
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
        // The last step's lanes past the range may wrap; their keystream is never used.
        block = block.wrapping_add(4);
    }
    zeroize::Zeroize::zeroize(&mut input);
    zeroize::Zeroize::zeroize(&mut keystream);
    Ok(())
}

/// XORs the ChaCha20 keystream of (`key`, `nonce`) from byte `offset` into `buf` (RFC 8439
/// block counter = offset / 64). Encryption and decryption alike. A range past
/// [`KEYSTREAM_LIMIT`] is an error (`UNSUPPORTED_ALGORITHM`) and `buf` is untouched.
pub(crate) fn xor_keystream(key: &[u8; 32], nonce: &[u8; 12], offset: u64, buf: &mut [u8]) -> Result<()> {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        xor_keystream_lanes::<core::arch::wasm32::v128>(key, nonce, offset, buf)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
        check_range(offset, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        let mut cipher = chacha20::ChaCha20::new(key.into(), nonce.into());
        cipher.try_seek(offset).map_err(|_| counter_overflow())?;
        cipher.try_apply_keystream(buf).map_err(|_| counter_overflow())
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    // The shared differential suite (every length 0..=1100 at offsets 0..=520, random large
    // offsets, counters near 2^32, against the crate, in every build) is tests/common/crypto.rs;
    // these check the lanes and the refusal to wrap in-crate.
    use super::*;
    use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
    use proptest::prelude::*;

    fn reference(key: &[u8; 32], nonce: &[u8; 12], offset: u64, buf: &mut [u8]) -> bool {
        let mut c = chacha20::ChaCha20::new(&(*key).into(), &(*nonce).into());
        c.try_seek(offset).is_ok() && c.try_apply_keystream(buf).is_ok()
    }

    #[test]
    fn rfc8439_section_2_4_2_encryption() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let nonce = [0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        let mut text = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".to_vec();
        xor_keystream_lanes::<[u32; 4]>(&key, &nonce, 64, &mut text).unwrap();
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
                xor_keystream_lanes::<[u32; 4]>(&key, &nonce, offset, &mut a).unwrap();
                assert!(reference(&key, &nonce, offset, &mut b));
                assert_eq!(a, b, "offset {offset} len {len}");
                let mut c = vec![0x5a; len];
                xor_keystream(&key, &nonce, offset, &mut c).unwrap();
                assert_eq!(c, b);
            }
        }
    }

    #[test]
    fn the_block_counter_never_wraps() {
        let key = [0x42; 32];
        let nonce = [7; 12];
        // Block 2^32 - 2 is the last one; the lanes compute it (in a step whose other lanes
        // wrap) like the crate does, and refuse anything past it in both implementations.
        for start in [KEYSTREAM_LIMIT - 64 * 5, KEYSTREAM_LIMIT - 300, KEYSTREAM_LIMIT - 64, KEYSTREAM_LIMIT - 1] {
            let len = usize::try_from(KEYSTREAM_LIMIT - start).unwrap();
            let mut a = vec![1u8; len];
            let mut b = a.clone();
            xor_keystream_lanes::<[u32; 4]>(&key, &nonce, start, &mut a).unwrap();
            assert!(reference(&key, &nonce, start, &mut b));
            assert_eq!(a, b, "start {start}");
            for f in [xor_keystream_lanes::<[u32; 4]>, xor_keystream] {
                let mut over = vec![1u8; len + 1];
                let e = f(&key, &nonce, start, &mut over).unwrap_err();
                assert_eq!(e.code(), crate::core::error::ErrorCode::UnsupportedAlgorithm);
                assert!(over.iter().all(|&b| b == 1), "a refused range is left as it was");
            }
            assert!(!reference(&key, &nonce, start, &mut vec![1u8; len + 1]), "the crate refuses it too");
        }
        assert!(xor_keystream(&key, &nonce, u64::MAX, &mut [0u8; 1]).is_err());
        assert!(xor_keystream_lanes::<[u32; 4]>(&key, &nonce, u64::MAX - 3, &mut [0u8; 8]).is_err());
    }

    #[test]
    fn lanes_are_wiped_after_use() {
        let mut lanes = [[7u32; 4]; 16];
        <[u32; 4] as Lanes4>::wipe(&mut lanes);
        assert_eq!(lanes, [[0u32; 4]; 16]);
    }

    proptest! {
        #[test]
        fn lanes_match_the_crate(key in any::<[u8; 32]>(), nonce in any::<[u8; 12]>(),
                                 offset in prop_oneof![0u64..100_000, (KEYSTREAM_LIMIT - 100_000)..KEYSTREAM_LIMIT, any::<u64>()],
                                 data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let mut a = data.clone();
            let mut b = data;
            let ours = xor_keystream_lanes::<[u32; 4]>(&key, &nonce, offset, &mut a).is_ok();
            let theirs = reference(&key, &nonce, offset, &mut b);
            prop_assert_eq!(ours, theirs);
            if ours {
                prop_assert_eq!(a, b);
            }
        }
    }
}
