//! zstd entries: one or more RFC 8878 frames, skippable frames ignored.
//!
//! * [`ZstdDecoder`]: push-style (the shape of [`Inflater`](crate::core::compress::Inflater))
//!   over structured-zstd's block-level decoder. Input arrives in any pieces; a block that is
//!   not whole yet waits in a buffer of at most one block (128 KiB). Memory is the frame's
//!   window plus one block, checked against the memory limit from the frame header before
//!   anything is allocated (`MEMORY_LIMIT`); output past the entry's OriginalSize is
//!   `OUTPUT_LIMIT` (a bomb). Content checksums and declared content sizes are verified.
//! * [`FrameTable`]: where each frame starts, in the compressed and (when known) the
//!   decompressed stream, so random access can start at the nearest frame. It comes from a
//!   decoding pass ([`ZstdDecoder::frames`]) or from the seekable format's seek table
//!   ([`parse_seek_table`]), which [`zstd_compress`] writes.

use structured_zstd::decoding::{ContentChecksum, FrameDecoder};
use structured_zstd::encoding::{compress_slice_to_vec, CompressionLevel};

use super::frame_input::{FrameInput, SKIPPABLE_MAGIC, SKIPPABLE_MASK};
use super::fuse::Fuse;
use super::{le_u32, le_u64};
use crate::core::compress::Progress;
use crate::core::error::{err, ErrorCode, Result, StreamError};

/// The zstd frame magic.
const FRAME_MAGIC: u32 = 0xFD2F_B528;
/// Skippable frames: 0x184D2A50 ..= 0x184D2A5F.
/// The seek table's skippable frame magic, and the seekable format's footer magic.
const SEEK_TABLE_MAGIC: u32 = 0x184D_2A5E;
const SEEKABLE_MAGIC: u32 = 0x8F92_EAB1;
/// Length of the seek table footer: frame count u32, descriptor u8, magic u32.
pub const SEEK_TABLE_FOOTER_LEN: usize = 9;
/// Largest block (RFC 8878 Block_Maximum_Size).
const MAX_BLOCK: u64 = 128 << 10;
/// Bytes of decompressed input per frame that [`zstd_compress`] writes.
const WRITE_FRAME_LEN: usize = 1 << 20;

/// One frame of a zstd stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Offset of the frame in the compressed stream.
    pub compressed_offset: u64,
    /// Compressed length (the whole frame, checksum included), when known.
    pub compressed_len: Option<u64>,
    /// Offset of the frame's output in the decompressed stream, when known.
    pub decompressed_offset: Option<u64>,
    /// The frame's decompressed length, when known (from its header, a decoding pass or a seek
    /// table).
    pub decompressed_len: Option<u64>,
}

/// The frames of a zstd stream, in order (skippable frames are not listed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameTable {
    /// The frames.
    pub frames: Vec<FrameInfo>,
}

impl FrameTable {
    /// The last frame that starts at or before decompressed `offset` and whose decompressed
    /// start is known: decoding from there reaches `offset` soonest.
    pub fn frame_for(&self, offset: u64) -> Option<&FrameInfo> {
        self.frames.iter().rev().find(|f| f.decompressed_offset.is_some_and(|start| start <= offset))
    }
}

/// A zstd frame header (RFC 8878 §3.1.1.1).
#[derive(Clone, Copy, Debug)]
struct FrameHeader {
    len: usize,
    window: u64,
    content_size: Option<u64>,
}

