//! Streaming raw-deflate compression (the `deflate` job) and the one-shot `deflate_all`.

use super::*;

/// Streaming raw-deflate (RFC 1951) compressor, push style: output per call is bounded by the
/// caller's buffer.
pub struct Deflater {
    inner: deflater::RawDeflate,
    finished: bool,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater").field("finished", &self.finished).finish()
    }
}

impl Deflater {
    /// A compressor at `level` (0..=10).
    pub fn new(level: u8) -> Result<Self> {
        check_level(level)?;
        Ok(Deflater { inner: deflater::RawDeflate::new(level), finished: false })
    }

    /// Compresses `input` into `out` (not empty); with `finish`, ends the stream once all input
    /// is consumed. Call again while output fills `out`; `done` once the stream is complete.
    pub fn update(&mut self, input: &[u8], out: &mut [u8], finish: bool) -> Result<Progress> {
        if self.finished {
            return Ok(Progress { done: true, ..Progress::default() });
        }
        let step = self
            .inner
            .deflate(input, out, finish)
            .map_err(|()| err(ErrorCode::InvalidArgument, "the deflate stream was misused"))?;
        self.finished = step.end;
        Ok(Progress { consumed: step.consumed, produced: step.produced, done: step.end })
    }
}

impl Deflater {
    /// Compresses all of `input`, appending to `out`; with `finish`, ends the stream.
    pub fn update_vec(&mut self, input: &[u8], finish: bool, out: &mut Vec<u8>) -> Result<()> {
        let mut consumed = 0;
        loop {
            let start = out.len();
            let step = (input.len() / 2).clamp(4096, 1 << 20);
            out.resize(start + step, 0);
            let p = self.update(&input[consumed..], &mut out[start..], finish);
            let p = match p {
                Ok(p) => p,
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            };
            out.truncate(start + p.produced);
            consumed += p.consumed;
            // All input taken and the output not filled: nothing more is pending.
            if p.done || (consumed == input.len() && !finish && p.produced < step) {
                return Ok(());
            }
        }
    }
}

/// Compresses a whole buffer into raw deflate at `level` (0..=10).
pub fn deflate_all(input: &[u8], level: u8) -> Result<Vec<u8>> {
    let mut deflater = Deflater::new(level)?;
    let mut out = Vec::with_capacity(input.len() / 2 + 1024);
    deflater.update_vec(input, true, &mut out)?;
    Ok(out)
}
