//! JS objects <-> core configuration. Numbers are checked by the core's `integer_field`, so
//! negative, fractional, NaN and out-of-range values get the same typed errors as in Rust;
//! a value of the wrong JS type is a validation error naming the field.

use std::time::Duration;

use js_sys::{Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::error::{js, wrong_type, JsResult};
use crate::core::compress::{CompressSetting, MAX_LEVEL};
use crate::core::config::{
    create_streaming_config_for, integer_field, streaming_config_defaults, validate_streaming_config, BufferConfig,
    ChunkMode, EvictionPolicy, StreamConfig, StreamingConfig, MAX_BUFFER_SIZE, MAX_WORKERS,
};
use crate::core::crypto::Key;
use crate::core::error::{Result, StreamError};

const MAX_SAFE: u64 = (1 << 53) - 1;

/// Reads optional fields of a JS object (`undefined` and `null` mean "not set").
pub(crate) struct Fields<'a> {
    obj: &'a JsValue,
}

impl<'a> Fields<'a> {
    pub(crate) fn of(obj: &'a JsValue) -> Result<Self> {
        if !obj.is_undefined() && !obj.is_null() && !obj.is_object() {
            return Err(wrong_type("options", obj, "an object"));
        }
        Ok(Fields { obj })
    }

    pub(crate) fn get(&self, name: &str) -> Option<JsValue> {
        if self.obj.is_undefined() || self.obj.is_null() {
            return None;
        }
        let v = Reflect::get(self.obj, &JsValue::from_str(name)).ok()?;
        (!v.is_undefined() && !v.is_null()).then_some(v)
    }

    pub(crate) fn number(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) => integer_field(name, n, min, max).map(Some),
                None => Err(wrong_type(name, &v, "a number")),
            },
        }
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| wrong_type(name, &v, "a boolean")),
        }
    }

    /// The `compress` option: a boolean or a level from 0 to 10.
    pub(crate) fn compress(&self) -> Result<CompressSetting> {
        match self.get("compress") {
            None => Ok(CompressSetting::Unset),
            Some(v) if v.as_bool() == Some(true) => Ok(CompressSetting::Default),
            Some(v) if v.as_bool() == Some(false) => Ok(CompressSetting::Off),
            Some(v) if v.as_f64().is_some() => {
                CompressSetting::level(self.number("compress", 0, u64::from(MAX_LEVEL))?.unwrap_or(0))
            }
            Some(v) => Err(wrong_type("compress", &v, "a boolean or a level from 0 to 10")),
        }
    }

    fn usize(&self, name: &str, min: u64, max: u64) -> Result<Option<usize>> {
        Ok(self.number(name, min, max)?.map(|v| usize::try_from(v).unwrap_or(usize::MAX)))
    }

    fn millis(&self, name: &str) -> Result<Option<Duration>> {
        Ok(self.number(name, 0, MAX_SAFE)?.map(Duration::from_millis))
    }
}

/// A key from a `Uint8Array` (exactly 32 bytes).
pub(crate) fn key_from(key: Option<Uint8Array>) -> Result<Option<Key>> {
    // Copied straight into the key (zeroized on drop), never through a temporary; a key of
    // the wrong length is reported by its length only.
    key.map(|k| {
        let len = k.length() as usize;
        if len != crate::core::crypto::KEY_LEN {
            return Err(crate::core::config::invalid_key_length(len));
        }
        Ok(Key::fill_with(|bytes| k.copy_to(bytes)))
    })
    .transpose()
}

