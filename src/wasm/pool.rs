//! `WasmBufferPool`: the core pool (buffers in wasm linear memory) behind numeric handles. A
//! JS `PooledBuffer` holds a handle; its bytes are reached by copying (`write`, `read`) or
//! through a view that is valid only inside a synchronous callback (see pkg-js).

use std::cell::RefCell;
use std::collections::HashMap;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::clock::JsClock;
use super::config::{buffer_config, buffer_config_to_js, to_plain};
use super::error::{js, JsResult};
use crate::core::config::integer_field;
use crate::core::error::{ErrorCode, StreamError};
use crate::core::pool::{BufferPool, PooledBuffer};

/// A buffer pool whose buffers live in wasm memory.
#[wasm_bindgen]
pub struct WasmBufferPool {
    pool: BufferPool,
    lent: RefCell<HashMap<u32, PooledBuffer>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsClassStats {
    size: f64,
    free: f64,
    active: f64,
    hits: f64,
    misses: f64,
    evictions: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsPoolStats {
    hits: f64,
    misses: f64,
    evictions: f64,
    total_size: f64,
    buffer_count: f64,
    active_buffers: f64,
    free_buffers: f64,
    utilization: f64,
    classes: Vec<JsClassStats>,
}

#[allow(clippy::cast_precision_loss)]
fn num(v: impl Into<u64>) -> f64 {
    v.into() as f64
}

fn unknown(handle: u32) -> JsValue {
    super::error::to_js(
        StreamError::new(ErrorCode::Closed, "this PooledBuffer was returned to its pool (or the pool closed)")
            .with_value(handle),
    )
}

impl WasmBufferPool {
    pub(crate) fn pool(&self) -> BufferPool {
        self.pool.clone()
    }

    fn with<T>(&self, handle: u32, f: impl FnOnce(&mut PooledBuffer) -> JsResult<T>) -> JsResult<T> {
        let mut lent = self.lent.borrow_mut();
        let buf = lent.get_mut(&handle).ok_or_else(|| unknown(handle))?;
        f(buf)
    }
}

#[wasm_bindgen]
impl WasmBufferPool {
    /// A pool with the `BufferConfig` options object (unset fields take the defaults).
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> JsResult<WasmBufferPool> {
        let config = js(buffer_config(&config))?;
        let pool = js(BufferPool::with_clock(config, JsClock::shared()))?;
        Ok(WasmBufferPool { pool, lent: RefCell::new(HashMap::new()) })
    }

    /// Lends a buffer of at least `size` bytes; returns its handle.
    pub fn get(&self, size: f64) -> JsResult<u32> {
        let size = js(integer_field("size", size, 0, (1 << 53) - 1))?;
        let buf = js(self.pool.get(usize::try_from(size).unwrap_or(usize::MAX)))?;
        let handle = u32::try_from(buf.id()).unwrap_or(u32::MAX);
        self.lent.borrow_mut().insert(handle, buf);
        Ok(handle)
    }

    /// Usable length of a lent buffer.
    pub fn length(&self, handle: u32) -> JsResult<u32> {
        self.with(handle, |b| Ok(u32::try_from(b.len()).unwrap_or(u32::MAX)))
    }

    /// How many times the buffer has been lent.
    #[wasm_bindgen(js_name = accessCount)]
    pub fn access_count(&self, handle: u32) -> JsResult<f64> {
        self.with(handle, |b| Ok(num(b.access_count())))
    }

    /// Returns a buffer to the pool.
    pub fn put(&self, handle: u32) -> JsResult<()> {
        let buf = self.lent.borrow_mut().remove(&handle).ok_or_else(|| unknown(handle))?;
        js(self.pool.put(buf))
    }

    /// Copies `data` into the buffer at `offset`.
    pub fn write(&self, handle: u32, offset: u32, data: &[u8]) -> JsResult<()> {
        self.with(handle, |b| {
            let start = offset as usize;
            let end = start.checked_add(data.len()).filter(|&e| e <= b.len()).ok_or_else(|| {
                super::error::to_js(
                    StreamError::new(ErrorCode::InvalidOffset, "write past the end of the buffer")
                        .with_field("offset")
                        .with_value(offset)
                        .with_expected(format!("offset + data.length <= {}", b.len())),
                )
            })?;
            b[start..end].copy_from_slice(data);
            Ok(())
        })
    }

    /// Copies `length` bytes from `offset` out of the buffer.
    pub fn read(&self, handle: u32, offset: u32, length: u32) -> JsResult<Vec<u8>> {
        self.with(handle, |b| {
            let start = offset as usize;
            let end = start.checked_add(length as usize).filter(|&e| e <= b.len()).ok_or_else(|| {
                super::error::to_js(
                    StreamError::new(ErrorCode::InvalidOffset, "read past the end of the buffer")
                        .with_field("offset")
                        .with_value(offset)
                        .with_expected(format!("offset + length <= {}", b.len())),
                )
            })?;
            Ok(b[start..end].to_vec())
        })
    }

    /// Address of the buffer in wasm memory (for a short-lived view; see pkg-js).
    #[wasm_bindgen(js_name = address)]
    pub fn address(&self, handle: u32) -> JsResult<u32> {
        self.with(handle, |b| Ok(u32::try_from(b.as_ptr() as usize).unwrap_or(0)))
    }

    /// The pool's counters.
    pub fn stats(&self) -> JsValue {
        let s = self.pool.stats();
        to_plain(&JsPoolStats {
            hits: num(s.hits),
            misses: num(s.misses),
            evictions: num(s.evictions),
            total_size: num(s.total_size as u64),
            buffer_count: num(s.buffer_count as u64),
            active_buffers: num(s.active_buffers as u64),
            free_buffers: num(s.free_buffers as u64),
            utilization: s.utilization,
            classes: s
                .classes
                .iter()
                .map(|c| JsClassStats {
                    size: num(c.size as u64),
                    free: num(c.free as u64),
                    active: num(c.active as u64),
                    hits: num(c.hits),
                    misses: num(c.misses),
                    evictions: num(c.evictions),
                })
                .collect(),
        })
    }

    /// Bytes held now (free and lent out).
    #[wasm_bindgen(js_name = totalSize)]
    pub fn total_size(&self) -> f64 {
        num(self.pool.total_size() as u64)
    }

    /// The configuration in force.
    pub fn config(&self) -> JsValue {
        buffer_config_to_js(&self.pool.config())
    }

    /// Changes the limit and evicts at once.
    #[wasm_bindgen(js_name = setMaxTotalSize)]
    pub fn set_max_total_size(&self, bytes: f64) -> JsResult<()> {
        let bytes = js(integer_field("maxTotalSize", bytes, 0, (1 << 53) - 1))?;
        js(self.pool.set_max_total_size(usize::try_from(bytes).unwrap_or(usize::MAX)))
    }

    /// Releases idle buffers (policy 'time'); returns how many.
    #[wasm_bindgen(js_name = evictExpired)]
    pub fn evict_expired(&self) -> u32 {
        u32::try_from(self.pool.evict_expired()).unwrap_or(u32::MAX)
    }

    /// Releases everything; later `get` throws.
    pub fn close(&self) {
        self.lent.borrow_mut().clear();
        self.pool.close();
    }
}
