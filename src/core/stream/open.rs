//! Opening a stream: decide the layout from the first bytes and the configuration, reading the
//! least it can (a header; a footer and an index; or, for v1 framing, one verification pass),
//! then decode the first block of layouts whose format must be confirmed at open.

use std::time::Duration;

use super::base::Base;
use super::layout::{Layout, RandomLayout, SeqCodec, SeqDecoder, SeqInput, SeqLayout};
use super::sequential::SeqState;
use super::{err, memory_limit, ChunkDecoder, ErrorCode, ErrorType, FileStream, Result, Source};
use crate::core::compress::CompressedFormat;
use crate::core::sealed::MAX_HEADER_LEN;
use crate::core::sealed::{ChunkCodec, Header, IndexLocation, SealedIndex, FOOTER_LEN, HEADER_LEN_V1, MAGIC};

/// Bytes decoded at open to check that data guessed to be raw deflate is.
const PRIME_BLOCK: usize = 1024;

/// How a stream decides its layout.
pub(super) enum Plan {
    /// From the first bytes and the configuration.
    Detect,
    /// A NovusPack package entry (the source holds its stored bytes).
    #[cfg(feature = "nvpk")]
    Entry(Box<super::entry::EntryOpen>),
}

impl<S: Source, D: ChunkDecoder> FileStream<S, D> {
    /// The layout `plan` asks for.
    pub(super) async fn layout_for(&self, plan: Plan, st: &mut SeqState, deadline: Option<Duration>) -> Result<Layout> {
        match plan {
            Plan::Detect => self.detect(st, deadline).await,
            #[cfg(feature = "nvpk")]
            Plan::Entry(open) => self.entry_layout(st, *open, deadline).await,
        }
    }

    /// Decides the layout. A source that starts with the sealed magic is opened as sealed
    /// whatever the flags say (unless `raw`): sealed data is never read as if it were the file.
    pub(super) async fn detect(&self, st: &mut SeqState, deadline: Option<Duration>) -> Result<Layout> {
        let c = &self.config;
        let random = self.source.is_random_access();
        if random {
            self.set_size(self.source.stored_len());
        } else {
            self.set_size(c.size.or(self.source.stored_len()));
        }
        if c.raw {
            return Ok(self.stored_layout(st));
        }
        let head = self.peek_head(st, deadline).await?;
        let flagged = c.is_compressed || c.is_encrypted || c.key.is_some();
        // With a decoding flag, a prefix of the magic is a truncated sealed file.
        let looks_sealed = Header::has_magic(&head)
            || (flagged && !head.is_empty() && head.len() < MAGIC.len() && head[..] == MAGIC[..head.len()]);
        if looks_sealed {
            self.set_size(None);
            return if random { self.open_indexed(&head).await } else { self.open_sequential_sealed(st, &head) };
        }
        if !flagged {
            if !random {
                // The peeked bytes are the stream's first: they start the window.
                let input = std::mem::take(&mut st.input);
                st.window.buf.extend_from_slice(input.pending());
                self.count(|k| k.chunks_read += u64::from(!input.pending().is_empty()));
                st.report(&self.meter);
            }
            return Ok(self.stored_layout(st));
        }
        self.set_size(None);
        if head.is_empty() {
            return Err(err(
                ErrorCode::UnknownFormat,
                "the source is empty: there is no sealed, gzip, zlib, deflate or v1-encrypted data in it",
            ));
        }
        if c.is_encrypted || c.key.is_some() {
            return self.open_v1(st, deadline).await;
        }
        // Compressed, not sealed: gzip, zlib or raw deflate, decoded in order.
        let format = CompressedFormat::detect(&head);
        self.set_size(c.size);
        let input = if random { SeqInput::Base(Base::Stored) } else { SeqInput::Source };
        Ok(self.sequential(st, SeqLayout { codec: SeqCodec::Inflate(format), input, end_checks: None }))
    }

