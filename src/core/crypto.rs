//! ChaCha20-Poly1305 for the sealed format and the NovusPack v1 framing.
//!
//! * [`Key`]: 32 bytes, zeroized on drop, never printed.
//! * [`ChunkCipher`]: a per-file subkey (HKDF-SHA256 of the key with the file's salt) and the
//!   stateless, position-explicit chunk primitives of the STREAM construction: the nonce is the
//!   chunk counter and a last-chunk / index flag, so any chunk can be sealed or opened alone.
//! * NovusPack v1 framing (`nonce(12) || ciphertext || tag(16)`, empty associated data):
//!   [`V1Verifier`] computes the tag in one pass over ciphertext delivered in pieces, and
//!   [`v1_apply_keystream`] decrypts any byte range through the ChaCha20 block counter, so a
//!   random-access source can be verified once and then read anywhere.

use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20::ChaCha20;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use poly1305::universal_hash::UniversalHash;
use poly1305::Poly1305;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

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

/// HKDF-SHA256 info string of the sealed format's per-file subkey.
const SUBKEY_INFO: &[u8] = b"novuspack-stream v1 chunk key";

/// The AEAD of one sealed file: ChaCha20-Poly1305 under the per-file subkey.
#[derive(Clone)]
pub struct ChunkCipher {
    aead: ChaCha20Poly1305,
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
        let aead = ChaCha20Poly1305::new(&chacha20poly1305::Key::from(*subkey));
        ChunkCipher { aead }
    }

    /// Encrypts `buf` in place and returns the tag.
    pub fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
        let nonce = chacha20poly1305::Nonce::from(*nonce);
        let tag = self
            .aead
            .encrypt_inout_detached(&nonce, aad, buf.into())
            .expect("chunks are far below the ChaCha20 length limit");
        tag.into()
    }

    /// Verifies the tag and only then decrypts `buf` in place.
    pub fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<()> {
        let nonce = chacha20poly1305::Nonce::from(*nonce);
        let tag = chacha20poly1305::Tag::try_from(tag).map_err(|_| auth_failed())?;
        self.aead.decrypt_inout_detached(&nonce, aad, buf.into(), &tag).map_err(|_| auth_failed())
    }
}

/// The opaque authentication failure: wrong key and tampering are deliberately alike.
pub fn auth_failed() -> crate::core::error::StreamError {
    err(ErrorCode::AuthFailed, "authentication failed: wrong key or modified data")
}

/// Computes the v1 Poly1305 tag over ciphertext delivered in any number of pieces.
pub struct V1Verifier {
    mac: Poly1305,
    partial: [u8; 16],
    partial_len: usize,
    ciphertext_len: u64,
}

impl std::fmt::Debug for V1Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V1Verifier").field("ciphertext_len", &self.ciphertext_len).finish()
    }
}

impl V1Verifier {
    /// Starts verification of a v1 file with this key and nonce.
    pub fn new(key: &Key, nonce: &[u8; V1_NONCE_LEN]) -> V1Verifier {
        let mut cipher = ChaCha20::new(&chacha20::Key::from(*key.as_bytes()), &chacha20::Nonce::from(*nonce));
        let mut mac_key = Zeroizing::new([0u8; 32]);
        cipher.apply_keystream(mac_key.as_mut());
        let mac = Poly1305::new(&poly1305::Key::from(*mac_key));
        V1Verifier { mac, partial: [0; 16], partial_len: 0, ciphertext_len: 0 }
    }

    /// Feeds the next ciphertext bytes (tag excluded).
    pub fn update(&mut self, mut data: &[u8]) {
        self.ciphertext_len += data.len() as u64;
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

    /// Compares the computed tag with `tag` in constant time.
    pub fn finish(mut self, tag: &[u8]) -> Result<()> {
        if self.partial_len > 0 {
            self.mac.update_padded(&self.partial[..self.partial_len]);
        }
        let mut lengths = [0u8; 16];
        lengths[8..].copy_from_slice(&self.ciphertext_len.to_le_bytes());
        self.mac.update(&[poly1305::Block::from(lengths)]);
        let tag = poly1305::Block::try_from(tag).map_err(|_| auth_failed())?;
        self.mac.verify(&tag).map_err(|_| auth_failed())
    }
}

/// XORs the v1 keystream for ciphertext bytes starting at `offset` (0 = first byte after the
/// nonce) into `buf`: decryption of any range, once the tag has been verified.
pub fn v1_apply_keystream(key: &Key, nonce: &[u8; V1_NONCE_LEN], offset: u64, buf: &mut [u8]) {
    let mut cipher = ChaCha20::new(&chacha20::Key::from(*key.as_bytes()), &chacha20::Nonce::from(*nonce));
    cipher.seek(64 + offset);
    cipher.apply_keystream(buf);
}

/// Encrypts `plaintext` into the v1 framing with a fresh random nonce.
pub fn v1_encrypt(key: &Key, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; V1_NONCE_LEN];
    random_bytes(&mut nonce)?;
    Ok(v1_encrypt_with_nonce(key, &nonce, plaintext))
}

/// Encrypts `plaintext` into the v1 framing with the given nonce (tests and vectors).
pub fn v1_encrypt_with_nonce(key: &Key, nonce: &[u8; V1_NONCE_LEN], plaintext: &[u8]) -> Vec<u8> {
    let aead = ChaCha20Poly1305::new(&chacha20poly1305::Key::from(*key.as_bytes()));
    let mut out = Vec::with_capacity(plaintext.len() + V1_OVERHEAD as usize);
    out.extend_from_slice(nonce);
    out.extend_from_slice(plaintext);
    let tag = aead
        .encrypt_inout_detached(&chacha20poly1305::Nonce::from(*nonce), &[], (&mut out[V1_NONCE_LEN..]).into())
        .expect("in-memory plaintext is below the ChaCha20 length limit");
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
    let aead = ChaCha20Poly1305::new(&chacha20poly1305::Key::from(*key.as_bytes()));
    let tag = chacha20poly1305::Tag::try_from(&tag[..]).map_err(|_| auth_failed())?;
    aead.decrypt_inout_detached(&chacha20poly1305::Nonce::from(nonce), &[], body.into(), &tag)
        .map_err(|_| auth_failed())?;
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
