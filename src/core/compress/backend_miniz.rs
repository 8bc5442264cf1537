//! The raw inflate engine on miniz_oxide (`--no-default-features`).

/// One-shot chunk compression with miniz_oxide, straight into the caller's buffer.
pub(super) use super::deflater::RawDeflate as ChunkDeflate;
use super::{Step, Whole};
use miniz_oxide::inflate::core::{decompress, inflate_flags};
use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

pub(super) struct RawInflate(Box<InflateState>);

impl RawInflate {
    pub(super) fn new() -> Self {
        RawInflate(InflateState::new_boxed(DataFormat::Raw))
    }

    pub(super) fn reset(&mut self) {
        self.0.reset(DataFormat::Raw);
    }

    pub(super) fn inflate(&mut self, input: &[u8], out: &mut [u8], whole: bool) -> Result<Step, ()> {
        let flush = if whole { MZFlush::Finish } else { MZFlush::None };
        let r = miniz_oxide::inflate::stream::inflate(&mut self.0, input, out, flush);
        let end = match r.status {
            Ok(MZStatus::StreamEnd) => true,
            Ok(_) | Err(MZError::Buf) => false,
            Err(_) => return Err(()),
        };
        Ok(Step { consumed: r.bytes_consumed, produced: r.bytes_written, end })
    }

    pub(super) fn inflate_whole(&mut self, input: &[u8], out: &mut [u8]) -> Result<Whole, ()> {
        // Straight into `out`, with no window copy: the one-shot mode of miniz_oxide's core.
        let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
        let (status, consumed, produced) = decompress(self.0.decompressor(), input, out, 0, flags);
        match status {
            TINFLStatus::Done => Ok(Whole::Done { consumed, produced }),
            TINFLStatus::HasMoreOutput => Ok(Whole::OutputFull),
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => Ok(Whole::EndsEarly),
            _ => Err(()),
        }
    }
}
