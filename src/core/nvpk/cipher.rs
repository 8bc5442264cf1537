//! Entry encryption (§4.1.1.4-8): the framing, AES-256-GCM and ChaCha20-Poly1305 under the
//! caller's 32-byte key, and ML-KEM (FIPS 203) decapsulation + HKDF-SHA256 + AES-256-GCM.
//!
//! Stored bytes of an encrypted entry: `prefix || ciphertext || tag(16)`, where the prefix is
//! `nonce(12)` (0x01, 0x03) or `KEMCiphertextLen u16 || KEMCiphertext || nonce(12)` (0x02),
//! with empty associated data. Reading is two passes, so nothing is released before the tag
//! verifies: [`TagVerifier`] takes the ciphertext in pieces and checks the tag, then
//! [`EntryCipher::apply_keystream`] decrypts any range (both ciphers are counter modes: GCM
//! starts at counter 2 of J0, ChaCha20 at block 1). AES-256-GCM is composed here from the
//! RustCrypto `aes` block cipher and `ghash`; ChaCha20-Poly1305 is the crate's own
//! ([`crate::core::crypto`], which the v1 framing uses). Keys are zeroized on drop, tags
//! compared in constant time, and no error names key bytes.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes256;
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::Encryption;
use crate::core::crypto::{auth_failed, random_bytes, v1_apply_keystream, Key, V1Verifier};
use crate::core::error::{err, ErrorCode, Result};

/// Nonce length of every entry cipher.
pub const NONCE_LEN: usize = 12;
/// Tag length of every entry cipher.
pub const TAG_LEN: usize = 16;
/// Largest AES-256-GCM ciphertext: 2^32 - 2 blocks (NIST SP 800-38D).
pub const GCM_MAX_CIPHERTEXT: u64 = ((1 << 32) - 2) * 16;
/// HKDF-SHA256 info of the ML-KEM entry key (§4.1.1.8).
const KEM_INFO: &[u8] = b"novuspack-file-encryption-v1";

/// An ML-KEM parameter set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KemParams {
    /// ML-KEM-512.
    MlKem512,
    /// ML-KEM-768.
    MlKem768,
    /// ML-KEM-1024.
    MlKem1024,
}

impl KemParams {
    /// The parameter set whose ciphertext is `len` bytes (768, 1088, 1568).
    pub fn from_ciphertext_len(len: usize) -> Option<KemParams> {
        [KemParams::MlKem512, KemParams::MlKem768, KemParams::MlKem1024].into_iter().find(|p| p.ciphertext_len() == len)
    }

    /// Ciphertext length.
    pub fn ciphertext_len(self) -> usize {
        match self {
            KemParams::MlKem512 => 768,
            KemParams::MlKem768 => 1088,
            KemParams::MlKem1024 => 1568,
        }
    }

    /// Encapsulation (public) key length.
    pub fn encapsulation_key_len(self) -> usize {
        match self {
            KemParams::MlKem512 => 800,
            KemParams::MlKem768 => 1184,
            KemParams::MlKem1024 => 1568,
        }
    }

    /// Expanded FIPS 203 decapsulation key length.
    pub fn expanded_key_len(self) -> usize {
        match self {
            KemParams::MlKem512 => 1632,
            KemParams::MlKem768 => 2400,
            KemParams::MlKem1024 => 3168,
        }
    }

    /// `"ML-KEM-512"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            KemParams::MlKem512 => "ML-KEM-512",
            KemParams::MlKem768 => "ML-KEM-768",
            KemParams::MlKem1024 => "ML-KEM-1024",
        }
    }

    fn all() -> [KemParams; 3] {
        [KemParams::MlKem512, KemParams::MlKem768, KemParams::MlKem1024]
    }
}

/// An ML-KEM decapsulation key: the 64-byte seed (`d || z`), or the expanded FIPS 203 key
/// (1632, 2400 or 3168 bytes). Zeroized on drop; `Debug` does not show it.
#[derive(Clone)]
pub struct DecapsulationKey(Zeroizing<Vec<u8>>);

