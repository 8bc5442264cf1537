//! The core's `Source` over the JS package's byte sources (pkg-js/src/sources: Blob, Uint8Array,
//! ReadableStream, httpSource), called through a typed extern block: `size`, `randomAccess`,
//! `read(offset, length)` and `next(max)` resolving to a `Uint8Array` (or `null` at the end),
//! `close()`. The JS side owns every reading strategy (slices, one stream for sequential
//! passes, BYOB readers); this side copies what it gets into engine buffers.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::error::{error_from_js, wrong_type};
use crate::core::error::StreamError;
use crate::core::error::{err, ErrorCode, Result};
use crate::core::stream::Source;

#[wasm_bindgen]
extern "C" {
    /// A byte source of the JS package.
    #[wasm_bindgen(typescript_type = "ByteSource")]
    #[derive(Clone)]
    pub type ByteSource;

    #[wasm_bindgen(method, getter)]
    fn size(this: &ByteSource) -> Option<f64>;

    #[wasm_bindgen(method, getter, js_name = randomAccess)]
    fn random_access(this: &ByteSource) -> bool;

    #[wasm_bindgen(method, catch)]
    fn read(this: &ByteSource, offset: f64, length: f64) -> std::result::Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn next(this: &ByteSource, max: f64) -> std::result::Result<Promise, JsValue>;

    #[wasm_bindgen(method)]
    fn close(this: &ByteSource);
}

/// A JS byte source as the core's `Source`. Clones share the object, so an open in progress
/// can be cancelled from outside.
#[derive(Clone)]
pub(crate) struct JsSource {
    source: ByteSource,
    len: Option<u64>,
    random: bool,
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
impl JsSource {
    /// Wraps a byte source (its size and kind are read once); anything else is a typed error.
    pub(crate) fn from_js(value: JsValue) -> std::result::Result<JsSource, StreamError> {
        let has = |name: &str| Reflect::get(&value, &name.into()).is_ok_and(|f| f.is_instance_of::<Function>());
        if !value.is_object() || !has("read") || !has("next") {
            return Err(wrong_type("source", &value, "a byte source (pkg-js/src/sources)"));
        }
        let source: ByteSource = value.unchecked_into();
        let len = source.size().filter(|s| s.is_finite() && *s >= 0.0).map(|s| s as u64);
        let random = source.random_access();
        Ok(JsSource { source, len, random })
    }
}

/// Awaits a byte-source call and copies the bytes it resolves to into `buf`; 0 at the end.
async fn copy_result(call: std::result::Result<Promise, JsValue>, buf: &mut [u8]) -> Result<usize> {
    let failed = |e: JsValue| error_from_js(&e, "the source failed");
    let value = JsFuture::from(call.map_err(failed)?).await.map_err(failed)?;
    if value.is_null() || value.is_undefined() {
        return Ok(0);
    }
    let bytes: Uint8Array = value.dyn_into().map_err(|v| wrong_type("source bytes", &v, "a Uint8Array"))?;
    let n = bytes.length() as usize;
    if n > buf.len() {
        return Err(err(
            ErrorCode::ReadFailed,
            format!("the source returned {n} bytes, more than the {} asked", buf.len()),
        ));
    }
    bytes.copy_to(&mut buf[..n]);
    Ok(n)
}

#[allow(clippy::cast_precision_loss)]
impl Source for JsSource {
    fn stored_len(&self) -> Option<u64> {
        self.len
    }

    fn is_random_access(&self) -> bool {
        self.random
    }

    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        copy_result(self.source.read(offset as f64, buf.len() as f64), buf).await
    }

    async fn read_next(&self, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        copy_result(self.source.next(buf.len() as f64), buf).await
    }

    fn close(&self) {
        self.source.close();
    }
}