/// The frame header at `b` (after the magic has been checked): `None` until `b` holds all of
/// it.
fn parse_frame_header(b: &[u8], at: u64) -> Result<Option<FrameHeader>> {
    let Some(&fhd) = b.get(4) else { return Ok(None) };
    let fcs_flag = fhd >> 6;
    let single = fhd & 0x20 != 0;
    if fhd & 0x08 != 0 {
        return Err(invalid("a zstd frame header sets its reserved bit", at));
    }
    let did_len = [0, 1, 2, 4][usize::from(fhd & 3)];
    let fcs_len = match fcs_flag {
        0 if single => 1,
        0 => 0,
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let len = 5 + usize::from(!single) + did_len + fcs_len;
    if b.len() < len {
        return Ok(None);
    }
    let mut pos = 5;
    let mut window = 0;
    if !single {
        let wd = b[pos];
        let log = 10 + u32::from(wd >> 3);
        let base = 1u64 << log;
        window = base + (base / 8) * u64::from(wd & 7);
        pos += 1;
    }
    let did = match did_len {
        0 => 0,
        1 => u32::from(b[pos]),
        2 => u32::from(u16::from_le_bytes([b[pos], b[pos + 1]])),
        _ => le_u32(b, pos),
    };
    if did != 0 {
        return Err(err(ErrorCode::UnsupportedAlgorithm, "zstd frames that need a dictionary are not supported")
            .with_offset(at));
    }
    pos += did_len;
    let content_size = match fcs_len {
        0 => None,
        1 => Some(u64::from(b[pos])),
        2 => Some(u64::from(u16::from_le_bytes([b[pos], b[pos + 1]])) + 256),
        4 => Some(u64::from(le_u32(b, pos))),
        _ => Some(le_u64(b, pos)),
    };
    if single {
        window = content_size.unwrap_or(0);
    }
    Ok(Some(FrameHeader { len, window, content_size }))
}

fn invalid(what: &str, at: u64) -> StreamError {
    err(ErrorCode::InvalidData, format!("invalid zstd data: {what}")).with_offset(at)
}

fn map_decoder_error(e: impl std::fmt::Display, at: u64) -> StreamError {
    let text = e.to_string();
    let code = if text.to_ascii_lowercase().contains("checksum") {
        ErrorCode::ChecksumMismatch
    } else {
        ErrorCode::InvalidData
    };
    err(code, format!("invalid zstd data: {text}")).with_offset(at)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Before a frame's magic (between frames).
    Magic,
    /// Collecting a zstd frame header.
    Header,
    /// Collecting a skippable frame's length field.
    SkipLen,
    /// Skipping a skippable frame's content.
    Skip(u64),
    /// Inside a frame's blocks (and checksum).
    Blocks,
}

/// Push-style zstd decoder.
pub struct ZstdDecoder {
    decoder: FrameDecoder,
    stage: Stage,
    input: FrameInput,
    output_limit: u64,
    memory_limit: u64,
    total_out: u64,
    frame_out: u64,
    frames: FrameTable,
    fuse: Fuse,
}

impl std::fmt::Debug for ZstdDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZstdDecoder").field("stage", &self.stage).field("total_out", &self.total_out).finish()
    }
}

impl ZstdDecoder {
    /// A decoder that refuses to produce more than `output_limit` bytes (`OUTPUT_LIMIT`) and
    /// frames whose window needs more than `memory_limit` bytes (`MEMORY_LIMIT`).
    pub fn new(output_limit: u64, memory_limit: u64) -> Self {
        let mut decoder = FrameDecoder::new();
        decoder.set_content_checksum(ContentChecksum::Verify);
        ZstdDecoder {
            decoder,
            stage: Stage::Magic,
            input: FrameInput::default(),
            output_limit,
            memory_limit,
            total_out: 0,
            frame_out: 0,
            frames: FrameTable::default(),
            fuse: Fuse::new("zstd"),
        }
    }

    /// Total bytes produced.
    pub fn total_out(&self) -> u64 {
        self.total_out
    }

