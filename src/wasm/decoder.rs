//! The core's `ChunkDecoder` over a JS object (the worker pool's, in pkg-js): `start` begins a
//! chunk on a worker and returns a ticket, `finish` resolves to `{ output, deflated }`. Without
//! such an object, chunks are decoded in wasm on the calling thread.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::error::error_from_js;
use crate::core::error::{err, ErrorCode, Result};
use crate::core::stream::{ChunkData, ChunkDecoder, ChunkRequest, Decoded};

/// A chunk's plaintext in a JS buffer (a worker transferred it back): read by copying out of it
/// into wasm memory, or straight into another JS array (see `stream.rs`).
#[derive(Clone)]
pub(crate) struct JsChunk(pub(crate) Uint8Array);

#[allow(clippy::cast_possible_truncation)]
impl ChunkData for JsChunk {
    fn len(&self) -> usize {
        self.0.length() as usize
    }

    fn copy_to(&self, from: usize, out: &mut [u8]) {
        self.0.subarray(from as u32, (from + out.len()) as u32).copy_to(out);
    }
}

/// Chunk decoding delegated to JS, or local when `target` is `None`.
pub(crate) struct JsChunkDecoder {
    target: Option<JsValue>,
}

impl JsChunkDecoder {
    pub(crate) fn new(target: Option<JsValue>) -> Self {
        JsChunkDecoder { target: target.filter(|t| !t.is_undefined() && !t.is_null()) }
    }

    fn call(&self, method: &str, args: &[JsValue]) -> Option<JsValue> {
        let target = self.target.as_ref()?;
        let f: Function = Reflect::get(target, &method.into()).ok()?.dyn_into().ok()?;
        f.apply(target, &args.iter().collect()).ok()
    }
}

#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
impl ChunkDecoder for JsChunkDecoder {
    type Chunk = JsChunk;

    fn start(&self, r: &ChunkRequest) -> Option<u64> {
        let ticket = self.call(
            "start",
            &[
                JsValue::from_f64(r.chunk as f64),
                JsValue::from_f64(r.record_offset as f64),
                JsValue::from_f64(r.record_len as f64),
                JsValue::from_f64(r.plain_len as f64),
                JsValue::from_bool(r.last),
            ],
        )?;
        ticket.as_f64().map(|t| t as u64)
    }

    async fn finish(&self, ticket: u64) -> Result<(JsChunk, Decoded)> {
        let promise = self
            .call("finish", &[JsValue::from_f64(ticket as f64)])
            .ok_or_else(|| err(ErrorCode::InternalError, "the chunk decoder has no finish()"))?;
        let result =
            JsFuture::from(Promise::resolve(&promise)).await.map_err(|e| error_from_js(&e, "a worker failed"))?;
        let output: Uint8Array = Reflect::get(&result, &"output".into())
            .ok()
            .and_then(|o| o.dyn_into().ok())
            .ok_or_else(|| err(ErrorCode::InternalError, "the chunk decoder returned no output"))?;
        let deflated = Reflect::get(&result, &"deflated".into()).ok().and_then(|d| d.as_bool()).unwrap_or(false);
        Ok((JsChunk(output), Decoded { deflated }))
    }

    fn cancel(&self, ticket: u64) {
        self.call("cancel", &[JsValue::from_f64(ticket as f64)]);
    }

    fn window(&self) -> usize {
        self.call("window", &[]).and_then(|w| w.as_f64()).map_or(1, |w| w.max(1.0) as usize)
    }
}
