//! The memory budget of a stream: at open, the chunk cache, decode concurrency, read-ahead
//! window and sequential retention are sized so their sum stays within `memory_limit`; a limit
//! too small for the file is refused with the smallest one that works.

use super::layout::{Layout, RandomLayout, SeqCodec};
use super::{err, to_usize, ChunkDecoder, ErrorCode, FileStream, Result, Source, StreamError};
use crate::core::crypto::TAG_LEN;
use crate::core::sealed::PREFIX_LEN;
use crate::core::sync::Semaphore;

/// `what` needs `needed` bytes, more than `limit`: the message says the smallest limit that
/// works and why.
pub(super) fn memory_limit(limit: u64, needed: u64, what: &str) -> StreamError {
    err(
        ErrorCode::MemoryLimit,
        format!(
            "memoryLimit is {limit} bytes, but {what} needs {needed}: set memoryLimit to at least {needed} (or 0 for \
             no limit)"
        ),
    )
    .with_field("memoryLimit")
    .with_value(limit)
    .with_expected(format!("at least {needed}"))
}

impl<S: Source, D: ChunkDecoder> FileStream<S, D> {
    /// Sizes the chunk cache and decode concurrency so the stream stays within its limit.
    pub(super) fn size_memory(&mut self) -> Result<()> {
        let limit = self.config.memory_limit;
        match &self.layout {
            Layout::Random(RandomLayout::Indexed(index)) => {
                let record = index.codec().max_record_len() as u64;
                let chunk = index.chunk_size() as u64;
                let per_decode = record + chunk;
                let mut cache = (self.buffer_size as u64 / chunk).clamp(2, 32);
                let mut slots = 4u64;
                if limit > 0 {
                    let index_mem = index.memory_bytes() as u64;
                    let budget = limit.saturating_sub(index_mem);
                    if budget < per_decode + chunk {
                        return Err(memory_limit(
                            limit,
                            index_mem + per_decode + chunk,
                            &format!(
                                "this file's {chunk}-byte chunks (its chunk size, set when it was sealed) need a \
                                 record buffer of {record}, a decoded chunk and a cached one, and its index \
                                 {index_mem}, so reading it"
                            ),
                        ));
                    }
                    slots = slots.min((budget - chunk) / per_decode).max(1);
                    cache = cache.min((budget - slots * per_decode) / chunk).max(1);
                    // Read-ahead holds a record and a decoded chunk elsewhere per chunk in flight.
                    let spare = budget - slots * per_decode - cache * chunk;
                    self.indexed.max_window = to_usize(spare / per_decode + 1).clamp(1, 64);
                }
                self.indexed.set_cache_capacity(to_usize(cache));
                self.indexed.decode_slots = Semaphore::new(to_usize(slots));
            }
            Layout::Random(RandomLayout::Direct(_)) => {}
            Layout::Sequential(seq) => {
                let block = self.block_size() as u64;
                let record = match seq.codec {
                    SeqCodec::Sealed { chunk_size, .. } => (chunk_size + PREFIX_LEN + TAG_LEN) as u64,
                    _ => 0,
                };
                let fixed = self.buffer_size as u64 + record + self.meter.held();
                if limit > 0 {
                    if fixed + block > limit {
                        return Err(memory_limit(
                            limit,
                            fixed + block,
                            &format!(
                                "reading in order with a {block}-byte block (the chunk size or bufferSize, \
                                 whichever is larger) and {fixed} bytes of read buffers"
                            ),
                        ));
                    }
                    self.retention_limit = limit - fixed;
                    self.lookback = self.lookback.min(self.retention_limit / 4);
                }
            }
        }
        Ok(())
    }
}
