//! A decoder that stays failed: after its first error every call fails, so a caller that
//! ignores one error can never get bytes decoded from a broken state.

use crate::core::error::{err, ErrorCode, Result};

/// Whether a decoder has failed, and its codec's name for the error.
#[derive(Debug)]
pub(crate) struct Fuse {
    codec: &'static str,
    blown: bool,
}

impl Fuse {
    pub(crate) fn new(codec: &'static str) -> Fuse {
        Fuse { codec, blown: false }
    }

    /// True after an error.
    pub(crate) fn blown(&self) -> bool {
        self.blown
    }

    /// `INVALID_DATA` once an earlier call failed.
    pub(crate) fn check(&self) -> Result<()> {
        if self.blown {
            return Err(err(ErrorCode::InvalidData, format!("the {} stream already failed", self.codec)));
        }
        Ok(())
    }

    /// Passes `result` on, remembering an error.
    pub(crate) fn record<T>(&mut self, result: Result<T>) -> Result<T> {
        self.blown |= result.is_err();
        result
    }
}
