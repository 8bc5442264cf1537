use super::*;

fn key() -> Key {
    Key::from([7u8; 32])
}

// RFC 8439 section 2.8.2, the full ciphertext and the other references, run natively and in
// both wasm builds: tests/common/crypto.rs (through `hazmat`). These are the in-crate checks.

proptest::proptest! {
    #[test]
    fn aead_equals_the_chacha20poly1305_crate(key in proptest::prelude::any::<[u8; 32]>(),
                                              nonce in proptest::prelude::any::<[u8; 12]>(),
                                              aad in proptest::collection::vec(0u8..=255, 0..40),
                                              data in proptest::collection::vec(0u8..=255, 0..700),
                                              flip in 0usize..800) {
        use chacha20poly1305::aead::{AeadInOut, KeyInit as _};
        let reference = chacha20poly1305::ChaCha20Poly1305::new(&key.into());
        let mut expected = data.clone();
        let expected_tag = reference.encrypt_inout_detached(&nonce.into(), &aad, expected.as_mut_slice().into()).unwrap();
        let mut ours = data.clone();
        let tag = Aead::new(&key).seal(&nonce, &aad, &mut ours).unwrap();
        proptest::prop_assert_eq!(&ours, &expected);
        proptest::prop_assert_eq!(&tag[..], &expected_tag[..]);
        let mut opened = ours.clone();
        Aead::new(&key).open(&nonce, &aad, &mut opened, &tag).unwrap();
        proptest::prop_assert_eq!(&opened, &data);
        if !ours.is_empty() {
            let mut tampered = ours.clone();
            tampered[flip % ours.len()] ^= 1;
            let before = tampered.clone();
            proptest::prop_assert!(Aead::new(&key).open(&nonce, &aad, &mut tampered, &tag).is_err());
            proptest::prop_assert_eq!(tampered, before);
        }
    }
}

#[test]
fn digest_is_sha256() {
    let mut d = Digest::new();
    d.update(b"a");
    d.update(b"bc");
    let hex: String = d.finish().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

#[test]
fn keys_are_exactly_32_bytes_never_printed_and_compared_in_constant_time() {
    for len in [0, 31, 33, 64] {
        let e = Key::from_slice(&vec![0xAB; len]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidKey);
        let shown = format!("{e} {e:?}");
        assert!(!shown.to_lowercase().contains("ab, ") && !shown.contains("171"), "{shown}");
    }
    let k = Key::from_slice(&[0xAB; 32]).unwrap();
    assert_eq!(format!("{k:?}"), "Key(..)");
    assert_ne!(Key::generate().unwrap(), Key::generate().unwrap());
    let mut other = [0xAB; 32];
    assert_eq!(k, Key::from(other));
    other[31] ^= 1;
    assert_ne!(k, Key::from(other));
    assert!(!bool::from(k.ct_eq(&Key::from(other))));
    assert_eq!(Key::fill_with(|b| b.fill(0xAB)), k);
}

#[test]
fn the_hkdf_state_and_the_key_types_are_zeroized_on_drop() {
    fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    // sha2's `zeroize` feature: the HMAC-SHA256 states inside HKDF wipe themselves.
    zeroized_on_drop::<sha2::Sha256>();
    zeroized_on_drop::<Key>();
    zeroized_on_drop::<Aead>();
    // Poly1305 zeroizes its state in `Drop` (feature `zeroize`) without the marker trait.
}

#[test]
fn nonces_differ_by_counter_and_kind() {
    let a = sealed_nonce(1, NonceKind::Chunk);
    assert_eq!(a, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    assert_ne!(a, sealed_nonce(1, NonceKind::LastChunk));
    assert_ne!(a, sealed_nonce(1, NonceKind::Index));
    assert_eq!(sealed_nonce(u64::MAX, NonceKind::Index)[3..11], [0xFF; 8]);
}

#[test]
fn subkeys_and_commitments_follow_the_documented_hkdf() {
    // FORMAT.md: HKDF-SHA256(salt = header salt, IKM = key, info = label, L = 32).
    let salt = [0x11; 16];
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(&salt), key().as_bytes());
    let expand = |info: &[u8]| {
        let mut out = [0u8; 32];
        hkdf.expand(info, &mut out).unwrap();
        out
    };
    let (v1, none) = ChunkCipher::derive(&key(), &salt, 1);
    assert_eq!(*v1.subkey(), expand(b"novuspack-stream v1 chunk key"));
    assert!(none.is_none(), "version 1 has no commitment");
    let (v2, commitment) = ChunkCipher::derive(&key(), &salt, 2);
    assert_eq!(*v2.subkey(), expand(b"novuspack-stream v2 chacha20-poly1305 chunk key"));
    assert_eq!(commitment, Some(expand(b"novuspack-stream v2 key commitment")));
    assert_ne!(v1.subkey(), v2.subkey());
    assert_ne!(commitment.unwrap(), *v2.subkey(), "the commitment is not the subkey");
    let (_, other) = ChunkCipher::derive(&Key::from([8; 32]), &salt, 2);
    assert_ne!(other, commitment, "another key, another commitment");
    let (_, other_salt) = ChunkCipher::derive(&key(), &[0x12; 16], 2);
    assert_ne!(other_salt, commitment, "another salt, another commitment");
    assert!(commitment_matches(&commitment.unwrap(), &commitment.unwrap()));
    assert!(!commitment_matches(&commitment.unwrap(), &other.unwrap()));
    assert!(!commitment_matches(&commitment.unwrap(), &[]));
}

#[test]
fn chunk_cipher_round_trips_and_rejects_any_change() {
    let (cipher, _) = ChunkCipher::derive(&key(), &[1; 16], 2);
    let nonce = sealed_nonce(3, NonceKind::Chunk);
    let mut buf = b"hello chunk".to_vec();
    let tag = cipher.seal(&nonce, b"aad", &mut buf).unwrap();
    assert_ne!(&buf, b"hello chunk");
    let mut good = buf.clone();
    cipher.open(&nonce, b"aad", &mut good, &tag).unwrap();
    assert_eq!(&good, b"hello chunk");

    let mut copy = buf.clone();
    let e = cipher.open(&sealed_nonce(4, NonceKind::Chunk), b"aad", &mut copy, &tag).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuthFailed);
    assert_eq!(copy, buf, "nothing is decrypted when the tag fails");
    assert!(cipher.open(&nonce, b"aaD", &mut buf.clone(), &tag).is_err());
    let (other_salt, _) = ChunkCipher::derive(&key(), &[2; 16], 2);
    assert!(other_salt.open(&nonce, b"aad", &mut buf.clone(), &tag).is_err());
    let (v1, _) = ChunkCipher::derive(&key(), &[1; 16], 1);
    assert!(v1.open(&nonce, b"aad", &mut buf.clone(), &tag).is_err(), "v1 and v2 subkeys differ");
    assert_eq!(ChunkCipher::from_subkey(cipher.subkey()).subkey(), cipher.subkey());
}

