//! Native conveniences: the shared default pool, synchronous `read_at`, files on disk, and the
//! `std::io::Read` / `Seek` adapters (native sources complete at once, so blocking is free).

use super::{ChunkDecoder, FileSource, FileStream, Result, Source, StreamConfig};
use crate::core::pool::BufferPool;

/// The pool streams share unless configured otherwise (natively).
pub fn default_pool() -> BufferPool {
    static POOL: std::sync::OnceLock<BufferPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        BufferPool::new(crate::core::config::BufferConfig::default()).expect("the default config is valid")
    })
    .clone()
}

impl<S: Source, D: ChunkDecoder> FileStream<S, D> {
    /// `read_at` for synchronous callers (native sources complete at once).
    pub fn read_at_blocking(&self, into: &mut [u8], offset: u64) -> Result<usize> {
        crate::core::sync::block_on(self.read_at(into, offset))
    }
}

impl FileStream<FileSource> {
    /// Opens a file on disk (synchronously).
    pub fn open_path(path: impl AsRef<std::path::Path>, config: StreamConfig) -> Result<Self> {
        let source = FileSource::open(path)?;
        crate::core::sync::block_on(Self::open(source, config))
    }
}

impl<S: Source, D: ChunkDecoder> std::io::Read for FileStream<S, D> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        crate::core::sync::block_on(FileStream::read(self, buf)).map_err(Into::into)
    }
}

impl<S: Source, D: ChunkDecoder> std::io::Seek for FileStream<S, D> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        use std::io::SeekFrom;
        let target = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.position().checked_add_signed(d),
            SeekFrom::End(d) => {
                let size = self.size().ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::Unsupported, "the logical size is not known yet")
                })?;
                size.checked_add_signed(d)
            }
        };
        let target =
            target.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start"))?;
        crate::core::sync::block_on(FileStream::seek(self, target)).map_err(Into::into)
    }
}
