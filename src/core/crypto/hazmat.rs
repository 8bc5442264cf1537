use super::{Key, Result, COMMITMENT_LEN, KEY_LEN, TAG_LEN, V1_NONCE_LEN};

/// Bytes of keystream one (key, nonce) pair has (blocks 0 to 2^32 - 2).
pub const KEYSTREAM_LIMIT: u64 = super::KEYSTREAM_LIMIT;

/// The shipped ChaCha20 keystream (the `v128` lanes in the SIMD wasm build, the `chacha20`
/// crate elsewhere), XORed into `buf` from keystream byte `offset`.
pub fn xor_keystream(key: &[u8; KEY_LEN], nonce: &[u8; 12], offset: u64, buf: &mut [u8]) -> Result<()> {
    super::xor_keystream(key, nonce, offset, buf)
}

/// The same four-lane algorithm over the portable `[u32; 4]` lane type.
pub fn xor_keystream_portable(key: &[u8; KEY_LEN], nonce: &[u8; 12], offset: u64, buf: &mut [u8]) -> Result<()> {
    crate::core::chacha::xor_keystream_lanes::<[u32; 4]>(key, nonce, offset, buf)
}

/// True when the shipped keystream is the `v128` one (the SIMD wasm build).
pub const SIMD_KEYSTREAM: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// ChaCha20-Poly1305 encryption in place, detached tag (the shipped composition).
pub fn aead_seal(key: &[u8; KEY_LEN], nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_LEN]> {
    super::Aead::new(key).seal(nonce, aad, buf)
}

/// ChaCha20-Poly1305 decryption in place after a constant-time tag check.
pub fn aead_open(key: &[u8; KEY_LEN], nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<()> {
    super::Aead::new(key).open(nonce, aad, buf, tag)
}

/// v1 framing with a chosen nonce.
pub fn v1_encrypt_with_nonce(key: &Key, nonce: &[u8; V1_NONCE_LEN], plaintext: &[u8]) -> Result<Vec<u8>> {
    super::try_v1_encrypt_with_nonce(key, nonce, plaintext)
}

/// The subkey a sealed file of this version and salt derives from `key`.
pub fn subkey(key: &Key, salt: &[u8; 16], version: u8) -> [u8; KEY_LEN] {
    *super::ChunkCipher::derive(key, salt, version).0.subkey()
}

/// The key commitment of a version-2 sealed file with this salt.
pub fn key_commitment(key: &Key, salt: &[u8; 16]) -> [u8; COMMITMENT_LEN] {
    super::ChunkCipher::derive(key, salt, 2).1.expect("version 2 commits to its key")
}
