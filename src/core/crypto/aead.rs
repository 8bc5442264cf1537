//! ChaCha20-Poly1305 exactly as RFC 8439 section 2.8 composes it (crate-private), over our
//! keystream, and the sealed format's STREAM nonces.

use super::*;

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
pub(super) fn poly_key(key: &[u8; KEY_LEN], nonce: &[u8; 12]) -> Poly1305 {
    let mut mac_key = Zeroizing::new([0u8; 32]);
    xor_keystream(key, nonce, 0, mac_key.as_mut()).expect("32 bytes at offset 0 lie within the keystream");
    Poly1305::new((&*mac_key).into())
}

/// ChaCha20-Poly1305 (RFC 8439 section 2.8) under one key, with detached tags.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Aead {
    pub(super) key: [u8; KEY_LEN],
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
