//! The core's `Source` over JS objects:
//!
//! * `Blob` / `File`: random access through `blob.slice(a, b).arrayBuffer()`; the whole Blob
//!   is never read into memory. Reads that follow one another (a pass through a sealed file)
//!   go through one `blob.slice(offset).stream()` instead: in Chromium a slice per 256 KiB
//!   chunk reads at about 200 MB/s, one stream at several times that (bench/RESULTS.md).
//! * `Uint8Array` / `ArrayBuffer`: random access by copying the requested range.
//! * `ReadableStream<Uint8Array>`: sequential, through a BYOB reader when the stream is a byte
//!   stream (no allocation per read on the producer side), else the default reader.
//!
//! No `RefCell` borrow is held across an `.await`; the engine serializes sequential reads.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{ArrayBuffer, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::error::{from_js, wrong_type};
use crate::core::error::{ErrorCode, Result, StreamError};
use crate::core::stream::Source;
use crate::core::sync::AsyncMutex;

enum Reader {
    Byob(Object),
    Default(Object),
}

/// Sequential state of a ReadableStream source.
struct StreamState {
    stream: web_sys::ReadableStream,
    reader: RefCell<Option<Reader>>,
    /// A default-reader chunk not yet fully used, and how far it was used.
    leftover: RefCell<Option<(Uint8Array, u32)>>,
    /// The buffer handed back by the last BYOB read, reused for the next one.
    byob_buffer: RefCell<Option<ArrayBuffer>>,
    done: Cell<bool>,
    size: Option<u64>,
}

enum Kind {
    Bytes(Uint8Array),
    Blob(BlobState),
    Stream(StreamState),
}

/// A Blob, and the stream that serves its sequential reads.
struct BlobState {
    blob: web_sys::Blob,
    /// The stream over the Blob from `pos`; sequential reads take turns on it.
    sequential: AsyncMutex<Option<BlobStream>>,
    /// End of the last read: a read that starts there continues a sequence.
    last_end: Cell<u64>,
    /// How many reads in a row each started where the one before ended.
    run: Cell<u32>,
    /// Where the reads queued on the stream will have left it.
    stream_next: Cell<Option<u64>>,
}

struct BlobStream {
    stream: StreamState,
    pos: u64,
}

/// A JS object as a byte source. Clones share the object, so an open in progress can be
/// cancelled from outside.
#[derive(Clone)]
pub(crate) struct JsSource(Rc<Kind>);

fn call(target: &JsValue, method: &str, args: &[&JsValue]) -> std::result::Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &method.into())?.dyn_into()?;
    let args: js_sys::Array = args.iter().copied().collect();
    f.apply(target, &args)
}

async fn await_promise(value: JsValue) -> std::result::Result<JsValue, JsValue> {
    JsFuture::from(Promise::resolve(&value)).await
}

impl JsSource {
    /// Wraps `Blob | ReadableStream | Uint8Array | ArrayBuffer`.
    pub(crate) fn from_js(value: JsValue, size_hint: Option<u64>) -> Result<JsSource> {
        if let Some(blob) = value.dyn_ref::<web_sys::Blob>() {
            return Ok(JsSource(Rc::new(Kind::Blob(BlobState {
                blob: blob.clone(),
                sequential: AsyncMutex::new(None),
                last_end: Cell::new(u64::MAX),
                run: Cell::new(0),
                stream_next: Cell::new(None),
            }))));
        }
        if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
            return Ok(JsSource(Rc::new(Kind::Bytes(bytes.clone()))));
        }
        if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
            return Ok(JsSource(Rc::new(Kind::Bytes(Uint8Array::new(buffer)))));
        }
        if let Some(stream) = value.dyn_ref::<web_sys::ReadableStream>() {
            if stream.locked() {
                return Err(StreamError::invalid("source", "a locked ReadableStream", "an unlocked ReadableStream"));
            }
            return Ok(JsSource(Rc::new(Kind::Stream(StreamState::new(stream.clone(), size_hint)))));
        }
        Err(wrong_type("source", &value, "a Blob, ReadableStream, Uint8Array or ArrayBuffer"))
    }
}