    /// The stored bytes as they are: random access, or in order.
    fn stored_layout(&self, st: &mut SeqState) -> Layout {
        if self.source.is_random_access() {
            Layout::Random(RandomLayout::Direct(Base::Stored))
        } else {
            self.sequential(st, SeqLayout { codec: SeqCodec::Passthrough, input: SeqInput::Source, end_checks: None })
        }
    }

    /// A sequential layout, with its decoder made in the sequential state.
    pub(super) fn sequential(&self, st: &mut SeqState, layout: SeqLayout) -> Layout {
        st.decoder = SeqDecoder::new(layout.codec, self.config.key.clone(), self.config.is_encrypted);
        st.start_checks(&layout);
        Layout::Sequential(layout)
    }

    /// The first [`MAX_HEADER_LEN`] stored bytes (enough for any version's sealed header;
    /// fewer if the source is shorter). A sequential source keeps them in its input buffer,
    /// where the decoder (or the window) takes them.
    async fn peek_head(&self, st: &mut SeqState, deadline: Option<Duration>) -> Result<Vec<u8>> {
        if self.source.is_random_access() {
            let mut head = vec![0u8; MAX_HEADER_LEN];
            let n = self.source.read_at(0, &mut head).await?;
            self.count(|k| k.stored_bytes_read += n as u64);
            head.truncate(n);
            Ok(head)
        } else {
            self.fill_input_to(&SeqInput::Source, &mut st.input, MAX_HEADER_LEN, deadline).await?;
            st.report(&self.meter);
            let pending = st.input.pending();
            Ok(pending[..pending.len().min(MAX_HEADER_LEN)].to_vec())
        }
    }

    /// NovusPack v1 framing (a key or `isEncrypted` on data that is not sealed), verified before
    /// anything is released; with `isCompressed`, its plaintext is then inflated.
    async fn open_v1(&self, st: &mut SeqState, deadline: Option<Duration>) -> Result<Layout> {
        let c = &self.config;
        let key =
            c.key.clone().ok_or_else(|| err(ErrorCode::KeyRequired, "the data is encrypted: a key is required"))?;
        let base = if self.source.is_random_access() {
            self.verify_v1(key, deadline).await
        } else {
            self.buffer_v1(st, key, deadline).await
        };
        let base = base.map_err(|e| {
            if e.code() == ErrorCode::AuthFailed {
                err(
                    ErrorCode::AuthFailed,
                    "not a sealed file; read as NovusPack v1 ChaCha20-Poly1305 framing (what a key means for unsealed \
                     data) it does not authenticate: wrong key, modified data, or not encrypted",
                )
            } else {
                e
            }
        })?;
        self.set_size(base.len());
        if !c.is_compressed {
            return Ok(Layout::Random(RandomLayout::Direct(base)));
        }
        let mut first = [0u8; 2];
        let n = self.base_read_at(&base, 0, &mut first).await?;
        let format = CompressedFormat::detect(&first[..n]);
        self.set_size(c.size);
        Ok(self.sequential(
            st,
            SeqLayout { codec: SeqCodec::Inflate(format), input: SeqInput::Base(base), end_checks: None },
        ))
    }

