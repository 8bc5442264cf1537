//! The input side shared by the zstd and LZ4 frame decoders: the bytes of a step (a header, a
//! block, a checksum) gathered across calls, the count of input consumed, and skippable frames,
//! which both formats define alike (a magic `0x184D2A5?`, a little-endian u32 length, that
//! many bytes to ignore).

use super::le_u32;
use crate::core::compress::Progress;

/// The magic of a skippable frame, its low four bits masked off.
pub(super) const SKIPPABLE_MAGIC: u32 = 0x184D_2A50;
pub(super) const SKIPPABLE_MASK: u32 = 0xFFFF_FFF0;

/// Input gathered for the current step, and the total consumed.
#[derive(Debug, Default)]
pub(super) struct FrameInput {
    /// Bytes of the current step that arrived in pieces.
    pub pending: Vec<u8>,
    /// Input bytes consumed so far.
    pub total_in: u64,
}

impl FrameInput {
    /// Where the current step started in the input.
    pub fn step_start(&self) -> u64 {
        self.total_in - self.pending.len() as u64
    }

    /// Moves input into `pending` until it holds `need` bytes; true when it does.
    pub fn fill(&mut self, rest: &[u8], need: usize, p: &mut Progress) -> bool {
        let take = need.saturating_sub(self.pending.len()).min(rest.len());
        self.pending.extend_from_slice(&rest[..take]);
        p.consumed += take;
        self.total_in += take as u64;
        self.pending.len() >= need
    }

    /// After a skippable frame's magic: its content length, once its 8 header bytes are here.
    pub fn skippable_len(&mut self, rest: &[u8], p: &mut Progress) -> Option<u64> {
        if !self.fill(rest, 8, p) {
            return None;
        }
        let len = u64::from(le_u32(&self.pending, 4));
        self.pending.clear();
        Some(len)
    }

    /// Skips up to `left` bytes of a skippable frame's content; returns how many are left.
    pub fn skip(&mut self, left: u64, rest: &[u8], p: &mut Progress) -> u64 {
        let take = left.min(rest.len() as u64);
        p.consumed += take as usize;
        self.total_in += take;
        left - take
    }
}
