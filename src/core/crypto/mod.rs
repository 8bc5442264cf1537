//! ChaCha20-Poly1305 for the sealed format and the NovusPack v1 framing.
//!
//! * [`Key`]: 32 bytes, zeroized on drop, never printed, compared in constant time.
//! * `ChunkCipher` (crate-private): a sealed file's subkey (HKDF-SHA256 of the key with the
//!   file's salt, under a label naming the format version and the algorithm) and, from format
//!   version 2, the file's key commitment (the same HKDF under its own label), and the
//!   stateless, position-explicit chunk primitives of the STREAM construction: the nonce is the
//!   chunk counter and a last-chunk / index flag, so any chunk can be sealed or opened alone.
//! * `Aead` (crate-private): ChaCha20-Poly1305 exactly as RFC 8439 section 2.8 composes it, over
//!   the keystream of [`super::chacha`] (SIMD in the wasm build) and the `poly1305` crate. The
//!   tag is checked in constant time before a byte is decrypted. The `chacha20poly1305` crate,
//!   Wycheproof's vectors and RFC 8439's are the references the tests compare against, natively
//!   and in both wasm builds (`tests/common/crypto.rs`).
//! * NovusPack v1 framing (`nonce(12) || ciphertext || tag(16)`, empty associated data):
//!   [`V1Verifier`] computes the tag in one pass over ciphertext delivered in pieces, and
//!   `v1_keystream` decrypts any byte range through the ChaCha20 block counter, so a
//!   random-access source can be verified once and then read anywhere.
//!
//! The primitives that take a nonce from the caller are crate-private; tests and fuzzers reach
//! them through [`hazmat`] (compiled only with the `hazmat` feature, or in this crate's tests).

use poly1305::universal_hash::{KeyInit, UniversalHash};
use poly1305::Poly1305;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::chacha::{counter_overflow, xor_keystream, KEYSTREAM_LIMIT};
use super::config::invalid_key_length;
use super::error::{err, ErrorCode, Result};

/// Key length in bytes.
pub const KEY_LEN: usize = 32;
/// Poly1305 tag length in bytes.
pub const TAG_LEN: usize = 16;
/// Key commitment length in bytes (sealed format version 2).
pub const COMMITMENT_LEN: usize = 32;
/// v1 framing nonce length in bytes.
pub const V1_NONCE_LEN: usize = 12;
/// v1 framing overhead: nonce and tag.
pub const V1_OVERHEAD: u64 = (V1_NONCE_LEN + TAG_LEN) as u64;
/// Largest v1 ciphertext: the 32-bit ChaCha20 block counter starts at 1 and never wraps.
pub const V1_MAX_CIPHERTEXT: u64 = KEYSTREAM_LIMIT - 64;

/// HKDF-SHA256 info of the per-file subkey of sealed format version 1.
const SUBKEY_INFO_V1: &[u8] = b"novuspack-stream v1 chunk key";
/// HKDF-SHA256 info of the per-file subkey of sealed format version 2.
const SUBKEY_INFO_V2: &[u8] = b"novuspack-stream v2 chacha20-poly1305 chunk key";
/// HKDF-SHA256 info of the key commitment of sealed format version 2.
const COMMITMENT_INFO_V2: &[u8] = b"novuspack-stream v2 key commitment";

/// A 256-bit key. Zeroized when dropped; `Debug` does not show it; `==` runs in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key([u8; KEY_LEN]);

impl Key {
    /// A key from exactly 32 bytes (an error that names the length only, never the bytes).
    pub fn from_slice(bytes: &[u8]) -> Result<Key> {
        if bytes.len() != KEY_LEN {
            return Err(invalid_key_length(bytes.len()));
        }
        let mut key = Key([0; KEY_LEN]);
        key.0.copy_from_slice(bytes);
        Ok(key)
    }

    /// A key whose 32 bytes `fill` writes in place (no temporary copy of the key elsewhere).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn fill_with(fill: impl FnOnce(&mut [u8; KEY_LEN])) -> Key {
        let mut key = Key([0; KEY_LEN]);
        fill(&mut key.0);
        key
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

impl ConstantTimeEq for Key {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.ct_eq(other))
    }
}

impl Eq for Key {}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// Fills `buf` from the platform CSPRNG (`crypto.getRandomValues` on the web).
pub fn random_bytes(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| err(ErrorCode::ReadFailed, format!("the platform random source failed: {e}")))
}

/// The opaque authentication failure: wrong key and tampering are deliberately alike.
pub fn auth_failed() -> crate::core::error::StreamError {
    err(ErrorCode::AuthFailed, "authentication failed: wrong key or modified data")
}

mod aead;
mod chunk_cipher;
mod digest;
mod poly_stream;
mod v1;

pub(crate) use aead::*;
pub(crate) use chunk_cipher::*;
pub use digest::*;
pub(crate) use poly_stream::*;
pub use v1::*;

/// The primitives that take a nonce (or a keystream offset) from the caller, for tests,
/// test vectors, fuzzers and the wasm-bindgen suites that prove the shipped cipher against
/// references. Reusing a nonce under one key loses confidentiality and integrity: nothing
/// outside tests should call these. Compiled only with the `hazmat` feature (or in this
/// crate's own tests).
#[cfg(any(test, feature = "hazmat"))]
pub mod hazmat;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
