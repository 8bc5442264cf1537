//! The core's `ChunkDecoder` over the worker pool's session object (pkg-js/src/pool/session.js),
//! called through a typed extern block: `begin` hands it what workers need once (header,
//! subkey, record offsets), `start` asks for a chunk and returns a ticket, `finish` resolves to
//! `{ output, deflated }` with the plaintext a worker transferred back. Without such an object
//! (or when `start` returns no ticket), chunks are decoded in wasm on the calling thread.

use js_sys::{Float64Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::error::error_from_js;
use crate::core::error::{err, ErrorCode, Result};
use crate::core::stream::{ChunkData, ChunkDecoder, ChunkRequest, DecodeSession, Decoded};

#[wasm_bindgen]
extern "C" {
    /// The pool's decode session.
    #[wasm_bindgen(typescript_type = "PoolSession")]
    pub type PoolSession;

    #[wasm_bindgen(method)]
    fn begin(this: &PoolSession, session: &Object);

    #[wasm_bindgen(method)]
    fn start(
        this: &PoolSession,
        chunk: f64,
        record_offset: f64,
        record_len: f64,
        plain_len: f64,
        last: bool,
    ) -> Option<f64>;

    #[wasm_bindgen(method, catch)]
    fn finish(this: &PoolSession, ticket: f64) -> std::result::Result<Promise, JsValue>;

    #[wasm_bindgen(method)]
    fn cancel(this: &PoolSession, ticket: f64);

    #[wasm_bindgen(method)]
    fn window(this: &PoolSession) -> f64;
}

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

/// Chunk decoding delegated to a pool session, or local when there is none.
pub(crate) struct JsChunkDecoder {
    session: Option<PoolSession>,
}

impl JsChunkDecoder {
    pub(crate) fn new(target: Option<JsValue>) -> Self {
        let session = target.filter(|t| t.is_object()).map(JsCast::unchecked_into);
        JsChunkDecoder { session }
    }
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &key.into(), value);
}

#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
impl ChunkDecoder for JsChunkDecoder {
    type Chunk = JsChunk;

    fn begin(&self, s: &DecodeSession<'_>) {
        let Some(session) = &self.session else { return };
        let obj = Object::new();
        set(&obj, "header", &Uint8Array::from(s.header).into());
        if let Some(subkey) = s.subkey {
            // A copy in JS memory: the pool hands it to its workers, then zeroes it.
            set(&obj, "subkey", &Uint8Array::from(&subkey[..]).into());
        }
        let offsets: Vec<f64> = s.record_offsets.iter().map(|&o| o as f64).collect();
        set(&obj, "offsets", &Float64Array::from(&offsets[..]).into());
        set(&obj, "totalLength", &JsValue::from_f64(s.total_len as f64));
        set(&obj, "chunkSize", &JsValue::from_f64(s.chunk_size as f64));
        session.begin(&obj);
    }

    fn start(&self, r: &ChunkRequest) -> Option<u64> {
        let session = self.session.as_ref()?;
        let ticket =
            session.start(r.chunk as f64, r.record_offset as f64, r.record_len as f64, r.plain_len as f64, r.last)?;
        Some(ticket as u64)
    }

    async fn finish(&self, ticket: u64) -> Result<(JsChunk, Decoded)> {
        let session =
            self.session.as_ref().ok_or_else(|| err(ErrorCode::InternalError, "no pool session to finish a chunk"))?;
        let failed = |e: JsValue| error_from_js(&e, "a worker failed");
        let result = JsFuture::from(session.finish(ticket as f64).map_err(failed)?).await.map_err(failed)?;
        let output: Uint8Array = Reflect::get(&result, &"output".into())
            .ok()
            .and_then(|o| o.dyn_into().ok())
            .ok_or_else(|| err(ErrorCode::InternalError, "the pool returned no output for a chunk"))?;
        let deflated = Reflect::get(&result, &"deflated".into()).ok().and_then(|d| d.as_bool()).unwrap_or(false);
        Ok((JsChunk(output), Decoded { deflated }))
    }

    fn cancel(&self, ticket: u64) {
        if let Some(session) = &self.session {
            session.cancel(ticket as f64);
        }
    }

    fn window(&self) -> usize {
        self.session.as_ref().map_or(1, |s| s.window().max(1.0) as usize)
    }
}
