//! Reading in order: a sequential layout's decoder turns input (the source read in order, or a
//! random-access base read from a cursor) into a window of decoded bytes, which reads copy from.
//! Bytes before the position are dropped (a little is kept for short backward seeks); a
//! backward seek past them restarts a restartable decoder or fails with `NOT_SEEKABLE`.

use std::time::Duration;

use super::layout::{SeqCodec, SeqDecoder, SeqInput, SeqLayout};
use super::sink::ByteSink;
use super::{err, memory_limit, to_usize, ChunkDecoder, ErrorCode, FileStream, Result, Source, StreamError};
use crate::core::sync::{Gauge, Meter};

/// Decoded bytes of a sequential layout: `buf[head..]` holds logical bytes from `start`.
#[derive(Default)]
pub(super) struct Window {
    pub(super) buf: Vec<u8>,
    head: usize,
    start: u64,
}

impl Window {
    pub(super) fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    pub(super) fn end(&self) -> u64 {
        self.start + self.len() as u64
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    /// Drops bytes before logical offset `keep_from`.
    fn discard_before(&mut self, keep_from: u64) {
        if keep_from <= self.start {
            return;
        }
        let drop = usize::try_from(keep_from - self.start).unwrap_or(usize::MAX).min(self.len());
        self.head += drop;
        self.start += drop as u64;
        if self.head == self.buf.len() {
            self.buf.clear();
            self.head = 0;
        } else if self.head > self.buf.len() / 2 {
            self.buf.drain(..self.head);
            self.head = 0;
        }
    }

    pub(super) fn reset(&mut self, start: u64) {
        self.buf.clear();
        self.head = 0;
        self.start = start;
    }
}

/// A check of a whole stream of bytes, fed them in order and decided at the end (a package
/// entry's CRC-32s and SHA-256).
pub(super) trait WholeCheck {
    fn update(&mut self, bytes: &[u8]);
    fn finish(self: Box<Self>) -> Result<()>;
}

/// Makes the checks of a layout read in order to its end: of its output and, optionally, of
/// its input (fresh ones at every restart from the start).
pub(super) trait EndChecks: Send + Sync {
    fn output(&self) -> Box<dyn WholeCheck + Send + Sync>;
    fn input(&self) -> Option<Box<dyn WholeCheck + Send + Sync>>;
}

/// Stored bytes waiting for a decoder: `buf[pos..len]`.
#[derive(Default)]
pub(super) struct InputBuf {
    pub(super) buf: Vec<u8>,
    pub(super) pos: usize,
    pub(super) len: usize,
    pub(super) eof: bool,
    /// Next offset of a random-access base to read, for decoders over one.
    pub(super) cursor: u64,
    /// Checks every input byte, in order from the first, when the layout asks.
    pub(super) check: Option<Box<dyn WholeCheck + Send + Sync>>,
}

impl InputBuf {
    pub(super) fn pending(&self) -> &[u8] {
        &self.buf[self.pos..self.len]
    }

    fn exhausted(&self) -> bool {
        self.eof && self.pos == self.len
    }
}

/// The position, and the state of a sequential layout's decoding, behind the async mutex.
pub(super) struct SeqState {
    pub(super) position: u64,
    pub(super) decoder: SeqDecoder,
    pub(super) window: Window,
    pub(super) input: InputBuf,
    pub(super) done: bool,
    /// Checks every output byte, in order from the first, when the layout asks.
    pub(super) output_check: Option<Box<dyn WholeCheck + Send + Sync>>,
    /// Where decoding can start besides the beginning (a zstd entry's frames).
    #[cfg(feature = "nvpk")]
    pub(super) frames: super::entry::FrameStarts,
    window_gauge: Gauge,
    input_gauge: Gauge,
}

impl SeqState {
    pub(super) fn new() -> Self {
        SeqState {
            position: 0,
            decoder: SeqDecoder::Passthrough,
            window: Window::default(),
            input: InputBuf::default(),
            done: false,
            output_check: None,
            #[cfg(feature = "nvpk")]
            frames: super::entry::FrameStarts::default(),
            window_gauge: Gauge::default(),
            input_gauge: Gauge::default(),
        }
    }

