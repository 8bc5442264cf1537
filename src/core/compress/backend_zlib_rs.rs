//! The raw inflate engine on zlib-rs (feature `zlib-rs`, the default).

use super::{deflater::RawDeflate, Step, Whole};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// One-shot chunk compression. Levels 2 to 10 (10 is 9) are zlib-rs, always into a buffer
/// of zlib's worst-case bound: its deflate has had bugs with output buffers too short for
/// the stream (panics, invalid streams), so it is never given one, and the result is
/// copied out when it is shorter than the chunk.
pub(super) enum ChunkDeflate {
    /// Levels 0 and 1: miniz_oxide (zlib-rs's level 1, deflate_quick, overflowed its
    /// pending buffer on incompressible chunks in our tests; miniz is as fast there).
    Miniz(RawDeflate),
    Zlib {
        deflate: Box<Compress>,
        scratch: Vec<u8>,
    },
}

impl ChunkDeflate {
    pub(super) fn new(level: u8) -> Self {
        if level <= 1 {
            return ChunkDeflate::Miniz(RawDeflate::new(level));
        }
        let deflate = Box::new(Compress::new(Compression::new(u32::from(level.min(9))), false));
        ChunkDeflate::Zlib { deflate, scratch: Vec::new() }
    }

    /// Raw deflate of `input` into `out` if it fits there; `None` otherwise.
    pub(super) fn compress(&mut self, input: &[u8], out: &mut [u8]) -> Option<usize> {
        let (deflate, scratch) = match self {
            ChunkDeflate::Miniz(raw) => return raw.compress(input, out),
            ChunkDeflate::Zlib { deflate, scratch } => (deflate, scratch),
        };
        let n = input.len();
        // compressBound() of zlib, plus room for a final empty block.
        let bound = n + (n >> 12) + (n >> 14) + (n >> 25) + 64;
        scratch.resize(bound, 0);
        deflate.reset();
        let status = deflate.compress(input, scratch, FlushCompress::Finish).ok()?;
        #[allow(clippy::cast_possible_truncation)] // at most `bound`
        let (consumed, produced) = (deflate.total_in() as usize, deflate.total_out() as usize);
        if status != Status::StreamEnd || consumed != n || produced > out.len() {
            return None;
        }
        out[..produced].copy_from_slice(&scratch[..produced]);
        Some(produced)
    }
}

fn step(in_before: u64, out_before: u64, total_in: u64, total_out: u64, end: bool) -> Step {
    #[allow(clippy::cast_possible_truncation)] // bounded by the slices passed in
    Step { consumed: (total_in - in_before) as usize, produced: (total_out - out_before) as usize, end }
}

pub(super) struct RawInflate(Box<Decompress>);

impl RawInflate {
    pub(super) fn new() -> Self {
        RawInflate(Box::new(Decompress::new(false)))
    }

    pub(super) fn reset(&mut self) {
        self.0.reset(false);
    }

    pub(super) fn inflate(&mut self, input: &[u8], out: &mut [u8], whole: bool) -> Result<Step, ()> {
        let (i, o) = (self.0.total_in(), self.0.total_out());
        let flush = if whole { FlushDecompress::Finish } else { FlushDecompress::None };
        let status = self.0.decompress(input, out, flush).map_err(|_| ())?;
        Ok(step(i, o, self.0.total_in(), self.0.total_out(), status == Status::StreamEnd))
    }

    pub(super) fn inflate_whole(&mut self, input: &[u8], out: &mut [u8]) -> Result<Whole, ()> {
        let first = self.inflate(input, out, true)?;
        if first.end {
            return Ok(Whole::Done { consumed: first.consumed, produced: first.produced });
        }
        if first.produced < out.len() {
            return Ok(Whole::EndsEarly);
        }
        // `out` is full: one byte of room tells a stream that ends here from one that goes on.
        let mut probe = [0u8; 1];
        let more = self.inflate(&input[first.consumed..], &mut probe, true)?;
        Ok(match more {
            Step { produced: 1.., .. } => Whole::OutputFull,
            Step { end: true, consumed, .. } => {
                Whole::Done { consumed: first.consumed + consumed, produced: first.produced }
            }
            _ => Whole::EndsEarly,
        })
    }
}
