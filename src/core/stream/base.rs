//! The byte layer under a stream's decoders: the source's stored bytes, or a range of them
//! under an AEAD with one tag for the whole range (NovusPack v1 framing; an encrypted package
//! entry), verified once and then decrypted by range through the cipher's counter.
//!
//! One tag for the whole range means that after the verification pass a random-access reader
//! re-reads ciphertext it can no longer check against that tag. So the pass also records
//! [`BlockTags`] of the ciphertext, and every later read checks the blocks it touches before
//! decrypting: bytes that changed after verification are an error, never plaintext. A
//! sequential source is verified whole in memory instead (within the memory limit).

use std::time::Duration;

use super::buffers::Buf;
use super::layout::SeqInput;
use super::sequential::{InputBuf, SeqState};
use super::{err, memory_limit, to_usize, ChunkDecoder, ErrorCode, FileStream, Result, Source};
use crate::core::block_tags::{BlockTags, TAG_BLOCK};
use crate::core::crypto::{
    v1_apply_keystream, v1_decrypt_in_place, v1_too_large, Key, V1Verifier, TAG_LEN, V1_MAX_CIPHERTEXT, V1_NONCE_LEN,
    V1_OVERHEAD,
};

/// Most bytes a sequential v1 source is buffered to without a memory limit.
pub(super) const DEFAULT_V1_BUFFER_LIMIT: u64 = 256 * 1024 * 1024;

/// A stream cipher whose tag has verified: decrypts any range through its counter.
pub(super) trait RangeCipher {
    /// XORs the keystream for ciphertext bytes from `offset` (0 = the range's first) into `buf`.
    fn apply_keystream(&self, offset: u64, buf: &mut [u8]);
}

/// NovusPack v1 framing's ChaCha20.
struct V1Cipher {
    key: Key,
    nonce: [u8; V1_NONCE_LEN],
}

impl RangeCipher for V1Cipher {
    fn apply_keystream(&self, offset: u64, buf: &mut [u8]) {
        v1_apply_keystream(&self.key, &self.nonce, offset, buf);
    }
}

/// A verified AEAD range of the source.
pub(super) struct CipherBase {
    cipher: Box<dyn RangeCipher>,
    /// Stored offset of the first ciphertext byte.
    start: u64,
    len: u64,
    held: Held,
    kind: &'static str,
}

enum Held {
    /// Random-access source: ciphertext is re-read, and checked against these tags.
    Tags(Box<BlockTags>),
    /// Sequential source: the verified plaintext, held whole.
    Plaintext(Vec<u8>),
}

pub(super) enum Base {
    Stored,
    Cipher(Box<CipherBase>),
}

impl Base {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Base::Stored => "plain",
            Base::Cipher(c) => c.kind,
        }
    }

    pub(super) fn is_encrypted(&self) -> bool {
        matches!(self, Base::Cipher(_))
    }

    /// Logical length, when the base knows it.
    pub(super) fn len(&self) -> Option<u64> {
        match self {
            Base::Stored => None,
            Base::Cipher(c) => Some(c.len),
        }
    }
}

/// What a verification pass checks besides the tag (a package entry's StoredChecksum).
pub(super) trait PassCheck {
    fn update(&mut self, bytes: &[u8]);
}

impl<S: Source, D: ChunkDecoder> FileStream<S, D> {
    /// Reads bytes at `offset` of a random-access base into `into`; returns how many (0 at the end).
    pub(super) async fn base_read_at(&self, base: &Base, offset: u64, into: &mut [u8]) -> Result<usize> {
        match base {
            Base::Stored => {
                let n = self.source.read_at(offset, into).await?;
                self.count(|k| k.stored_bytes_read += n as u64);
                Ok(n)
            }
            Base::Cipher(c) => {
                if offset >= c.len {
                    return Ok(0);
                }
                let n = into.len().min(to_usize(c.len - offset));
                match &c.held {
                    Held::Plaintext(plain) => {
                        let at = to_usize(offset);
                        into[..n].copy_from_slice(&plain[at..at + n]);
                    }
                    Held::Tags(tags) => self.read_checked(c, tags, offset, &mut into[..n]).await?,
                }
                Ok(n)
            }
        }
    }

    /// Reads the whole tag blocks around `[offset, offset + into.len())`, checks them, and only
    /// then decrypts the part asked for.
    async fn read_checked(&self, c: &CipherBase, tags: &BlockTags, offset: u64, into: &mut [u8]) -> Result<()> {
        if into.is_empty() {
            // Nothing to check (and `offset + len - 1` below needs a byte).
            return Ok(());
        }
        let first = offset / TAG_BLOCK as u64;
        let last = (offset + into.len() as u64 - 1) / TAG_BLOCK as u64;
        let mut block_buf: Option<Buf> = None;
        let mut done = 0usize;
        for block in first..=last {
            let range = tags.block_range(block);
            let block_len = to_usize(range.end - range.start);
            let want_start = offset.max(range.start);
            let want_end = (offset + into.len() as u64).min(range.end);
            let into_part = &mut into[done..done + to_usize(want_end - want_start)];
            if want_start == range.start && want_end == range.end {
                // The whole block is asked for: read, check and decrypt it in place.
                self.read_exact_at(c.start + range.start, into_part).await?;
                tags.check(block, into_part)?;
            } else {
                let buf = match &mut block_buf {
                    Some(buf) => buf,
                    None => block_buf.insert(self.buffer(TAG_BLOCK)?),
                };
                let whole = &mut buf[..block_len];
                self.read_exact_at(c.start + range.start, whole).await?;
                tags.check(block, whole)?;
                let from = to_usize(want_start - range.start);
                into_part.copy_from_slice(&whole[from..from + into_part.len()]);
            }
            c.cipher.apply_keystream(want_start, into_part);
            done += into_part.len();
        }
        self.count(|k| k.decrypted_bytes += into.len() as u64);
        Ok(())
    }

