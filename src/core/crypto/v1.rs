//! NovusPack v1 framing (`nonce(12) || ciphertext || tag(16)`): the one-pass verifier, the
//! keystream at any offset, and encryption.

use super::*;

/// Computes the v1 Poly1305 tag over ciphertext delivered in any number of pieces.
pub struct V1Verifier {
    pub(super) mac: PolyStream,
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

    /// Compares the computed tag with `tag` in constant time. Ciphertext longer than
    /// [`V1_MAX_CIPHERTEXT`] never verifies (its keystream would wrap the block counter).
    pub fn finish(self, tag: &[u8]) -> Result<()> {
        if self.mac.len() > V1_MAX_CIPHERTEXT {
            return Err(v1_too_large());
        }
        let mut lengths = [0u8; 16];
        lengths[8..].copy_from_slice(&self.mac.len().to_le_bytes());
        let expected = self.mac.finish(Some(lengths));
        if tag.len() != TAG_LEN || !bool::from(expected.as_slice().ct_eq(tag)) {
            return Err(auth_failed());
        }
        Ok(())
    }
}

/// The error for v1 data past [`V1_MAX_CIPHERTEXT`].
pub(crate) fn v1_too_large() -> crate::core::error::StreamError {
    err(ErrorCode::UnsupportedAlgorithm, "v1 data is larger than ChaCha20's 256 GiB limit")
}

/// XORs the v1 keystream for ciphertext bytes starting at `offset` (0 = first byte after the
/// nonce) into `buf`: decryption of any range, once the tag has been verified. A range past
/// [`V1_MAX_CIPHERTEXT`] is an error and `buf` is untouched.
pub(crate) fn v1_keystream(key: &Key, nonce: &[u8; V1_NONCE_LEN], offset: u64, buf: &mut [u8]) -> Result<()> {
    if buf.is_empty() {
        return Ok(());
    }
    let start = offset.checked_add(64).ok_or_else(counter_overflow)?;
    xor_keystream(key.as_bytes(), nonce, start, buf)
}

/// [`v1_keystream`] for callers that have verified the tag of ciphertext no longer than
/// [`V1_MAX_CIPHERTEXT`] (which [`V1Verifier::finish`] requires) and read within it: a range
/// past the keystream is a bug of theirs, and panics rather than wrap the block counter.
pub(crate) fn v1_apply_keystream(key: &Key, nonce: &[u8; V1_NONCE_LEN], offset: u64, buf: &mut [u8]) {
    v1_keystream(key, nonce, offset, buf).expect("a verified v1 range lies within ChaCha20's keystream");
}

/// Encrypts `plaintext` into the v1 framing with a fresh random nonce.
pub fn v1_encrypt(key: &Key, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; V1_NONCE_LEN];
    random_bytes(&mut nonce)?;
    try_v1_encrypt_with_nonce(key, &nonce, plaintext)
}

/// Encrypts `plaintext` into the v1 framing with the given nonce: a nonce used twice under one
/// key loses confidentiality and integrity (crate-private; [`hazmat`] for tests).
pub(crate) fn try_v1_encrypt_with_nonce(key: &Key, nonce: &[u8; V1_NONCE_LEN], plaintext: &[u8]) -> Result<Vec<u8>> {
    if plaintext.len() as u64 > V1_MAX_CIPHERTEXT {
        return Err(v1_too_large());
    }
    let mut out = Vec::new();
    out.try_reserve_exact(plaintext.len() + V1_OVERHEAD as usize)
        .map_err(|_| err(ErrorCode::MemoryLimit, format!("no memory for {} bytes of v1 framing", plaintext.len())))?;
    out.extend_from_slice(nonce);
    out.extend_from_slice(plaintext);
    let tag = Aead::new(key.as_bytes()).seal(nonce, &[], &mut out[V1_NONCE_LEN..])?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// [`try_v1_encrypt_with_nonce`] for callers that bound the plaintext (NovusPack entries made
/// in memory): past [`V1_MAX_CIPHERTEXT`] it panics rather than wrap the block counter.
#[cfg_attr(not(feature = "nvpk"), allow(dead_code))]
pub(crate) fn v1_encrypt_with_nonce(key: &Key, nonce: &[u8; V1_NONCE_LEN], plaintext: &[u8]) -> Vec<u8> {
    try_v1_encrypt_with_nonce(key, nonce, plaintext).expect("v1 plaintext within ChaCha20's 256 GiB limit")
}

/// Verifies and decrypts a whole v1 buffer in place, returning the plaintext range.
pub fn v1_decrypt_in_place(key: &Key, data: &mut [u8]) -> Result<std::ops::Range<usize>> {
    if data.len() < V1_OVERHEAD as usize {
        return Err(err(ErrorCode::Truncated, "v1 data is shorter than its nonce and tag"));
    }
    let body_len = data.len() - V1_OVERHEAD as usize;
    if body_len as u64 > V1_MAX_CIPHERTEXT {
        return Err(v1_too_large());
    }
    let nonce: [u8; V1_NONCE_LEN] = data[..V1_NONCE_LEN].try_into().expect("length checked");
    let (body, tag) = data[V1_NONCE_LEN..].split_at_mut(body_len);
    Aead::new(key.as_bytes()).open(&nonce, &[], body, tag)?;
    Ok(V1_NONCE_LEN..data.len() - TAG_LEN)
}