#[test]
fn v1_verifier_accepts_any_split_and_keystream_decrypts_any_range() {
    let plaintext: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
    let nonce = [9u8; 12];
    let framed = v1_encrypt_with_nonce(&key(), &nonce, &plaintext);
    let (ct, tag) = framed[12..].split_at(framed.len() - 28);
    for split in [0, 1, 15, 16, 17, 500, 999, 1000] {
        let mut v = V1Verifier::new(&key(), &nonce);
        v.update(&ct[..split]);
        v.update(&ct[split..]);
        v.finish(tag).unwrap();
    }
    let mut v = V1Verifier::new(&key(), &nonce);
    for byte in ct {
        v.update(std::slice::from_ref(byte));
    }
    v.finish(tag).unwrap();

    let mut bad = ct.to_vec();
    bad[500] ^= 1;
    let mut v = V1Verifier::new(&key(), &nonce);
    v.update(&bad);
    assert_eq!(v.finish(tag).unwrap_err().code(), ErrorCode::AuthFailed);

    for (start, end) in [(0, 1000), (0, 1), (63, 65), (64, 128), (999, 1000), (130, 700)] {
        let mut part = ct[start..end].to_vec();
        v1_keystream(&key(), &nonce, start as u64, &mut part).unwrap();
        assert_eq!(part, &plaintext[start..end]);
        let mut again = ct[start..end].to_vec();
        v1_apply_keystream(&key(), &nonce, start as u64, &mut again);
        assert_eq!(again, part);
    }

    let mut whole = framed.clone();
    let range = v1_decrypt_in_place(&key(), &mut whole).unwrap();
    assert_eq!(&whole[range], &plaintext[..]);
    let mut short = vec![0u8; 27];
    assert_eq!(v1_decrypt_in_place(&key(), &mut short).unwrap_err().code(), ErrorCode::Truncated);
    assert_eq!(v1_encrypt(&key(), b"abc").unwrap().len(), 3 + V1_OVERHEAD as usize);
}

#[test]
fn the_v1_keystream_refuses_to_wrap_the_block_counter() {
    let nonce = [3u8; 12];
    let last = V1_MAX_CIPHERTEXT;
    // The last byte of the keystream, then one past it.
    let mut ok = [0u8; 1];
    v1_keystream(&key(), &nonce, last - 1, &mut ok).unwrap();
    let mut past = [0u8; 2];
    let e = v1_keystream(&key(), &nonce, last - 1, &mut past).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnsupportedAlgorithm);
    assert_eq!(past, [0, 0], "nothing is written when the range is refused");
    assert!(v1_keystream(&key(), &nonce, u64::MAX - 10, &mut [0u8; 4]).is_err());
    assert!(v1_keystream(&key(), &nonce, u64::MAX, &mut []).is_ok(), "an empty range needs no keystream");
    let mut verifier = V1Verifier::new(&key(), &nonce);
    // A verifier that saw more than the limit never accepts (lengths only: no data needed).
    verifier.mac.len = V1_MAX_CIPHERTEXT + 1;
    assert_eq!(verifier.finish(&[0; 16]).unwrap_err().code(), ErrorCode::UnsupportedAlgorithm);
}
