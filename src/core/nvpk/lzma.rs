//! LZMA entries: an .xz stream (one or more, concatenated) or a .lzma ("LZMA alone") stream,
//! told apart by the first byte: .xz starts with its magic `FD 37 7A 58 5A 00`, and 0xFD is
//! no valid .lzma properties byte (those are at most 224).
//!
//! [`LzmaDecoder`] wraps lzma-rust2's sans-I/O `XzStream` / `LzmaStream`, which take input in
//! any pieces; the dictionary size is checked against the memory limit when the header says
//! it (`MEMORY_LIMIT`), and output past the entry's OriginalSize is `OUTPUT_LIMIT`.
//! [`xz_compress`] writes .xz with lzma-rust2's encoder (its preset 6 comes within 0.1% of
//! `xz -6`).

use std::io::Write;

use lzma_rust2::{Action, LzmaStream, Status, XzOptions, XzStream, XzWriter};

use super::fuse::Fuse;
use crate::core::compress::Progress;
use crate::core::error::{err, ErrorCode, Result, StreamError};

/// Which container an LZMA entry uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LzmaFormat {
    /// .xz (magic `FD 37 7A 58 5A 00`).
    Xz,
    /// .lzma ("LZMA alone": properties, dictionary size, uncompressed size, then LZMA data).
    Alone,
}

impl LzmaFormat {
    /// The format that starts with `first` (`None` for an empty input or an invalid .lzma
    /// properties byte).
    pub fn detect(first: u8) -> Option<LzmaFormat> {
        match first {
            0xFD => Some(LzmaFormat::Xz),
            0..=224 => Some(LzmaFormat::Alone),
            _ => None,
        }
    }
}

enum Inner {
    Undecided,
    Xz(Box<XzStream>),
    Alone(Box<LzmaStream>),
}

/// Push-style .xz / .lzma decoder.
pub struct LzmaDecoder {
    inner: Inner,
    output_limit: u64,
    memory_limit: u64,
    input_len: Option<u64>,
    total_in: u64,
    total_out: u64,
    done: bool,
    fuse: Fuse,
}

impl std::fmt::Debug for LzmaDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LzmaDecoder").field("format", &self.format()).field("total_out", &self.total_out).finish()
    }
}

fn map_error(e: std::io::Error, at: u64) -> StreamError {
    let code = match e.kind() {
        std::io::ErrorKind::OutOfMemory => ErrorCode::MemoryLimit,
        std::io::ErrorKind::Unsupported => ErrorCode::UnsupportedAlgorithm,
        std::io::ErrorKind::UnexpectedEof => ErrorCode::Truncated,
        _ if e.to_string().to_ascii_lowercase().contains("check") => ErrorCode::ChecksumMismatch,
        _ => ErrorCode::InvalidData,
    };
    err(code, format!("invalid LZMA data: {e}")).with_offset(at)
}

impl LzmaDecoder {
    /// A decoder that refuses to produce more than `output_limit` bytes (`OUTPUT_LIMIT`) and
    /// dictionaries past `memory_limit` bytes (`MEMORY_LIMIT`). `input_len` is the compressed
    /// length when known (always, for an entry): concatenated .xz streams, and a .lzma stream
    /// without an end marker, are then finished exactly there; without it, one .xz stream is
    /// read.
    pub fn new(output_limit: u64, memory_limit: u64, input_len: Option<u64>) -> Self {
        LzmaDecoder {
            inner: Inner::Undecided,
            output_limit,
            memory_limit,
            input_len,
            total_in: 0,
            total_out: 0,
            done: false,
            fuse: Fuse::new("LZMA"),
        }
    }

    /// The container, once its first byte has been seen.
    pub fn format(&self) -> Option<LzmaFormat> {
        match self.inner {
            Inner::Undecided => None,
            Inner::Xz(_) => Some(LzmaFormat::Xz),
            Inner::Alone(_) => Some(LzmaFormat::Alone),
        }
    }

    /// Total bytes produced.
    pub fn total_out(&self) -> u64 {
        self.total_out
    }

    /// True once the stream is complete and verified.
    pub fn is_done(&self) -> bool {
        self.done && !self.fuse.blown()
    }

