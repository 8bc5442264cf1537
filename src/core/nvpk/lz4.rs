//! LZ4 entries: the LZ4 frame format (one or more frames, skippable frames ignored), with
//! `lz4_flex`'s block codec and the frame format written here.
//!
//! [`Lz4Decoder`] is push-style: a block that is not whole yet waits in a buffer of at most
//! the frame's block maximum (64 KiB to 4 MiB, checked against the memory limit before it is
//! allocated), linked blocks decode against the previous 64 KiB of output, and header, block
//! and content checksums (xxHash32) and the declared content size are verified. Output past
//! the entry's OriginalSize is `OUTPUT_LIMIT`. [`lz4_compress`] writes one frame of
//! independent 4 MiB blocks with the content size and checksum, as the `lz4` tool does.

use std::hash::Hasher as _;

use twox_hash::XxHash32;

use super::frame_input::{FrameInput, SKIPPABLE_MAGIC, SKIPPABLE_MASK};
use super::fuse::Fuse;
use super::le_u32;
use crate::core::compress::Progress;
use crate::core::error::{err, ErrorCode, Result, StreamError};

const FRAME_MAGIC: u32 = 0x184D_2204;
const LEGACY_MAGIC: u32 = 0x184C_2102;
/// Linked blocks see this much of the output before them.
const DICT_LEN: usize = 64 << 10;
/// Block size the writer uses (BD 7).
const WRITE_BLOCK: usize = 4 << 20;

fn invalid(what: &str, at: u64) -> StreamError {
    err(ErrorCode::InvalidData, format!("invalid LZ4 data: {what}")).with_offset(at)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Magic,
    Descriptor,
    SkipLen,
    Skip(u64),
    BlockSize,
    /// Collecting a block of this stored size (and its checksum when the frame has them).
    Block {
        len: usize,
        raw: bool,
    },
    ContentChecksum,
}

/// The descriptor of the frame being decoded.
#[derive(Clone, Copy, Debug)]
struct Frame {
    independent: bool,
    block_checksum: bool,
    content_checksum: bool,
    content_size: Option<u64>,
    block_max: usize,
    start: u64,
}

/// Push-style LZ4 frame decoder.
pub struct Lz4Decoder {
    stage: Stage,
    frame: Option<Frame>,
    input: FrameInput,
    /// Decoded output not yet handed out: `decoded[delivered..]`.
    decoded: Vec<u8>,
    delivered: usize,
    /// The last 64 KiB of output, for linked blocks.
    dict: Vec<u8>,
    hasher: XxHash32,
    frame_out: u64,
    frames: u64,
    output_limit: u64,
    memory_limit: u64,
    total_out: u64,
    fuse: Fuse,
}

impl std::fmt::Debug for Lz4Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lz4Decoder").field("stage", &self.stage).field("total_out", &self.total_out).finish()
    }
}

impl Lz4Decoder {
    /// A decoder that refuses to produce more than `output_limit` bytes (`OUTPUT_LIMIT`) and
    /// block sizes that need more than `memory_limit` bytes (`MEMORY_LIMIT`).
    pub fn new(output_limit: u64, memory_limit: u64) -> Self {
        Lz4Decoder {
            stage: Stage::Magic,
            frame: None,
            input: FrameInput::default(),
            decoded: Vec::new(),
            delivered: 0,
            dict: Vec::new(),
            hasher: XxHash32::with_seed(0),
            frame_out: 0,
            frames: 0,
            output_limit,
            memory_limit,
            total_out: 0,
            fuse: Fuse::new("LZ4"),
        }
    }

    /// Total bytes produced.
    pub fn total_out(&self) -> u64 {
        self.total_out
    }

