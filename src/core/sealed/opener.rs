//! The sequential reader of the sealed format, push style: feed sealed bytes in any pieces,
//! get verified plaintext, at most one chunk per `update` call. It needs no index (it reads
//! in order, as from a ReadableStream) but still checks the index and footer at the end, so
//! every damage is reported by every reader.

use super::{ChunkCodec, Footer, Header, RecordPrefix, FOOTER_LEN, HEADER_LEN, PREFIX_LEN};
use crate::core::compress::{ChunkInflater, Progress};
use crate::core::crypto::Key;
use crate::core::error::{err, ErrorCode, Result, StreamError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    Prefix,
    Payload,
    Index,
    Footer,
    Done,
}

/// Sequential opener.
#[derive(Debug)]
pub struct Opener {
    key: Option<Key>,
    require_encryption: bool,
    stage: Stage,
    buf: Vec<u8>,
    need: usize,
    codec: Option<ChunkCodec>,
    inflater: ChunkInflater,
    record_lens: Vec<u32>,
    index_record: Vec<u8>,
    index_offset: u64,
    bytes_in: u64,
    bytes_out: u64,
    first_chunk_verified: bool,
    failed: Option<StreamError>,
}

impl Opener {
    /// An opener; `key` is required for encrypted files and refused for unencrypted ones.
    pub fn new(key: Option<Key>) -> Opener {
        Opener {
            key,
            require_encryption: false,
            stage: Stage::Header,
            buf: Vec::with_capacity(HEADER_LEN),
            need: HEADER_LEN,
            codec: None,
            inflater: ChunkInflater::new(),
            record_lens: Vec::new(),
            index_record: Vec::new(),
            index_offset: 0,
            bytes_in: 0,
            bytes_out: 0,
            first_chunk_verified: false,
            failed: None,
        }
    }

    /// Refuse unencrypted files even without a key (the caller expects encryption).
    #[must_use]
    pub fn require_encryption(mut self) -> Opener {
        self.require_encryption = true;
        self
    }

    /// The header, once read.
    pub fn header(&self) -> Option<&Header> {
        self.codec.as_ref().map(ChunkCodec::header)
    }

    /// The total plaintext length from authenticated data: the header's (once the first chunk,
    /// which authenticates the header, has verified), or the count once the last chunk has.
    pub fn total_len(&self) -> Option<u64> {
        if matches!(self.stage, Stage::Index | Stage::Footer | Stage::Done) {
            return Some(self.bytes_out);
        }
        if self.first_chunk_verified {
            return self.header().and_then(|h| h.total_len);
        }
        None
    }

    /// Sealed bytes consumed so far.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Plaintext bytes produced so far.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    /// True once the footer has been read and everything verified.
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Memory the opener holds for one chunk record at most (after the header is known).
    pub fn max_record_len(&self) -> Option<usize> {
        self.codec.as_ref().map(ChunkCodec::max_record_len)
    }