impl DecapsulationKey {
    /// A key of one of the accepted lengths; `INVALID_KEY` otherwise.
    pub fn from_bytes(bytes: &[u8]) -> Result<DecapsulationKey> {
        if bytes.len() != 64 && !KemParams::all().iter().any(|p| p.expanded_key_len() == bytes.len()) {
            return Err(err(
                ErrorCode::InvalidKey,
                format!(
                    "an ML-KEM decapsulation key is a 64-byte seed or a 1632/2400/3168-byte expanded key, not {} bytes",
                    bytes.len()
                ),
            )
            .with_field("decapsulationKey"));
        }
        Ok(DecapsulationKey(Zeroizing::new(bytes.to_vec())))
    }

    /// The parameter set of an expanded key (`None` for a seed, which fits every set).
    pub fn params(&self) -> Option<KemParams> {
        KemParams::all().into_iter().find(|p| p.expanded_key_len() == self.0.len())
    }
}

impl std::fmt::Debug for DecapsulationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecapsulationKey(..)")
    }
}

/// The keys a reader may hold for an entry.
#[derive(Clone, Debug, Default)]
pub struct EntryKey {
    /// The 32-byte key of AES-256-GCM and ChaCha20-Poly1305 entries.
    pub key: Option<Key>,
    /// The decapsulation key of ML-KEM entries.
    pub decapsulation_key: Option<DecapsulationKey>,
}

/// What a writer encrypts an entry with.
#[derive(Clone, Debug)]
pub enum EncryptKey {
    /// A 32-byte key (AES-256-GCM, ChaCha20-Poly1305).
    Symmetric(Key),
    /// An ML-KEM encapsulation (public) key: 800, 1184 or 1568 bytes.
    Encapsulation(Vec<u8>),
}

/// Bytes to read first to learn the framing's length: 12 (the nonce), or 2 (ML-KEM's
/// KEMCiphertextLen); 0 when not encrypted.
pub fn framing_probe_len(encryption: Encryption) -> usize {
    match encryption {
        Encryption::None => 0,
        Encryption::Aes256Gcm | Encryption::ChaCha20Poly1305 => NONCE_LEN,
        Encryption::MlKem => 2,
    }
}

/// The framing prefix's length, from its first [`framing_probe_len`] bytes. An ML-KEM
/// ciphertext length of no parameter set is `UNSUPPORTED_ALGORITHM`.
pub fn framing_len(encryption: Encryption, probe: &[u8]) -> Result<usize> {
    match encryption {
        Encryption::None => Ok(0),
        Encryption::Aes256Gcm | Encryption::ChaCha20Poly1305 => Ok(NONCE_LEN),
        Encryption::MlKem => {
            let Some(&[a, b]) = probe.first_chunk::<2>() else {
                return Err(err(ErrorCode::Truncated, "the ML-KEM framing is shorter than its length field"));
            };
            let len = usize::from(u16::from_le_bytes([a, b]));
            if KemParams::from_ciphertext_len(len).is_none() {
                return Err(err(
                    ErrorCode::UnsupportedAlgorithm,
                    format!("an ML-KEM ciphertext of {len} bytes matches no parameter set (768, 1088, 1568)"),
                ));
            }
            Ok(2 + len + NONCE_LEN)
        }
    }
}

/// AES-256-GCM with a 12-byte nonce: the key schedule, H, E(K, J0) and the nonce.
struct Gcm {
    aes: Aes256,
    h: Zeroizing<[u8; 16]>,
    ej0: Zeroizing<[u8; 16]>,
    nonce: [u8; NONCE_LEN],
}

impl Gcm {
    fn new(key: &[u8; 32], nonce: [u8; NONCE_LEN]) -> Gcm {
        let aes = Aes256::new(&(*key).into());
        let mut h = aes::Block::default();
        aes.encrypt_block(&mut h);
        let mut j0 = counter_block(&nonce, 1);
        aes.encrypt_block(&mut j0);
        let gcm = Gcm { aes, h: Zeroizing::new(h.into()), ej0: Zeroizing::new(j0.into()), nonce };
        h.zeroize();
        j0.zeroize();
        gcm
    }