impl BlobState {
    #[allow(clippy::cast_precision_loss)]
    async fn read_at(&self, start: u64, buf: &mut [u8]) -> Result<usize> {
        let end = start + buf.len() as u64;
        // Three reads in a row make a sequence (a random read and its one chunk of read-ahead
        // do not: opening a stream for them would cost more than a slice).
        let run = if self.last_end.get() == start { self.run.get().saturating_add(1) } else { 0 };
        self.run.set(run);
        self.last_end.set(end);
        let sequential = self.stream_next.get() == Some(start) || run >= 2;
        if !sequential {
            return self.read_slice(start, buf).await;
        }
        self.stream_next.set(Some(end));
        let mut guard = self.sequential.lock().await;
        if guard.as_ref().is_none_or(|s| s.pos != start) {
            // A new sequence (or reads that came out of order): a stream from here.
            if let Some(old) = guard.take() {
                old.stream.cancel();
            }
            let failed = |e: JsValue| from_js(&e, ErrorCode::ReadFailed, "reading the Blob failed");
            let part = self.blob.slice_with_f64(start as f64).map_err(failed)?;
            *guard = Some(BlobStream { stream: StreamState::new(part.stream(), None), pos: start });
        }
        let seq = guard.as_mut().expect("set above");
        let mut filled = 0;
        while filled < buf.len() {
            let n = seq.stream.read_next(&mut buf[filled..]).await;
            match n {
                Ok(0) | Err(_) => {
                    // The stream is unusable from here: drop it, and read this range by slice.
                    if let Some(old) = guard.take() {
                        old.stream.cancel();
                    }
                    self.stream_next.set(None);
                    drop(guard);
                    return self.read_slice(start, buf).await;
                }
                Ok(n) => {
                    filled += n;
                    seq.pos += n as u64;
                }
            }
        }
        Ok(filled)
    }

    #[allow(clippy::cast_precision_loss)]
    async fn read_slice(&self, start: u64, buf: &mut [u8]) -> Result<usize> {
        let failed = |e: JsValue| from_js(&e, ErrorCode::ReadFailed, "reading the Blob failed");
        let part = self.blob.slice_with_f64_and_f64(start as f64, (start + buf.len() as u64) as f64).map_err(failed)?;
        let buffer = JsFuture::from(part.array_buffer()).await.map_err(failed)?;
        let bytes = Uint8Array::new(&buffer);
        if bytes.length() as usize != buf.len() {
            return Err(StreamError::new(ErrorCode::ReadFailed, "the Blob returned fewer bytes than asked"));
        }
        bytes.copy_to(buf);
        Ok(buf.len())
    }

    fn close(&self) {
        if let Some(mut guard) = self.sequential.try_lock() {
            if let Some(old) = guard.take() {
                old.stream.cancel();
            }
        }
    }
}

impl StreamState {
    fn new(stream: web_sys::ReadableStream, size: Option<u64>) -> StreamState {
        StreamState {
            stream,
            reader: RefCell::new(None),
            leftover: RefCell::new(None),
            byob_buffer: RefCell::new(None),
            done: Cell::new(false),
            size,
        }
    }

    /// The reader, created on first use: BYOB if the stream supports it.
    fn reader(&self) -> Result<Reader> {
        if let Some(r) = self.reader.borrow().as_ref() {
            return Ok(match r {
                Reader::Byob(o) => Reader::Byob(o.clone()),
                Reader::Default(o) => Reader::Default(o.clone()),
            });
        }
        let options = Object::new();
        let _ = Reflect::set(&options, &"mode".into(), &"byob".into());
        let reader = match call(&self.stream, "getReader", &[&options]) {
            Ok(r) => Reader::Byob(r.unchecked_into()),
            Err(_) => {
                let r = call(&self.stream, "getReader", &[])
                    .map_err(|e| from_js(&e, ErrorCode::ReadFailed, "cannot read the ReadableStream"))?;
                Reader::Default(r.unchecked_into())
            }
        };
        let copy = match &reader {
            Reader::Byob(o) => Reader::Byob(o.clone()),
            Reader::Default(o) => Reader::Default(o.clone()),
        };
        *self.reader.borrow_mut() = Some(reader);
        Ok(copy)
    }

