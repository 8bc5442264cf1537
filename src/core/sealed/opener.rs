//! The sequential reader of the sealed format, push style: feed sealed bytes in any pieces,
//! get verified plaintext, at most one chunk per `update` call. It needs no index (it reads
//! in order, as from a ReadableStream) but still checks the index and footer at the end, so
//! every damage is reported by every reader. Its memory is one chunk record and one chunk,
//! whatever the file's size: the index is verified as it streams past (its tag or CRC, and a
//! SHA-256 of its record lengths against one of the records read), never buffered.

use sha2::Digest as _;
use zeroize::Zeroizing;

use super::{
    check_chunk_count, header_len_for, ChunkCodec, Footer, Header, RecordPrefix, FOOTER_LEN, HEADER_PREFIX_LEN,
    INDEX_FIXED_LEN, MAX_HEADER_LEN, PREFIX_LEN,
};
use crate::core::chacha::xor_keystream;
use crate::core::compress::{ChunkInflater, Progress};
use crate::core::crypto::{sealed_nonce, Key, NonceKind, PolyStream, KEY_LEN, TAG_LEN};
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
    /// Chunks read so far.
    chunks: u64,
    /// SHA-256 of the record lengths read (u32 LE each), to compare with the index's.
    lens_digest: sha2::Sha256,
    index: Option<IndexStream>,
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
            buf: Vec::with_capacity(MAX_HEADER_LEN),
            need: HEADER_PREFIX_LEN,
            codec: None,
            inflater: ChunkInflater::new(),
            chunks: 0,
            lens_digest: sha2::Sha256::new(),
            index: None,
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
            if let (Stage::Index, Some(index)) = (self.stage, &mut self.index) {
                // The index streams through its verifier: nothing of it is buffered.
                let taken = index.update(&input[progress.consumed..]);
                progress.consumed += taken;
                self.bytes_in += taken as u64;
                if !index.is_complete() {
                    return Ok(progress);
                }
                self.expect(Stage::Footer, FOOTER_LEN);
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
                // The first 9 bytes say the version, and so how long the header is.
                let len = Header::peek_len(&self.buf)?;
                if self.buf.len() < len {
                    self.need = len;
                    return Ok(0);
                }
                let header = Header::parse(&self.buf)?;
                if self.require_encryption && !header.encrypted {
                    return Err(err(
                        ErrorCode::NotEncrypted,
                        "encryption was expected but the sealed data is not encrypted",
                    ));
                }
                debug_assert_eq!(header_len_for(header.version), Some(len));
                // The key commitment (version 2) is checked here, before any chunk.
                self.codec = Some(ChunkCodec::new(header, self.key.as_ref())?);
                self.expect(Stage::Prefix, PREFIX_LEN);
                Ok(0)
            }
            Stage::Prefix => {
                let codec = self.codec.as_ref().expect("header parsed");
                let prefix = RecordPrefix::parse(self.buf[..PREFIX_LEN].try_into().expect("4 bytes"));
                let payload = prefix.payload_len as usize;
                let chunk = self.chunks;
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
            // The index streams through its verifier in `step`, never through `buf`.
            Stage::Index => Ok(0),
            Stage::Footer => {
                let footer = Footer::parse(&self.buf)?;
                let index = self.index.take().expect("the index came before the footer");
                if footer != index.footer {
                    return Err(err(ErrorCode::Corrupted, "footer points to the wrong index offset or length")
                        .with_offset(footer.index_offset));
                }
                let codec = self.codec.as_ref().expect("header parsed");
                let lens_digest = std::mem::take(&mut self.lens_digest).finalize();
                index.finish(codec, self.bytes_out, &lens_digest.into())?;
                self.stage = Stage::Done;
                self.buf = Vec::new();
                Ok(0)
            }
            Stage::Done => Ok(0),
        }
    }

    fn open_record(&mut self, out: &mut Vec<u8>) -> Result<usize> {
        let codec = self.codec.as_ref().expect("header parsed");
        let chunk = self.chunks;
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
        if check_chunk_count(chunk + 1 + u64::from(!last)).is_err() {
            out.truncate(start);
            return Err(short("more chunks than a sealed file can have"));
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
        let record_len = u32::try_from(self.buf.len()).expect("bounded by max_record_len");
        self.lens_digest.update(record_len.to_le_bytes());
        self.chunks += 1;
        if last {
            self.index_offset = self.bytes_in;
            let index_len = codec
                .index_len_for(self.chunks)
                .and_then(|l| u32::try_from(l).ok())
                .expect("the chunk count is at most MAX_CHUNKS");
            let footer = Footer { index_offset: self.index_offset, index_len };
            self.index = Some(IndexStream::new(codec, self.chunks, footer));
            self.expect(Stage::Index, 0);
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

/// How an index streaming past is checked: its Poly1305 tag (and its keystream, to read the
/// fields), or its CRC.
enum IndexCheck {
    Poly { mac: Box<PolyStream>, subkey: Zeroizing<[u8; KEY_LEN]> },
    Crc(crate::core::checksum::Crc32),
}

/// Verifies an index record delivered in pieces, against the footer the reader expects (the
/// index's offset and the length its chunk count implies: its associated data is known before
/// its first byte). Its fields are read as they decrypt, but nothing is concluded from them
/// until the tag or CRC has verified.
struct IndexStream {
    check: IndexCheck,
    footer: Footer,
    /// Length of the body (before the tag or CRC).
    body_len: usize,
    /// Record bytes consumed.
    pos: usize,
    /// Total length and chunk count, as read.
    fixed: [u8; INDEX_FIXED_LEN],
    /// SHA-256 of the record lengths, as read.
    lens: sha2::Sha256,
    /// The tag or CRC, as read.
    check_bytes: [u8; TAG_LEN],
    /// Chunks the index must list.
    count: u64,
}

impl std::fmt::Debug for IndexStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexStream").field("footer", &self.footer).field("pos", &self.pos).finish()
    }
}

impl IndexStream {
    fn new(codec: &ChunkCodec, count: u64, footer: Footer) -> IndexStream {
        let fields = footer.fields();
        let nonce = sealed_nonce(0, NonceKind::Index);
        let check = match &codec.cipher {
            Some(cipher) => {
                let subkey = Zeroizing::new(*cipher.subkey());
                let mut mac = Box::new(PolyStream::new(&subkey, &nonce));
                mac.update(codec.header_bytes());
                mac.update(&fields);
                mac.pad();
                IndexCheck::Poly { mac, subkey }
            }
            None => {
                let mut crc = crate::core::checksum::Crc32::new();
                crc.update(codec.crc_header());
                crc.update(&nonce);
                crc.update(&fields);
                IndexCheck::Crc(crc)
            }
        };
        IndexStream {
            check,
            body_len: footer.index_len as usize - codec.overhead(),
            footer,
            pos: 0,
            fixed: [0; INDEX_FIXED_LEN],
            lens: sha2::Sha256::new(),
            check_bytes: [0; TAG_LEN],
            count,
        }
    }

    fn is_complete(&self) -> bool {
        self.pos == self.footer.index_len as usize
    }

    /// Takes the next record bytes from `input`; returns how many it used.
    fn update(&mut self, input: &[u8]) -> usize {
        let record_len = self.footer.index_len as usize;
        let take = (record_len - self.pos).min(input.len());
        let mut data = &input[..take];
        // The body: checked, then decrypted in small pieces to read its fields.
        let body_part = (self.body_len.saturating_sub(self.pos)).min(data.len());
        let (body, rest) = data.split_at(body_part);
        let mut at = self.pos;
        for piece in body.chunks(256) {
            let mut plain = [0u8; 256];
            let plain = &mut plain[..piece.len()];
            plain.copy_from_slice(piece);
            match &mut self.check {
                IndexCheck::Poly { mac, subkey } => {
                    mac.update(piece);
                    let nonce = sealed_nonce(0, NonceKind::Index);
                    xor_keystream(subkey, &nonce, 64 + at as u64, plain).expect("an index is far below 256 GiB");
                }
                IndexCheck::Crc(crc) => crc.update(piece),
            }
            self.absorb(at, plain);
            at += piece.len();
        }
        self.pos = at;
        data = rest;
        if !data.is_empty() {
            // The tag or CRC (the body is complete).
            let check_at = self.pos - self.body_len;
            self.check_bytes[check_at..check_at + data.len()].copy_from_slice(data);
            self.pos += data.len();
        }
        take
    }

    /// Body bytes from body offset `at`, decrypted: the fixed fields, then record lengths.
    fn absorb(&mut self, at: usize, plain: &[u8]) {
        let fixed = INDEX_FIXED_LEN.saturating_sub(at).min(plain.len());
        if fixed > 0 {
            self.fixed[at..at + fixed].copy_from_slice(&plain[..fixed]);
        }
        self.lens.update(&plain[fixed..]);
    }

    /// Checks the tag or CRC, and only then the fields: the chunk count, the total length
    /// (`total_read`, the plaintext read) and the record lengths (`lens_read`: the SHA-256 of
    /// those of the records read).
    fn finish(self, codec: &ChunkCodec, total_read: u64, lens_read: &[u8; 32]) -> Result<()> {
        match self.check {
            IndexCheck::Poly { mac, .. } => {
                let aad_len = (codec.header_len() + 12) as u64;
                let mut lengths = [0u8; 16];
                lengths[..8].copy_from_slice(&aad_len.to_le_bytes());
                lengths[8..].copy_from_slice(&(self.body_len as u64).to_le_bytes());
                let tag = mac.finish(Some(lengths));
                if !bool::from(subtle::ConstantTimeEq::ct_eq(tag.as_slice(), &self.check_bytes[..])) {
                    return Err(crate::core::crypto::auth_failed());
                }
            }
            IndexCheck::Crc(crc) => {
                if crc.finalize().to_le_bytes() != self.check_bytes[..4] {
                    return Err(err(ErrorCode::ChecksumMismatch, "index CRC does not match"));
                }
            }
        }
        let total = u64::from_le_bytes(self.fixed[..8].try_into().expect("8 bytes"));
        let count = u64::from_le_bytes(self.fixed[8..].try_into().expect("8 bytes"));
        let entries = ((self.body_len - INDEX_FIXED_LEN) / 4) as u64;
        codec.check_index_fields(total, count, entries)?;
        let lens: [u8; 32] = self.lens.finalize().into();
        if count != self.count || total != total_read || lens != *lens_read {
            return Err(err(ErrorCode::Corrupted, "index does not match the chunks read"));
        }
        Ok(())
    }
}