    fn verifier(&self, aad: &[u8]) -> GcmVerifier {
        let mut mac = GHash::new(&(*self.h).into());
        mac.update_padded(aad);
        GcmVerifier { mac, partial: [0; 16], partial_len: 0, aad_len: aad.len() as u64, len: 0, ej0: self.ej0.clone() }
    }

    /// XORs the keystream of ciphertext bytes from `offset` into `buf` (counter 2 + block).
    fn apply_keystream(&self, offset: u64, buf: &mut [u8]) {
        const BATCH: usize = 16;
        let mut blocks = [aes::Block::default(); BATCH];
        let mut block = offset / 16;
        let mut skip = (offset % 16) as usize;
        let mut pos = 0;
        while pos < buf.len() {
            let n = (buf.len() - pos + skip).div_ceil(16).min(BATCH);
            for (j, b) in blocks[..n].iter_mut().enumerate() {
                // inc32: the counter wraps within its 32 bits (never reached under the GCM limit).
                *b = counter_block(&self.nonce, (block + 2 + j as u64) as u32);
            }
            self.aes.encrypt_blocks(&mut blocks[..n]);
            for b in &blocks[..n] {
                let take = (16 - skip).min(buf.len() - pos);
                for (x, k) in buf[pos..pos + take].iter_mut().zip(&b[skip..skip + take]) {
                    *x ^= k;
                }
                pos += take;
                skip = 0;
            }
            block += n as u64;
        }
        blocks.zeroize();
    }
}

fn counter_block(nonce: &[u8; NONCE_LEN], counter: u32) -> aes::Block {
    let mut b = aes::Block::default();
    b[..NONCE_LEN].copy_from_slice(nonce);
    b[NONCE_LEN..].copy_from_slice(&counter.to_be_bytes());
    b
}

/// GHASH over ciphertext delivered in pieces.
struct GcmVerifier {
    mac: GHash,
    partial: [u8; 16],
    partial_len: usize,
    aad_len: u64,
    len: u64,
    ej0: Zeroizing<[u8; 16]>,
}

impl GcmVerifier {
    fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.partial_len > 0 {
            let take = (16 - self.partial_len).min(data.len());
            self.partial[self.partial_len..self.partial_len + take].copy_from_slice(&data[..take]);
            self.partial_len += take;
            data = &data[take..];
            if self.partial_len < 16 {
                return;
            }
            self.mac.update(&[self.partial.into()]);
            self.partial_len = 0;
        }
        let (blocks, rest) = ghash::Block::slice_as_chunks(data);
        if !blocks.is_empty() {
            self.mac.update(blocks);
        }
        self.partial[..rest.len()].copy_from_slice(rest);
        self.partial_len = rest.len();
    }

    fn finish(mut self, tag: &[u8]) -> Result<()> {
        if self.partial_len > 0 {
            self.mac.update_padded(&self.partial[..self.partial_len]);
        }
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&(self.aad_len * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&(self.len * 8).to_be_bytes());
        self.mac.update(&[lengths.into()]);
        let mut expected: [u8; 16] = self.mac.finalize().into();
        for (e, k) in expected.iter_mut().zip(self.ej0.iter()) {
            *e ^= k;
        }
        let ok = tag.len() == TAG_LEN && bool::from(expected.as_slice().ct_eq(tag));
        expected.zeroize();
        if ok {
            Ok(())
        } else {
            Err(auth_failed())
        }
    }
}

/// The cipher of one encrypted entry, its framing parsed and its key in hand.
pub struct EntryCipher {
    inner: Inner,
    prefix_len: usize,
}

enum Inner {
    Gcm(Box<Gcm>),
    ChaCha { key: Key, nonce: [u8; NONCE_LEN] },
}

