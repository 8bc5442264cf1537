//! Decoding with an output limit: [`LimitedInflater`] for pushed pieces, `inflate_all` for a
//! whole buffer.

use super::*;

/// Decodes gzip, zlib or raw deflate (the wrapper detected from the first bytes) pushed in
/// pieces of any size, appending the output to a vector and refusing to produce more than a
/// limit in all (`OUTPUT_LIMIT`).
#[derive(Debug)]
pub struct LimitedInflater {
    inner: Option<Inflater>,
    limit: u64,
    produced: u64,
    buf: Vec<u8>,
}

impl LimitedInflater {
    /// A decoder that produces at most `limit` bytes.
    pub fn new(limit: u64) -> Self {
        LimitedInflater { inner: None, limit, produced: 0, buf: Vec::new() }
    }

    /// Decodes all of `input`, appending to `out`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let inner = self.inner.get_or_insert_with(|| Inflater::new(CompressedFormat::detect(input)));
        if self.buf.is_empty() {
            self.buf = vec![0u8; 64 * 1024];
        }
        let mut consumed = 0;
        loop {
            let p = inner.update(&input[consumed..], &mut self.buf)?;
            consumed += p.consumed;
            self.produced += p.produced as u64;
            if self.produced > self.limit {
                return Err(err(ErrorCode::OutputLimit, format!("output exceeds the limit of {} bytes", self.limit)));
            }
            out.extend_from_slice(&self.buf[..p.produced]);
            if p.done || (p.consumed == 0 && p.produced == 0) {
                return Ok(());
            }
        }
    }

    /// Declares the end of input: an error unless the compressed stream was complete.
    pub fn finish(&self) -> Result<()> {
        match &self.inner {
            Some(inner) => inner.finish(),
            None => Err(err(ErrorCode::Truncated, "no compressed data")),
        }
    }
}

/// Decodes a whole gzip, zlib or raw deflate buffer (wrapper detected), refusing to produce
/// more than `limit` bytes (`OUTPUT_LIMIT`).
pub fn inflate_all(input: &[u8], limit: usize) -> Result<Vec<u8>> {
    let mut inflater = LimitedInflater::new(limit as u64);
    let mut out = Vec::new();
    inflater.update(input, &mut out)?;
    inflater.finish()?;
    Ok(out)
}
