//! `WasmFileStream`: the core FileStream over a JS source, every async method a Promise.
//! Methods clone an `Rc` into their future, so concurrent `readAt` calls are allowed; the core
//! serializes the position-moving ones. Reads into caller arrays write straight into them
//! ([`JsSink`]), so a huge target array never grows wasm memory and no scratch copy is made;
//! a chunk a worker decoded is handed out by `readChunk` without any copy.

use std::rc::Rc;

use js_sys::{Promise, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::clock::JsClock;
use super::config::{stream_config, to_plain};
use super::decoder::{JsChunk, JsChunkDecoder};
use super::error::{js, to_js, JsResult};
use super::pool::WasmBufferPool;
use super::source::JsSource;
use crate::core::config::{offset_field, StreamConfig};
use crate::core::error::{ErrorCode, StreamError};
use crate::core::pool::BufferPool;
use crate::core::stream::{ByteSink, ChunkBytes, FileStream, Source};

/// A caller's `Uint8Array` as the engine's read destination.
struct JsSink {
    array: Uint8Array,
    len: usize,
}

impl JsSink {
    fn new(array: Uint8Array) -> JsSink {
        let len = array.length() as usize;
        JsSink { array, len }
    }
}

#[allow(clippy::cast_possible_truncation)]
impl ByteSink<JsChunk> for JsSink {
    fn len(&self) -> usize {
        self.len
    }

    fn put(&mut self, at: usize, bytes: &[u8]) {
        self.array.subarray(at as u32, (at + bytes.len()) as u32).copy_from(bytes);
    }

    fn put_chunk(&mut self, at: usize, chunk: &JsChunk, from: usize, len: usize) {
        self.array.set(&chunk.0.subarray(from as u32, (from + len) as u32), at as u32);
    }
}

/// A FileStream over a JS source.
#[wasm_bindgen]
pub struct WasmFileStream {
    inner: Rc<FileStream<JsSource, JsChunkDecoder>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsStats {
    bytes_read: f64,
    read_ops: f64,
    chunks_read: f64,
    seeks: f64,
    stored_bytes_read: f64,
    decompressed_bytes: f64,
    decrypted_bytes: f64,
    pool_hits: f64,
    pool_misses: f64,
    peak_buffered_bytes: f64,
    buffered_bytes: f64,
    elapsed: f64,
    read_speed: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsProgress {
    bytes_read: f64,
    total_bytes: Option<f64>,
    read_speed: f64,
    elapsed: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsFormat {
    kind: String,
    compressed: bool,
    encrypted: bool,
    chunk_size: Option<f64>,
    chunk_count: Option<f64>,
    stored_size: Option<f64>,
}

#[allow(clippy::cast_precision_loss)]
fn num(v: u64) -> f64 {
    v as f64
}

#[wasm_bindgen]
impl WasmFileStream {
    /// Checks the options and wraps `source` (Blob, ReadableStream, Uint8Array or ArrayBuffer);
    /// `open()` on the result starts reading, `cancel()` stops an open in progress. Sealed
    /// chunks are decoded by `decoder` (a JS object with start / finish / cancel / window, as
    /// the worker pool makes) when given, else here.
    pub fn prepare(
        source: JsValue,
        config: JsValue,
        key: Option<Uint8Array>,
        pool: &WasmBufferPool,
        decoder: JsValue,
    ) -> JsResult<WasmOpening> {
        let config = js(stream_config(&config, key))?;
        let source = js(JsSource::from_js(source))?;
        Ok(WasmOpening {
            source,
            config: Some(config),
            pool: pool.pool(),
            decoder: Some(decoder),
            #[cfg(feature = "nvpk")]
            entry: None,
        })
    }

    /// Resolves to the next chunk (`Uint8Array`), or `null` at the end. A chunk a worker
    /// decoded is its transferred buffer, not a copy.
    #[wasm_bindgen(js_name = readChunk)]
    pub fn read_chunk(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            #[allow(clippy::cast_possible_truncation)]
            Ok(match js(inner.read_chunk_bytes().await)? {
                Some(ChunkBytes::Owned(bytes)) => Uint8Array::from(&bytes[..]).into(),
                Some(ChunkBytes::Local(view)) => Uint8Array::from(&view[..]).into(),
                Some(ChunkBytes::External(chunk, range)) => {
                    chunk.0.subarray(range.start as u32, range.end as u32).into()
                }
                None => JsValue::NULL,
            })
        })
    }

    /// Reads from the position into `into`; resolves to the byte count (0 only at the end).
    #[wasm_bindgen(js_name = readInto)]
    pub fn read_into(&self, into: Uint8Array) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let n = js(inner.read_into(&mut JsSink::new(into)).await)?;
            Ok(JsValue::from_f64(num(n as u64)))
        })
    }

    /// Reads at `offset` without moving the position, filling `into` unless the end comes
    /// first; resolves to the byte count.
    #[wasm_bindgen(js_name = readAt)]
    pub fn read_at(&self, into: Uint8Array, offset: f64) -> Promise {
        let inner = Rc::clone(&self.inner);
        let offset = offset_field("offset", offset);
        future_to_promise(async move {
            let offset = js(offset)?;
            let n = js(inner.read_at_into(&mut JsSink::new(into), offset).await)?;
            Ok(JsValue::from_f64(num(n as u64)))
        })
    }

    /// Moves the position; resolves to the new position.
    pub fn seek(&self, offset: f64) -> Promise {
        let inner = Rc::clone(&self.inner);
        let offset = offset_field("offset", offset);
        future_to_promise(async move {
            let offset = js(offset)?;
            Ok(JsValue::from_f64(num(js(inner.seek(offset).await)?)))
        })
    }

    /// Closes the stream (idempotent); buffers go back to the pool.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Logical size, or `undefined` while unknown.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> Option<f64> {
        self.inner.size().map(num)
    }

    /// Logical position.
    #[wasm_bindgen(getter)]
    pub fn position(&self) -> f64 {
        num(self.inner.position())
    }

    /// True once closed.
    #[wasm_bindgen(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The stream's counters.
    pub fn stats(&self) -> JsValue {
        let s = self.inner.stats();
        to_plain(&JsStats {
            bytes_read: num(s.bytes_read),
            read_ops: num(s.read_ops),
            chunks_read: num(s.chunks_read),
            seeks: num(s.seeks),
            stored_bytes_read: num(s.stored_bytes_read),
            decompressed_bytes: num(s.decompressed_bytes),
            decrypted_bytes: num(s.decrypted_bytes),
            pool_hits: num(s.pool_hits),
            pool_misses: num(s.pool_misses),
            peak_buffered_bytes: num(s.peak_buffered_bytes),
            buffered_bytes: num(self.inner.buffered_bytes()),
            elapsed: s.elapsed.as_secs_f64() * 1000.0,
            read_speed: s.read_speed,
        })
    }

    /// `{ bytesRead, totalBytes, readSpeed, elapsed }`.
    pub fn progress(&self) -> JsValue {
        let p = self.inner.progress();
        to_plain(&JsProgress {
            bytes_read: num(p.bytes_read),
            total_bytes: p.total_bytes.map(num),
            read_speed: p.read_speed,
            elapsed: p.elapsed.as_secs_f64() * 1000.0,
        })
    }

    /// Milliseconds remaining, or `undefined` when unknown.
    #[wasm_bindgen(js_name = estimatedTimeRemaining)]
    pub fn estimated_time_remaining(&self) -> Option<f64> {
        self.inner.estimated_time_remaining().map(|d| d.as_secs_f64() * 1000.0)
    }

    /// What the stream found in its source.
    pub fn format(&self) -> JsValue {
        let f = self.inner.format();
        to_plain(&JsFormat {
            kind: f.kind,
            compressed: f.compressed,
            encrypted: f.encrypted,
            chunk_size: f.chunk_size.map(|c| num(c as u64)),
            chunk_count: f.chunk_count.map(num),
            stored_size: f.stored_size.map(num),
        })
    }
}

