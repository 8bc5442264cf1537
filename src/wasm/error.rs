//! The one place where core errors become JS values, and JS exceptions become core errors.

use std::cell::RefCell;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::error::{ErrorCode, StreamError};

/// Result of a call that may throw into JS.
pub(crate) type JsResult<T> = Result<T, JsValue>;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

pub(crate) fn record_panic(info: &std::panic::PanicHookInfo<'_>) {
    LAST_PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
}

/// The message of the last panic, if one happened (the JS side turns the resulting trap into a
/// `StreamError` with code `INTERNAL_ERROR`).
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow().clone())
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// A core error as plain data: `{ name: 'StreamError', type, code, message, context }`.
pub(crate) fn to_js(e: StreamError) -> JsValue {
    let obj = Object::new();
    set(&obj, "name", &"StreamError".into());
    set(&obj, "type", &e.error_type().as_str().into());
    set(&obj, "code", &e.code().as_str().into());
    set(&obj, "message", &e.message().into());
    let c = e.context();
    let context = Object::new();
    let mut any = false;
    for (key, value) in [("field", &c.field), ("value", &c.value), ("expected", &c.expected)] {
        if let Some(v) = value {
            set(&context, key, &v.as_str().into());
            any = true;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    for (key, value) in [("offset", c.offset), ("chunk", c.chunk)] {
        if let Some(v) = value {
            set(&context, key, &JsValue::from_f64(v as f64));
            any = true;
        }
    }
    if any {
        set(&obj, "context", &context);
    }
    obj.into()
}

/// Converts a core result for `#[wasm_bindgen]` functions.
pub(crate) fn js<T>(result: crate::core::error::Result<T>) -> JsResult<T> {
    result.map_err(to_js)
}

/// A JS exception (from a Blob read, a stream reader, ...) as a core error with `code`.
pub(crate) fn from_js(value: &JsValue, code: ErrorCode, what: &str) -> StreamError {
    let message = Reflect::get(value, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"));
    StreamError::new(code, format!("{what}: {message}"))
}

/// Rebuilds a core error from a JS rejection: StreamError data keeps its code and message,
/// anything else becomes READ_FAILED ("`what`: its message").
pub(crate) fn error_from_js(value: &JsValue, what: &str) -> StreamError {
    let code = Reflect::get(value, &"code".into()).ok().and_then(|c| c.as_string());
    let known = code.and_then(|c| ErrorCode::ALL.iter().copied().find(|k| k.as_str() == c));
    match known {
        Some(code) => {
            let message = Reflect::get(value, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
            let mut e = StreamError::new(code, message);
            if let Ok(chunk) = Reflect::get(value, &"context".into()).and_then(|c| Reflect::get(&c, &"chunk".into())) {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                if let Some(chunk) = chunk.as_f64() {
                    e = e.with_chunk(chunk as u64);
                }
            }
            e
        }
        None => from_js(value, ErrorCode::ReadFailed, what),
    }
}

/// A validation error for an argument of the wrong JS type.
pub(crate) fn wrong_type(field: &str, value: &JsValue, expected: &str) -> StreamError {
    let shown = if value.is_string() { format!("{:?}", value.as_string().unwrap_or_default()) } else { js_type(value) };
    StreamError::invalid(field, shown, expected)
}

pub(crate) fn js_type(value: &JsValue) -> String {
    if value.is_null() {
        return "null".into();
    }
    if value.is_undefined() {
        return "undefined".into();
    }
    value.js_typeof().as_string().unwrap_or_else(|| "unknown".into())
}