    /// True when the input so far ends at a frame boundary after at least one frame (more
    /// frames may follow).
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Magic
            && self.input.pending.is_empty()
            && !self.frames.frames.is_empty()
            && !self.fuse.blown()
    }

    /// The frames seen so far, offsets relative to where this decoder started.
    pub fn frames(&self) -> &FrameTable {
        &self.frames
    }

    /// End of input: `TRUNCATED` inside a frame or before any frame.
    pub fn finish(&self) -> Result<()> {
        self.fuse.check()?;
        if self.is_done() {
            return Ok(());
        }
        Err(err(ErrorCode::Truncated, "the zstd stream ends inside a frame").with_offset(self.input.total_in))
    }

    /// Decodes as much of `input` into `out` as fits; call again with the unconsumed input
    /// (and more) until the input ends, then [`ZstdDecoder::finish`]. `done` is set at each
    /// frame boundary, as more frames may follow.
    pub fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress> {
        self.fuse.check()?;
        let r = self.update_inner(input, out);
        self.fuse.record(r)
    }

    fn update_inner(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress> {
        let mut p = Progress::default();
        loop {
            let rest = &input[p.consumed..];
            match self.stage {
                Stage::Magic => {
                    if rest.is_empty() && self.input.pending.is_empty() {
                        p.done = !self.frames.frames.is_empty();
                        return Ok(p);
                    }
                    if !self.input.fill(rest, 4, &mut p) {
                        return Ok(p);
                    }
                    let magic = le_u32(&self.input.pending, 0);
                    if magic == FRAME_MAGIC {
                        self.stage = Stage::Header;
                    } else if magic & SKIPPABLE_MASK == SKIPPABLE_MAGIC {
                        self.stage = Stage::SkipLen;
                    } else {
                        return Err(err(ErrorCode::BadMagic, "not a zstd frame (bad magic)")
                            .with_offset(self.input.step_start()));
                    }
                }
                Stage::SkipLen => {
                    let Some(len) = self.input.skippable_len(rest, &mut p) else { return Ok(p) };
                    self.stage = Stage::Skip(len);
                }
                Stage::Skip(left) => {
                    let left = self.input.skip(left, rest, &mut p);
                    if left > 0 {
                        self.stage = Stage::Skip(left);
                        return Ok(p);
                    }
                    self.stage = Stage::Magic;
                }
                Stage::Header => {
                    let at = self.input.step_start();
                    let header = loop {
                        if let Some(h) = parse_frame_header(&self.input.pending, at)? {
                            break h;
                        }
                        let need = self.input.pending.len() + 1;
                        if !self.input.fill(&input[p.consumed..], need, &mut p) {
                            return Ok(p);
                        }
                    };
                    self.start_frame(header, at)?;
                }
                Stage::Blocks => {
                    if self.deliver(out, &mut p)? {
                        return Ok(p);
                    }
                    if self.decoder.is_finished() {
                        self.end_frame()?;
                        continue;
                    }
                    let rest = &input[p.consumed..];
                    if self.input.pending.is_empty() {
                        let need = self.decoder.input_needed(rest);
                        if need > 0 && rest.len() >= need {
                            // The whole step is in the input: no copy.
                            let (read, written) = self.decode(&rest[..need], out, &p)?;
                            p.consumed += read;
                            self.input.total_in += read as u64;
                            self.account(written, &mut p)?;
                            if read == 0 && written == 0 {
                                return Err(invalid("a block was not decoded whole", self.input.total_in));
                            }
                            continue;
                        }
                    }
                    let need = self.decoder.input_needed(&self.input.pending);
                    if need == 0 {
                        // The decoder wants nothing more, yet the frame is not over.
                        return Err(invalid("the frame cannot make progress", self.input.total_in));
                    }
                    if self.input.pending.len() >= need {
                        let step = std::mem::take(&mut self.input.pending);
                        let (read, written) = self.decode(&step, out, &p)?;
                        if read != step.len() {
                            return Err(invalid("a block was not decoded whole", self.input.total_in));
                        }
                        self.account(written, &mut p)?;
                    } else if !self.input.fill(rest, need, &mut p) {
                        return Ok(p);
                    }
                    // Filled up to what the step needed so far; a block header, once whole,
                    // may ask for more.
                }
            }
        }
    }

    fn start_frame(&mut self, h: FrameHeader, at: u64) -> Result<()> {
        let need = h.window.saturating_add(MAX_BLOCK);
        if need > self.memory_limit {
            return Err(err(
                ErrorCode::MemoryLimit,
                format!(
                    "a zstd frame needs a {} byte window, past the memory limit of {}",
                    h.window, self.memory_limit
                ),
            )
            .with_offset(at));
        }
        let ceiling = self.memory_limit.clamp(1 << 10, structured_zstd::decoding::MAX_DECODER_WINDOW_SIZE);
        self.decoder.set_max_window_size(ceiling).map_err(|e| map_decoder_error(e, at))?;
        let header = std::mem::take(&mut self.input.pending);
        self.decoder.reset(&header[..h.len]).map_err(|e| map_decoder_error(e, at))?;
        self.frames.frames.push(FrameInfo {
            compressed_offset: at,
            compressed_len: None,
            decompressed_offset: Some(self.total_out),
            decompressed_len: h.content_size,
        });
        self.frame_out = 0;
        self.stage = Stage::Blocks;
        Ok(())
    }

    fn end_frame(&mut self) -> Result<()> {
        let end = self.input.total_in;
        let frame = self.frames.frames.last_mut().expect("a frame is open");
        if frame.decompressed_len.is_some_and(|n| n != self.frame_out) {
            return Err(err(ErrorCode::Corrupted, "a zstd frame's content size disagrees with its data")
                .with_offset(frame.compressed_offset));
        }
        frame.compressed_len = Some(end - frame.compressed_offset);
        frame.decompressed_len = Some(self.frame_out);
        self.stage = Stage::Magic;
        Ok(())
    }

    /// One decode step into `out` past what this call produced, limited so that a bomb shows.
    fn decode(&mut self, source: &[u8], out: &mut [u8], p: &Progress) -> Result<(usize, usize)> {
        let room = self.room(out.len() - p.produced);
        let at = self.input.total_in;
        self.decoder
            .decode_from_to(source, &mut out[p.produced..p.produced + room])
            .map_err(|e| map_decoder_error(e, at))
    }

    /// Drains decoded output still buffered; true when `out` is full.
    fn deliver(&mut self, out: &mut [u8], p: &mut Progress) -> Result<bool> {
        if p.produced == out.len() {
            return Ok(true);
        }
        if self.decoder.can_collect() > 0 {
            let (_, written) = self.decode(&[], out, p)?;
            self.account(written, p)?;
            return Ok(p.produced == out.len());
        }
        Ok(false)
    }

    /// Output room: one byte past the limit, so that exceeding it is seen.
    fn room(&self, available: usize) -> usize {
        let left = self.output_limit.saturating_sub(self.total_out).saturating_add(1);
        available.min(usize::try_from(left).unwrap_or(usize::MAX))
    }

    fn account(&mut self, written: usize, p: &mut Progress) -> Result<()> {
        self.total_out += written as u64;
        self.frame_out += written as u64;
        p.produced += written;
        if self.total_out > self.output_limit {
            return Err(err(
                ErrorCode::OutputLimit,
                format!("the zstd data decodes past the entry's size of {} bytes", self.output_limit),
            ));
        }
        Ok(())
    }
}

