//! Sealing with the chunks sealed elsewhere (a worker pool): this side makes the header (and
//! with it the per-file subkey the workers get), takes the sealed records back in order,
//! checks them against what was asked, and writes the index and footer. Workers seal chunks
//! with [`ChunkCodec::seal_chunk`] on a clone of [`ParallelSealer::codec`] (natively), or on a
//! session codec made from its header bytes and subkey (the wasm boundary's
//! `WasmChunkCodec.fromSession`).

use super::{check_chunk_count, ChunkCodec, RecordPrefix, SealOptions, PREFIX_LEN};
use crate::core::error::{err, ErrorCode, Result, StreamError};

/// The writer side of a parallel seal.
#[derive(Debug)]
pub struct ParallelSealer {
    codec: ChunkCodec,
    record_lens: Vec<u32>,
    bytes_in: u64,
    bytes_out: u64,
    last_seen: bool,
    finished: bool,
}

impl ParallelSealer {
    /// A sealer with these options (a fresh salt, hence subkey and nonces).
    pub fn new(options: &SealOptions) -> Result<ParallelSealer> {
        let codec = ChunkCodec::sealing(options.header()?, options.key.as_ref())?;
        Ok(ParallelSealer {
            bytes_out: codec.header_len() as u64,
            codec,
            record_lens: Vec::new(),
            bytes_in: 0,
            last_seen: false,
            finished: false,
        })
    }

    /// The codec: header bytes, chunk size and the subkey workers seal with (clone it to seal
    /// chunks elsewhere).
    pub fn codec(&self) -> &ChunkCodec {
        &self.codec
    }

    /// Chunks the file will have, when its total length was declared.
    pub fn chunk_count(&self) -> Option<u64> {
        self.codec.header().total_len.map(|t| self.codec.chunk_count_for(t))
    }

    /// Takes the record of the next chunk (`chunk` must be the next number) sealed from
    /// `plain_len` plaintext bytes: checks that it is the record asked for (its prefix, its
    /// last flag) and that the plaintext adds up (full chunks before the last, never past the
    /// declared length, at most the format's chunk count: a chunk that is not the last must
    /// leave room for one).
    pub fn accept(&mut self, chunk: u64, plain_len: usize, record: &[u8]) -> Result<()> {
        if self.finished || self.last_seen {
            return Err(err(ErrorCode::Corrupted, format!("chunk {chunk} comes after the last chunk")));
        }
        let expected = self.record_lens.len() as u64;
        if chunk != expected {
            return Err(err(
                ErrorCode::InvalidArgument,
                format!("chunk {chunk} was given where {expected} comes next"),
            ));
        }
        let chunk_size = self.codec.chunk_size();
        if plain_len > chunk_size || record.len() < PREFIX_LEN + self.codec.overhead() {
            return Err(err(ErrorCode::Corrupted, format!("chunk {chunk}: the record does not fit the chunk size")));
        }
        let prefix = RecordPrefix::parse(record[..PREFIX_LEN].try_into().expect("length checked"));
        check_chunk_count(expected + if prefix.last { 1 } else { 2 })?;
        if prefix.payload_len as usize != record.len() - PREFIX_LEN {
            return Err(err(
                ErrorCode::Corrupted,
                format!("chunk {chunk}: the record length disagrees with its prefix"),
            ));
        }
        if prefix.last && plain_len == 0 && chunk > 0 {
            return Err(err(ErrorCode::Corrupted, "an empty last chunk after other chunks"));
        }
        if !prefix.last && plain_len != chunk_size {
            return Err(err(ErrorCode::Corrupted, format!("chunk {chunk} is not full but not the last")));
        }
        let total = self.bytes_in + plain_len as u64;
        if let Some(declared) = self.codec.header().total_len {
            if total > declared || (prefix.last && total != declared) {
                return Err(size_mismatch(declared, total, prefix.last));
            }
        }
        self.bytes_in = total;
        self.bytes_out = self
            .bytes_out
            .checked_add(record.len() as u64)
            .ok_or_else(|| err(ErrorCode::InvalidArgument, "the sealed file is too large"))?;
        self.last_seen = prefix.last;
        self.record_lens.push(u32::try_from(record.len()).expect("records are bounded by the chunk size"));
        Ok(())
    }

