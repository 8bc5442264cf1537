//! Opening a package: header, file index, comment and entry records, over any random-access
//! source of known length, in few reads.
//!
//! The read plan: one head read (up to 64 KiB: the header, and for a small package all of
//! it), one read of the index (and the comment beside it), then the entry records. Entry
//! records lie between the entries' stored bytes, so each record's window (1 KiB, clipped at
//! the next entry) is merged with its neighbours into one read whenever the gap between them
//! is at most `max_gap` and the merged read at most `max_read`: a package of many small
//! entries opens in a handful of reads, and only big entries cost a read each. A record longer
//! than its window is read again, with the others in the same situation, in a second round.

use std::collections::HashMap;

use super::entry::{FileEntry, RecordParse};
use super::header::Header;
use super::index::{parse_comment, FileIndex};
use super::{add, Compression, Encryption, ENTRY_FIXED_LEN, HEADER_LEN};
use crate::core::error::{err, ErrorCode, Result, StreamError};
use crate::core::stream::Source;

/// Bytes of the first read.
const HEAD_READ: u64 = 64 << 10;
/// Bytes read for a record before its length is known.
const RECORD_WINDOW: u64 = 1 << 10;

/// How a package is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenOptions {
    /// Bytes the index, comment, entry records and read buffers may take together
    /// (`MEMORY_LIMIT` past it).
    pub memory_limit: u64,
    /// Largest single read.
    pub max_read: u64,
    /// Largest gap between two records that one read spans rather than making two reads.
    pub max_gap: u64,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { memory_limit: 64 << 20, max_read: 8 << 20, max_gap: 256 << 10 }
    }
}

/// An opened package: its header, index, entries (in index order) and comment.
#[derive(Clone, Debug)]
pub struct Package {
    /// The header.
    pub header: Header,
    /// The file index.
    pub index: FileIndex,
    /// The entries, in file-index order.
    pub entries: Vec<FileEntry>,
    /// The comment (without its NUL), if the package has one.
    pub comment: Option<String>,
    /// The package's length in bytes.
    pub len: u64,
    by_path: HashMap<String, usize>,
}

fn corrupt(what: impl Into<String>) -> StreamError {
    err(ErrorCode::Corrupted, what)
}

/// Bytes read from the source so far and the memory they take.
struct Reader<'a, S> {
    source: &'a S,
    len: u64,
    memory_limit: u64,
    held: u64,
}

impl<S: Source> Reader<'_, S> {
    fn charge(&mut self, bytes: u64, what: &str) -> Result<()> {
        self.held = self.held.saturating_add(bytes);
        if self.held > self.memory_limit {
            return Err(err(
                ErrorCode::MemoryLimit,
                format!("opening the package needs more than its memory limit of {} bytes ({what})", self.memory_limit),
            ));
        }
        Ok(())
    }

    /// Reads `start..end` (within the file): one `read_at`.
    async fn read(&mut self, start: u64, end: u64) -> Result<Vec<u8>> {
        let n = super::to_usize(end - start, "a read")?;
        self.charge(end - start, "a read buffer")?;
        let mut buf = vec![0u8; n];
        let got = self.source.read_at(start, &mut buf).await?;
        self.held -= end - start;
        if got < n {
            return Err(err(
                ErrorCode::Truncated,
                format!(
                    "the source delivered {got} bytes at offset {start}, {n} expected within its length {}",
                    self.len
                ),
            )
            .with_offset(start + got as u64));
        }
        Ok(buf)
    }
}

/// A block of package bytes already read.
struct Block {
    start: u64,
    bytes: Vec<u8>,
}

impl Block {
    fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }

    fn get(&self, start: u64, end: u64) -> Option<&[u8]> {
        if start < self.start || end > self.end() {
            return None;
        }
        self.bytes.get((start - self.start) as usize..(end - self.start) as usize)
    }
}

/// Sorted, disjoint ranges merged when close enough: `(start, end, members)`.
fn coalesce(mut ranges: Vec<(u64, u64, usize)>, max_gap: u64, max_read: u64) -> Vec<(u64, u64, Vec<usize>)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64, Vec<usize>)> = Vec::new();
    for (start, end, member) in ranges {
        if let Some(last) = out.last_mut() {
            if start >= last.1 && start - last.1 <= max_gap && end - last.0 <= max_read {
                last.1 = end;
                last.2.push(member);
                continue;
            }
        }
        out.push((start, end, vec![member]));
    }
    out
}

