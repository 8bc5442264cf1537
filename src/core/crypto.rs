//! ChaCha20-Poly1305 for the sealed format and the NovusPack v1 framing.
//!
//! * [`Key`]: 32 bytes, zeroized on drop, never printed.
//! * [`ChunkCipher`]: a per-file subkey (HKDF-SHA256 of the key with the file's salt) and the
//!   stateless, position-explicit chunk primitives of the STREAM construction: the nonce is the
//!   chunk counter and a last-chunk / index flag, so any chunk can be sealed or opened alone.
//! * [`Aead`]: ChaCha20-Poly1305 exactly as RFC 8439 section 2.8 composes it, over the keystream
//!   of [`super::chacha`] (SIMD in the wasm build) and the `poly1305` crate. The tag is checked
//!   in constant time before a byte is decrypted. The `chacha20poly1305` crate is the reference
//!   the tests compare against.
//! * NovusPack v1 framing (`nonce(12) || ciphertext || tag(16)`, empty associated data):
//!   [`V1Verifier`] computes the tag in one pass over ciphertext delivered in pieces, and
//!   [`v1_apply_keystream`] decrypts any byte range through the ChaCha20 block counter, so a
//!   random-access source can be verified once and then read anywhere.

use poly1305::universal_hash::{KeyInit, UniversalHash};
use poly1305::Poly1305;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::chacha::xor_keystream;
use super::config::invalid_key_length;
use super::error::{err, ErrorCode, Result};

/// Key length in bytes.
pub const KEY_LEN: usize = 32;
/// Poly1305 tag length in bytes.
pub const TAG_LEN: usize = 16;
/// v1 framing nonce length in bytes.
pub const V1_NONCE_LEN: usize = 12;
/// v1 framing overhead: nonce and tag.
pub const V1_OVERHEAD: u64 = (V1_NONCE_LEN + TAG_LEN) as u64;
/// Largest v1 ciphertext: the 32-bit ChaCha20 block counter starts at 1.
pub const V1_MAX_CIPHERTEXT: u64 = (u32::MAX as u64 - 1) * 64;

/// A 256-bit key. Zeroized when dropped; `Debug` does not show it.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct Key([u8; KEY_LEN]);

impl Key {
    /// A key from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Key> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| invalid_key_length(bytes.len()))?;
        Ok(Key(array))
    }

    /// 32 bytes from the platform CSPRNG.
    pub fn generate() -> Result<Key> {
        let mut key = Key([0; KEY_LEN]);
        random_bytes(&mut key.0)?;
        Ok(key)
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl From<[u8; KEY_LEN]> for Key {
    fn from(bytes: [u8; KEY_LEN]) -> Self {
        Key(bytes)
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// Fills `buf` from the platform CSPRNG (`crypto.getRandomValues` on the web).
pub fn random_bytes(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| err(ErrorCode::ReadFailed, format!("the platform random source failed: {e}")))
}

/// What a sealed-format nonce protects: a chunk (last or not) or the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceKind {
    /// A chunk that is not the last.
    Chunk,
    /// The last chunk.
    LastChunk,
    /// The index record.
    Index,
}

/// The 12-byte nonce: big-endian counter in bytes 0..11, then the kind flag (0, 1 or 2).
pub fn sealed_nonce(counter: u64, kind: NonceKind) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[3..11].copy_from_slice(&counter.to_be_bytes());
    nonce[11] = match kind {
        NonceKind::Chunk => 0,
        NonceKind::LastChunk => 1,
        NonceKind::Index => 2,
    };
    nonce
}

/// ChaCha20-Poly1305 (RFC 8439 section 2.8) under one key, with detached tags.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Aead {
    key: [u8; KEY_LEN],
}

impl Aead {
    /// The AEAD under `key`.
    pub fn new(key: &[u8; KEY_LEN]) -> Aead {
        Aead { key: *key }
    }