    /// Plaintext bytes taken so far.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// The index record and footer, once the last chunk was taken.
    pub fn finish(&mut self) -> Result<Vec<u8>> {
        if !self.last_seen {
            return Err(err(ErrorCode::Truncated, "the last chunk was never sealed"));
        }
        if self.finished {
            return Err(err(ErrorCode::Closed, "the sealer has already finished"));
        }
        self.finished = true;
        let (mut index, footer) = self.codec.seal_index(self.bytes_in, &self.record_lens, self.bytes_out)?;
        index.extend_from_slice(&footer.to_bytes());
        self.bytes_out += index.len() as u64;
        Ok(index)
    }
}

fn size_mismatch(declared: u64, actual: u64, ended: bool) -> StreamError {
    let actual = if ended { actual.to_string() } else { format!("more than {declared}") };
    err(ErrorCode::SizeMismatch, format!("the declared size is {declared} bytes but the source gave {actual}"))
        .with_field("size")
        .with_expected(declared.to_string())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::compress::ChunkCompressor;
    use crate::core::crypto::Key;
    use crate::core::sealed::Opener;

    fn seal_parallel(data: &[u8], options: &SealOptions) -> Result<Vec<u8>> {
        let mut sealer = ParallelSealer::new(options)?;
        // A worker's session, as the wasm boundary makes it from the header bytes and subkey.
        let header = crate::core::sealed::Header::parse(sealer.codec().header_bytes())?;
        let worker = ChunkCodec::session(header, sealer.codec().subkey())?;
        let mut compressor = options.level.map(ChunkCompressor::new).transpose()?;
        let mut out = sealer.codec().header_bytes().to_vec();
        let size = sealer.codec().chunk_size();
        let pieces: Vec<&[u8]> = if data.is_empty() { vec![&[]] } else { data.chunks(size).collect() };
        let mut record = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let last = i + 1 == pieces.len();
            worker.seal_chunk(i as u64, last, piece, compressor.as_mut(), &mut record)?;
            sealer.accept(i as u64, piece.len(), &record)?;
            out.extend_from_slice(&record);
        }
        out.extend(sealer.finish()?);
        Ok(out)
    }

    #[test]
    fn a_parallel_seal_opens_like_a_sequential_one() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        for key in [None, Some(Key::from([5; 32]))] {
            for level in [None, Some(6)] {
                let options = SealOptions { key: key.clone(), level, chunk_size: Some(4096), ..Default::default() };
                let sealed = seal_parallel(&data, &options).unwrap();
                let mut opener = Opener::new(key.clone());
                let mut plain = Vec::new();
                let mut rest = &sealed[..];
                while !rest.is_empty() {
                    let p = opener.update(rest, &mut plain).unwrap();
                    rest = &rest[p.consumed..];
                }
                opener.finish().unwrap();
                assert_eq!(plain, data);
                // The same bytes as the sequential sealer with the same header.
                let header = opener.header().unwrap().clone();
                assert_eq!(header.version, crate::core::sealed::VERSION);
                let sequential = crate::core::sealed::hazmat::seal_with_header(&options, header, &data).unwrap();
                assert_eq!(sequential, sealed);
            }
        }
    }

    #[test]
    fn a_source_shorter_or_longer_than_declared_is_a_size_mismatch() {
        let data = vec![7u8; 10_000];
        let short = SealOptions { chunk_size: Some(4096), total_len: Some(12_000), ..Default::default() };
        assert_eq!(seal_parallel(&data, &short).unwrap_err().code(), ErrorCode::SizeMismatch);
        let long = SealOptions { chunk_size: Some(4096), total_len: Some(9_000), ..Default::default() };
        assert_eq!(seal_parallel(&data, &long).unwrap_err().code(), ErrorCode::SizeMismatch);
    }

    #[test]
    fn records_out_of_order_or_after_the_last_are_refused() {
        let options = SealOptions { chunk_size: Some(64), ..Default::default() };
        let mut sealer = ParallelSealer::new(&options).unwrap();
        let codec = sealer.codec().clone();
        let mut record = Vec::new();
        codec.seal_chunk(1, false, &[1; 64], None, &mut record).unwrap();
        assert!(sealer.accept(1, 64, &record).is_err(), "chunk 1 before chunk 0");
        codec.seal_chunk(0, true, &[1; 10], None, &mut record).unwrap();
        sealer.accept(0, 10, &record).unwrap();
        assert!(sealer.accept(1, 10, &record).is_err(), "after the last");
        assert!(sealer.finish().is_ok());
    }
}