/// A `StreamConfig` from the JS options object (the key arrives separately, checked by JS to
/// be a `Uint8Array`).
pub(crate) fn stream_config(obj: &JsValue, key: Option<Uint8Array>) -> Result<StreamConfig> {
    let f = Fields::of(obj)?;
    let max = MAX_BUFFER_SIZE as u64;
    let config = StreamConfig {
        buffer_size: f.usize("bufferSize", 0, max)?.unwrap_or(0),
        chunk_size: f.usize("chunkSize", 0, max)?.unwrap_or(0),
        memory_limit: f.number("memoryLimit", 0, MAX_SAFE)?.unwrap_or(0),
        use_buffer_pool: f.bool("useBufferPool")?.unwrap_or(true),
        is_compressed: f.bool("isCompressed")?.unwrap_or(false),
        is_encrypted: f.bool("isEncrypted")?.unwrap_or(false),
        key: key_from(key)?,
        size: f.number("size", 0, MAX_SAFE)?,
        // Timeouts are enforced by the JS layer with real timers.
        timeout: None,
        raw: f.bool("raw")?.unwrap_or(false),
    };
    f.number("timeout", 1, MAX_SAFE)?;
    config.validate()?;
    Ok(config)
}

/// A `BufferConfig` from JS; unset fields take the defaults.
pub(crate) fn buffer_config(obj: &JsValue) -> Result<BufferConfig> {
    let f = Fields::of(obj)?;
    let d = BufferConfig::default();
    let policy = match f.get("evictionPolicy") {
        None => d.eviction_policy,
        Some(v) => match v.as_string() {
            Some(s) => EvictionPolicy::parse(&s)?,
            None => return Err(wrong_type("evictionPolicy", &v, "'lru' or 'time'")),
        },
    };
    let config = BufferConfig {
        max_total_size: f.usize("maxTotalSize", 0, MAX_SAFE)?.unwrap_or(d.max_total_size),
        max_buffer_size: f.usize("maxBufferSize", 0, MAX_SAFE)?.unwrap_or(d.max_buffer_size),
        eviction_policy: policy,
        eviction_timeout: f.millis("evictionTimeout")?.unwrap_or(d.eviction_timeout),
    };
    config.validate()?;
    Ok(config)
}