    /// Poly1305 keyed with the first 32 bytes of keystream block 0.
    fn mac(&self, nonce: &[u8; 12]) -> Poly1305 {
        let mut mac_key = Zeroizing::new([0u8; 32]);
        xor_keystream(&self.key, nonce, 0, mac_key.as_mut());
        Poly1305::new(&poly1305::Key::from(*mac_key))
    }

    /// The tag over `aad` and `ciphertext`: both zero-padded to 16 bytes, then their lengths.
    fn tag(&self, nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> poly1305::Block {
        let mut mac = self.mac(nonce);
        mac.update_padded(aad);
        mac.update_padded(ciphertext);
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&(aad.len() as u64).to_le_bytes());
        lengths[8..].copy_from_slice(&(ciphertext.len() as u64).to_le_bytes());
        mac.update(&[poly1305::Block::from(lengths)]);
        mac.finalize()
    }

    /// Encrypts `buf` in place (keystream from block 1) and returns the tag.
    pub fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
        xor_keystream(&self.key, nonce, 64, buf);
        self.tag(nonce, aad, buf).into()
    }

    /// Checks the tag in constant time and only then decrypts `buf` in place; on failure `buf`
    /// is left as it was.
    pub fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<()> {
        if tag.len() != TAG_LEN {
            return Err(auth_failed());
        }
        let expected = self.tag(nonce, aad, buf);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_slice(), tag)) {
            return Err(auth_failed());
        }
        xor_keystream(&self.key, nonce, 64, buf);
        Ok(())
    }
}

impl std::fmt::Debug for Aead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Aead(..)")
    }
}

/// HKDF-SHA256 info string of the sealed format's per-file subkey.
const SUBKEY_INFO: &[u8] = b"novuspack-stream v1 chunk key";

/// The AEAD of one sealed file: ChaCha20-Poly1305 under the per-file subkey.
#[derive(Clone)]
pub struct ChunkCipher {
    aead: Aead,
}

impl std::fmt::Debug for ChunkCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChunkCipher(..)")
    }
}

impl ChunkCipher {
    /// Derives the file's subkey: HKDF-SHA256(salt = file salt, ikm = key, info = SUBKEY_INFO).
    pub fn derive(key: &Key, salt: &[u8]) -> ChunkCipher {
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), key.as_bytes());
        let mut subkey = Zeroizing::new([0u8; KEY_LEN]);
        hkdf.expand(SUBKEY_INFO, subkey.as_mut()).expect("32 bytes is a valid HKDF-SHA256 length");
        ChunkCipher { aead: Aead::new(&subkey) }
    }

    /// The cipher of a file whose subkey was derived elsewhere (handed to a worker once per
    /// session, so workers never see the caller's key).
    pub fn from_subkey(subkey: &[u8; KEY_LEN]) -> ChunkCipher {
        ChunkCipher { aead: Aead::new(subkey) }
    }

    /// The per-file subkey, to hand to the workers of a session (never the caller's key).
    pub fn subkey(&self) -> &[u8; KEY_LEN] {
        &self.aead.key
    }

    /// Encrypts `buf` in place and returns the tag.
    pub fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
        self.aead.seal(nonce, aad, buf)
    }

    /// Verifies the tag and only then decrypts `buf` in place.
    pub fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<()> {
        self.aead.open(nonce, aad, buf, tag)
    }
}

/// The opaque authentication failure: wrong key and tampering are deliberately alike.
pub fn auth_failed() -> crate::core::error::StreamError {
    err(ErrorCode::AuthFailed, "authentication failed: wrong key or modified data")
}

/// Poly1305 over bytes delivered in pieces of any size (carrying a partial 16-byte block).
pub(crate) struct PolyStream {
    mac: Poly1305,
    partial: [u8; 16],
    partial_len: usize,
    len: u64,
}

impl PolyStream {
    /// Poly1305 keyed with the first 32 bytes of ChaCha20 keystream block 0 of (`key`, `nonce`),
    /// the one-time key construction of RFC 8439 section 2.6.
    pub(crate) fn new(key: &[u8; KEY_LEN], nonce: &[u8; 12]) -> PolyStream {
        PolyStream { mac: Aead::new(key).mac(nonce), partial: [0; 16], partial_len: 0, len: 0 }
    }