    pub(super) fn report(&mut self, meter: &Meter) {
        self.window_gauge.set(meter, self.window.buf.capacity() as u64);
        self.input_gauge.set(meter, self.input.buf.capacity() as u64);
    }

    pub(super) fn release(&mut self, meter: &Meter) {
        self.window = Window::default();
        self.input = InputBuf::default();
        self.decoder = SeqDecoder::Passthrough;
        self.output_check = None;
        self.report(meter);
    }

    /// Starts the checks of `layout` (at open, and at each restart from the start).
    pub(super) fn start_checks(&mut self, layout: &SeqLayout) {
        self.output_check = layout.end_checks.as_ref().map(|c| c.output());
        self.input.check = layout.end_checks.as_ref().and_then(|c| c.input());
    }
}

fn not_seekable(offset: u64, earliest: u64) -> StreamError {
    err(
        ErrorCode::NotSeekable,
        format!(
            "cannot go back to offset {offset} on a sequential source: bytes before {earliest} are no longer buffered"
        ),
    )
    .with_offset(offset)
}

impl<S: Source, D: ChunkDecoder> FileStream<S, D> {
    /// Writes logical bytes at `offset` into `sink[at..at + len]` from the window, decoding more
    /// as needed; returns how many (0 at the end). `moving` reads are the sequential reader's
    /// own; others (read_at) keep the bytes from the position on, so the reader can still get them.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn read_sequential<K: ByteSink<D::Chunk> + ?Sized>(
        &self,
        layout: &SeqLayout,
        st: &mut SeqState,
        offset: u64,
        sink: &mut K,
        at: usize,
        len: usize,
        moving: bool,
        deadline: Option<Duration>,
    ) -> Result<usize> {
        loop {
            self.check(deadline)?;
            if offset >= st.window.start && offset < st.window.end() {
                let from = to_usize(offset - st.window.start);
                let bytes = &st.window.bytes()[from..];
                let n = len.min(bytes.len());
                sink.put(at, &bytes[..n]);
                return Ok(n);
            }
            if offset < st.window.start {
                self.restart(layout, st, offset)?;
                continue;
            }
            if st.done {
                return Ok(0);
            }
            #[cfg(feature = "nvpk")]
            if self.skip_to_frame(layout, st, offset) {
                continue;
            }
            let keep_from = if moving || layout.restartable() { offset } else { offset.min(st.position) };
            st.window.discard_before(keep_from.saturating_sub(self.lookback));
            self.decode_more(layout, st, deadline).await?;
        }
    }

    /// Decodes up to `offset` (a seek), so a seek past the end fails here, not later.
    pub(super) async fn seek_sequential(
        &self,
        layout: &SeqLayout,
        st: &mut SeqState,
        offset: u64,
        deadline: Option<Duration>,
    ) -> Result<()> {
        if offset < st.window.start && !layout.restartable() {
            return Err(not_seekable(offset, st.window.start));
        }
        let mut probe = [0u8; 1];
        let n = self.read_sequential(layout, st, offset, &mut probe[..], 0, 1, true, deadline).await?;
        if n == 0 {
            self.check_offset(offset)?;
        }
        Ok(())
    }

    /// Restarts decoding for a read at `target` before the window: from the start, or from
    /// the nearest known frame before `target` (a zstd entry).
    fn restart(&self, layout: &SeqLayout, st: &mut SeqState, target: u64) -> Result<()> {
        if !layout.restartable() {
            return Err(not_seekable(st.position, st.window.start));
        }
        #[cfg(feature = "nvpk")]
        if self.restart_at_frame(layout, st, target) {
            return Ok(());
        }
        let _ = target;
        st.decoder = SeqDecoder::new(layout.codec, self.config.key.clone(), self.config.is_encrypted);
        st.window.reset(0);
        st.input = InputBuf { buf: std::mem::take(&mut st.input.buf), ..InputBuf::default() };
        st.done = false;
        st.start_checks(layout);
        Ok(())
    }

