//! The byte layer under a stream's decoders: the source's stored bytes, or NovusPack v1
//! ChaCha20-Poly1305 framing verified once and then decrypted by range.
//!
//! v1 framing has one tag for the whole file. On a random-access source the verification pass
//! also records [`BlockTags`] of the ciphertext, and every later read checks the blocks it
//! touches against them before decrypting: bytes that changed after verification are an error,
//! never plaintext. A sequential source is verified whole in memory (within the memory limit).

use std::time::Duration;

use super::buffers::Buf;
use super::layout::SeqInput;
use super::sequential::{InputBuf, SeqState};
use super::{err, memory_limit, to_usize, ChunkDecoder, ErrorCode, FileStream, Result, Source};
use crate::core::block_tags::{BlockTags, TAG_BLOCK};
use crate::core::crypto::{
    v1_apply_keystream, v1_decrypt_in_place, Key, V1Verifier, TAG_LEN, V1_MAX_CIPHERTEXT, V1_NONCE_LEN, V1_OVERHEAD,
};

/// Most bytes a sequential v1 source is buffered to without a memory limit.
pub(super) const DEFAULT_V1_BUFFER_LIMIT: u64 = 256 * 1024 * 1024;

/// NovusPack v1 framing, verified.
pub(super) struct V1Base {
    key: Key,
    nonce: [u8; V1_NONCE_LEN],
    len: u64,
    held: V1Held,
}

enum V1Held {
    /// Random-access source: ciphertext is re-read, and checked against these tags.
    Tags(Box<BlockTags>),
    /// Sequential source: the verified plaintext, held whole.
    Plaintext(Vec<u8>),
}

pub(super) enum Base {
    Stored,
    V1(Box<V1Base>),
}

impl Base {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Base::Stored => "plain",
            Base::V1(_) => "v1",
        }
    }

    pub(super) fn is_encrypted(&self) -> bool {
        matches!(self, Base::V1(_))
    }

    /// Logical length, when the base knows it.
    pub(super) fn len(&self) -> Option<u64> {
        match self {
            Base::Stored => None,
            Base::V1(v1) => Some(v1.len),
        }
    }
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
            Base::V1(v1) => {
                if offset >= v1.len {
                    return Ok(0);
                }
                let n = into.len().min(to_usize(v1.len - offset));
                match &v1.held {
                    V1Held::Plaintext(plain) => {
                        let at = to_usize(offset);
                        into[..n].copy_from_slice(&plain[at..at + n]);
                    }
                    V1Held::Tags(tags) => self.v1_read_checked(v1, tags, offset, &mut into[..n]).await?,
                }
                Ok(n)
            }
        }
    }

    /// Reads the whole tag blocks around `[offset, offset + into.len())`, checks them, and only
    /// then decrypts the part asked for.
    async fn v1_read_checked(&self, v1: &V1Base, tags: &BlockTags, offset: u64, into: &mut [u8]) -> Result<()> {
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
                self.read_exact_at(V1_NONCE_LEN as u64 + range.start, into_part).await?;
                tags.check(block, into_part)?;
            } else {
                let buf = match &mut block_buf {
                    Some(buf) => buf,
                    None => block_buf.insert(self.buffer(TAG_BLOCK)?),
                };
                let whole = &mut buf[..block_len];
                self.read_exact_at(V1_NONCE_LEN as u64 + range.start, whole).await?;
                tags.check(block, whole)?;
                let from = to_usize(want_start - range.start);
                into_part.copy_from_slice(&whole[from..from + into_part.len()]);
            }
            v1_apply_keystream(&v1.key, &v1.nonce, want_start, into_part);
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

    /// One pass over a random-access v1 source computing the tag (and the block tags later
    /// reads are checked against); nothing is released unless it matches.
    pub(super) async fn verify_v1(&self, key: Key, deadline: Option<Duration>) -> Result<V1Base> {
        let stored = self.source.stored_len().unwrap_or(0);
        if stored < V1_OVERHEAD {
            return Err(err(ErrorCode::Truncated, "v1 data is shorter than its nonce and tag"));
        }
        let len = stored - V1_OVERHEAD;
        if len > V1_MAX_CIPHERTEXT {
            return Err(err(ErrorCode::UnsupportedAlgorithm, "v1 data is larger than ChaCha20's 256 GiB limit"));
        }
        let tags_memory = BlockTags::memory_for(len);
        let limit = self.config.memory_limit;
        if limit > 0 && tags_memory + TAG_BLOCK as u64 > limit {
            return Err(memory_limit(
                limit,
                tags_memory + TAG_BLOCK as u64,
                &format!(
                    "checking {len} bytes of v1 data on every read ({tags_memory} bytes of block tags and a block)"
                ),
            ));
        }
        let mut nonce = [0u8; V1_NONCE_LEN];
        self.read_exact_at(0, &mut nonce).await?;
        let mut verifier = V1Verifier::new(&key, &nonce);
        let mut tags = BlockTags::new()?;
        let mut buf = self.buffer(self.buffer_size.min(to_usize(len)).max(1))?;
        let mut offset = 0u64;
        while offset < len {
            self.check(deadline)?;
            let n = to_usize(len - offset).min(buf.len());
            self.read_exact_at(V1_NONCE_LEN as u64 + offset, &mut buf[..n]).await?;
            verifier.update(&buf[..n]);
            tags.update(&buf[..n]);
            offset += n as u64;
        }
        drop(buf);
        tags.finish();
        let mut tag = [0u8; TAG_LEN];
        self.read_exact_at(stored - TAG_LEN as u64, &mut tag).await?;
        verifier.finish(&tag)?;
        self.meter.add(tags_memory);
        Ok(V1Base { key, nonce, len, held: V1Held::Tags(Box::new(tags)) })
    }

    /// A sequential v1 source is read whole (within the memory limit, or a bounded default),
    /// verified and decrypted.
    pub(super) async fn buffer_v1(&self, st: &mut SeqState, key: Key, deadline: Option<Duration>) -> Result<V1Base> {
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
        Ok(V1Base { key, nonce, len: data.len() as u64, held: V1Held::Plaintext(data) })
    }
}
