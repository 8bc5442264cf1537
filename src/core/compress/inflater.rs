//! The streaming decoder of gzip, zlib and raw deflate input: the wrapper told from the first
//! bytes, checksums verified, push style with explicit progress.

use super::*;

/// The wrapper of a compressed stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompressedFormat {
    /// RFC 1952 gzip (one or more members).
    Gzip,
    /// RFC 1950 zlib.
    Zlib,
    /// RFC 1951 raw deflate.
    Raw,
}

impl CompressedFormat {
    /// Detects the wrapper from the first bytes (at least 2 for a reliable answer).
    pub fn detect(first: &[u8]) -> CompressedFormat {
        match first {
            [0x1f, 0x8b, ..] => CompressedFormat::Gzip,
            [cmf, flg, ..]
                if cmf & 0x0f == 8
                    && cmf >> 4 <= 7
                    && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
                    && flg & 0x20 == 0 =>
            {
                CompressedFormat::Zlib
            }
            _ => CompressedFormat::Raw,
        }
    }

    /// `"gzip"`, `"zlib"` or `"deflate-raw"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CompressedFormat::Gzip => "gzip",
            CompressedFormat::Zlib => "zlib",
            CompressedFormat::Raw => "deflate-raw",
        }
    }
}

#[derive(Debug)]
enum Phase {
    /// Collecting a wrapper header (gzip or zlib) in `header`.
    Header,
    /// Inflating the deflate body.
    Body,
    /// Collecting a trailer (gzip CRC-32 + ISIZE, zlib Adler-32) in `header`.
    Trailer,
    /// Finished a gzip member: another may follow.
    BetweenMembers,
    /// The stream is complete.
    Done,
}

/// Streaming decoder of gzip, zlib or raw deflate, push style: feed input, get output,
/// until `done`. Memory is bounded by the 32 KiB deflate window.
pub struct Inflater {
    format: CompressedFormat,
    state: backend::RawInflate,
    phase: Phase,
    header: Vec<u8>,
    crc: crate::core::checksum::Crc32,
    adler: adler2::Adler32,
    member_len: u64,
    total_out: u64,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater").field("format", &self.format).field("phase", &self.phase).finish()
    }
}

impl Inflater {
    /// A decoder for the given wrapper.
    pub fn new(format: CompressedFormat) -> Self {
        let phase = if format == CompressedFormat::Raw { Phase::Body } else { Phase::Header };
        Inflater {
            format,
            state: backend::RawInflate::new(),
            phase,
            header: Vec::new(),
            crc: crate::core::checksum::Crc32::new(),
            adler: adler2::Adler32::new(),
            member_len: 0,
            total_out: 0,
        }
    }

    /// The wrapper being decoded.
    pub fn format(&self) -> CompressedFormat {
        self.format
    }

    /// Total bytes produced so far.
    pub fn total_out(&self) -> u64 {
        self.total_out
    }

    /// True once the stream is complete and verified.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// Decodes as much of `input` into `out` as fits. Call again with the unconsumed input
    /// (and more) until `done`; `out` must not be empty.
    pub fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress> {
        let mut progress = Progress::default();
        loop {
            let rest = &input[progress.consumed..];
            match self.phase {
                Phase::Done => {
                    if !rest.is_empty() {
                        return Err(err(ErrorCode::Corrupted, "data follows the end of the compressed stream")
                            .with_offset(self.total_out));
                    }
                    progress.done = true;
                    return Ok(progress);
                }
                Phase::BetweenMembers => {
                    if rest.is_empty() {
                        return Ok(progress);
                    }
                    self.phase = Phase::Header;
                }
                Phase::Header => {
                    let (used, complete) = self.take_header(rest)?;
                    progress.consumed += used;
                    if !complete {
                        return Ok(progress);
                    }
                    self.phase = Phase::Body;
                }
                Phase::Body => {
                    if progress.produced == out.len() {
                        return Ok(progress);
                    }
                    let Ok(step) = self.state.inflate(rest, &mut out[progress.produced..], false) else {
                        return Err(err(ErrorCode::InvalidData, format!("invalid {} data", self.format.as_str()))
                            .with_offset(self.total_out));
                    };
                    // Only the checksum the wrapper carries (raw deflate has none).
                    let written = &out[progress.produced..progress.produced + step.produced];
                    match self.format {
                        CompressedFormat::Gzip => self.crc.update(written),
                        CompressedFormat::Zlib => self.adler.write_slice(written),
                        CompressedFormat::Raw => {}
                    }
                    self.member_len += step.produced as u64;
                    self.total_out += step.produced as u64;
                    progress.consumed += step.consumed;
                    progress.produced += step.produced;
                    if step.end {
                        self.phase = if self.format == CompressedFormat::Raw { Phase::Done } else { Phase::Trailer };
                        self.header.clear();
                    } else if step.consumed == 0 && step.produced == 0 {
                        return Ok(progress);
                    }
                }
                Phase::Trailer => {
                    let need = if self.format == CompressedFormat::Gzip { 8 } else { 4 };
                    let take = (need - self.header.len()).min(rest.len());
                    self.header.extend_from_slice(&rest[..take]);
                    progress.consumed += take;
                    if self.header.len() < need {
                        return Ok(progress);
                    }
                    self.check_trailer()?;
                    self.phase =
                        if self.format == CompressedFormat::Gzip { Phase::BetweenMembers } else { Phase::Done };
                }
            }
        }
    }