/// A FileStream being opened.
#[wasm_bindgen]
pub struct WasmOpening {
    source: JsSource,
    config: Option<StreamConfig>,
    pool: BufferPool,
    decoder: Option<JsValue>,
    #[cfg(feature = "nvpk")]
    entry: Option<crate::core::stream::EntryOpen>,
}

impl WasmOpening {
    /// The opening of a package entry's stream over its stored bytes.
    #[cfg(feature = "nvpk")]
    pub(crate) fn for_entry(
        source: JsSource,
        config: StreamConfig,
        pool: BufferPool,
        entry: crate::core::stream::EntryOpen,
    ) -> WasmOpening {
        WasmOpening { source, config: Some(config), pool, decoder: None, entry: Some(entry) }
    }
}

#[wasm_bindgen]
impl WasmOpening {
    /// Opens the stream (once); resolves to a `WasmFileStream`.
    pub fn open(&mut self) -> Promise {
        let source = self.source.clone();
        let config = self.config.take();
        let pool = self.pool.clone();
        let decoder = JsChunkDecoder::new(self.decoder.take());
        #[cfg(feature = "nvpk")]
        let entry = self.entry.take();
        future_to_promise(async move {
            let config =
                config.ok_or_else(|| to_js(StreamError::new(ErrorCode::Closed, "open() was already called")))?;
            #[cfg(feature = "nvpk")]
            if let Some(entry) = entry {
                let stream =
                    js(FileStream::open_entry(source, entry, config, Some(pool), JsClock::shared(), decoder).await)?;
                return Ok(WasmFileStream { inner: Rc::new(stream) }.into());
            }
            let stream =
                js(FileStream::open_with_decoder(source, config, Some(pool), JsClock::shared(), decoder).await)?;
            Ok(WasmFileStream { inner: Rc::new(stream) }.into())
        })
    }

    /// Cancels the source (a ReadableStream's pending read ends), so the open fails soon.
    pub fn cancel(&self) {
        self.source.close();
    }
}
