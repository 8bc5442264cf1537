//! Poly1305 over bytes delivered in pieces of any size.

use super::aead::poly_key;
use super::*;

/// Poly1305 over bytes delivered in pieces of any size (carrying a partial 16-byte block).
pub(crate) struct PolyStream {
    mac: Poly1305,
    partial: [u8; 16],
    partial_len: usize,
    pub(super) len: u64,
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