/// A `StreamingConfig` from JS (unset stays unset).
pub(crate) fn streaming_config(obj: &JsValue) -> Result<StreamingConfig> {
    let f = Fields::of(obj)?;
    let mode = f.number("chunkProcessingMode", 0, u64::from(u32::MAX))?.map(ChunkMode::from_number).transpose()?;
    let workers = f.usize("maxWorkers", 0, MAX_SAFE)?;
    if workers.is_some_and(|w| w > MAX_WORKERS) {
        return Err(StreamError::invalid("maxWorkers", workers.unwrap_or(0), format!("0 (auto) to {MAX_WORKERS}")));
    }
    Ok(StreamingConfig {
        max_workers: workers,
        worker_timeout: f.millis("workerTimeout")?,
        worker_buffer_size: f.usize("workerBufferSize", 0, MAX_SAFE)?,
        max_concurrent_ops: f.usize("maxConcurrentOps", 0, MAX_SAFE)?,
        max_streams_per_worker: f.usize("maxStreamsPerWorker", 0, MAX_SAFE)?,
        stream_buffer_size: f.usize("streamBufferSize", 1, MAX_SAFE)?,
        chunk_processing_mode: mode,
        stream_timeout: f.millis("streamTimeout")?,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsStreamingConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_workers: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    worker_timeout: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    worker_buffer_size: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_concurrent_ops: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_streams_per_worker: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_buffer_size: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chunk_processing_mode: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_timeout: Option<f64>,
}

#[allow(clippy::cast_precision_loss)]
pub(crate) fn streaming_config_to_js(c: &StreamingConfig) -> JsValue {
    let n = |v: Option<usize>| v.map(|v| v as f64);
    let ms = |v: Option<Duration>| v.map(|d| d.as_millis() as f64);
    let value = JsStreamingConfig {
        max_workers: n(c.max_workers),
        worker_timeout: ms(c.worker_timeout),
        worker_buffer_size: n(c.worker_buffer_size),
        max_concurrent_ops: n(c.max_concurrent_ops),
        max_streams_per_worker: n(c.max_streams_per_worker),
        stream_buffer_size: n(c.stream_buffer_size),
        chunk_processing_mode: c.chunk_processing_mode.map(|m| m as u8),
        stream_timeout: ms(c.stream_timeout),
    };
    to_plain(&value)
}

/// Serializes a struct to a plain JS object.
pub(crate) fn to_plain<T: Serialize>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    value.serialize(&serializer).unwrap_or(JsValue::UNDEFINED)
}

/// Throws a `Validation` StreamError naming the first invalid field.
#[wasm_bindgen(js_name = validateStreamingConfig)]
pub fn validate_streaming_config_js(config: JsValue) -> JsResult<()> {
    js(streaming_config(&config).and_then(|c| validate_streaming_config(&c)))
}

/// Validates and normalizes a config (the builder's `build`): unset options stay unset.
#[wasm_bindgen(js_name = buildStreamingConfig)]
pub fn build_streaming_config(config: JsValue) -> JsResult<JsValue> {
    let c = js(streaming_config(&config))?;
    js(validate_streaming_config(&c))?;
    Ok(streaming_config_to_js(&c))
}

/// A worker pool's settings with every default applied (see `PoolSettings`): `config` as given
/// to the pool, for `parallelism` hardware threads, with or without Workers.
#[wasm_bindgen(js_name = poolSettings)]
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
pub fn pool_settings(config: JsValue, parallelism: f64, has_workers: bool) -> JsResult<JsValue> {
    let c = js(streaming_config(&config))?;
    js(validate_streaming_config(&c))?;
    let p = if parallelism.is_finite() && parallelism >= 1.0 { parallelism as usize } else { 1 };
    let s = c.pool_settings(p, has_workers);
    let obj = Object::new();
    let set = |k: &str, v: f64| {
        let _ = Reflect::set(&obj, &k.into(), &v.into());
    };
    set("workers", s.workers as f64);
    set("workerTimeout", s.worker_timeout.as_millis() as f64);
    set("queueCapacity", s.queue_capacity as f64);
    set("maxConcurrentOps", s.max_concurrent_ops as f64);
    set("maxStreamsPerWorker", s.max_streams_per_worker as f64);
    set("streamBufferSize", s.stream_buffer_size as f64);
    set("chunkProcessingMode", f64::from(s.chunk_processing_mode as u8));
    if let Some(t) = s.stream_timeout {
        set("streamTimeout", t.as_millis() as f64);
    }
    Ok(obj.into())
}

/// Every option set, for a machine with `parallelism` hardware threads.
#[wasm_bindgen(js_name = createStreamingConfig)]
pub fn create_streaming_config_js(parallelism: f64) -> JsValue {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let p = if parallelism.is_finite() && parallelism >= 1.0 { parallelism as usize } else { 1 };
    streaming_config_to_js(&create_streaming_config_for(p))
}

/// Every default (the spec's GetStreamingConfigDefaults).
#[wasm_bindgen(js_name = getStreamingConfigDefaults)]
pub fn streaming_config_defaults_js() -> JsValue {
    streaming_config_to_js(&streaming_config_defaults())
}

/// DefaultBufferConfig as a JS object.
#[wasm_bindgen(js_name = defaultBufferConfig)]
pub fn default_buffer_config() -> JsValue {
    buffer_config_to_js(&BufferConfig::default())
}

#[allow(clippy::cast_precision_loss)]
pub(crate) fn buffer_config_to_js(c: &BufferConfig) -> JsValue {
    let obj = Object::new();
    let _ = Reflect::set(&obj, &"maxTotalSize".into(), &(c.max_total_size as f64).into());
    let _ = Reflect::set(&obj, &"maxBufferSize".into(), &(c.max_buffer_size as f64).into());
    let _ = Reflect::set(&obj, &"evictionPolicy".into(), &c.eviction_policy.as_str().into());
    let _ = Reflect::set(&obj, &"evictionTimeout".into(), &(c.eviction_timeout.as_millis() as f64).into());
    obj.into()
}
