//! Streaming compression (the `deflate` job, [`Deflater`]) is miniz_oxide's in every build:
//! its output buffers are the caller's, of any size, and zlib-rs's deflate has had bugs with
//! short output buffers (panics, invalid streams).

use super::Step;
use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};

pub(super) struct RawDeflate(Box<CompressorOxide>);

impl RawDeflate {
    pub(super) fn new(level: u8) -> Self {
        RawDeflate(Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(level.into(), -15, 0))))
    }

    /// One complete raw deflate stream of `input` into `out`, from a fresh state; `None`
    /// when it does not fit (miniz_oxide stops cleanly at the end of `out`).
    pub(super) fn compress(&mut self, input: &[u8], out: &mut [u8]) -> Option<usize> {
        self.0.reset();
        let step = self.deflate(input, out, true).ok()?;
        (step.end && step.consumed == input.len()).then_some(step.produced)
    }

    pub(super) fn deflate(&mut self, input: &[u8], out: &mut [u8], finish: bool) -> Result<Step, ()> {
        let flush = if finish { TDEFLFlush::Finish } else { TDEFLFlush::None };
        let (status, consumed, produced) = compress(&mut self.0, input, out, flush);
        match status {
            TDEFLStatus::Done => Ok(Step { consumed, produced, end: true }),
            TDEFLStatus::Okay => Ok(Step { consumed, produced, end: false }),
            _ => Err(()),
        }
    }
}
