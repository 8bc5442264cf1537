//! Sealing and sequential unsealing for the JS Web Streams adapters (`seal`, `sealTransform`,
//! `unsealTransform`): push bytes in, get bytes out, synchronously; the JS side feeds pieces
//! no larger than a chunk, so each call's output is bounded.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::config::{key_from, to_plain, Fields};
use super::error::{js, JsResult};
use super::source::JsSource;
use crate::core::config::integer_field;
use crate::core::error::Result;
use crate::core::sealed::{Opener, ParallelSealer, SealOptions, Sealer};

/// Sealing options from the caller's object (`compress`, `chunkSize`, `size`); `size_hint` is
/// the source's length when the caller gave no `size`.
pub(crate) fn seal_options(options: &JsValue, key: Option<Uint8Array>, size_hint: Option<f64>) -> Result<SealOptions> {
    let f = Fields::of(options)?;
    let chunk_size = f.number("chunkSize", 0, u64::from(u32::MAX))?.filter(|&c| c > 0);
    let hint = size_hint.map(|s| integer_field("size", s, 0, (1 << 53) - 1)).transpose()?;
    Ok(SealOptions {
        key: key_from(key)?,
        level: f.compress()?.sealing_level(),
        chunk_size: chunk_size.map(|c| usize::try_from(c).unwrap_or(usize::MAX)),
        total_len: f.number("size", 0, (1 << 53) - 1)?.or(hint),
    })
}

/// Streaming sealer.
#[wasm_bindgen]
pub struct WasmSealer {
    inner: Sealer,
}

#[wasm_bindgen]
impl WasmSealer {
    /// A sealer for `{ compress, chunkSize, size }` and an optional 32-byte key; `sizeHint` is
    /// the source's length, recorded when `size` is not given.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, key: Option<Uint8Array>, size_hint: Option<f64>) -> JsResult<WasmSealer> {
        let options = js(seal_options(&options, key, size_hint))?;
        Ok(WasmSealer { inner: js(Sealer::new(&options))? })
    }

    /// Plaintext bytes per chunk of the file being written.
    #[wasm_bindgen(getter, js_name = chunkSize)]
    pub fn chunk_size(&self) -> u32 {
        self.inner.header().chunk_size
    }

    /// Seals `input`, returning the sealed bytes it completes.
    pub fn update(&mut self, input: &[u8]) -> JsResult<Vec<u8>> {
        let mut out = Vec::with_capacity(input.len() + 64);
        let mut pos = 0;
        while pos < input.len() {
            pos += js(self.inner.update(&input[pos..], &mut out))?.consumed;
        }
        Ok(out)
    }

    /// Writes the last chunk, the index and the footer.
    pub fn finish(&mut self) -> JsResult<Vec<u8>> {
        let mut out = Vec::new();
        js(self.inner.finish(&mut out))?;
        Ok(out)
    }
}

/// The calling thread's side of a seal whose chunks workers seal (see `ParallelSealer`): the
/// header and subkey for the workers, the records back in order, the index and footer at the end.
#[wasm_bindgen]
pub struct WasmParallelSealer {
    inner: ParallelSealer,
    level: u8,
}

#[wasm_bindgen]
impl WasmParallelSealer {
    /// A sealer for `{ compress, chunkSize, size }` and an optional key (`sizeHint`: the
    /// source's length when no `size`).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, key: Option<Uint8Array>, size_hint: Option<f64>) -> JsResult<WasmParallelSealer> {
        let options = js(seal_options(&options, key, size_hint))?;
        Ok(WasmParallelSealer { inner: js(ParallelSealer::new(&options))?, level: options.level.unwrap_or(0) })
    }

    /// The header, the file's first bytes (and the session header of the workers).
    #[wasm_bindgen(js_name = headerBytes)]
    pub fn header_bytes(&self) -> Vec<u8> {
        self.inner.codec().header_bytes().to_vec()
    }

    /// The per-file subkey for the workers (a copy: zero it once handed over), if encrypted.
    pub fn subkey(&self) -> Option<Vec<u8>> {
        self.inner.codec().subkey().map(|k| k.to_vec())
    }

    /// Plaintext bytes per chunk.
    #[wasm_bindgen(getter, js_name = chunkSize)]
    pub fn chunk_size(&self) -> u32 {
        self.inner.codec().header().chunk_size
    }

    /// Chunks the file will have, when its length is declared.
    #[wasm_bindgen(getter, js_name = chunkCount)]
    #[allow(clippy::cast_precision_loss)]
    pub fn chunk_count(&self) -> Option<f64> {
        self.inner.chunk_count().map(|c| c as f64)
    }

    /// The deflate level workers compress chunks at (0 when chunks are stored).
    #[wasm_bindgen(getter)]
    pub fn level(&self) -> u8 {
        self.level
    }

    /// Takes the next chunk's record (sealed from `plainLen` bytes), checking it.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn accept(&mut self, chunk: f64, plain_len: u32, record: &[u8]) -> JsResult<()> {
        js(self.inner.accept(chunk as u64, plain_len as usize, record))
    }

    /// The index and footer, once the last chunk was taken.
    pub fn finish(&mut self) -> JsResult<Vec<u8>> {
        js(self.inner.finish())
    }
}