    /// Bytes fed so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Feeds the next bytes.
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.partial_len > 0 {
            let take = (16 - self.partial_len).min(data.len());
            self.partial[self.partial_len..self.partial_len + take].copy_from_slice(&data[..take]);
            self.partial_len += take;
            data = &data[take..];
            if self.partial_len < 16 {
                return;
            }
            self.mac.update(&[poly1305::Block::from(self.partial)]);
            self.partial_len = 0;
        }
        let whole = data.len() / 16 * 16;
        let (blocks, rest) = data.split_at(whole);
        if !blocks.is_empty() {
            let (blocks, _) = poly1305::Block::slice_as_chunks(blocks);
            self.mac.update(blocks);
        }
        self.partial[..rest.len()].copy_from_slice(rest);
        self.partial_len = rest.len();
    }

    /// Pads the last partial block with zeros, feeds `trailer` (16 bytes, if any) and returns the tag.
    pub(crate) fn finish(mut self, trailer: Option<[u8; 16]>) -> poly1305::Block {
        if self.partial_len > 0 {
            self.mac.update_padded(&self.partial[..self.partial_len]);
        }
        if let Some(block) = trailer {
            self.mac.update(&[poly1305::Block::from(block)]);
        }
        self.partial.zeroize();
        self.mac.finalize()
    }
}

/// Computes the v1 Poly1305 tag over ciphertext delivered in any number of pieces.
pub struct V1Verifier {
    mac: PolyStream,
}

impl std::fmt::Debug for V1Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V1Verifier").field("ciphertext_len", &self.mac.len()).finish()
    }
}

impl V1Verifier {
    /// Starts verification of a v1 file with this key and nonce.
    pub fn new(key: &Key, nonce: &[u8; V1_NONCE_LEN]) -> V1Verifier {
        V1Verifier { mac: PolyStream::new(key.as_bytes(), nonce) }
    }

    /// Feeds the next ciphertext bytes (tag excluded).
    pub fn update(&mut self, data: &[u8]) {
        self.mac.update(data);
    }

    /// Compares the computed tag with `tag` in constant time.
    pub fn finish(self, tag: &[u8]) -> Result<()> {
        let mut lengths = [0u8; 16];
        lengths[8..].copy_from_slice(&self.mac.len().to_le_bytes());
        let expected = self.mac.finish(Some(lengths));
        if tag.len() != TAG_LEN || !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_slice(), tag)) {
            return Err(auth_failed());
        }
        Ok(())
    }
}

/// XORs the v1 keystream for ciphertext bytes starting at `offset` (0 = first byte after the
/// nonce) into `buf`: decryption of any range, once the tag has been verified.
pub fn v1_apply_keystream(key: &Key, nonce: &[u8; V1_NONCE_LEN], offset: u64, buf: &mut [u8]) {
    xor_keystream(key.as_bytes(), nonce, 64 + offset, buf);
}

/// Encrypts `plaintext` into the v1 framing with a fresh random nonce.
pub fn v1_encrypt(key: &Key, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; V1_NONCE_LEN];
    random_bytes(&mut nonce)?;
    Ok(v1_encrypt_with_nonce(key, &nonce, plaintext))
}

/// Encrypts `plaintext` into the v1 framing with the given nonce (tests and vectors).
pub fn v1_encrypt_with_nonce(key: &Key, nonce: &[u8; V1_NONCE_LEN], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(plaintext.len() + V1_OVERHEAD as usize);
    out.extend_from_slice(nonce);
    out.extend_from_slice(plaintext);
    let tag = Aead::new(key.as_bytes()).seal(nonce, &[], &mut out[V1_NONCE_LEN..]);
    out.extend_from_slice(&tag);
    out
}