impl std::fmt::Debug for EntryCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.inner {
            Inner::Gcm(_) => "AES-256-GCM",
            Inner::ChaCha { .. } => "ChaCha20-Poly1305",
        };
        f.debug_struct("EntryCipher").field("cipher", &name).field("prefix_len", &self.prefix_len).finish()
    }
}

fn key_required(encryption: Encryption, what: &str) -> crate::core::error::StreamError {
    err(ErrorCode::KeyRequired, format!("the entry is encrypted ({}): {what} is required", encryption.as_str()))
}

impl EntryCipher {
    /// The cipher of an entry encrypted with `encryption`, from its framing prefix (exactly
    /// [`framing_len`] bytes) and the caller's keys. `KEY_REQUIRED` without the right key; an
    /// ML-KEM key of another parameter set is `AUTH_FAILED` like any wrong key.
    pub fn new(encryption: Encryption, prefix: &[u8], keys: &EntryKey) -> Result<EntryCipher> {
        let prefix_len = framing_len(encryption, prefix)?;
        if prefix.len() != prefix_len {
            return Err(err(ErrorCode::InvalidArgument, format!("the framing prefix is {prefix_len} bytes")));
        }
        let nonce: [u8; NONCE_LEN] = prefix[prefix_len - NONCE_LEN..].try_into().expect("12 bytes");
        let inner = match encryption {
            Encryption::None => return Err(err(ErrorCode::InvalidArgument, "the entry is not encrypted")),
            Encryption::Aes256Gcm => {
                let key = keys.key.as_ref().ok_or_else(|| key_required(encryption, "a 32-byte key"))?;
                Inner::Gcm(Box::new(Gcm::new(key.as_bytes(), nonce)))
            }
            Encryption::ChaCha20Poly1305 => {
                let key = keys.key.clone().ok_or_else(|| key_required(encryption, "a 32-byte key"))?;
                Inner::ChaCha { key, nonce }
            }
            Encryption::MlKem => {
                let dk = keys
                    .decapsulation_key
                    .as_ref()
                    .ok_or_else(|| key_required(encryption, "an ML-KEM decapsulation key"))?;
                let ct = &prefix[2..prefix_len - NONCE_LEN];
                let params = KemParams::from_ciphertext_len(ct.len()).expect("checked by framing_len");
                let shared = kem::decapsulate(dk, params, ct)?;
                let key = derive_entry_key(&shared);
                Inner::Gcm(Box::new(Gcm::new(&key, nonce)))
            }
        };
        Ok(EntryCipher { inner, prefix_len })
    }

    /// Length of the framing prefix before the ciphertext.
    pub fn prefix_len(&self) -> usize {
        self.prefix_len
    }

    /// Ciphertext length of an entry of `stored_size` bytes (prefix and tag excluded):
    /// `CORRUPTED` when too short or, for AES-256-GCM, past its limit.
    pub fn ciphertext_len(&self, stored_size: u64) -> Result<u64> {
        let len = stored_size
            .checked_sub((self.prefix_len + TAG_LEN) as u64)
            .ok_or_else(|| err(ErrorCode::Corrupted, "the entry is shorter than its encryption framing and tag"))?;
        if matches!(self.inner, Inner::Gcm(_)) && len > GCM_MAX_CIPHERTEXT {
            return Err(err(ErrorCode::Corrupted, "the entry is longer than AES-256-GCM allows"));
        }
        Ok(len)
    }

    /// A verifier of the tag: feed it the whole ciphertext in order, then the tag.
    pub fn verifier(&self) -> TagVerifier {
        match &self.inner {
            Inner::Gcm(gcm) => TagVerifier(VerifierInner::Gcm(Box::new(gcm.verifier(&[])))),
            Inner::ChaCha { key, nonce } => TagVerifier(VerifierInner::ChaCha(Box::new(V1Verifier::new(key, nonce)))),
        }
    }