/// Sequential opener: at most one chunk of plaintext per `update`.
#[wasm_bindgen]
pub struct WasmOpener {
    inner: Opener,
    consumed: usize,
}

#[wasm_bindgen]
impl WasmOpener {
    /// An opener with an optional key; `requireEncryption` refuses unencrypted data.
    #[wasm_bindgen(constructor)]
    pub fn new(key: Option<Uint8Array>, require_encryption: bool) -> JsResult<WasmOpener> {
        let mut inner = Opener::new(js(key_from(key))?);
        if require_encryption {
            inner = inner.require_encryption();
        }
        Ok(WasmOpener { inner, consumed: 0 })
    }

    /// Feeds sealed bytes; returns verified plaintext (one chunk at most). `consumed` tells
    /// how much of `input` was used: call again with the rest.
    pub fn update(&mut self, input: &[u8]) -> JsResult<Vec<u8>> {
        let mut out = Vec::new();
        let p = js(self.inner.update(input, &mut out))?;
        self.consumed = p.consumed;
        Ok(out)
    }

    /// Input bytes used by the last `update`.
    #[wasm_bindgen(getter)]
    pub fn consumed(&self) -> u32 {
        u32::try_from(self.consumed).unwrap_or(u32::MAX)
    }

    /// True once the footer has been read and verified.
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.inner.is_done()
    }

    /// Declares the end of input: throws unless the whole sealed file was read.
    pub fn finish(&self) -> JsResult<()> {
        js(self.inner.finish())
    }
}

/// True if `bytes` start with the sealed format's magic (which job ops read as sealed).
#[wasm_bindgen(js_name = looksSealed)]
pub fn looks_sealed(bytes: &[u8]) -> bool {
    crate::core::sealed::Header::has_magic(bytes)
}

/// What a sealed file's header and footer say, without a key (unauthenticated): resolves to
/// `{ kind, version, compressed, encrypted, chunkSize, chunkCount, storedSize, declaredSize,
/// indexOffset, indexLength }`. Reads through the byte source only the bytes it needs.
#[wasm_bindgen(js_name = inspectSealed)]
pub fn inspect_sealed(source: JsValue) -> JsResult<Promise> {
    let source = js(JsSource::from_js(source))?;
    Ok(future_to_promise(async move {
        let info = js(crate::core::sealed::inspect_source(&source).await)?;
        let h = &info.header;
        #[allow(clippy::cast_precision_loss)]
        Ok(to_plain(&JsInfo {
            kind: "sealed",
            version: h.version,
            compressed: h.compressed,
            encrypted: h.encrypted,
            chunk_size: f64::from(h.chunk_size),
            chunk_count: info.chunk_count as f64,
            stored_size: info.stored_len as f64,
            declared_size: h.total_len.map(|t| t as f64),
            index_offset: info.footer.index_offset as f64,
            index_length: f64::from(info.footer.index_len),
        }))
    }))
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct JsInfo {
    kind: &'static str,
    version: u8,
    compressed: bool,
    encrypted: bool,
    chunk_size: f64,
    chunk_count: f64,
    stored_size: f64,
    declared_size: Option<f64>,
    index_offset: f64,
    index_length: f64,
}
