//! A NovusPack package entry as a stream (feature `nvpk`): the source is the entry's stored
//! bytes (a window of the package), decrypted, then decompressed, then checked.
//!
//! * Encrypted entries get one verification pass first (the tag; the StoredChecksum over every
//!   stored byte; block tags for later reads): a wrong key or tampering is `AUTH_FAILED` before
//!   anything is released. The plaintext is then read by range through the cipher's counter.
//! * Uncompressed entries are random access; compressed ones are decoded in order, restarted
//!   for a backward seek from the start or, for zstd, from the nearest frame: frames listed by
//!   a seek table (the zstd seekable format, read at open) or seen while decoding. A read far
//!   ahead jumps to a known frame too.
//! * The RawChecksum and SHA-256 hashes (and, unencrypted, the StoredChecksum) are checked when
//!   the entry has been read in order to its end; a mismatch fails that last read.

use std::time::Duration;

use super::base::{Base, PassCheck, RangeCipher};
use super::layout::{Layout, RandomLayout, SeqCodec, SeqDecoder, SeqInput, SeqLayout};
use super::sequential::{EndChecks, InputBuf, SeqState, WholeCheck};
use super::{err, ChunkDecoder, ErrorCode, FileStream, Result, Source};
use crate::core::nvpk::{
    framing_len, framing_probe_len, parse_seek_table, seek_table_len, Compression, Crc32Check, Encryption, EntryChecks,
    EntryCipher, EntryDecoder, EntryKey, FileEntry, FrameInfo, SEEK_TABLE_FOOTER_LEN, TAG_LEN,
};

/// Largest zstd seek table read at open (12 bytes per frame: about a million frames).
const MAX_SEEK_TABLE: u64 = 12 << 20;
/// How far ahead of the decoded bytes a read must be to jump to a frame.
const SKIP_DISTANCE: u64 = 1 << 20;

/// Known starts of a zstd entry's frames (absolute offsets: compressed in the payload,
/// decompressed in the entry), and where the current decoder started.
#[derive(Default)]
pub(super) struct FrameStarts {
    /// `(compressed, decompressed)` starts, sorted, without duplicates.
    starts: Vec<(u64, u64)>,
    origin: (u64, u64),
}

impl FrameStarts {
    fn add(&mut self, start: (u64, u64)) {
        if let Err(i) = self.starts.binary_search(&start) {
            self.starts.insert(i, start);
        }
    }

    /// Records the frames the current decoder has seen.
    fn learn(&mut self, decoder: &SeqDecoder) {
        let SeqDecoder::Entry(entry) = decoder else { return };
        let EntryDecoder::Zstd(zstd) = &**entry else { return };
        let (c0, d0) = self.origin;
        let seen: Vec<(u64, u64)> = zstd
            .frames()
            .frames
            .iter()
            .filter_map(|f| Some((c0 + f.compressed_offset, d0 + f.decompressed_offset?)))
            .collect();
        for start in seen {
            self.add(start);
        }
    }

    /// The last known frame start at or before decompressed `offset`, past the first frame.
    fn before(&self, offset: u64) -> Option<(u64, u64)> {
        self.starts.iter().rev().find(|&&(_, d)| d <= offset && d > 0).copied()
    }
}

/// What opening an entry needs: the entry (from `Package::open`) and the caller's keys.
#[derive(Debug)]
pub struct EntryOpen {
    /// The entry.
    pub entry: FileEntry,
    /// Its keys (a 32-byte key, or an ML-KEM decapsulation key).
    pub keys: EntryKey,
}

impl RangeCipher for EntryCipher {
    fn apply_keystream(&self, offset: u64, buf: &mut [u8]) {
        EntryCipher::apply_keystream(self, offset, buf);
    }
}

impl PassCheck for Crc32Check {
    fn update(&mut self, bytes: &[u8]) {
        Crc32Check::update(self, bytes);
    }
}

impl WholeCheck for Crc32Check {
    fn update(&mut self, bytes: &[u8]) {
        Crc32Check::update(self, bytes);
    }