    /// Decrypts (or encrypts) `buf`, the ciphertext bytes from `offset` (0 = the first byte
    /// after the prefix), in place. Only call it once the tag has verified.
    pub fn apply_keystream(&self, offset: u64, buf: &mut [u8]) {
        match &self.inner {
            Inner::Gcm(gcm) => gcm.apply_keystream(offset, buf),
            Inner::ChaCha { key, nonce } => v1_apply_keystream(key, nonce, offset, buf),
        }
    }
}

/// Computes an entry's tag over its ciphertext, delivered in any pieces.
pub struct TagVerifier(VerifierInner);

enum VerifierInner {
    Gcm(Box<GcmVerifier>),
    ChaCha(Box<V1Verifier>),
}

impl std::fmt::Debug for TagVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TagVerifier(..)")
    }
}

impl TagVerifier {
    /// Feeds the next ciphertext bytes (tag excluded).
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            VerifierInner::Gcm(v) => v.update(data),
            VerifierInner::ChaCha(v) => v.update(data),
        }
    }

    /// Compares the computed tag with `tag` in constant time: `AUTH_FAILED` on mismatch.
    pub fn finish(self, tag: &[u8]) -> Result<()> {
        match self.0 {
            VerifierInner::Gcm(v) => v.finish(tag),
            VerifierInner::ChaCha(v) => v.finish(tag),
        }
    }
}

/// HKDF-SHA256(shared secret, empty salt, "novuspack-file-encryption-v1"), 32 bytes.
fn derive_entry_key(shared: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(&[]), shared);
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf.expand(KEM_INFO, key.as_mut()).expect("32 bytes is a valid HKDF-SHA256 length");
    key
}

/// Encrypts an entry's (compressed) bytes into their stored form with a fresh random nonce
/// (and, for ML-KEM, a fresh encapsulation).
pub fn encrypt_entry(encryption: Encryption, key: &EncryptKey, plaintext: &[u8]) -> Result<Vec<u8>> {
    encrypt_entry_with(encryption, key, plaintext, &EntryRandomness::fresh()?)
}

/// The random choices of one entry's encryption: its nonce and the ML-KEM encapsulation's
/// message. Kept so that a package written in two passes (sizes first, bytes second) stores
/// the same bytes both times.
#[derive(Clone)]
pub struct EntryRandomness {
    nonce: [u8; NONCE_LEN],
    kem_message: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for EntryRandomness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EntryRandomness(..)")
    }
}

impl EntryRandomness {
    /// Fresh choices from the platform's CSPRNG.
    pub fn fresh() -> Result<EntryRandomness> {
        let mut r = EntryRandomness { nonce: [0; NONCE_LEN], kem_message: Zeroizing::new([0; 32]) };
        random_bytes(&mut r.nonce)?;
        random_bytes(r.kem_message.as_mut())?;
        Ok(r)
    }
}

/// [`encrypt_entry`] with the given random choices (never reuse them for other bytes).
pub fn encrypt_entry_with(
    encryption: Encryption,
    key: &EncryptKey,
    plaintext: &[u8],
    randomness: &EntryRandomness,
) -> Result<Vec<u8>> {
    let nonce = randomness.nonce;
    let mut out = Vec::with_capacity(plaintext.len() + 2 + 1568 + NONCE_LEN + TAG_LEN);
    let gcm_key: Zeroizing<[u8; 32]> = match (encryption, key) {
        (Encryption::None, _) => return Err(err(ErrorCode::InvalidArgument, "encryption 'none' encrypts nothing")),
        (Encryption::Aes256Gcm, EncryptKey::Symmetric(k)) => Zeroizing::new(*k.as_bytes()),
        (Encryption::ChaCha20Poly1305, EncryptKey::Symmetric(k)) => {
            let framed = crate::core::crypto::v1_encrypt_with_nonce(k, &nonce, plaintext);
            return Ok(framed);
        }
        (Encryption::MlKem, EncryptKey::Encapsulation(ek)) => {
            let (ct, shared) = kem::encapsulate(ek, &randomness.kem_message)?;
            let len = u16::try_from(ct.len()).expect("ML-KEM ciphertexts are at most 1568 bytes");
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&ct);
            derive_entry_key(&shared)
        }
        (Encryption::MlKem, EncryptKey::Symmetric(_)) => {
            return Err(err(ErrorCode::InvalidKey, "ML-KEM encryption takes an encapsulation (public) key")
                .with_field("encapsulationKey"))
        }
        (_, EncryptKey::Encapsulation(_)) => {
            return Err(
                err(ErrorCode::InvalidKey, format!("{} takes a 32-byte key", encryption.as_str())).with_field("key")
            )
        }
    };
    if plaintext.len() as u64 > GCM_MAX_CIPHERTEXT {
        return Err(err(ErrorCode::InvalidArgument, "the entry is longer than AES-256-GCM allows"));
    }
    let gcm = Gcm::new(&gcm_key, nonce);
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    gcm.apply_keystream(0, &mut out[start..]);
    let tag = gcm_tag(&gcm, &[], &out[start..]);
    out.extend_from_slice(&tag);
    Ok(out)
}