/// Verifies and decrypts a whole v1 buffer in place, returning the plaintext range.
pub fn v1_decrypt_in_place(key: &Key, data: &mut [u8]) -> Result<std::ops::Range<usize>> {
    if data.len() < V1_OVERHEAD as usize {
        return Err(err(ErrorCode::Truncated, "v1 data is shorter than its nonce and tag"));
    }
    let nonce: [u8; V1_NONCE_LEN] = data[..V1_NONCE_LEN].try_into().expect("length checked");
    let body_len = data.len() - V1_OVERHEAD as usize;
    let (body, tag) = data[V1_NONCE_LEN..].split_at_mut(body_len);
    Aead::new(key.as_bytes()).open(&nonce, &[], body, tag)?;
    Ok(V1_NONCE_LEN..data.len() - TAG_LEN)
}

/// SHA-256 over bytes delivered in pieces.
#[derive(Clone, Debug, Default)]
pub struct Digest {
    inner: sha2::Sha256,
}

impl Digest {
    /// A new digest.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.inner, data);
    }

    /// The 32-byte hash.
    pub fn finish(self) -> [u8; 32] {
        sha2::Digest::finalize(self.inner).into()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::from([7u8; 32])
    }

    #[test]
    fn aead_matches_rfc8439_section_2_8_2() {
        let key: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
        let nonce = [0x07, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47];
        let aad = [0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7];
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let mut buf = plaintext.to_vec();
        let tag = Aead::new(&key).seal(&nonce, &aad, &mut buf);
        assert_eq!(&buf[..8], &[0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb]);
        assert_eq!(
            tag,
            [0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a, 0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60, 0x06, 0x91]
        );
        Aead::new(&key).open(&nonce, &aad, &mut buf, &tag).unwrap();
        assert_eq!(&buf[..], &plaintext[..]);
    }

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
            let tag = Aead::new(&key).seal(&nonce, &aad, &mut ours);
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
    fn keys_are_exactly_32_bytes_and_never_printed() {
        assert_eq!(Key::from_slice(&[1; 31]).unwrap_err().code(), ErrorCode::InvalidKey);
        assert_eq!(Key::from_slice(&[1; 33]).unwrap_err().code(), ErrorCode::InvalidKey);
        let k = Key::from_slice(&[0xAB; 32]).unwrap();
        assert_eq!(format!("{k:?}"), "Key(..)");
        assert_ne!(Key::generate().unwrap(), Key::generate().unwrap());
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
    fn chunk_cipher_round_trips_and_rejects_any_change() {
        let cipher = ChunkCipher::derive(&key(), &[1; 16]);
        let nonce = sealed_nonce(3, NonceKind::Chunk);
        let mut buf = b"hello chunk".to_vec();
        let tag = cipher.seal(&nonce, b"aad", &mut buf);
        assert_ne!(&buf, b"hello chunk");
        let mut good = buf.clone();
        cipher.open(&nonce, b"aad", &mut good, &tag).unwrap();
        assert_eq!(&good, b"hello chunk");

        let mut copy = buf.clone();
        let e = cipher.open(&sealed_nonce(4, NonceKind::Chunk), b"aad", &mut copy, &tag).unwrap_err();
        assert_eq!(e.code(), ErrorCode::AuthFailed);
        assert_eq!(copy, buf, "nothing is decrypted when the tag fails");
        assert!(cipher.open(&nonce, b"aaD", &mut buf.clone(), &tag).is_err());
        let other_salt = ChunkCipher::derive(&key(), &[2; 16]);
        assert!(other_salt.open(&nonce, b"aad", &mut buf.clone(), &tag).is_err());
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
            v1_apply_keystream(&key(), &nonce, start as u64, &mut part);
            assert_eq!(part, &plaintext[start..end]);
        }

        let mut whole = framed.clone();
        let range = v1_decrypt_in_place(&key(), &mut whole).unwrap();
        assert_eq!(&whole[range], &plaintext[..]);
        let mut short = vec![0u8; 27];
        assert_eq!(v1_decrypt_in_place(&key(), &mut short).unwrap_err().code(), ErrorCode::Truncated);
    }
}