    /// End of input: `TRUNCATED` unless the stream is complete.
    pub fn finish(&self) -> Result<()> {
        self.fuse.check()?;
        if self.done {
            return Ok(());
        }
        Err(err(ErrorCode::Truncated, "the LZMA stream ends early").with_offset(self.total_in))
    }

    /// Decodes as much of `input` into `out` as fits; call again with the unconsumed input
    /// (and more) until `done`.
    pub fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress> {
        self.fuse.check()?;
        let r = self.update_inner(input, out);
        self.fuse.record(r)
    }

    fn update_inner(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress> {
        let mut p = Progress::default();
        if let Inner::Undecided = self.inner {
            let Some(&first) = input.first() else { return Ok(p) };
            let mem_kb = u32::try_from(self.memory_limit / 1024).unwrap_or(u32::MAX - 1);
            self.inner = match LzmaFormat::detect(first) {
                // Concatenated .xz streams end only where the input does, so they are
                // accepted when that end is known.
                Some(LzmaFormat::Xz) => Inner::Xz(Box::new(XzStream::new_mem_limit(self.input_len.is_some(), mem_kb))),
                Some(LzmaFormat::Alone) => Inner::Alone(Box::new(LzmaStream::new_mem_limit(mem_kb, None))),
                None => {
                    return Err(err(ErrorCode::BadMagic, "neither an .xz nor an .lzma stream").with_offset(0));
                }
            };
        }
        loop {
            if self.done {
                if p.consumed < input.len() {
                    return Err(
                        err(ErrorCode::Corrupted, "data follows the end of the LZMA stream").with_offset(self.total_in)
                    );
                }
                p.done = true;
                return Ok(p);
            }
            let rest = &input[p.consumed..];
            let last = self.input_len.is_some_and(|n| self.total_in + rest.len() as u64 >= n);
            let action = if last { Action::Finish } else { Action::Run };
            let left = self.output_limit.saturating_sub(self.total_out).saturating_add(1);
            let room = (out.len() - p.produced).min(usize::try_from(left).unwrap_or(usize::MAX));
            let target = &mut out[p.produced..p.produced + room];
            let at = self.total_in;
            let r = match &mut self.inner {
                Inner::Xz(s) => s.process(rest, target, action),
                Inner::Alone(s) => s.process(rest, target, action),
                Inner::Undecided => return Ok(p),
            }
            .map_err(|e| map_error(e, at))?;
            p.consumed += r.bytes_consumed;
            p.produced += r.bytes_produced;
            self.total_in += r.bytes_consumed as u64;
            self.total_out += r.bytes_produced as u64;
            if self.total_out > self.output_limit {
                return Err(err(
                    ErrorCode::OutputLimit,
                    format!("the LZMA data decodes past the entry's size of {} bytes", self.output_limit),
                ));
            }
            if r.status == Status::StreamEnd {
                // LzmaStream takes all input it is given; what was not its own is trailing data.
                if let Inner::Alone(s) = &self.inner {
                    if !s.unused_input().is_empty() {
                        return Err(err(ErrorCode::Corrupted, "data follows the end of the LZMA stream")
                            .with_offset(self.total_in));
                    }
                }
                self.done = true;
                continue;
            }
            if r.bytes_consumed == 0 && r.bytes_produced == 0 || p.produced == out.len() {
                return Ok(p);
            }
        }
    }
}

/// Compresses `data` as .xz at `preset` (0..=9; 0 means 6), CRC-64 check.
pub fn xz_compress(data: &[u8], preset: u8) -> Result<Vec<u8>> {
    if preset > 9 {
        return Err(StreamError::invalid("compressionLevel", preset, "an LZMA preset from 0 to 9"));
    }
    let preset = if preset == 0 { 6 } else { u32::from(preset) };
    let io = |e: std::io::Error| err(ErrorCode::InvalidArgument, format!("xz compression failed: {e}"));
    let mut w = XzWriter::new(Vec::with_capacity(data.len() / 4 + 64), XzOptions::with_preset(preset)).map_err(io)?;
    w.write_all(data).map_err(io)?;
    w.finish().map_err(io)
}