    async fn read_next(&self, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() || self.done.get() {
            return Ok(0);
        }
        if let Some(n) = self.take_leftover(buf) {
            return Ok(n);
        }
        let failed = |e: JsValue| from_js(&e, ErrorCode::ReadFailed, "the ReadableStream failed");
        match self.reader()? {
            Reader::Byob(reader) => {
                let want = u32::try_from(buf.len()).unwrap_or(u32::MAX);
                let buffer = self.byob_buffer.borrow_mut().take().filter(|b| b.byte_length() >= want);
                let view = match buffer {
                    Some(b) => Uint8Array::new_with_byte_offset_and_length(&b, 0, want),
                    None => Uint8Array::new_with_length(want),
                };
                let result = await_promise(call(&reader, "read", &[&view]).map_err(failed)?).await.map_err(failed)?;
                let value = Reflect::get(&result, &"value".into()).unwrap_or(JsValue::UNDEFINED);
                if Reflect::get(&result, &"done".into()).ok().and_then(|d| d.as_bool()) == Some(true) {
                    self.done.set(true);
                    return Ok(0);
                }
                let chunk: Uint8Array = value.dyn_into().map_err(|v| wrong_type("stream chunk", &v, "a Uint8Array"))?;
                let n = chunk.length() as usize;
                chunk.copy_to(&mut buf[..n]);
                *self.byob_buffer.borrow_mut() = Some(chunk.buffer());
                Ok(n)
            }
            Reader::Default(reader) => loop {
                let result = await_promise(call(&reader, "read", &[]).map_err(failed)?).await.map_err(failed)?;
                if Reflect::get(&result, &"done".into()).ok().and_then(|d| d.as_bool()) == Some(true) {
                    self.done.set(true);
                    return Ok(0);
                }
                let value = Reflect::get(&result, &"value".into()).unwrap_or(JsValue::UNDEFINED);
                let chunk = if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
                    bytes.clone()
                } else if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
                    Uint8Array::new(buffer)
                } else {
                    return Err(wrong_type("stream chunk", &value, "a Uint8Array"));
                };
                if chunk.length() == 0 {
                    continue;
                }
                *self.leftover.borrow_mut() = Some((chunk, 0));
                return Ok(self.take_leftover(buf).unwrap_or(0));
            },
        }
    }

    fn take_leftover(&self, buf: &mut [u8]) -> Option<usize> {
        let mut slot = self.leftover.borrow_mut();
        let (chunk, used) = slot.as_mut()?;
        let rest = chunk.length() - *used;
        let n = rest.min(u32::try_from(buf.len()).unwrap_or(u32::MAX));
        chunk.subarray(*used, *used + n).copy_to(&mut buf[..n as usize]);
        *used += n;
        if *used == chunk.length() {
            *slot = None;
        }
        Some(n as usize)
    }

    fn cancel(&self) {
        self.done.set(true);
        self.leftover.borrow_mut().take();
        let target: JsValue = match self.reader.borrow_mut().take() {
            Some(Reader::Byob(r) | Reader::Default(r)) => r.into(),
            None => self.stream.clone().into(),
        };
        if let Ok(p) = call(&target, "cancel", &[]) {
            // A rejected cancel is of no interest once the stream is closed.
            wasm_bindgen_futures::spawn_local(async move {
                let _ = await_promise(p).await;
            });
        }
    }
}

impl Source for JsSource {
    fn stored_len(&self) -> Option<u64> {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        match &*self.0 {
            Kind::Bytes(b) => Some(u64::from(b.length())),
            Kind::Blob(b) => Some(b.blob.size() as u64),
            Kind::Stream(s) => s.size,
        }
    }

    fn is_random_access(&self) -> bool {
        !matches!(&*self.0, Kind::Stream(_))
    }

    #[allow(clippy::cast_precision_loss)]
    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let len = self.stored_len().unwrap_or(0);
        let start = offset.min(len);
        let end = (offset + buf.len() as u64).min(len);
        let n = usize::try_from(end - start).unwrap_or(0);
        if n == 0 {
            return Ok(0);
        }
        match &*self.0 {
            Kind::Bytes(bytes) => {
                #[allow(clippy::cast_possible_truncation)]
                let part = bytes.subarray(start as u32, end as u32);
                if part.length() as usize != n {
                    return Err(StreamError::new(
                        ErrorCode::ReadFailed,
                        "the source Uint8Array was detached or shrank",
                    ));
                }
                part.copy_to(&mut buf[..n]);
                Ok(n)
            }
            Kind::Blob(blob) => blob.read_at(start, &mut buf[..n]).await,
            Kind::Stream(_) => {
                Err(StreamError::new(ErrorCode::NotSeekable, "a ReadableStream cannot be read by offset"))
            }
        }
    }

    async fn read_next(&self, buf: &mut [u8]) -> Result<usize> {
        match &*self.0 {
            Kind::Stream(s) => s.read_next(buf).await,
            _ => Err(StreamError::new(ErrorCode::NotSeekable, "this source is read by offset")),
        }
    }

    fn close(&self) {
        match &*self.0 {
            Kind::Stream(s) => s.cancel(),
            Kind::Blob(b) => b.close(),
            Kind::Bytes(_) => {}
        }
    }
}