    /// True when the input so far ends after a whole frame and all output is handed out.
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Magic
            && self.frames > 0
            && self.input.pending.is_empty()
            && self.delivered == self.decoded.len()
            && !self.fuse.blown()
    }

    /// End of input: `TRUNCATED` inside a frame or before any frame.
    pub fn finish(&self) -> Result<()> {
        self.fuse.check()?;
        if self.stage == Stage::Magic && self.frames > 0 && self.input.pending.is_empty() {
            return Ok(());
        }
        Err(err(ErrorCode::Truncated, "the LZ4 stream ends inside a frame").with_offset(self.input.total_in))
    }

    /// Decodes as much of `input` into `out` as fits; call again with the unconsumed input
    /// (and more) until the input ends, then [`Lz4Decoder::finish`].
    pub fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress> {
        self.fuse.check()?;
        let r = self.update_inner(input, out);
        self.fuse.record(r)
    }

    fn update_inner(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress> {
        let mut p = Progress::default();
        loop {
            // Decoded bytes go out first.
            if self.delivered < self.decoded.len() {
                let n = (self.decoded.len() - self.delivered).min(out.len() - p.produced);
                out[p.produced..p.produced + n].copy_from_slice(&self.decoded[self.delivered..self.delivered + n]);
                self.delivered += n;
                p.produced += n;
                if self.delivered < self.decoded.len() {
                    return Ok(p);
                }
            }
            let rest = &input[p.consumed..];
            match self.stage {
                Stage::Magic => {
                    if rest.is_empty() && self.input.pending.is_empty() {
                        p.done = self.frames > 0;
                        return Ok(p);
                    }
                    if !self.input.fill(rest, 4, &mut p) {
                        return Ok(p);
                    }
                    let magic = le_u32(&self.input.pending, 0);
                    let at = self.input.step_start();
                    if magic == FRAME_MAGIC {
                        self.stage = Stage::Descriptor;
                    } else if magic & SKIPPABLE_MASK == SKIPPABLE_MAGIC {
                        self.stage = Stage::SkipLen;
                    } else if magic == LEGACY_MAGIC {
                        return Err(err(
                            ErrorCode::UnsupportedAlgorithm,
                            "the legacy LZ4 frame format is not supported",
                        )
                        .with_offset(at));
                    } else {
                        return Err(err(ErrorCode::BadMagic, "not an LZ4 frame (bad magic)").with_offset(at));
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
                Stage::Descriptor => {
                    // Magic, FLG, BD, then the optional fields and the header checksum.
                    if !self.input.fill(rest, 6, &mut p) {
                        return Ok(p);
                    }
                    let flg = self.input.pending[4];
                    let len = 7 + if flg & 0x08 != 0 { 8 } else { 0 } + if flg & 0x01 != 0 { 4 } else { 0 };
                    if !self.input.fill(&input[p.consumed..], len, &mut p) {
                        return Ok(p);
                    }
                    self.start_frame(len)?;
                }
                Stage::BlockSize => {
                    if !self.input.fill(rest, 4, &mut p) {
                        return Ok(p);
                    }
                    let word = le_u32(&self.input.pending, 0);
                    self.input.pending.clear();
                    let frame = self.frame.expect("inside a frame");
                    if word == 0 {
                        self.stage = if frame.content_checksum { Stage::ContentChecksum } else { Stage::Magic };
                        if !frame.content_checksum {
                            self.end_frame()?;
                        }
                        continue;
                    }
                    let len = (word & 0x7FFF_FFFF) as usize;
                    if len > frame.block_max {
                        return Err(invalid(
                            "a block is larger than the frame's block maximum",
                            self.input.total_in - 4,
                        ));
                    }
                    self.stage = Stage::Block { len, raw: word & 0x8000_0000 != 0 };
                }
                Stage::Block { len, raw } => {
                    let frame = self.frame.expect("inside a frame");
                    let whole = len + if frame.block_checksum { 4 } else { 0 };
                    if self.input.pending.is_empty() && rest.len() >= whole {
                        // The whole block is in the input: no copy.
                        p.consumed += whole;
                        self.input.total_in += whole as u64;
                        self.block(&rest[..whole], len, raw)?;
                    } else {
                        if !self.input.fill(rest, whole, &mut p) {
                            return Ok(p);
                        }
                        let block = std::mem::take(&mut self.input.pending);
                        self.block(&block, len, raw)?;
                        self.input.pending = block;
                        self.input.pending.clear();
                    }
                    self.stage = Stage::BlockSize;
                }
                Stage::ContentChecksum => {
                    if !self.input.fill(rest, 4, &mut p) {
                        return Ok(p);
                    }
                    let expected = le_u32(&self.input.pending, 0);
                    self.input.pending.clear();
                    if self.hasher.finish_32() != expected {
                        return Err(err(ErrorCode::ChecksumMismatch, "the LZ4 content checksum does not match")
                            .with_offset(self.input.total_in - 4));
                    }
                    self.end_frame()?;
                }
            }
        }
    }

    fn start_frame(&mut self, len: usize) -> Result<()> {
        let at = self.input.step_start();
        let d = std::mem::take(&mut self.input.pending);
        let (flg, bd) = (d[4], d[5]);
        if flg >> 6 != 1 {
            return Err(err(ErrorCode::UnsupportedVersion, "an LZ4 frame of an unknown version").with_offset(at + 4));
        }
        if flg & 0x02 != 0 || bd & 0x8F != 0 {
            return Err(invalid("an LZ4 frame descriptor sets reserved bits", at + 4));
        }
        if flg & 0x01 != 0 {
            return Err(err(ErrorCode::UnsupportedAlgorithm, "LZ4 frames that need a dictionary are not supported")
                .with_offset(at));
        }
        let block_max = match bd >> 4 {
            4 => 64 << 10,
            5 => 256 << 10,
            6 => 1 << 20,
            7 => 4 << 20,
            _ => return Err(invalid("an LZ4 frame has an unknown block maximum", at + 5)),
        };
        if (XxHash32::oneshot(0, &d[4..len - 1]) >> 8) as u8 != d[len - 1] {
            return Err(err(ErrorCode::ChecksumMismatch, "the LZ4 frame header checksum does not match")
                .with_offset(at + len as u64 - 1));
        }
        // Input block, output block and the linked-block window.
        let need = (2 * block_max + DICT_LEN) as u64;
        if need > self.memory_limit {
            return Err(err(
                ErrorCode::MemoryLimit,
                format!("LZ4 blocks of {block_max} bytes need more than the memory limit of {}", self.memory_limit),
            )
            .with_offset(at));
        }
        self.frame = Some(Frame {
            independent: flg & 0x20 != 0,
            block_checksum: flg & 0x10 != 0,
            content_checksum: flg & 0x04 != 0,
            content_size: (flg & 0x08 != 0).then(|| super::le_u64(&d, 6)),
            block_max,
            start: at,
        });
        self.hasher = XxHash32::with_seed(0);
        self.frame_out = 0;
        self.dict.clear();
        self.stage = Stage::BlockSize;
        Ok(())
    }

    fn end_frame(&mut self) -> Result<()> {
        let frame = self.frame.take().expect("inside a frame");
        if frame.content_size.is_some_and(|n| n != self.frame_out) {
            return Err(err(ErrorCode::Corrupted, "an LZ4 frame's content size disagrees with its data")
                .with_offset(frame.start));
        }
        self.frames += 1;
        self.stage = Stage::Magic;
        Ok(())
    }

    /// Decodes one whole block (`data` is its stored bytes, then its checksum if any) into
    /// `decoded`.
    fn block(&mut self, data: &[u8], len: usize, raw: bool) -> Result<()> {
        let frame = self.frame.expect("inside a frame");
        let at = self.input.total_in - data.len() as u64;
        let (body, sum) = data.split_at(len);
        if frame.block_checksum && XxHash32::oneshot(0, body) != le_u32(sum, 0) {
            return Err(err(ErrorCode::ChecksumMismatch, "an LZ4 block checksum does not match").with_offset(at));
        }
        self.decoded.clear();
        self.delivered = 0;
        if raw {
            self.decoded.extend_from_slice(body);
        } else {
            self.decoded.resize(frame.block_max, 0);
            let n = if frame.independent {
                lz4_flex::block::decompress_into(body, &mut self.decoded)
            } else {
                lz4_flex::block::decompress_into_with_dict(body, &mut self.decoded, &self.dict)
            }
            .map_err(|e| invalid(&e.to_string(), at))?;
            self.decoded.truncate(n);
        }
        let n = self.decoded.len() as u64;
        if self.total_out + n > self.output_limit {
            return Err(err(
                ErrorCode::OutputLimit,
                format!("the LZ4 data decodes past the entry's size of {} bytes", self.output_limit),
            ));
        }
        self.total_out += n;
        self.frame_out += n;
        if frame.content_checksum {
            self.hasher.write(&self.decoded);
        }
        if !frame.independent {
            let keep = DICT_LEN.saturating_sub(self.decoded.len()).min(self.dict.len());
            self.dict.drain(..self.dict.len() - keep);
            let from = self.decoded.len().saturating_sub(DICT_LEN);
            self.dict.extend_from_slice(&self.decoded[from..]);
        }
        Ok(())
    }
}

/// Compresses `data` as one LZ4 frame: independent 4 MiB blocks (stored raw when they do not
/// shrink), the content size and the content checksum.
pub fn lz4_compress(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    out.extend_from_slice(&FRAME_MAGIC.to_le_bytes());
    // Version 01, independent blocks, content size, content checksum; 4 MiB blocks.
    let descriptor = [0x40 | 0x20 | 0x08 | 0x04, 0x70];
    out.extend_from_slice(&descriptor);
    out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    let hc = (XxHash32::oneshot(0, &out[4..]) >> 8) as u8;
    out.push(hc);
    let mut block = vec![0u8; lz4_flex::block::get_maximum_output_size(WRITE_BLOCK)];
    for chunk in data.chunks(WRITE_BLOCK) {
        match lz4_flex::block::compress_into(chunk, &mut block) {
            Ok(n) if n < chunk.len() => {
                out.extend_from_slice(&(n as u32).to_le_bytes());
                out.extend_from_slice(&block[..n]);
            }
            _ => {
                out.extend_from_slice(&(chunk.len() as u32 | 0x8000_0000).to_le_bytes());
                out.extend_from_slice(chunk);
            }
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&XxHash32::oneshot(0, data).to_le_bytes());
    out
}