    /// Adds the next block of decoded bytes to the window (or marks the end).
    pub(super) async fn decode_more(
        &self,
        layout: &SeqLayout,
        st: &mut SeqState,
        deadline: Option<Duration>,
    ) -> Result<()> {
        self.decode_step(layout, st, deadline, self.block_size()).await
    }

    /// [`Self::decode_more`] adding at most `block` bytes.
    pub(super) async fn decode_step(
        &self,
        layout: &SeqLayout,
        st: &mut SeqState,
        deadline: Option<Duration>,
        block: usize,
    ) -> Result<()> {
        let needed = st.window.len() as u64 + block as u64;
        if needed > self.retention_limit {
            return Err(memory_limit(
                self.retention_limit,
                needed,
                "keeping the bytes between the position and a read ahead of it on a sequential source",
            ));
        }
        let SeqState { decoder, window, input, output_check, .. } = &mut *st;
        let from = window.buf.len();
        let done = match decoder {
            SeqDecoder::Passthrough => {
                // Read into a pooled buffer (counted like every other layout's), then keep it.
                let mut buf = self.buffer(block)?;
                let n = self.source.read_next(&mut buf[..block]).await;
                // A close while waiting wins over whatever the cancelled source returned.
                let n = self.check(deadline).and(n)?;
                window.buf.extend_from_slice(&buf[..n]);
                self.count(|k| {
                    k.stored_bytes_read += n as u64;
                    k.chunks_read += u64::from(n > 0);
                });
                n == 0
            }
            SeqDecoder::Opener(opener) => {
                self.ensure_input(&layout.input, input, deadline).await?;
                let p = opener.update(input.pending(), &mut window.buf)?;
                if input.exhausted() && !p.done && p.produced == 0 {
                    opener.finish()?;
                }
                if p.produced > 0 {
                    self.count(|k| {
                        k.chunks_read += 1;
                        k.decrypted_bytes += p.produced as u64;
                    });
                }
                input.pos += p.consumed;
                p.done || opener.is_done()
            }
            SeqDecoder::Inflater(inflater) => {
                self.ensure_input(&layout.input, input, deadline).await?;
                let at_end = input.exhausted();
                let len = window.buf.len();
                window.buf.resize(len + block, 0);
                let p = match inflater.update(input.pending(), &mut window.buf[len..]) {
                    Ok(p) => p,
                    Err(e) => {
                        window.buf.truncate(len);
                        return Err(e);
                    }
                };
                window.buf.truncate(len + p.produced);
                if at_end && !p.done && p.produced == 0 {
                    inflater.finish()?;
                }
                self.count(|k| {
                    k.decompressed_bytes += p.produced as u64;
                    k.chunks_read += u64::from(p.produced > 0);
                });
                input.pos += p.consumed;
                p.done || (at_end && p.produced == 0)
            }
            #[cfg(feature = "nvpk")]
            SeqDecoder::Entry(entry) => {
                self.ensure_input(&layout.input, input, deadline).await?;
                let at_end = input.exhausted();
                let len = window.buf.len();
                window.buf.resize(len + block, 0);
                let p = match entry.update(input.pending(), &mut window.buf[len..]) {
                    Ok(p) => p,
                    Err(e) => {
                        window.buf.truncate(len);
                        return Err(e);
                    }
                };
                window.buf.truncate(len + p.produced);
                if at_end && p.produced == 0 {
                    entry.finish()?;
                }
                self.count(|k| {
                    k.decompressed_bytes += p.produced as u64;
                    k.chunks_read += u64::from(p.produced > 0);
                });
                input.pos += p.consumed;
                at_end && p.produced == 0
            }
        };
        if let Some(check) = output_check.as_mut() {
            check.update(&window.buf[from..]);
        }
        if done && !matches!(decoder, SeqDecoder::Passthrough) {
            self.expect_end(&layout.input, input, window.end(), deadline).await?;
        }
        if done {
            // Read in order to the end: the whole-stream checks decide now.
            if let Some(check) = input.check.take() {
                check.finish()?;
            }
            if let Some(check) = output_check.take() {
                check.finish()?;
            }
        }
        st.done = done;
        st.report(&self.meter);
        self.check_declared_size(layout, st)?;
        Ok(())
    }

