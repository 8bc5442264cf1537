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

/// What a sealed-format nonce protects: a chunk (last or not) or the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NonceKind {
    /// A chunk that is not the last.
    Chunk,
    /// The last chunk.
    LastChunk,
    /// The index record.
    Index,
}

/// The 12-byte nonce: big-endian counter in bytes 3..11, then the kind flag (0, 1 or 2).
pub(crate) fn sealed_nonce(counter: u64, kind: NonceKind) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[3..11].copy_from_slice(&counter.to_be_bytes());
    nonce[11] = match kind {
        NonceKind::Chunk => 0,
        NonceKind::LastChunk => 1,
        NonceKind::Index => 2,
    };
    nonce
}

/// The Poly1305 one-time key of (`key`, `nonce`): the first 32 bytes of keystream block 0
/// (RFC 8439 section 2.6).
fn poly_key(key: &[u8; KEY_LEN], nonce: &[u8; 12]) -> Poly1305 {
    let mut mac_key = Zeroizing::new([0u8; 32]);
    xor_keystream(key, nonce, 0, mac_key.as_mut()).expect("32 bytes at offset 0 lie within the keystream");
    Poly1305::new((&*mac_key).into())
}

/// ChaCha20-Poly1305 (RFC 8439 section 2.8) under one key, with detached tags.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Aead {
    key: [u8; KEY_LEN],
}

impl Aead {
    /// The AEAD under `key`.
    pub(crate) fn new(key: &[u8; KEY_LEN]) -> Aead {
        Aead { key: *key }
    }

    /// The tag over `aad` and `ciphertext`: both zero-padded to 16 bytes, then their lengths.
    fn tag(&self, nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> poly1305::Block {
        let mut mac = poly_key(&self.key, nonce);
        mac.update_padded(aad);
        mac.update_padded(ciphertext);
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&(aad.len() as u64).to_le_bytes());
        lengths[8..].copy_from_slice(&(ciphertext.len() as u64).to_le_bytes());
        mac.update(&[poly1305::Block::from(lengths)]);
        mac.finalize()
    }

    /// Encrypts `buf` in place (keystream from block 1) and returns the tag. More than the
    /// keystream holds (256 GiB) is an error, and `buf` is left as it was.
    pub(crate) fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        xor_keystream(&self.key, nonce, 64, buf)?;
        Ok(self.tag(nonce, aad, buf).into())
    }

    /// Checks the tag in constant time and only then decrypts `buf` in place; on failure `buf`
    /// is left as it was.
    pub(crate) fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<()> {
        if tag.len() != TAG_LEN {
            return Err(auth_failed());
        }
        if buf.len() as u64 > V1_MAX_CIPHERTEXT {
            return Err(counter_overflow());
        }
        let expected = self.tag(nonce, aad, buf);
        if !bool::from(expected.as_slice().ct_eq(tag)) {
            return Err(auth_failed());
        }
        xor_keystream(&self.key, nonce, 64, buf)
    }
}

impl std::fmt::Debug for Aead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Aead(..)")
    }
}

/// A sealed file's key commitment (format version 2): public, in the header.
pub(crate) type Commitment = [u8; COMMITMENT_LEN];

/// The AEAD of one sealed file: ChaCha20-Poly1305 under the per-file subkey.
#[derive(Clone)]
pub(crate) struct ChunkCipher {
    aead: Aead,
}

impl std::fmt::Debug for ChunkCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChunkCipher(..)")
    }
}

impl ChunkCipher {
    /// Derives a sealed file's subkey and, from format version 2, its key commitment:
    /// `PRK = HKDF-Extract(salt, key)`, then HKDF-Expand of `PRK` under each label
    /// (`SUBKEY_INFO_V1`, or `SUBKEY_INFO_V2` and `COMMITMENT_INFO_V2`), 32 bytes each. The HKDF
    /// state (HMAC-SHA256 cores and buffers) is zeroized when dropped (sha2's `zeroize`).
    pub(crate) fn derive(key: &Key, salt: &[u8; 16], version: u8) -> (ChunkCipher, Option<Commitment>) {
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), key.as_bytes());
        let mut subkey = Zeroizing::new([0u8; KEY_LEN]);
        let info = if version >= 2 { SUBKEY_INFO_V2 } else { SUBKEY_INFO_V1 };
        hkdf.expand(info, subkey.as_mut()).expect("32 bytes is a valid HKDF-SHA256 length");
        let commitment = (version >= 2).then(|| {
            let mut commitment = [0u8; COMMITMENT_LEN];
            hkdf.expand(COMMITMENT_INFO_V2, &mut commitment).expect("32 bytes is a valid HKDF-SHA256 length");
            commitment
        });
        (ChunkCipher { aead: Aead::new(&subkey) }, commitment)
    }

    /// The cipher of a file whose subkey was derived elsewhere (handed to a worker once per
    /// session, so workers never see the caller's key).
    pub(crate) fn from_subkey(subkey: &[u8; KEY_LEN]) -> ChunkCipher {
        ChunkCipher { aead: Aead::new(subkey) }
    }

    /// The per-file subkey, to hand to the workers of a session (never the caller's key).
    pub(crate) fn subkey(&self) -> &[u8; KEY_LEN] {
        &self.aead.key
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        self.aead.seal(nonce, aad, buf)
    }

    /// Verifies the tag and only then decrypts `buf` in place.
    pub(crate) fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<()> {
        self.aead.open(nonce, aad, buf, tag)
    }
}

/// Compares a header's key commitment with the one `key` derives, in constant time.
pub(crate) fn commitment_matches(expected: &Commitment, actual: &[u8]) -> bool {
    bool::from(expected.as_slice().ct_eq(actual))
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
        PolyStream { mac: poly_key(key, nonce), partial: [0; 16], partial_len: 0, len: 0 }
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

    /// Pads what was fed so far to a whole 16-byte block with zeros (as RFC 8439 pads the
    /// associated data before the ciphertext).
    pub(crate) fn pad(&mut self) {
        if self.partial_len > 0 {
            self.mac.update_padded(&self.partial[..self.partial_len]);
            self.partial_len = 0;
        }
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

/// The primitives that take a nonce (or a keystream offset) from the caller, for tests,
/// test vectors, fuzzers and the wasm-bindgen suites that prove the shipped cipher against
/// references. Reusing a nonce under one key loses confidentiality and integrity: nothing
/// outside tests should call these. Compiled only with the `hazmat` feature (or in this
/// crate's own tests).
#[cfg(any(test, feature = "hazmat"))]
pub mod hazmat {
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
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
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
}
