//! Sealing with a chosen salt or header, and [`Crafter`], which writes malformed but
//! authenticated sealed files (any record flags, lengths, positions and index fields, with
//! correct tags under the key), so tests and fuzzers reach the code that runs after
//! authentication. A salt or header used twice under one key reuses nonces, which loses
//! confidentiality and integrity: none of this belongs outside tests. Compiled only with the
//! `hazmat` feature (or in this crate's own tests).

use super::{ChunkCodec, Footer, Header, SealOptions, Sealer, PREFIX_LEN};
use crate::core::compress::ChunkCompressor;
use crate::core::crypto::Key;
use crate::core::error::{err, ErrorCode, Result};

/// A sealer that writes this salt and format version (1 or 2): test vectors.
pub fn sealer_with_salt(options: &SealOptions, salt: [u8; 16], version: u8) -> Result<Sealer> {
    Sealer::with_header(options, options.header_with(salt, version)?)
}

/// Seals `plaintext` whole with this salt and format version.
pub fn seal_with_salt(options: &SealOptions, salt: [u8; 16], version: u8, plaintext: &[u8]) -> Result<Vec<u8>> {
    seal_all(sealer_with_salt(options, salt, version)?, plaintext)
}

/// Seals `plaintext` whole with exactly this header (its commitment is recomputed from the
/// options' key): another file with an existing file's nonces.
pub fn seal_with_header(options: &SealOptions, header: Header, plaintext: &[u8]) -> Result<Vec<u8>> {
    seal_all(Sealer::with_header(options, header)?, plaintext)
}

fn seal_all(mut sealer: Sealer, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < plaintext.len() {
        pos += sealer.update(&plaintext[pos..], &mut out)?.consumed;
    }
    sealer.finish(&mut out)?;
    Ok(out)
}

/// A codec that seals with an existing header (its commitment recomputed from `key`).
pub fn sealing_codec(header: Header, key: Option<&Key>) -> Result<ChunkCodec> {
    ChunkCodec::sealing(header, key)
}

/// Writes a sealed file piece by piece with whatever fields the caller chooses, each record
/// and the index authenticated (tag or CRC) exactly as a correct sealer would, so a reader
/// gets past authentication and must then find what is wrong.
#[derive(Debug)]
pub struct Crafter {
    codec: ChunkCodec,
    out: Vec<u8>,
    lens: Vec<u32>,
}

impl Crafter {
    /// A file with this header (a version 2 encrypted header gets `key`'s commitment).
    pub fn new(header: Header, key: Option<&Key>) -> Result<Crafter> {
        let codec = ChunkCodec::sealing(header, key)?;
        let out = codec.header_bytes().to_vec();
        Ok(Crafter { codec, out, lens: Vec::new() })
    }

    /// The codec the records are sealed with (its header is the file's).
    pub fn codec(&self) -> &ChunkCodec {
        &self.codec
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> &[u8] {
        &self.out
    }

    /// Bytes written so far.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u64 {
        self.out.len() as u64
    }

    /// The lengths of the records written so far (prefix included), in order.
    pub fn lens(&self) -> &[u32] {
        &self.lens
    }

    /// Appends a record at position `index` with these flags and exactly this body (raw
    /// deflate or not, as the caller says), authenticated: its nonce is that of chunk `index`
    /// (last or not, from `last`), its associated data the header and its prefix.
    pub fn record(&mut self, index: u64, last: bool, deflated: bool, body: &[u8]) -> Result<&mut Self> {
        let mut record = vec![0u8; PREFIX_LEN + body.len() + self.codec.overhead()];
        record[PREFIX_LEN..PREFIX_LEN + body.len()].copy_from_slice(body);
        self.codec.seal_record_in_place(index, last, deflated, &mut record)?;
        self.push(record)
    }

    /// Appends chunk `index` sealed as a correct sealer seals it (deflated at `level` when the
    /// file is compressed and that shrinks it).
    pub fn chunk(&mut self, index: u64, last: bool, plaintext: &[u8], level: Option<u8>) -> Result<&mut Self> {
        let mut compressor = level.map(ChunkCompressor::new).transpose()?;
        let mut record = Vec::new();
        if plaintext.len() > self.codec.chunk_size() {
            return Err(err(ErrorCode::InvalidArgument, "a crafted chunk longer than the chunk size"));
        }
        self.codec.seal_chunk(index, last, plaintext, compressor.as_mut(), &mut record)?;
        self.push(record)
    }

    fn push(&mut self, record: Vec<u8>) -> Result<&mut Self> {
        let len = u32::try_from(record.len()).map_err(|_| err(ErrorCode::InvalidArgument, "a record past 4 GiB"))?;
        self.lens.push(len);
        self.out.extend_from_slice(&record);
        Ok(self)
    }

    /// Appends bytes as they are (not authenticated, not a record).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.out.extend_from_slice(bytes);
        self
    }

    /// Appends an index record with exactly these fields, authenticated for a footer that
    /// points at it, then that footer.
    pub fn index(&mut self, total: u64, count: u64, lens: &[u32]) -> Result<&mut Self> {
        let len = self
            .codec
            .index_len_for(lens.len() as u64)
            .and_then(|l| u32::try_from(l).ok())
            .ok_or_else(|| err(ErrorCode::InvalidArgument, "a crafted index past 4 GiB"))?;
        self.index_with_footer(total, count, lens, Footer { index_offset: self.len(), index_len: len })
    }

    /// Appends an index record with exactly these fields, authenticated for `footer` (which
    /// need not describe it), then `footer`.
    pub fn index_with_footer(&mut self, total: u64, count: u64, lens: &[u32], footer: Footer) -> Result<&mut Self> {
        let record = self.codec.seal_index_record(total, count, lens.iter().copied(), &footer)?;
        self.out.extend_from_slice(&record);
        self.out.extend_from_slice(&footer.to_bytes());
        Ok(self)
    }

    /// The index a correct sealer would write for the records so far (total `total`), then
    /// its footer.
    pub fn true_index(&mut self, total: u64) -> Result<&mut Self> {
        let lens = self.lens.clone();
        self.index(total, lens.len() as u64, &lens)
    }

    /// The file.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}
