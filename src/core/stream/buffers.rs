//! Buffers of one stream: drawn from the [`BufferPool`] (or allocated when the pool is off or
//! cannot lend) and counted by the stream's [`Meter`] for as long as they live, so the memory
//! limit and `peak_buffered_bytes` see every one.

use std::sync::Arc;

use crate::core::pool::{BufferPool, PooledBuffer};
use crate::core::sync::Meter;

/// A counted buffer.
pub(crate) struct Buf {
    data: BufData,
    meter: Arc<Meter>,
}

enum BufData {
    Pooled(PooledBuffer),
    Owned(Vec<u8>),
}

/// Whether a buffer came from the pool's free list, was newly made by it, or is the stream's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Drawn {
    /// Reused from the pool.
    Hit,
    /// Allocated by the pool (or the pool could not lend one).
    Miss,
    /// No pool in use.
    Unpooled,
}

impl Buf {
    /// A buffer of at least `len` bytes from `pool` (or allocated), counted by `meter`.
    pub(crate) fn draw(pool: Option<&BufferPool>, len: usize, meter: &Arc<Meter>) -> (Buf, Drawn) {
        let (data, drawn) = match pool.map(|p| p.get(len)) {
            Some(Ok(b)) => {
                let hit = if b.access_count() > 1 { Drawn::Hit } else { Drawn::Miss };
                (BufData::Pooled(b), hit)
            }
            Some(Err(_)) => (BufData::Owned(vec![0u8; len]), Drawn::Miss),
            None => (BufData::Owned(vec![0u8; len]), Drawn::Unpooled),
        };
        let buf = Buf { data, meter: Arc::clone(meter) };
        meter.add(buf.len() as u64);
        (buf, drawn)
    }

    pub(crate) fn len(&self) -> usize {
        match &self.data {
            BufData::Pooled(b) => b.len(),
            BufData::Owned(v) => v.len(),
        }
    }
}

impl std::ops::Deref for Buf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.data {
            BufData::Pooled(b) => b,
            BufData::Owned(v) => v,
        }
    }
}

impl std::ops::DerefMut for Buf {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.data {
            BufData::Pooled(b) => b,
            BufData::Owned(v) => v,
        }
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        self.meter.sub(self.len() as u64);
    }
}

/// Bytes held elsewhere (a chunk a decoder keeps in its own memory) but counted by the stream's
/// meter while the stream holds them.
pub(crate) struct Counted {
    bytes: u64,
    meter: Arc<Meter>,
}

impl Counted {
    pub(crate) fn new(bytes: u64, meter: &Arc<Meter>) -> Counted {
        meter.add(bytes);
        Counted { bytes, meter: Arc::clone(meter) }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.meter.sub(self.bytes);
    }
}