/// The GCM tag of `ciphertext` under `aad`.
fn gcm_tag(gcm: &Gcm, aad: &[u8], ciphertext: &[u8]) -> [u8; 16] {
    let mut v = gcm.verifier(aad);
    v.update(ciphertext);
    let mut s = v.mac.clone();
    if v.partial_len > 0 {
        s.update_padded(&v.partial[..v.partial_len]);
    }
    let mut lengths = [0u8; 16];
    lengths[..8].copy_from_slice(&(v.aad_len * 8).to_be_bytes());
    lengths[8..].copy_from_slice(&(v.len * 8).to_be_bytes());
    s.update(&[lengths.into()]);
    let mut tag: [u8; 16] = s.finalize().into();
    for (t, k) in tag.iter_mut().zip(v.ej0.iter()) {
        *t ^= k;
    }
    tag
}

/// AES-256-GCM with associated data, for the Wycheproof vectors: `(ciphertext, tag)` and
/// verify-then-decrypt.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(super) fn gcm_seal(key: &[u8; 32], nonce: [u8; 12], aad: &[u8], plaintext: &[u8]) -> (Vec<u8>, [u8; 16]) {
    let gcm = Gcm::new(key, nonce);
    let mut ct = plaintext.to_vec();
    gcm.apply_keystream(0, &mut ct);
    let tag = gcm_tag(&gcm, aad, &ct);
    (ct, tag)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(super) fn gcm_open(key: &[u8; 32], nonce: [u8; 12], aad: &[u8], ciphertext: &[u8], tag: &[u8]) -> Result<Vec<u8>> {
    let gcm = Gcm::new(key, nonce);
    let mut v = gcm.verifier(aad);
    v.update(ciphertext);
    v.finish(tag)?;
    let mut pt = ciphertext.to_vec();
    gcm.apply_keystream(0, &mut pt);
    Ok(pt)
}

/// A fresh ML-KEM key pair of parameter set `level` (512, 768 or 1024): the decapsulation key
/// as its 64-byte seed, and the encapsulation (public) key.
pub fn kem_key_pair(level: u32) -> Result<(Zeroizing<[u8; 64]>, Vec<u8>)> {
    let params = KemParams::all()
        .into_iter()
        .find(|p| p.as_str().ends_with(&level.to_string()))
        .ok_or_else(|| crate::core::error::StreamError::invalid("ML-KEM parameter set", level, "512, 768 or 1024"))?;
    let mut seed = Zeroizing::new([0u8; 64]);
    random_bytes(seed.as_mut())?;
    let public = kem::encapsulation_key(&seed, params);
    Ok((seed, public))
}

/// ML-KEM through RustCrypto's `ml-kem`, one arm per parameter set.
pub(super) mod kem {
    use ml_kem::array::Array;
    use ml_kem::kem::Decapsulate;
    #[allow(deprecated)]
    use ml_kem::ExpandedKeyEncoding;
    use zeroize::Zeroizing;

    use super::{DecapsulationKey, KemParams};
    use crate::core::error::{err, ErrorCode, Result};