/// Length of the seekable format's seek table frame, from the last
/// [`SEEK_TABLE_FOOTER_LEN`] bytes of a zstd stream; `None` when they are not a seek table
/// footer.
pub fn seek_table_len(footer: &[u8]) -> Option<u64> {
    let f = footer.last_chunk::<SEEK_TABLE_FOOTER_LEN>()?;
    if le_u32(f, 5) != SEEKABLE_MAGIC || f[4] & 0x7C != 0 {
        return None;
    }
    let entry = if f[4] & 0x80 != 0 { 12 } else { 8 };
    Some(8 + u64::from(le_u32(f, 0)) * entry + SEEK_TABLE_FOOTER_LEN as u64)
}

/// The frame table of a seekable zstd stream from its seek table frame (`table`, exactly
/// [`seek_table_len`] bytes, the end of a stream of `stream_len` bytes). `CORRUPTED` when the
/// frames it lists do not fill the stream before it.
pub fn parse_seek_table(table: &[u8], stream_len: u64) -> Result<FrameTable> {
    let bad = |what: &str| err(ErrorCode::Corrupted, format!("zstd seek table: {what}"));
    let len = seek_table_len(table).ok_or_else(|| bad("no seekable footer"))?;
    if len != table.len() as u64 {
        return Err(bad("its length disagrees with its frame count"));
    }
    if le_u32(table, 0) != SEEK_TABLE_MAGIC || u64::from(le_u32(table, 4)) + 8 != len {
        return Err(bad("not a seek table skippable frame"));
    }
    let footer = &table[table.len() - SEEK_TABLE_FOOTER_LEN..];
    let entry = if footer[4] & 0x80 != 0 { 12 } else { 8 };
    let mut frames = Vec::new();
    let (mut c, mut d) = (0u64, 0u64);
    for e in table[8..table.len() - SEEK_TABLE_FOOTER_LEN].chunks_exact(entry) {
        let (cl, dl) = (u64::from(le_u32(e, 0)), u64::from(le_u32(e, 4)));
        frames.push(FrameInfo {
            compressed_offset: c,
            compressed_len: Some(cl),
            decompressed_offset: Some(d),
            decompressed_len: Some(dl),
        });
        c += cl;
        d += dl;
    }
    if c.checked_add(len) != Some(stream_len) {
        return Err(bad("its frames do not fill the stream"));
    }
    Ok(FrameTable { frames })
}

