//! What a worker runs: stateless, position-explicit chunk primitives over one sealed file's
//! parameters (`WasmChunkCodec`), and push-style job primitives (`WasmDeflater`,
//! `WasmInflater`, `WasmDigest`) that a worker feeds piece by piece, checking for cancellation
//! between pieces.

use std::cell::RefCell;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use super::config::Fields;
use super::error::{js, JsResult};
use crate::core::compress::{ChunkCompressor, ChunkInflater, Deflater, LimitedInflater, MAX_LEVEL};
use crate::core::crypto::Digest;
use crate::core::error::{err, ErrorCode};
use crate::core::sealed::{ChunkCodec, Header, RecordPrefix, PREFIX_LEN};

fn to_u64(v: f64) -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let v = v.max(0.0) as u64;
    v
}

/// One sealed file's parameters (header and subkey) and its chunk primitives.
#[wasm_bindgen]
pub struct WasmChunkCodec {
    codec: ChunkCodec,
    compressor: RefCell<Option<(u8, ChunkCompressor)>>,
    inflater: RefCell<ChunkInflater>,
    last_deflated: std::cell::Cell<bool>,
}

#[wasm_bindgen]
impl WasmChunkCodec {
    /// The codec of a session: a file's authenticated header bytes and, if it is encrypted, its
    /// per-file subkey (a worker never gets the caller's key). The caller zeroes its copy of the
    /// subkey; this one is zeroed when the codec is freed.
    #[wasm_bindgen(js_name = fromSession)]
    pub fn from_session(header: &[u8], subkey: Option<Uint8Array>) -> JsResult<WasmChunkCodec> {
        let header = js(Header::parse(header))?;
        let subkey = match subkey {
            Some(k) => {
                let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
                if k.length() != 32 {
                    return Err(super::error::to_js(err(ErrorCode::InvalidKey, "a session subkey is not 32 bytes")));
                }
                k.copy_to(bytes.as_mut());
                Some(bytes)
            }
            None => None,
        };
        // A session seals the chunks of the new file whose header and subkey a parallel
        // sealer made, or opens those of the file the engine authenticated: never sealing over
        // an existing file's nonces (the pool asks only those two things of it).
        let codec = js(ChunkCodec::session(header, subkey.as_deref()))?;
        Ok(Self::with(codec))
    }

    fn with(codec: ChunkCodec) -> WasmChunkCodec {
        WasmChunkCodec {
            codec,
            compressor: RefCell::new(None),
            inflater: RefCell::new(ChunkInflater::new()),
            last_deflated: std::cell::Cell::new(false),
        }
    }

    /// The header (48 bytes in format version 1, 80 in version 2).
    #[wasm_bindgen(js_name = headerBytes)]
    pub fn header_bytes(&self) -> Vec<u8> {
        self.codec.header_bytes().to_vec()
    }

    /// Plaintext bytes per chunk.
    #[wasm_bindgen(getter, js_name = chunkSize)]
    pub fn chunk_size(&self) -> u32 {
        self.codec.header().chunk_size
    }

    /// True when the file's chunks are deflated (where that shrinks them).
    #[wasm_bindgen(getter)]
    pub fn compressed(&self) -> bool {
        self.codec.header().compressed
    }

    /// Opens chunk `chunk` from its record: verifies, decrypts, inflates; the plaintext must be
    /// exactly `plain_len` bytes and the last-chunk flag must be `last`.
    #[wasm_bindgen(js_name = openChunk)]
    pub fn open_chunk(&self, chunk: f64, last: bool, mut record: Vec<u8>, plain_len: u32) -> JsResult<Vec<u8>> {
        let chunk = to_u64(chunk);
        if record.len() < PREFIX_LEN {
            return Err(super::error::to_js(err(ErrorCode::Corrupted, "a chunk record is shorter than its prefix")));
        }
        let prefix = RecordPrefix::parse(record[..PREFIX_LEN].try_into().expect("checked length"));
        let mut out = vec![0u8; plain_len as usize];
        let (len, _) =
            js(self.codec.open_chunk(chunk, Some(last), &mut record, &mut self.inflater.borrow_mut(), &mut out))?;
        if len != out.len() {
            return Err(super::error::to_js(
                err(ErrorCode::Corrupted, format!("chunk {chunk}: {len} plaintext bytes, expected {}", out.len()))
                    .with_chunk(chunk),
            ));
        }
        self.last_deflated.set(prefix.deflated);
        Ok(out)
    }