    fn finish(self: Box<Self>) -> Result<()> {
        Crc32Check::finish(*self)
    }
}

impl WholeCheck for EntryChecks {
    fn update(&mut self, bytes: &[u8]) {
        EntryChecks::update(self, bytes);
    }

    fn finish(self: Box<Self>) -> Result<()> {
        EntryChecks::finish(*self)
    }
}

/// The checks made once an entry is read in order to its end: of the original bytes (length,
/// RawChecksum, SHA-256) and, when nothing else checks them, of the stored bytes.
struct EntryEndChecks {
    entry: FileEntry,
    stored_unchecked: bool,
}

impl EndChecks for EntryEndChecks {
    fn output(&self) -> Box<dyn WholeCheck + Send + Sync> {
        Box::new(EntryChecks::new(&self.entry))
    }

    fn input(&self) -> Option<Box<dyn WholeCheck + Send + Sync>> {
        self.stored_unchecked.then(|| Box::new(Crc32Check::stored(&self.entry)) as Box<dyn WholeCheck + Send + Sync>)
    }
}

impl<S: Source, D: ChunkDecoder> FileStream<S, D> {
    /// The layout of an entry: verified (when encrypted) and checked as the file header says.
    pub(super) async fn entry_layout(
        &self,
        st: &mut SeqState,
        open: EntryOpen,
        deadline: Option<Duration>,
    ) -> Result<Layout> {
        let EntryOpen { entry, keys } = open;
        let compression = entry.compression()?;
        let encryption = entry.encryption()?;
        let stored = self.source.stored_len().unwrap_or(0);
        if stored != entry.stored_size {
            return Err(err(
                ErrorCode::Truncated,
                format!("the entry's stored bytes are {stored} bytes, its record says {}", entry.stored_size),
            ));
        }
        let base = if encryption == Encryption::None {
            Base::Stored
        } else {
            self.verify_entry(&entry, encryption, &keys, deadline).await?
        };
        let payload_len = base.len().unwrap_or(stored);
        let checks = EntryEndChecks { stored_unchecked: encryption == Encryption::None, entry };
        if compression == Compression::None {
            if payload_len != checks.entry.original_size {
                return Err(err(
                    ErrorCode::Corrupted,
                    format!(
                        "the entry holds {payload_len} bytes but its OriginalSize is {}",
                        checks.entry.original_size
                    ),
                ));
            }
            self.set_size(Some(payload_len));
            self.track_in_order(&checks);
            return Ok(Layout::Random(RandomLayout::Direct(base)));
        }
        self.set_size(Some(checks.entry.original_size));
        let codec = SeqCodec::Entry {
            compression,
            output_limit: checks.entry.original_size,
            window_limit: self.config.memory_limit,
            input_len: payload_len,
        };
        let seek_table =
            if compression == Compression::Zstd { self.zstd_seek_table(&base, payload_len).await? } else { Vec::new() };
        let layout = SeqLayout { codec, input: SeqInput::Base(base), end_checks: Some(Box::new(checks)) };
        let layout = self.sequential(st, layout);
        for f in seek_table {
            if let Some(d) = f.decompressed_offset {
                st.frames.add((f.compressed_offset, d));
            }
        }
        Ok(layout)
    }

    /// The frames of a zstd payload in the seekable format (its seek table, the last frame);
    /// none when it has no seek table.
    async fn zstd_seek_table(&self, base: &Base, len: u64) -> Result<Vec<FrameInfo>> {
        let mut footer = [0u8; SEEK_TABLE_FOOTER_LEN];
        if len < footer.len() as u64 {
            return Ok(Vec::new());
        }
        self.base_read_exact(base, len - footer.len() as u64, &mut footer).await?;
        let Some(table_len) = seek_table_len(&footer).filter(|&t| t <= len && t <= MAX_SEEK_TABLE) else {
            return Ok(Vec::new());
        };
        let mut table = vec![0u8; super::to_usize(table_len)];
        self.base_read_exact(base, len - table_len, &mut table).await?;
        Ok(parse_seek_table(&table, len)?.frames)
    }

