//! The streaming writer of the sealed format: push plaintext, get sealed bytes; `finish`
//! writes the last chunk, the index and the footer. Output per `update` call is bounded by
//! one chunk record, whatever the input size.

use super::{check_chunk_count, check_chunk_size, ChunkCodec, Header, DEFAULT_CHUNK_SIZE, FOOTER_LEN, VERSION};
use crate::core::compress::{ChunkCompressor, Progress, DEFAULT_LEVEL};
use crate::core::crypto::{random_bytes, Key};
use crate::core::error::{err, ErrorCode, Result, StreamError};

/// How to seal. The per-file salt is always fresh from the platform CSPRNG (a chosen salt
/// would reuse nonces: `hazmat` has it, for test vectors).
#[derive(Clone, Debug, Default)]
pub struct SealOptions {
    /// Encrypt with ChaCha20-Poly1305 under a subkey of this key.
    pub key: Option<Key>,
    /// Deflate level (0..=10); `None` stores chunks as they are.
    pub level: Option<u8>,
    /// Plaintext bytes per chunk (`None` = [`DEFAULT_CHUNK_SIZE`]).
    pub chunk_size: Option<usize>,
    /// The total plaintext length, if known up front: written to the header and enforced.
    pub total_len: Option<u64>,
}

impl SealOptions {
    /// Options that compress at the default level.
    pub fn compressed() -> Self {
        SealOptions { level: Some(DEFAULT_LEVEL), ..Default::default() }
    }

    /// The header these options produce, with a fresh salt (its key commitment is filled in
    /// by the sealer, which has the key).
    pub fn header(&self) -> Result<Header> {
        let mut salt = [0u8; 16];
        random_bytes(&mut salt)?;
        self.header_with(salt, VERSION)
    }

    /// The header with this salt and version (crate-private: `hazmat` and the sealers).
    pub(crate) fn header_with(&self, salt: [u8; 16], version: u8) -> Result<Header> {
        let chunk_size = check_chunk_size(self.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE as usize))?;
        if let Some(total) = self.total_len {
            // A declared length too large for the chunk size fails now, not after streaming.
            check_chunk_count(total.div_ceil(u64::from(chunk_size)))?;
        }
        Ok(Header {
            version,
            compressed: self.level.is_some(),
            encrypted: self.key.is_some(),
            chunk_size,
            total_len: self.total_len,
            salt,
            commitment: None,
        })
    }
}

/// Streaming sealer.
#[derive(Debug)]
pub struct Sealer {
    codec: ChunkCodec,
    compressor: Option<ChunkCompressor>,
    pending: Vec<u8>,
    record: Vec<u8>,
    header_written: bool,
    record_lens: Vec<u32>,
    bytes_out: u64,
    bytes_in: u64,
    finished: bool,
}

impl Sealer {
    /// A sealer with these options (a fresh salt, so fresh nonces; format [`VERSION`]).
    pub fn new(options: &SealOptions) -> Result<Sealer> {
        Sealer::with_header(options, options.header()?)
    }

    /// A sealer that writes this header (crate-private: `hazmat` and [`Sealer::new`]).
    pub(crate) fn with_header(options: &SealOptions, header: Header) -> Result<Sealer> {
        let compressor = options.level.map(ChunkCompressor::new).transpose()?;
        let codec = ChunkCodec::sealing(header, options.key.as_ref())?;
        Ok(Sealer {
            pending: Vec::with_capacity(codec.chunk_size()),
            record: Vec::with_capacity(codec.max_record_len()),
            codec,
            compressor,
            header_written: false,
            record_lens: Vec::new(),
            bytes_out: 0,
            bytes_in: 0,
            finished: false,
        })
    }

    /// The header of the file being written.
    pub fn header(&self) -> &Header {
        self.codec.header()
    }

    /// The codec, for sealing chunks elsewhere (workers) with the same parameters.
    pub fn codec(&self) -> &ChunkCodec {
        &self.codec
    }

    /// Plaintext bytes accepted so far.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Sealed bytes produced so far.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    /// Takes plaintext and appends sealed bytes to `out`: the header on the first call, then
    /// at most one chunk record per call. Call again with the unconsumed rest.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Progress> {
        self.check_open()?;
        let mut progress = Progress::default();
        progress.produced += self.write_header(out);
        let chunk_size = self.codec.chunk_size();
        let mut sealed_one = false;
        loop {
            let rest = &input[progress.consumed..];
            if rest.is_empty() {
                return Ok(progress);
            }
            if self.pending.len() == chunk_size {
                // More input exists, so the pending chunk is not the last one.
                if sealed_one {
                    return Ok(progress);
                }
                // This chunk and at least the last one after it.
                check_chunk_count(self.record_lens.len() as u64 + 2)?;
                progress.produced += self.seal_pending(false, out)?;
                sealed_one = true;
            }
            let take = (chunk_size - self.pending.len()).min(rest.len());
            if let Some(total) = self.codec.header().total_len {
                if self.bytes_in + take as u64 > total {
                    return Err(size_mismatch(total, self.bytes_in + take as u64));
                }
            }
            self.pending.extend_from_slice(&rest[..take]);
            self.bytes_in += take as u64;
            progress.consumed += take;
        }
    }

    /// Seals what is pending as the last chunk and appends the index and footer.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.check_open()?;
        if let Some(total) = self.codec.header().total_len {
            if total != self.bytes_in {
                return Err(size_mismatch(total, self.bytes_in));
            }
        }
        self.finished = true;
        self.write_header(out);
        self.seal_pending(true, out)?;
        let (index, footer) = self.codec.seal_index(self.bytes_in, &self.record_lens, self.bytes_out)?;
        out.extend_from_slice(&index);
        out.extend_from_slice(&footer.to_bytes());
        self.bytes_out += (index.len() + FOOTER_LEN) as u64;
        Ok(())
    }

    /// Seals a whole buffer (convenience for small data and tests).
    pub fn seal_all(options: &SealOptions, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut sealer = Sealer::new(options)?;
        let mut out = Vec::with_capacity(plaintext.len() + plaintext.len() / 64 + 256);
        let mut pos = 0;
        while pos < plaintext.len() {
            pos += sealer.update(&plaintext[pos..], &mut out)?.consumed;
        }
        sealer.finish(&mut out)?;
        Ok(out)
    }

    fn check_open(&self) -> Result<()> {
        if self.finished {
            return Err(err(ErrorCode::Closed, "the sealer has already finished"));
        }
        Ok(())
    }

    fn write_header(&mut self, out: &mut Vec<u8>) -> usize {
        if self.header_written {
            return 0;
        }
        self.header_written = true;
        out.extend_from_slice(self.codec.header_bytes());
        self.bytes_out += self.codec.header_len() as u64;
        self.codec.header_len()
    }

    fn seal_pending(&mut self, last: bool, out: &mut Vec<u8>) -> Result<usize> {
        let index = self.record_lens.len() as u64;
        self.codec.seal_chunk(index, last, &self.pending, self.compressor.as_mut(), &mut self.record)?;
        self.pending.clear();
        out.extend_from_slice(&self.record);
        self.record_lens.push(u32::try_from(self.record.len()).expect("records are bounded by the chunk size"));
        self.bytes_out += self.record.len() as u64;
        Ok(self.record.len())
    }
}

fn size_mismatch(declared: u64, actual: u64) -> StreamError {
    err(ErrorCode::SizeMismatch, format!("the declared size is {declared} bytes but {actual} were given"))
        .with_field("size")
        .with_value(actual)
        .with_expected(declared.to_string())
}