    /// Whether the last opened chunk was deflated.
    #[wasm_bindgen(getter, js_name = lastDeflated)]
    pub fn last_deflated(&self) -> bool {
        self.last_deflated.get()
    }

    /// Seals chunk `chunk` (deflating at `level` when the file is compressed and that shrinks it).
    #[wasm_bindgen(js_name = sealChunk)]
    pub fn seal_chunk(&self, chunk: f64, last: bool, plaintext: &[u8], level: u8) -> JsResult<Vec<u8>> {
        if plaintext.len() > self.codec.chunk_size() {
            return Err(super::error::to_js(err(ErrorCode::InvalidArgument, "a chunk is longer than the chunk size")));
        }
        let mut out = Vec::with_capacity(self.codec.max_record_len());
        let mut slot = self.compressor.borrow_mut();
        let compressor = if self.codec.header().compressed {
            if slot.as_ref().is_none_or(|(l, _)| *l != level) {
                *slot = Some((level, js(ChunkCompressor::new(level.min(MAX_LEVEL)))?));
            }
            slot.as_mut().map(|(_, c)| c)
        } else {
            None
        };
        js(self.codec.seal_chunk(to_u64(chunk), last, plaintext, compressor, &mut out))?;
        Ok(out)
    }

    /// The index record and footer that end a file of `total` plaintext bytes whose chunk
    /// records have these lengths, the index starting at `index_offset`.
    #[wasm_bindgen(js_name = sealIndex)]
    pub fn seal_index(&self, total: f64, record_lens: &[u32], index_offset: f64) -> JsResult<Vec<u8>> {
        let (mut index, footer) = js(self.codec.seal_index(to_u64(total), record_lens, to_u64(index_offset)))?;
        index.extend_from_slice(&footer.to_bytes());
        Ok(index)
    }
}

/// Push-style raw deflate.
#[wasm_bindgen]
pub struct WasmDeflater {
    inner: Deflater,
}

#[wasm_bindgen]
impl WasmDeflater {
    /// A compressor at `level` (0..10).
    #[wasm_bindgen(constructor)]
    pub fn new(level: u8) -> JsResult<WasmDeflater> {
        Ok(WasmDeflater { inner: js(Deflater::new(level))? })
    }

    /// Compresses `input` (all of it); with `finish`, ends the stream.
    pub fn update(&mut self, input: &[u8], finish: bool) -> JsResult<Vec<u8>> {
        let mut out = Vec::new();
        js(self.inner.update_vec(input, finish, &mut out))?;
        Ok(out)
    }
}

/// Push-style decoding of gzip, zlib or raw deflate (detected from the first bytes), with a
/// limit on the output.
#[wasm_bindgen]
pub struct WasmInflater {
    inner: LimitedInflater,
}

#[wasm_bindgen]
impl WasmInflater {
    /// A decoder that refuses to produce more than `limit` bytes (OUTPUT_LIMIT).
    #[wasm_bindgen(constructor)]
    pub fn new(limit: f64) -> WasmInflater {
        WasmInflater { inner: LimitedInflater::new(to_u64(limit)) }
    }

    /// Decodes `input` (all of it) and returns what it produced.
    pub fn update(&mut self, input: &[u8]) -> JsResult<Vec<u8>> {
        let mut out = Vec::new();
        js(self.inner.update(input, &mut out))?;
        Ok(out)
    }

    /// Declares the end of input: throws unless the compressed stream was complete.
    pub fn finish(&self) -> JsResult<()> {
        js(self.inner.finish())
    }
}

/// Push-style SHA-256.
#[wasm_bindgen]
#[derive(Default)]
pub struct WasmDigest {
    inner: Option<Digest>,
}

#[wasm_bindgen]
impl WasmDigest {
    /// A new digest.
    #[wasm_bindgen(constructor)]
    pub fn new() -> WasmDigest {
        WasmDigest { inner: Some(Digest::new()) }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        if let Some(d) = self.inner.as_mut() {
            d.update(data);
        }
    }

    /// The 32-byte hash (once).
    pub fn finish(&mut self) -> Vec<u8> {
        self.inner.take().map(|d| d.finish().to_vec()).unwrap_or_default()
    }
}

/// The level a deflate job uses from its options' `compress` (unset or `true`: 6; `false`: 0).
#[wasm_bindgen(js_name = deflateLevel)]
pub fn deflate_level(options: JsValue) -> JsResult<u8> {
    Ok(js(js(Fields::of(&options))?.compress())?.deflate_level())
}