impl Package {
    /// Opens the package in `source` (random access, known length): reads the header, index,
    /// comment and every entry record, and checks every offset and size against the file and
    /// the other entries.
    pub async fn open<S: Source>(source: &S, options: &OpenOptions) -> Result<Package> {
        if !source.is_random_access() {
            return Err(err(
                ErrorCode::NotSeekable,
                "a package is read by offset: open it from a Blob, a file or a URL",
            ));
        }
        let Some(len) = source.stored_len() else {
            return Err(err(ErrorCode::NotSeekable, "a package's source must have a known length"));
        };
        let max_read = options.max_read.clamp(HEADER_LEN as u64, options.memory_limit.max(HEADER_LEN as u64));
        let mut reader = Reader { source, len, memory_limit: options.memory_limit, held: 0 };

        let head = Block { start: 0, bytes: reader.read(0, len.min(HEAD_READ.min(max_read))).await? };
        let header = Header::parse(&head.bytes)?;
        let layout = Layout::check(&header, len)?;

        // The index, and the comment with it when they are close.
        let mut blocks = vec![head];
        let index_range = (header.index_start, layout.index_end);
        let mut wanted = vec![index_range];
        if let Some(c) = layout.comment {
            wanted.push(c);
        }
        let missing: Vec<(u64, u64, usize)> = wanted
            .iter()
            .enumerate()
            .filter(|(_, &(s, e))| blocks[0].get(s, e).is_none())
            .map(|(i, &(s, e))| (s, e, i))
            .collect();
        for (start, end, _) in coalesce(missing, options.max_gap, max_read.max(header.index_size)) {
            let bytes = reader.read(start, end).await?;
            blocks.push(Block { start, bytes });
        }
        let find = |blocks: &[Block], (s, e): (u64, u64)| blocks.iter().find_map(|b| b.get(s, e)).map(<[u8]>::to_vec);
        let index_bytes = find(&blocks, index_range).ok_or_else(|| corrupt("the file index was not read"))?;
        reader.charge(index_bytes.len() as u64, "the file index")?;
        let index = FileIndex::parse(&index_bytes, header.index_start)?;
        drop(index_bytes);
        let comment = match layout.comment {
            Some(range) => {
                let bytes = find(&blocks, range).ok_or_else(|| corrupt("the comment was not read"))?;
                reader.charge(bytes.len() as u64, "the comment")?;
                Some(parse_comment(&bytes, range.0)?)
            }
            None => None,
        };
        blocks.truncate(1);
        let head = blocks.pop().expect("the head block");

        let entries = read_records(&mut reader, &head, &index, &layout, options.max_gap, max_read).await?;
        drop(head);
        check_entries(&index, &entries, &layout)?;

        let mut by_path = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            for p in &e.paths {
                reader.charge((p.len() + 48) as u64, "the path lookup table")?;
                by_path.entry(p.clone()).or_insert(i);
            }
        }
        Ok(Package { header, index, entries, comment, len, by_path })
    }

    /// The entry with this stored path ("/dir/file.txt"); a path without its leading "/"
    /// finds the same entry.
    pub fn find(&self, path: &str) -> Option<&FileEntry> {
        let i = match self.by_path.get(path) {
            Some(&i) => i,
            None if !path.starts_with('/') => *self.by_path.get(&format!("/{path}"))?,
            None => return None,
        };
        self.entries.get(i)
    }
}

/// Where the header says the structures are, checked against each other and the file.
struct Layout {
    len: u64,
    index_end: u64,
    comment: Option<(u64, u64)>,
    /// Where the entries must end: the lowest structure after the header.
    structures: Vec<(u64, u64)>,
}

