//! SHA-256 over bytes delivered in pieces.

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