    fn invalid_key() -> crate::core::error::StreamError {
        err(ErrorCode::InvalidKey, "the expanded ML-KEM decapsulation key is not valid (its hash check fails)")
            .with_field("decapsulationKey")
    }

    macro_rules! per_params {
        ($params:expr, $m:ident => $body:expr) => {
            match $params {
                KemParams::MlKem512 => {
                    use ml_kem::ml_kem_512 as $m;
                    $body
                }
                KemParams::MlKem768 => {
                    use ml_kem::ml_kem_768 as $m;
                    $body
                }
                KemParams::MlKem1024 => {
                    use ml_kem::ml_kem_1024 as $m;
                    $body
                }
            }
        };
    }

    /// The shared secret of `ct` under `dk`. Decapsulation never fails on a wrong key (FIPS
    /// 203's implicit rejection gives an unrelated secret, so the tag fails later).
    // The expanded key form is deprecated by `ml-kem` but still what FIPS 203 defines.
    #[allow(deprecated)]
    pub fn decapsulate(dk: &DecapsulationKey, params: KemParams, ct: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        if let Some(key_params) = dk.params() {
            if key_params != params {
                return Err(err(
                    ErrorCode::AuthFailed,
                    format!("the decapsulation key is for {}, the entry uses {}", key_params.as_str(), params.as_str()),
                ));
            }
        }
        let bytes: &[u8] = &dk.0;
        per_params!(params, m => {
            let ct: m::Ciphertext = Array::try_from(ct).map_err(|_| err(ErrorCode::Corrupted, "bad ML-KEM ciphertext length"))?;
            let key = if bytes.len() == 64 {
                let seed = Array::try_from(bytes).expect("64 bytes");
                m::DecapsulationKey::from_seed(seed)
            } else {
                let expanded: Zeroizing<m::ExpandedDecapsulationKey> =
                    Zeroizing::new(Array::try_from(bytes).map_err(|_| invalid_key())?);
                m::DecapsulationKey::from_expanded_bytes(&expanded).map_err(|_| invalid_key())?
            };
            let shared = key.decapsulate(&ct);
            Ok(Zeroizing::new(shared.into()))
        })
    }

    /// The encapsulation (public) key of the decapsulation key with this 64-byte seed.
    pub fn encapsulation_key(seed: &[u8; 64], params: KemParams) -> Vec<u8> {
        use ml_kem::KeyExport;
        per_params!(params, m => {
            let key = m::DecapsulationKey::from_seed(Array::from(*seed));
            key.encapsulation_key().to_bytes().to_vec()
        })
    }

    /// `(ciphertext, shared secret)` for the encapsulation key `ek` and the encapsulation message `m`.
    pub fn encapsulate(ek: &[u8], m: &[u8; 32]) -> Result<(Vec<u8>, Zeroizing<[u8; 32]>)> {
        let Some(params) = KemParams::all().into_iter().find(|p| p.encapsulation_key_len() == ek.len()) else {
            return Err(err(
                ErrorCode::InvalidKey,
                format!("an ML-KEM encapsulation key is 800, 1184 or 1568 bytes, not {}", ek.len()),
            )
            .with_field("encapsulationKey"));
        };
        per_params!(params, k => {
            let ek = Array::try_from(ek).expect("length checked");
            let ek = k::EncapsulationKey::new(&ek).map_err(|_| {
                err(ErrorCode::InvalidKey, "the ML-KEM encapsulation key is not valid").with_field("encapsulationKey")
            })?;
            let (ct, shared) = ek.encapsulate_deterministic(&(*m).into());
            Ok((ct.to_vec(), Zeroizing::new(shared.into())))
        })
    }

    /// Decapsulation for the Wycheproof vectors.
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub fn decapsulate_for_test(dk: &[u8], params: KemParams, ct: &[u8]) -> Result<[u8; 32]> {
        let dk = DecapsulationKey::from_bytes(dk)?;
        Ok(*decapsulate(&dk, params, ct)?)
    }
}