impl Layout {
    fn check(h: &Header, len: u64) -> Result<Layout> {
        if h.index_start == 0 && h.index_size == 0 {
            return Err(corrupt("the package was not finished: its header has no file index (IndexStart 0)"));
        }
        if h.index_start < HEADER_LEN as u64 {
            return Err(corrupt(format!("IndexStart {} lies inside the header", h.index_start)).with_offset(64));
        }
        if h.index_size < 16 || (h.index_size - 16) % 16 != 0 {
            return Err(corrupt(format!("IndexSize {} is not 16 + 16 × entries", h.index_size)).with_offset(72));
        }
        let index_end = add(h.index_start, h.index_size, "the file index")?;
        // A structure past the end of the file cannot be told from a file that ends early.
        let past_end = |what: &str, end: u64| {
            err(ErrorCode::Truncated, format!("the package ends at {len} bytes but its {what} ends at {end}"))
                .with_offset(len)
        };
        if index_end > len {
            return Err(past_end("file index", index_end));
        }
        let mut structures = vec![(0, HEADER_LEN as u64), (h.index_start, index_end)];
        let comment = if h.comment_size > 0 {
            if h.comment_start < HEADER_LEN as u64 {
                return Err(corrupt(format!("CommentStart {} lies inside the header", h.comment_start)).with_offset(96));
            }
            let end = add(h.comment_start, u64::from(h.comment_size), "the comment")?;
            if end > len {
                return Err(past_end("comment", end));
            }
            if h.comment_start < index_end && h.index_start < end {
                return Err(corrupt("the comment overlaps the file index").with_offset(96));
            }
            structures.push((h.comment_start, end));
            Some((h.comment_start, end))
        } else {
            None
        };
        if h.signature_offset != 0 {
            if h.signature_offset > len {
                return Err(past_end("signatures", h.signature_offset));
            }
            if structures.iter().any(|&(_, end)| h.signature_offset < end) {
                return Err(corrupt("the signatures start inside another structure").with_offset(104));
            }
            structures.push((h.signature_offset, len));
        }
        Ok(Layout { len, index_end, comment, structures })
    }

    /// The end of the region an entry at `offset` may use: the next structure after it.
    fn limit(&self, offset: u64) -> u64 {
        self.structures.iter().filter(|&&(start, _)| start >= offset).map(|&(s, _)| s).min().unwrap_or(self.len)
    }
}

/// Reads and parses every entry record the index lists.
async fn read_records<S: Source>(
    reader: &mut Reader<'_, S>,
    head: &Block,
    index: &FileIndex,
    layout: &Layout,
    max_gap: u64,
    max_read: u64,
) -> Result<Vec<FileEntry>> {
    let n = index.entries.len();
    // Each entry's region: up to the next entry's record or structure.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by_key(|&i| index.entries[i].offset);
    let mut region_end = vec![0u64; n];
    for (k, &i) in order.iter().enumerate() {
        let offset = index.entries[i].offset;
        let outside = offset < HEADER_LEN as u64
            || offset >= layout.len
            || layout.structures.iter().any(|&(s, e)| offset >= s && offset < e);
        if outside {
            return Err(corrupt(format!(
                "file entry {} is at offset {offset}, outside the entry area",
                index.entries[i].file_id
            ))
            .with_offset(offset));
        }
        let next = order.get(k + 1).map_or(u64::MAX, |&j| index.entries[j].offset);
        if next == offset {
            return Err(corrupt("two file index entries point at the same record").with_offset(offset));
        }
        region_end[i] = next.min(layout.limit(offset));
    }

    let mut entries: Vec<Option<FileEntry>> = vec![None; n];
    // What entry `i` still needs, given `have` bytes of its record that were not enough.
    let grow = |i: usize, more: u64, have: u64| -> Result<(usize, u64)> {
        let offset = index.entries[i].offset;
        if more > region_end[i] - offset {
            return Err(corrupt(format!(
                "file entry {}'s record runs past the next entry or structure",
                index.entries[i].file_id
            ))
            .with_offset(offset));
        }
        // Grow geometrically so that paths of unknown lengths cost few rounds.
        Ok((i, more.max(have.saturating_mul(2)).min(region_end[i] - offset)))
    };
    let mut need: Vec<(usize, u64)> = Vec::new();
    for i in 0..n {
        let offset = index.entries[i].offset;
        let fixed_end = region_end[i].min(offset + ENTRY_FIXED_LEN as u64);
        match head.get(offset, head.end().min(region_end[i])) {
            Some(bytes) if head.end() >= fixed_end => match FileEntry::parse_record(bytes, offset)? {
                RecordParse::Complete(e) => {
                    reader.charge(e.heap_len(), "the entry records")?;
                    entries[i] = Some(e);
                }
                RecordParse::NeedBytes(more) => need.push(grow(i, more, bytes.len() as u64)?),
            },
            _ => need.push((i, RECORD_WINDOW.min(region_end[i] - offset))),
        }
    }

    while !need.is_empty() {
        let ranges =
            need.iter().map(|&(i, want)| (index.entries[i].offset, index.entries[i].offset + want, i)).collect();
        let mut next = Vec::new();
        for (start, end, members) in coalesce(ranges, max_gap, max_read) {
            let block = Block { start, bytes: reader.read(start, end).await? };
            for i in members {
                let offset = index.entries[i].offset;
                let bytes = block.get(offset, block.end().min(region_end[i])).unwrap_or_default();
                match FileEntry::parse_record(bytes, offset)? {
                    RecordParse::Complete(e) => {
                        reader.charge(e.heap_len(), "the entry records")?;
                        entries[i] = Some(e);
                    }
                    RecordParse::NeedBytes(more) => next.push(grow(i, more, bytes.len() as u64)?),
                }
            }
        }
        need = next;
    }
    entries.into_iter().map(|e| e.ok_or_else(|| corrupt("an entry record was not read"))).collect()
}