    async fn open_indexed(&self, head: &[u8]) -> Result<Layout> {
        let stored_len = self
            .source
            .stored_len()
            .ok_or_else(|| err(ErrorCode::ReadFailed, "random-access source without a length"))?;
        let mut footer = [0u8; FOOTER_LEN];
        let footer_at = stored_len.saturating_sub(FOOTER_LEN as u64);
        let n = if stored_len >= (HEADER_LEN_V1 + FOOTER_LEN) as u64 {
            self.source.read_at(footer_at, &mut footer).await?
        } else {
            0
        };
        self.count(|k| k.stored_bytes_read += n as u64);
        // Checks the key commitment (a wrong key fails here) and the footer against the file's
        // geometry before anything is allocated from it.
        let location = IndexLocation::locate(
            head,
            &footer[..n.min(FOOTER_LEN)],
            stored_len,
            self.config.key.as_ref(),
            self.config.is_encrypted,
        )?;
        let (index_offset, index_len) = location.index_range();
        // Loading holds the record and the chunk offsets at once.
        let peak = location.memory_peak();
        let limit = self.config.memory_limit;
        if limit > 0 && peak > limit {
            return Err(memory_limit(limit, peak, "the sealed index (its record and the chunk offsets)"));
        }
        let mut record = Vec::new();
        record
            .try_reserve_exact(index_len)
            .map_err(|_| err(ErrorCode::MemoryLimit, format!("no memory for the sealed index ({index_len} bytes)")))?;
        record.resize(index_len, 0);
        self.meter.add(peak);
        let read = self.source.read_at(index_offset, &mut record).await;
        let index = match read {
            Ok(read) => {
                self.count(|k| k.stored_bytes_read += read as u64);
                if read == index_len {
                    SealedIndex::load(location, &mut record)
                } else {
                    Err(err(ErrorCode::Truncated, "the source ended inside the sealed index"))
                }
            }
            Err(e) => Err(e),
        };
        drop(record);
        self.meter.sub(peak);
        let index = index?;
        self.meter.add(index.memory_bytes() as u64);
        self.set_size(Some(index.total_len()));
        Ok(Layout::Random(RandomLayout::Indexed(index)))
    }

    fn open_sequential_sealed(&self, st: &mut SeqState, head: &[u8]) -> Result<Layout> {
        let header = Header::parse(head)?;
        // Check key / encryption expectations now rather than at the first read (from version
        // 2, the key commitment: a wrong key fails here, before any chunk).
        ChunkCodec::new(header.clone(), self.config.key.as_ref()).map(drop)?;
        if self.config.is_encrypted && !header.encrypted {
            return Err(err(ErrorCode::NotEncrypted, "encryption was expected but the sealed data is not encrypted"));
        }
        let codec = SeqCodec::Sealed {
            chunk_size: header.chunk_size as usize,
            encrypted: header.encrypted,
            compressed: header.compressed,
        };
        Ok(self.sequential(st, SeqLayout { codec, input: SeqInput::Source, end_checks: None }))
    }

    /// Decodes the first block of a sequential layout at open: a sealed source's first chunk
    /// authenticates the header (and with it the total length), and data guessed to be raw
    /// deflate (it has no magic) that is not fails here as UNKNOWN_FORMAT, not at the first read.
    pub(super) async fn prime(&self, deadline: Option<Duration>) -> Result<()> {
        let Layout::Sequential(layout) = &self.layout else { return Ok(()) };
        let mut st = self.seq.lock().await;
        match layout.codec {
            SeqCodec::Inflate(CompressedFormat::Raw) => {
                // A small first step: enough to tell deflate from something else.
                if let Err(e) = self.decode_step(layout, &mut st, deadline, PRIME_BLOCK).await {
                    let nothing_decoded = st.window.end() == 0;
                    st.release(&self.meter);
                    let data_error = matches!(e.error_type(), ErrorType::Compression | ErrorType::Corruption);
                    if nothing_decoded && data_error {
                        return Err(err(
                            ErrorCode::UnknownFormat,
                            format!("not sealed, gzip or zlib data, and not raw deflate either ({})", e.message()),
                        ));
                    }
                    return Err(e);
                }
            }
            SeqCodec::Sealed { .. } => {
                while st.window.len() == 0 && !st.done {
                    if let Err(e) = self.decode_more(layout, &mut st, deadline).await {
                        st.release(&self.meter);
                        return Err(e);
                    }
                }
                if let SeqDecoder::Opener(opener) = &st.decoder {
                    self.set_size(opener.total_len());
                }
            }
            _ => {}
        }
        Ok(())
    }
}