    /// Declares the end of input: an error unless the stream is complete.
    pub fn finish(&self) -> Result<()> {
        match self.phase {
            Phase::Done | Phase::BetweenMembers => Ok(()),
            _ => Err(err(ErrorCode::Truncated, format!("{} stream ends early", self.format.as_str()))
                .with_offset(self.total_out)),
        }
    }

    /// Collects and parses a gzip or zlib header; returns (bytes used, header complete).
    fn take_header(&mut self, rest: &[u8]) -> Result<(usize, bool)> {
        let mut used = 0;
        loop {
            let need = self.header_needs()?;
            if need == 0 {
                self.start_member();
                return Ok((used, true));
            }
            let take = need.min(rest.len() - used);
            if take == 0 {
                return Ok((used, false));
            }
            self.header.extend_from_slice(&rest[used..used + take]);
            used += take;
        }
    }

    /// Bytes still needed to know the header's length (0 when complete).
    fn header_needs(&self) -> Result<usize> {
        let h = &self.header;
        if self.format == CompressedFormat::Zlib {
            if h.len() < 2 {
                return Ok(2 - h.len());
            }
            if CompressedFormat::detect(h) != CompressedFormat::Zlib {
                return Err(err(ErrorCode::BadMagic, "not a zlib header"));
            }
            return Ok(0);
        }
        if h.len() < 10 {
            return Ok(10 - h.len());
        }
        if h[0] != 0x1f || h[1] != 0x8b {
            return Err(err(ErrorCode::BadMagic, "not a gzip member header").with_offset(self.total_out));
        }
        if h[2] != 8 {
            return Err(err(
                ErrorCode::UnsupportedAlgorithm,
                format!("gzip compression method {} (only 8, deflate)", h[2]),
            ));
        }
        let flags = h[3];
        if flags & 0xE0 != 0 {
            return Err(err(ErrorCode::Corrupted, "gzip header has reserved flag bits set"));
        }
        let mut pos = 10;
        if flags & 0x04 != 0 {
            if h.len() < pos + 2 {
                return Ok(pos + 2 - h.len());
            }
            let xlen = usize::from(u16::from_le_bytes([h[pos], h[pos + 1]]));
            pos += 2 + xlen;
            if h.len() < pos {
                return Ok(pos - h.len());
            }
        }
        for flag in [0x08, 0x10] {
            if flags & flag != 0 {
                // A zero-terminated string: ask for one byte at a time until its end.
                match h[pos.min(h.len())..].iter().position(|&b| b == 0) {
                    Some(end) => pos += end + 1,
                    None => {
                        if h.len() > 64 * 1024 {
                            return Err(err(ErrorCode::Corrupted, "gzip header name or comment is too long"));
                        }
                        return Ok(1);
                    }
                }
            }
        }
        if flags & 0x02 != 0 {
            if h.len() < pos + 2 {
                return Ok(pos + 2 - h.len());
            }
            let expected = u16::from_le_bytes([h[pos], h[pos + 1]]);
            let actual = (crate::core::checksum::crc32(&h[..pos]) & 0xFFFF) as u16;
            if expected != actual {
                return Err(err(ErrorCode::ChecksumMismatch, "gzip header CRC does not match"));
            }
        }
        Ok(0)
    }

    fn start_member(&mut self) {
        self.header.clear();
        self.state.reset();
        self.crc = crate::core::checksum::Crc32::new();
        self.adler = adler2::Adler32::new();
        self.member_len = 0;
    }

    fn check_trailer(&mut self) -> Result<()> {
        let t = &self.header;
        if self.format == CompressedFormat::Gzip {
            let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
            let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
            let actual = std::mem::take(&mut self.crc).finalize();
            if crc != actual {
                return Err(
                    err(ErrorCode::ChecksumMismatch, "gzip CRC-32 does not match the data").with_offset(self.total_out)
                );
            }
            #[allow(clippy::cast_possible_truncation)]
            if size != self.member_len as u32 {
                return Err(
                    err(ErrorCode::Corrupted, "gzip ISIZE does not match the data length").with_offset(self.total_out)
                );
            }
        } else {
            let expected = u32::from_be_bytes([t[0], t[1], t[2], t[3]]);
            if expected != self.adler.checksum() {
                return Err(err(ErrorCode::ChecksumMismatch, "zlib Adler-32 does not match the data")
                    .with_offset(self.total_out));
            }
        }
        self.header.clear();
        Ok(())
    }
}
