//! The AEAD of one sealed file: the per-file subkey and key commitment derived with HKDF, and
//! the stateless, position-explicit chunk and index primitives.

use super::*;

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