    pub(super) async fn read_exact_at(&self, offset: u64, into: &mut [u8]) -> Result<()> {
        let n = self.source.read_at(offset, into).await?;
        self.count(|k| k.stored_bytes_read += n as u64);
        if n != into.len() {
            return Err(err(ErrorCode::Truncated, "the source ended early").with_offset(offset + n as u64));
        }
        Ok(())
    }

    /// One pass over the ciphertext `[start, start + len)` of a random-access source: each piece
    /// goes to `verify` (the tag computation) and to `check`, and block tags are made for later
    /// reads. The caller then checks the tag; nothing is released before it does.
    pub(super) async fn verify_pass(
        &self,
        start: u64,
        len: u64,
        deadline: Option<Duration>,
        mut verify: impl FnMut(&[u8]),
        mut check: Option<&mut dyn PassCheck>,
    ) -> Result<BlockTags> {
        let tags_memory = BlockTags::memory_for(len);
        let limit = self.config.memory_limit;
        if limit > 0 && tags_memory + TAG_BLOCK as u64 > limit {
            return Err(memory_limit(
                limit,
                tags_memory + TAG_BLOCK as u64,
                &format!(
                    "checking {len} bytes of ciphertext on every read ({tags_memory} bytes of block tags and a block)"
                ),
            ));
        }
        let mut tags = BlockTags::new()?;
        let mut buf = self.buffer(self.buffer_size.min(to_usize(len)).max(1))?;
        let mut offset = 0u64;
        while offset < len {
            self.check(deadline)?;
            let n = to_usize(len - offset).min(buf.len());
            self.read_exact_at(start + offset, &mut buf[..n]).await?;
            verify(&buf[..n]);
            tags.update(&buf[..n]);
            if let Some(check) = check.as_deref_mut() {
                check.update(&buf[..n]);
            }
            offset += n as u64;
        }
        tags.finish();
        Ok(tags)
    }

    /// A verified range as a base: later reads are checked against `tags`.
    pub(super) fn cipher_base(
        &self,
        cipher: Box<dyn RangeCipher>,
        start: u64,
        len: u64,
        tags: BlockTags,
        kind: &'static str,
    ) -> Base {
        self.meter.add(BlockTags::memory_for(len));
        Base::Cipher(Box::new(CipherBase { cipher, start, len, held: Held::Tags(Box::new(tags)), kind }))
    }

    /// NovusPack v1 framing on a random-access source: the tag computed in one pass; nothing
    /// is released unless it matches.
    pub(super) async fn verify_v1(&self, key: Key, deadline: Option<Duration>) -> Result<Base> {
        let stored = self.source.stored_len().unwrap_or(0);
        if stored < V1_OVERHEAD {
            return Err(err(ErrorCode::Truncated, "v1 data is shorter than its nonce and tag"));
        }
        let len = stored - V1_OVERHEAD;
        if len > V1_MAX_CIPHERTEXT {
            return Err(v1_too_large());
        }
        let mut nonce = [0u8; V1_NONCE_LEN];
        self.read_exact_at(0, &mut nonce).await?;
        let mut verifier = V1Verifier::new(&key, &nonce);
        let tags = self.verify_pass(V1_NONCE_LEN as u64, len, deadline, |piece| verifier.update(piece), None).await?;
        let mut tag = [0u8; TAG_LEN];
        self.read_exact_at(stored - TAG_LEN as u64, &mut tag).await?;
        verifier.finish(&tag)?;
        Ok(self.cipher_base(Box::new(V1Cipher { key, nonce }), V1_NONCE_LEN as u64, len, tags, "v1"))
    }

    /// A sequential v1 source is read whole (within the memory limit, or a bounded default),
    /// verified and decrypted.
    pub(super) async fn buffer_v1(&self, st: &mut SeqState, key: Key, deadline: Option<Duration>) -> Result<Base> {
        let limit = match self.config.memory_limit {
            0 => DEFAULT_V1_BUFFER_LIMIT,
            limit => limit,
        };
        loop {
            self.check(deadline)?;
            if st.input.len as u64 > limit {
                return Err(memory_limit(
                    limit,
                    st.input.len as u64,
                    "v1 data from a sequential source (verified whole before anything is released; open a Blob \
                     or file to read it in place)",
                ));
            }
            if st.input.eof {
                break;
            }
            let want = st.input.len + self.buffer_size;
            self.fill_input_to(&SeqInput::Source, &mut st.input, want, deadline).await?;
            st.report(&self.meter);
        }
        let mut data = std::mem::take(&mut st.input.buf);
        data.truncate(st.input.len);
        st.input = InputBuf::default();
        let range = v1_decrypt_in_place(&key, &mut data)?;
        self.count(|k| k.decrypted_bytes += range.len() as u64);
        let nonce = data[..V1_NONCE_LEN].try_into().expect("length checked by decrypt");
        data.truncate(range.end);
        data.drain(..range.start);
        st.report(&self.meter);
        self.meter.add(data.capacity() as u64);
        let cipher = Box::new(V1Cipher { key, nonce });
        Ok(Base::Cipher(Box::new(CipherBase {
            cipher,
            start: V1_NONCE_LEN as u64,
            len: data.len() as u64,
            held: Held::Plaintext(data),
            kind: "v1",
        })))
    }
}