    /// Checks a sequential layout's length against the declared size, and records the size
    /// once the end is reached.
    fn check_declared_size(&self, layout: &SeqLayout, st: &SeqState) -> Result<()> {
        let end = st.window.end();
        let declared = match layout.codec {
            SeqCodec::Sealed { .. } => {
                if let SeqDecoder::Opener(opener) = &st.decoder {
                    self.set_size(opener.total_len());
                }
                return Ok(());
            }
            SeqCodec::Passthrough => self.config.size.or(self.source.stored_len()),
            SeqCodec::Inflate(_) => self.config.size,
            #[cfg(feature = "nvpk")]
            SeqCodec::Entry { .. } => None,
        };
        if let Some(declared) = declared {
            if end > declared || (st.done && end != declared) {
                return Err(err(
                    ErrorCode::SizeMismatch,
                    format!(
                        "the data is {} bytes but {declared} were declared",
                        if st.done { end.to_string() } else { format!("more than {end}") }
                    ),
                )
                .with_field("size")
                .with_expected(declared.to_string()));
            }
        }
        if st.done {
            self.set_size(Some(end));
        }
        Ok(())
    }

    /// After a decoder finished at logical offset `end`: nothing may follow in the input.
    async fn expect_end(
        &self,
        source: &SeqInput,
        input: &mut InputBuf,
        end: u64,
        deadline: Option<Duration>,
    ) -> Result<()> {
        self.ensure_input(source, input, deadline).await?;
        if input.pos < input.len {
            return Err(err(ErrorCode::Corrupted, "data follows the end of the encoded stream").with_offset(end));
        }
        Ok(())
    }

    /// Reads more stored bytes when none are pending.
    async fn ensure_input(&self, source: &SeqInput, input: &mut InputBuf, deadline: Option<Duration>) -> Result<()> {
        if input.pos == input.len && !input.eof {
            input.pos = 0;
            input.len = 0;
            self.fill_input_to(source, input, 1, deadline).await?;
        }
        Ok(())
    }

    /// Makes the input buffer hold at least `want` pending bytes, unless the input ends (the
    /// caller reports the buffer's new size to the meter).
    pub(super) async fn fill_input_to(
        &self,
        source: &SeqInput,
        input: &mut InputBuf,
        want: usize,
        deadline: Option<Duration>,
    ) -> Result<()> {
        if input.pos > 0 {
            input.buf.copy_within(input.pos..input.len, 0);
            input.len -= input.pos;
            input.pos = 0;
        }
        while input.len < want && !input.eof {
            self.check(deadline)?;
            let capacity = want.max(self.buffer_size).max(input.len + 1);
            if input.buf.len() < capacity {
                input.buf.resize(capacity, 0);
            }
            let len = input.len;
            let n = match source {
                SeqInput::Base(base) => {
                    let n = self.base_read_at(base, input.cursor, &mut input.buf[len..]).await?;
                    input.cursor += n as u64;
                    if let Some(check) = input.check.as_mut() {
                        check.update(&input.buf[len..len + n]);
                    }
                    n
                }
                SeqInput::Source => {
                    let n = self.source.read_next(&mut input.buf[len..]).await;
                    self.check(deadline)?;
                    let n = n?;
                    self.count(|k| k.stored_bytes_read += n as u64);
                    n
                }
            };
            input.len += n;
            if n == 0 {
                input.eof = true;
            }
        }
        Ok(())
    }
}