/// Compresses `data` as the zstd seekable format: independent frames of 1 MiB of input at
/// `level` (1..=22; 0 = 3), then the seek table, so a reader can start at any frame.
pub fn zstd_compress(data: &[u8], level: u8) -> Result<Vec<u8>> {
    if level > 22 {
        return Err(StreamError::invalid("compressionLevel", level, "a zstd level from 0 to 22"));
    }
    let level = if level == 0 { 3 } else { i32::from(level) };
    let mut out = Vec::with_capacity(data.len() / 3 + 64);
    let mut table = Vec::new();
    let chunks: Vec<&[u8]> = if data.is_empty() { vec![data] } else { data.chunks(WRITE_FRAME_LEN).collect() };
    for chunk in chunks {
        let frame = compress_slice_to_vec(chunk, CompressionLevel::Level(level));
        let (Ok(cl), Ok(dl)) = (u32::try_from(frame.len()), u32::try_from(chunk.len())) else {
            return Err(err(ErrorCode::InvalidArgument, "a zstd frame is too large for the seek table"));
        };
        table.extend_from_slice(&cl.to_le_bytes());
        table.extend_from_slice(&dl.to_le_bytes());
        out.extend_from_slice(&frame);
    }
    let count = u32::try_from(table.len() / 8)
        .map_err(|_| err(ErrorCode::InvalidArgument, "too many zstd frames for the seek table"))?;
    let frame_len = u32::try_from(table.len() + SEEK_TABLE_FOOTER_LEN)
        .map_err(|_| err(ErrorCode::InvalidArgument, "the zstd seek table is too large"))?;
    out.extend_from_slice(&SEEK_TABLE_MAGIC.to_le_bytes());
    out.extend_from_slice(&frame_len.to_le_bytes());
    out.extend_from_slice(&table);
    out.extend_from_slice(&count.to_le_bytes());
    out.push(0);
    out.extend_from_slice(&SEEKABLE_MAGIC.to_le_bytes());
    Ok(out)
}
