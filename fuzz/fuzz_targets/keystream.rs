//! Differential: the keystream's four-lane algorithm over the portable `[u32; 4]` lanes (the
//! code the SIMD build runs over `v128`) and the shipped keystream, against the `chacha20`
//! crate, at any offset (near the end of the keystream too, where every implementation must
//! refuse the same ranges, never wrap); and the AEAD composition against `chacha20poly1305`.
#![no_main]

use arbitrary::Arbitrary;
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use libfuzzer_sys::fuzz_target;
use novuspack_stream::core::crypto::hazmat::{
    aead_open, aead_seal, xor_keystream, xor_keystream_portable, KEYSTREAM_LIMIT,
};

#[derive(Arbitrary, Debug)]
enum Offset {
    Small(u16),
    NearBlockEdge(u32, u8),
    NearEnd(u16),
    Any(u64),
}

#[derive(Arbitrary, Debug)]
struct Input {
    key: [u8; 32],
    nonce: [u8; 12],
    offset: Offset,
    data: Vec<u8>,
    aad: Vec<u8>,
    flip: u16,
}

fuzz_target!(|input: Input| {
    let Input { key, nonce, offset, data, aad, flip } = input;
    let data = &data[..data.len().min(5000)];
    let offset = match offset {
        Offset::Small(x) => u64::from(x),
        Offset::NearBlockEdge(block, byte) => u64::from(block) * 64 + u64::from(byte % 64),
        Offset::NearEnd(back) => KEYSTREAM_LIMIT.saturating_sub(u64::from(back)),
        Offset::Any(x) => x,
    };
    let (mut a, mut b, mut c) = (data.to_vec(), data.to_vec(), data.to_vec());
    let portable = xor_keystream_portable(&key, &nonce, offset, &mut a).is_ok();
    let shipped = xor_keystream(&key, &nonce, offset, &mut b).is_ok();
    let mut reference = chacha20::ChaCha20::new(&key.into(), &nonce.into());
    let crate_ok = reference.try_seek(offset).is_ok() && reference.try_apply_keystream(&mut c).is_ok();
    if data.is_empty() {
        // An empty range needs no keystream: ours accept it anywhere (the crate refuses to
        // seek past its end even for nothing).
        assert!(portable && shipped);
    } else {
        assert_eq!(portable, crate_ok, "portable vs crate acceptance at {offset} len {}", data.len());
        assert_eq!(shipped, crate_ok, "shipped vs crate acceptance at {offset} len {}", data.len());
        if crate_ok {
            assert_eq!(a, c, "portable lanes differ from the crate at {offset}");
            assert_eq!(b, c, "shipped keystream differs from the crate at {offset}");
        } else {
            assert!(a == data && b == data, "a refused range is left as it was");
        }
    }

    // The AEAD composition.
    let aad = &aad[..aad.len().min(200)];
    let mut ours = data.to_vec();
    let tag = aead_seal(&key, &nonce, aad, &mut ours).unwrap();
    let mut theirs = data.to_vec();
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(&key.into());
    let their_tag = cipher.encrypt_inout_detached(&nonce.into(), aad, theirs.as_mut_slice().into()).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(tag[..], their_tag[..]);
    let mut opened = ours.clone();
    aead_open(&key, &nonce, aad, &mut opened, &tag).unwrap();
    assert_eq!(opened, data);
    // Any one flipped bit of ciphertext, tag or associated data is refused, nothing decrypted.
    let total = ours.len() + 16 + aad.len();
    let at = usize::from(flip) % total;
    let (mut ct, mut t, mut ad) = (ours.clone(), tag, aad.to_vec());
    if at < ct.len() {
        ct[at] ^= 1 << (flip % 8);
    } else if at < ct.len() + 16 {
        t[at - ct.len()] ^= 1 << (flip % 8);
    } else {
        ad[at - ct.len() - 16] ^= 1 << (flip % 8);
    }
    let before = ct.clone();
    assert!(aead_open(&key, &nonce, &ad, &mut ct, &t).is_err(), "a flipped bit opened");
    assert_eq!(ct, before);
});