    /// Feeds sealed bytes; appends verified plaintext to `out`, at most one chunk per call.
    /// Call again with the unconsumed rest. An error is final.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Progress> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = self.step(input, out);
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    /// Declares the end of input: an error unless the whole file, footer included, was read.
    pub fn finish(&self) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        match self.stage {
            Stage::Done => Ok(()),
            Stage::Header if self.bytes_in == 0 => {
                Err(err(ErrorCode::UnknownFormat, "the data is empty: not a sealed file"))
            }
            Stage::Index | Stage::Footer => {
                Err(err(ErrorCode::Truncated, "the sealed data ends inside its index or footer")
                    .with_offset(self.bytes_in))
            }
            _ => {
                Err(err(ErrorCode::Truncated, "the sealed data ends before its last chunk").with_offset(self.bytes_in))
            }
        }
    }

    fn step(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Progress> {
        let mut progress = Progress::default();
        loop {
            if self.stage == Stage::Done {
                if progress.consumed < input.len() {
                    return Err(err(ErrorCode::Corrupted, "data follows the sealed footer").with_offset(self.bytes_in));
                }
                progress.done = true;
                return Ok(progress);
            }
            let take = (self.need - self.buf.len()).min(input.len() - progress.consumed);
            self.buf.extend_from_slice(&input[progress.consumed..progress.consumed + take]);
            progress.consumed += take;
            self.bytes_in += take as u64;
            if self.stage == Stage::Header && !super::MAGIC.starts_with(&self.buf[..self.buf.len().min(8)]) {
                // Say "not sealed" as soon as the first bytes disagree, however short the input.
                return Err(super::not_sealed());
            }
            if self.buf.len() < self.need {
                return Ok(progress);
            }
            let produced = self.complete_structure(out)?;
            progress.produced += produced;
            if produced > 0 && self.stage != Stage::Done {
                return Ok(progress);
            }
        }
    }

    /// Handles a fully buffered structure; returns plaintext bytes produced.
    fn complete_structure(&mut self, out: &mut Vec<u8>) -> Result<usize> {
        match self.stage {
            Stage::Header => {
                let header = Header::parse(&self.buf)?;
                if self.require_encryption && !header.encrypted {
                    return Err(err(
                        ErrorCode::NotEncrypted,
                        "encryption was expected but the sealed data is not encrypted",
                    ));
                }
                self.codec = Some(ChunkCodec::new(header, self.key.as_ref())?);
                self.expect(Stage::Prefix, PREFIX_LEN);
                Ok(0)
            }
            Stage::Prefix => {
                let codec = self.codec.as_ref().expect("header parsed");
                let prefix = RecordPrefix::parse(self.buf[..PREFIX_LEN].try_into().expect("4 bytes"));
                let payload = prefix.payload_len as usize;
                let chunk = self.record_lens.len() as u64;
                if payload < codec.overhead() || PREFIX_LEN + payload > codec.max_record_len() {
                    return Err(err(
                        ErrorCode::Corrupted,
                        format!("chunk {chunk}: record length {payload} is out of range"),
                    )
                    .with_chunk(chunk)
                    .with_offset(self.bytes_in - PREFIX_LEN as u64));
                }
                self.stage = Stage::Payload;
                self.need = PREFIX_LEN + payload;
                Ok(0)
            }
            Stage::Payload => self.open_record(out),
            Stage::Index => {
                self.index_record = std::mem::take(&mut self.buf);
                self.expect(Stage::Footer, FOOTER_LEN);
                Ok(0)
            }
            Stage::Footer => {
                let codec = self.codec.as_ref().expect("header parsed");
                let footer = Footer::parse(&self.buf)?;
                if footer.index_offset != self.index_offset {
                    return Err(err(ErrorCode::Corrupted, "footer points to the wrong index offset")
                        .with_offset(footer.index_offset));
                }
                let (total, lens) = codec.open_index(&mut self.index_record, &footer)?;
                if total != self.bytes_out || lens != self.record_lens {
                    return Err(err(ErrorCode::Corrupted, "index does not match the chunks read"));
                }
                self.stage = Stage::Done;
                self.buf = Vec::new();
                self.index_record = Vec::new();
                Ok(0)
            }
            Stage::Done => Ok(0),
        }
    }

    fn open_record(&mut self, out: &mut Vec<u8>) -> Result<usize> {
        let codec = self.codec.as_ref().expect("header parsed");
        let chunk = self.record_lens.len() as u64;
        let chunk_size = codec.chunk_size();
        let start = out.len();
        out.resize(start + chunk_size, 0);
        let opened = codec.open_chunk(chunk, None, &mut self.buf, &mut self.inflater, &mut out[start..]);
        let (len, last) = match opened {
            Ok(v) => v,
            Err(e) => {
                out.truncate(start);
                return Err(e.with_offset(self.bytes_in - self.buf.len() as u64));
            }
        };
        out.truncate(start + len);
        let short = |msg: &str| err(ErrorCode::Corrupted, format!("chunk {chunk}: {msg}")).with_chunk(chunk);
        if !last && len != chunk_size {
            out.truncate(start);
            return Err(short("a chunk before the last is not full"));
        }
        if last && len == 0 && chunk > 0 {
            out.truncate(start);
            return Err(short("an empty last chunk after other chunks"));
        }
        let total = self.bytes_out + len as u64;
        if let Some(declared) = codec.header().total_len {
            if total > declared || (last && total != declared) {
                out.truncate(start);
                return Err(short("the plaintext length differs from the header's total"));
            }
        }
        self.first_chunk_verified = true;
        self.bytes_out = total;
        self.record_lens.push(u32::try_from(self.buf.len()).expect("bounded by max_record_len"));
        if last {
            self.index_offset = self.bytes_in;
            let index_len = codec.overhead() + 16 + 4 * self.record_lens.len();
            self.expect(Stage::Index, index_len);
        } else {
            self.expect(Stage::Prefix, PREFIX_LEN);
        }
        Ok(len)
    }

    fn expect(&mut self, stage: Stage, need: usize) {
        self.stage = stage;
        self.need = need;
        self.buf.clear();
    }
}
