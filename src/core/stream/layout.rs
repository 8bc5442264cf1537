//! What a stream's source holds, decided once at open (see `open.rs`), and how it is read:
//!
//! | layout                      | stored bytes                          | logical access            |
//! |-----------------------------|---------------------------------------|---------------------------|
//! | `Random(Indexed)`           | sealed, random-access source          | footer -> index -> chunk  |
//! | `Random(Direct)`            | plain or verified v1, random access   | by offset                 |
//! | `Sequential(Passthrough)`   | plain, sequential source              | in order                  |
//! | `Sequential(Sealed)`        | sealed, sequential source             | in order, through `Opener`|
//! | `Sequential(Inflate)`       | gzip / zlib / raw deflate over a base | in order; restarts if the base is random |
//!
//! A sequential layout's decoder lives in the sequential state (`sequential.rs`), made from the
//! layout's [`SeqCodec`]; random layouts have none.

use super::base::Base;
use super::sequential::EndChecks;
use super::FormatInfo;
use crate::core::compress::{CompressedFormat, Inflater};
use crate::core::crypto::Key;
#[cfg(feature = "nvpk")]
use crate::core::nvpk::{Compression, EntryDecoder};
use crate::core::sealed::{Opener, SealedIndex};

/// The largest decoder window (zstd's) a stream without a memory limit allows.
#[cfg(feature = "nvpk")]
const DEFAULT_WINDOW_LIMIT: u64 = 128 * 1024 * 1024;

pub(super) enum Layout {
    Random(RandomLayout),
    Sequential(SeqLayout),
}

pub(super) enum RandomLayout {
    /// A sealed file read through its authenticated index.
    Indexed(SealedIndex),
    /// Bytes read by offset from a random-access base.
    Direct(Base),
}

/// A layout read in order.
pub(super) struct SeqLayout {
    pub(super) codec: SeqCodec,
    /// Where the decoder's input comes from.
    pub(super) input: SeqInput,
    /// Checks of the whole output (and input) made when it is read in order to the end.
    pub(super) end_checks: Option<Box<dyn EndChecks>>,
}

/// The decoder a sequential layout needs.
#[derive(Clone, Copy)]
pub(super) enum SeqCodec {
    /// Stored bytes as they are.
    Passthrough,
    /// The sealed format, read without its index.
    Sealed { chunk_size: usize, encrypted: bool, compressed: bool },
    /// gzip, zlib or raw deflate.
    Inflate(CompressedFormat),
    /// A NovusPack entry's compression, producing exactly `output_limit` bytes.
    #[cfg(feature = "nvpk")]
    Entry { compression: Compression, output_limit: u64, window_limit: u64, input_len: u64 },
}

pub(super) enum SeqInput {
    /// The source, in order (`read_next`).
    Source,
    /// A random-access base read from a cursor: the decoder can restart from its start.
    Base(Base),
}

/// The decoder of a sequential layout.
pub(super) enum SeqDecoder {
    Passthrough,
    Opener(Box<Opener>),
    Inflater(Box<Inflater>),
    #[cfg(feature = "nvpk")]
    Entry(Box<EntryDecoder>),
}

impl SeqDecoder {
    /// A fresh decoder for `codec` (sealed data needs the key and whether encryption is required).
    pub(super) fn new(codec: SeqCodec, key: Option<Key>, require_encryption: bool) -> SeqDecoder {
        match codec {
            SeqCodec::Passthrough => SeqDecoder::Passthrough,
            SeqCodec::Sealed { .. } => {
                let mut opener = Opener::new(key);
                if require_encryption {
                    opener = opener.require_encryption();
                }
                SeqDecoder::Opener(Box::new(opener))
            }
            SeqCodec::Inflate(format) => SeqDecoder::Inflater(Box::new(Inflater::new(format))),
            #[cfg(feature = "nvpk")]
            SeqCodec::Entry { compression, output_limit, window_limit, input_len } => {
                SeqDecoder::entry(compression, output_limit, window_limit, input_len)
            }
        }
    }

    /// A package entry's decoder of `input_len` stored bytes into at most `output_limit`.
    #[cfg(feature = "nvpk")]
    pub(super) fn entry(compression: Compression, output_limit: u64, window_limit: u64, input_len: u64) -> SeqDecoder {
        // Without a memory limit, a decoder window (zstd's) may not exceed this.
        let window = if window_limit == 0 { DEFAULT_WINDOW_LIMIT } else { window_limit };
        SeqDecoder::Entry(Box::new(EntryDecoder::new(compression, output_limit, window, Some(input_len))))
    }
}

impl SeqLayout {
    /// True if a backward seek can restart the decoder from the start of its input.
    pub(super) fn restartable(&self) -> bool {
        matches!(self.input, SeqInput::Base(_))
            && !matches!(self.codec, SeqCodec::Passthrough | SeqCodec::Sealed { .. })
    }

    /// Plaintext bytes per sealed chunk, for sealed data.
    pub(super) fn sealed_chunk_size(&self) -> Option<usize> {
        match self.codec {
            SeqCodec::Sealed { chunk_size, .. } => Some(chunk_size),
            _ => None,
        }
    }
}

impl Layout {
    /// Plaintext bytes per sealed chunk, for sealed data.
    pub(super) fn sealed_chunk_size(&self) -> Option<usize> {
        match self {
            Layout::Random(RandomLayout::Indexed(index)) => Some(index.chunk_size()),
            Layout::Random(RandomLayout::Direct(_)) => None,
            Layout::Sequential(seq) => seq.sealed_chunk_size(),
        }
    }

    /// What the stream found, for [`super::FileStream::format`].
    pub(super) fn format(&self, stored_size: Option<u64>) -> FormatInfo {
        let plain = |kind: String, compressed: bool, encrypted: bool| FormatInfo {
            kind,
            compressed,
            encrypted,
            chunk_size: None,
            chunk_count: None,
            stored_size,
        };
        match self {
            Layout::Random(RandomLayout::Indexed(index)) => FormatInfo {
                kind: "sealed".into(),
                compressed: index.codec().header().compressed,
                encrypted: index.codec().header().encrypted,
                chunk_size: Some(index.chunk_size()),
                chunk_count: Some(index.chunk_count()),
                stored_size,
            },
            Layout::Random(RandomLayout::Direct(base)) => plain(base.kind().into(), false, base.is_encrypted()),
            Layout::Sequential(SeqLayout { codec, input, .. }) => {
                let encrypted_base = matches!(input, SeqInput::Base(base) if base.is_encrypted());
                match codec {
                    SeqCodec::Passthrough => plain("plain".into(), false, false),
                    SeqCodec::Sealed { chunk_size, encrypted, compressed } => FormatInfo {
                        kind: "sealed".into(),
                        compressed: *compressed,
                        encrypted: *encrypted,
                        chunk_size: Some(*chunk_size),
                        chunk_count: None,
                        stored_size,
                    },
                    SeqCodec::Inflate(format) => {
                        let kind = if encrypted_base {
                            format!("v1+{}", format.as_str())
                        } else {
                            format.as_str().to_string()
                        };
                        plain(kind, true, encrypted_base)
                    }
                    #[cfg(feature = "nvpk")]
                    SeqCodec::Entry { .. } => plain("entry".into(), true, encrypted_base),
                }
            }
        }
    }
}