/// Checks the entries against the index, the file, the structures and each other.
fn check_entries(index: &FileIndex, entries: &[FileEntry], layout: &Layout) -> Result<()> {
    let mut spans = Vec::with_capacity(entries.len());
    for (ie, e) in index.entries.iter().zip(entries) {
        if ie.file_id != e.file_id {
            return Err(corrupt(format!(
                "the file index says FileID {} but the record at {} says {}",
                ie.file_id, e.offset, e.file_id
            ))
            .with_offset(e.offset));
        }
        let end = add(e.data_offset, e.stored_size, "a file entry's data")?;
        if end > layout.len {
            return Err(corrupt(format!(
                "file entry {}'s StoredSize {} runs past the end of the package",
                e.file_id, e.stored_size
            ))
            .with_offset(e.offset + 16));
        }
        if layout.structures.iter().any(|&(s, se)| e.offset < se && s < end) {
            return Err(corrupt(format!(
                "file entry {}'s data (StoredSize {}) runs into the header, index, comment or signatures",
                e.file_id, e.stored_size
            ))
            .with_offset(e.offset + 16));
        }
        check_sizes(e)?;
        spans.push((e.offset, end, e.file_id));
    }
    spans.sort_unstable();
    if let Some(w) = spans.windows(2).find(|w| w[1].0 < w[0].1) {
        return Err(corrupt(format!("file entries {} and {} overlap", w[0].2, w[1].2)).with_offset(w[1].0));
    }
    if let Some(first) = spans.first() {
        if index.first_entry_offset != first.0 {
            return Err(corrupt(format!(
                "the index's FirstEntryOffset {} is not the first entry's offset {}",
                index.first_entry_offset, first.0
            ))
            .with_offset(8));
        }
    }
    Ok(())
}

/// StoredSize against OriginalSize where the codec and cipher make it exact, and against the
/// encryption framing's least length.
fn check_sizes(e: &FileEntry) -> Result<()> {
    let (Ok(compression), Ok(encryption)) = (e.compression(), e.encryption()) else {
        // Unknown ids are reported when the entry is opened.
        return Ok(());
    };
    let overhead: u64 = match encryption {
        Encryption::None => 0,
        Encryption::Aes256Gcm | Encryption::ChaCha20Poly1305 => 28,
        Encryption::MlKem => 2 + 768 + 28,
    };
    let bad = |what: String| Err(corrupt(what).with_offset(e.offset + 8));
    if e.stored_size < overhead {
        return bad(format!(
            "file entry {}'s StoredSize {} is shorter than its {} framing",
            e.file_id,
            e.stored_size,
            encryption.as_str()
        ));
    }
    if compression == Compression::None {
        let exact = match encryption {
            Encryption::MlKem => {
                [768u64, 1088, 1568].iter().any(|l| e.original_size.checked_add(30 + l) == Some(e.stored_size))
            }
            _ => e.original_size.checked_add(overhead) == Some(e.stored_size),
        };
        if !exact {
            return bad(format!(
                "file entry {} is not compressed but its StoredSize {} does not match its OriginalSize {}",
                e.file_id, e.stored_size, e.original_size
            ));
        }
    }
    Ok(())
}
