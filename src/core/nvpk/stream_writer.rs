//! A package written as one forward stream (an HTTP upload, a `ReadableStream`), which cannot
//! go back to offset 0 for the header: two passes over the files.
//!
//! The header needs every entry's stored size and the PackageCRC of everything after it, so
//! pass 1 prepares each entry (compresses, encrypts) to learn its stored size and checksums,
//! keeping only those and the encryption's random choices; pass 2 prepares each entry again
//! with the same choices, which gives the same stored bytes (the codecs are deterministic), and
//! hands out its record and stored bytes. One entry's stored bytes are held at a time. A file
//! whose bytes changed between the passes is `RESOURCE_CHANGED`: the header would not match it.

use super::cipher::EntryRandomness;
use super::writer::{prepare_entry_with, EntrySpec, PackageWriter, WriterOptions};
use super::HEADER_LEN;
use crate::core::error::{err, ErrorCode, Result};

/// What pass 1 learnt about an entry.
#[derive(Debug)]
struct Planned {
    randomness: EntryRandomness,
    original_size: u64,
    stored_size: u64,
    stored_checksum: u32,
    raw_checksum: u32,
}

/// Where the writer is.
#[derive(Debug)]
enum Pass {
    /// Learning sizes.
    First(PackageWriter),
    /// Writing: the next entry's number.
    Second(PackageWriter, usize),
    /// The trailer was handed out.
    Done,
}

/// Writes a package front to back in two passes over its files.
#[derive(Debug)]
pub struct StreamWriter {
    options: WriterOptions,
    planned: Vec<Planned>,
    pass: Pass,
    header: Option<[u8; HEADER_LEN]>,
}

fn out_of_order(what: &str) -> crate::core::error::StreamError {
    err(ErrorCode::InvalidArgument, format!("the package writer was asked to {what} out of order"))
}

impl StreamWriter {
    /// A writer in its first pass.
    pub fn new(options: &WriterOptions) -> Result<StreamWriter> {
        let (writer, _) = PackageWriter::new(options)?;
        Ok(StreamWriter { options: options.clone(), planned: Vec::new(), pass: Pass::First(writer), header: None })
    }

    /// Pass 1: prepares the next entry to learn its stored size and checksums.
    pub fn plan(&mut self, spec: &EntrySpec, data: &[u8]) -> Result<()> {
        let Pass::First(writer) = &mut self.pass else { return Err(out_of_order("plan an entry")) };
        let randomness = EntryRandomness::fresh()?;
        let prepared = prepare_entry_with(spec, data, &randomness)?;
        writer.add(&prepared)?;
        let e = &prepared.entry;
        self.planned.push(Planned {
            randomness,
            original_size: e.original_size,
            stored_size: e.stored_size,
            stored_checksum: e.stored_checksum,
            raw_checksum: e.raw_checksum,
        });
        Ok(())
    }

    /// Entries planned so far.
    pub fn len(&self) -> usize {
        self.planned.len()
    }

    /// True before the first entry is planned.
    pub fn is_empty(&self) -> bool {
        self.planned.is_empty()
    }

    /// Ends pass 1: the final header, which is written first. Pass 2 starts.
    pub fn header(&mut self) -> Result<[u8; HEADER_LEN]> {
        match std::mem::replace(&mut self.pass, Pass::Done) {
            Pass::First(writer) => {
                let header = writer.finish()?.header;
                self.header = Some(header);
                self.pass = Pass::Second(PackageWriter::new(&self.options)?.0, 0);
                Ok(header)
            }
            other => {
                self.pass = other;
                Err(out_of_order("write the header"))
            }
        }
    }

    /// Pass 2: the next entry's record and stored bytes, the same as pass 1 planned
    /// (`RESOURCE_CHANGED` when its bytes are not the ones planned).
    pub fn write(&mut self, spec: &EntrySpec, data: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
        let Pass::Second(writer, next) = &mut self.pass else { return Err(out_of_order("write an entry")) };
        let Some(plan) = self.planned.get(*next) else { return Err(out_of_order("write an unplanned entry")) };
        let prepared = prepare_entry_with(spec, data, &plan.randomness)?;
        let e = &prepared.entry;
        if (e.original_size, e.stored_size, e.stored_checksum, e.raw_checksum)
            != (plan.original_size, plan.stored_size, plan.stored_checksum, plan.raw_checksum)
        {
            return Err(err(
                ErrorCode::ResourceChanged,
                format!("the bytes of {} changed while the package was written", e.paths.join(", ")),
            ));
        }
        let record = writer.add(&prepared)?;
        *next += 1;
        Ok((record, prepared.stored))
    }

    /// After the last entry: the trailer (file index, comment), the package's last bytes.
    pub fn finish(&mut self) -> Result<Vec<u8>> {
        match std::mem::replace(&mut self.pass, Pass::Done) {
            Pass::Second(writer, next) if next == self.planned.len() => {
                let finished = writer.finish()?;
                if Some(finished.header) != self.header {
                    return Err(err(ErrorCode::InternalError, "the package's two passes disagree"));
                }
                Ok(finished.trailer)
            }
            other => {
                self.pass = other;
                Err(out_of_order("finish"))
            }
        }
    }
}