    async fn base_read_exact(&self, base: &Base, offset: u64, into: &mut [u8]) -> Result<()> {
        let n = self.base_read_at(base, offset, into).await?;
        if n < into.len() {
            return Err(err(ErrorCode::Truncated, "the entry's payload ends early").with_offset(offset + n as u64));
        }
        Ok(())
    }

    /// Restarts a zstd entry's decoding at the last known frame before `target`; false (and
    /// ready to restart from the start) when there is none. Bytes decoded from a frame are not
    /// checked (the checks need every byte from the first).
    pub(super) fn restart_at_frame(&self, layout: &SeqLayout, st: &mut SeqState, target: u64) -> bool {
        let SeqCodec::Entry { compression: Compression::Zstd, output_limit, window_limit, input_len } = layout.codec
        else {
            return false;
        };
        st.frames.learn(&st.decoder);
        let Some((c, d)) = st.frames.before(target) else {
            st.frames.origin = (0, 0);
            return false;
        };
        st.decoder = SeqDecoder::entry(Compression::Zstd, output_limit.saturating_sub(d), window_limit, input_len - c);
        st.frames.origin = (c, d);
        st.window.reset(d);
        st.input = InputBuf { buf: std::mem::take(&mut st.input.buf), cursor: c, ..InputBuf::default() };
        st.done = false;
        st.output_check = None;
        true
    }

    /// For a read at `target` ahead of the window: jumps to a known frame past the window
    /// rather than decoding up to it. True if it did.
    pub(super) fn skip_to_frame(&self, layout: &SeqLayout, st: &mut SeqState, target: u64) -> bool {
        // Decoding a little is cheaper than restarting.
        if !matches!(layout.codec, SeqCodec::Entry { compression: Compression::Zstd, .. })
            || target < st.window.end() + SKIP_DISTANCE
        {
            return false;
        }
        st.frames.learn(&st.decoder);
        match st.frames.before(target) {
            Some((_, d)) if d > st.window.end() => self.restart_at_frame(layout, st, target),
            _ => false,
        }
    }

    /// The verification pass of an encrypted entry: framing, tag (first: a wrong key or
    /// tampering is AUTH_FAILED, not a checksum error), then the StoredChecksum.
    async fn verify_entry(
        &self,
        entry: &FileEntry,
        encryption: Encryption,
        keys: &EntryKey,
        deadline: Option<Duration>,
    ) -> Result<Base> {
        let stored = entry.stored_size;
        let short = || err(ErrorCode::Corrupted, "the entry is shorter than its encryption framing and tag");
        let mut probe = vec![0u8; framing_probe_len(encryption)];
        if (probe.len() as u64) > stored {
            return Err(short());
        }
        self.read_exact_at(0, &mut probe).await?;
        let prefix_len = framing_len(encryption, &probe)?;
        if (prefix_len + TAG_LEN) as u64 > stored {
            return Err(short());
        }
        let mut prefix = vec![0u8; prefix_len];
        self.read_exact_at(0, &mut prefix).await?;
        let cipher = EntryCipher::new(encryption, &prefix, keys)?;
        let len = cipher.ciphertext_len(stored)?;
        let mut stored_crc = Crc32Check::stored(entry);
        stored_crc.update(&prefix);
        let mut verifier = cipher.verifier();
        let tags = self
            .verify_pass(prefix_len as u64, len, deadline, |piece| verifier.update(piece), Some(&mut stored_crc))
            .await?;
        let mut tag = [0u8; TAG_LEN];
        self.read_exact_at(stored - TAG_LEN as u64, &mut tag).await?;
        stored_crc.update(&tag);
        verifier.finish(&tag)?;
        stored_crc.finish()?;
        Ok(self.cipher_base(Box::new(cipher), prefix_len as u64, len, tags, "entry"))
    }
}
