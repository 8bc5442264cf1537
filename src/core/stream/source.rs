//! Where stored bytes come from. A [`Source`] is either random access (`read_at`, like a
//! `Blob` or a file) or sequential (`read_next`, like a `ReadableStream`). Methods are async
//! so the wasm boundary can implement them over JS promises; the native sources here are
//! synchronous underneath and complete at once.

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::core::error::{err, ErrorCode, Result};

/// A supplier of stored bytes.
pub trait Source {
    /// Stored length, when known.
    fn stored_len(&self) -> Option<u64>;

    /// True if [`Source::read_at`] works (otherwise only [`Source::read_next`]).
    fn is_random_access(&self) -> bool;

    /// Reads stored bytes at `offset` into `buf`, filling it unless the end comes first;
    /// returns the bytes read.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> impl Future<Output = Result<usize>>;

    /// Reads the next stored bytes (sequential sources); returns 0 at the end.
    fn read_next(&self, buf: &mut [u8]) -> impl Future<Output = Result<usize>>;

    /// Called once when the stream is closed: release what the source holds (for example,
    /// cancel a ReadableStream). The default does nothing.
    fn close(&self) {}
}

fn not_sequential() -> crate::core::error::StreamError {
    err(ErrorCode::NotSeekable, "this source is read by offset, not sequentially")
}

/// Bytes in memory: random access.
#[derive(Clone, Debug)]
pub struct MemorySource {
    data: Arc<[u8]>,
}

impl MemorySource {
    /// A source over these bytes.
    pub fn new(data: impl Into<Arc<[u8]>>) -> Self {
        MemorySource { data: data.into() }
    }
}

impl Source for MemorySource {
    fn stored_len(&self) -> Option<u64> {
        Some(self.data.len() as u64)
    }

    fn is_random_access(&self) -> bool {
        true
    }

    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.data.len());
        let n = buf.len().min(self.data.len() - start);
        buf[..n].copy_from_slice(&self.data[start..start + n]);
        Ok(n)
    }

    async fn read_next(&self, _buf: &mut [u8]) -> Result<usize> {
        Err(not_sequential())
    }
}

/// Bytes behind a lock that a test changes after a stream opened them (a file edited on disk, a
/// caller's buffer): random access. For this crate's tests and the fuzz targets only.
#[cfg(any(test, feature = "hazmat"))]
#[derive(Clone, Debug)]
pub struct MutableSource(pub Arc<Mutex<Vec<u8>>>);

#[cfg(any(test, feature = "hazmat"))]
impl MutableSource {
    /// A source over these bytes.
    pub fn new(data: Vec<u8>) -> Self {
        MutableSource(Arc::new(Mutex::new(data)))
    }

    /// Changes the bytes.
    pub fn change(&self, f: impl FnOnce(&mut Vec<u8>)) {
        f(&mut self.0.lock().unwrap());
    }
}

#[cfg(any(test, feature = "hazmat"))]
impl Source for MutableSource {
    fn stored_len(&self) -> Option<u64> {
        Some(self.0.lock().unwrap().len() as u64)
    }

    fn is_random_access(&self) -> bool {
        true
    }

    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let data = self.0.lock().unwrap();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    async fn read_next(&self, _buf: &mut [u8]) -> Result<usize> {
        Err(not_sequential())
    }
}

/// Any `std::io::Read` (a pipe, a socket, stdin): sequential.
#[derive(Debug)]
pub struct ReadSource<R> {
    reader: Mutex<R>,
    len: Option<u64>,
}

impl<R: std::io::Read> ReadSource<R> {
    /// A sequential source over `reader`, whose stored length may be known.
    pub fn new(reader: R, len: Option<u64>) -> Self {
        ReadSource { reader: Mutex::new(reader), len }
    }
}

impl<R: std::io::Read> Source for ReadSource<R> {
    fn stored_len(&self) -> Option<u64> {
        self.len
    }

    fn is_random_access(&self) -> bool {
        false
    }

    async fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> Result<usize> {
        Err(err(ErrorCode::NotSeekable, "a sequential source cannot be read by offset"))
    }

    async fn read_next(&self, buf: &mut [u8]) -> Result<usize> {
        let mut reader = self.reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            match reader.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(err(ErrorCode::ReadFailed, format!("read failed: {e}"))),
            }
        }
    }
}

/// A file on disk: random access (positional reads, safe to share).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug)]
pub struct FileSource {
    file: std::fs::File,
    len: u64,
    #[cfg(not(unix))]
    lock: Mutex<()>,
}

#[cfg(not(target_arch = "wasm32"))]
impl FileSource {
    /// Opens the file at `path`.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path)
            .map_err(|e| err(ErrorCode::ReadFailed, format!("cannot open {}: {e}", path.display())))?;
        Self::from_file(file)
    }

    /// Wraps an open file (its length is read now; the file must not change while read).
    pub fn from_file(file: std::fs::File) -> Result<Self> {
        let len = file.metadata().map_err(|e| err(ErrorCode::ReadFailed, format!("cannot stat file: {e}")))?.len();
        Ok(FileSource {
            file,
            len,
            #[cfg(not(unix))]
            lock: Mutex::new(()),
        })
    }

    fn read_once(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_at(&self.file, buf, offset)
        }
        #[cfg(not(unix))]
        {
            use std::io::{Read, Seek, SeekFrom};
            let _guard = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut file = &self.file;
            file.seek(SeekFrom::Start(offset))?;
            file.read(buf)
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Source for FileSource {
    fn stored_len(&self) -> Option<u64> {
        Some(self.len)
    }

    fn is_random_access(&self) -> bool {
        true
    }

    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.read_once(offset + filled as u64, &mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(err(ErrorCode::ReadFailed, format!("read failed: {e}")).with_offset(offset)),
            }
        }
        Ok(filled)
    }

    async fn read_next(&self, _buf: &mut [u8]) -> Result<usize> {
        Err(not_sequential())
    }
}
