//! Numbers and option names from JS: integer and offset fields checked with the field named in
//! the error, and the option names each call accepts (written to pkg-js/src/tables.js).

use super::*;

/// A JS number as JS would print it for the values errors show (integers, NaN, infinities,
/// fractions to six decimals), without the float formatting machinery `{}` of an f64 brings
/// into the wasm module.
pub(super) fn js_number(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let abs = value.abs();
    if abs.is_infinite() {
        return format!("{sign}Infinity");
    }
    if abs >= 1e18 {
        // Rare in an error: the order of magnitude is enough.
        #[allow(clippy::cast_possible_truncation)]
        return format!("{sign}about 1e{}", abs.log10().floor() as i32);
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = abs.trunc() as u64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let micros = ((abs - abs.trunc()) * 1e6).round() as u64;
    match micros {
        0 => format!("{sign}{whole}"),
        1_000_000 => format!("{sign}{}", whole + 1),
        m => format!("{sign}{whole}.{}", format!("{m:06}").trim_end_matches('0')),
    }
}

/// Checks that a JS number is an integer within `[min, max]` and converts it.
///
/// The one place where untyped numbers (from JS or a config file) become sizes, so that
/// negative, fractional, NaN and out-of-range values all get the same typed error.
pub fn integer_field(field: &str, value: f64, min: u64, max: u64) -> Result<u64> {
    #[allow(clippy::cast_precision_loss)]
    let (lo, hi) = (min as f64, max as f64);
    if !value.is_finite() || value.fract() != 0.0 || value < lo || value > hi {
        return Err(StreamError::invalid(field, js_number(value), format!("an integer from {min} to {max}")));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(value as u64)
}

/// Checks that a JS number is a valid byte offset (an integer from 0 to 2^53 - 1).
pub fn offset_field(field: &str, value: f64) -> Result<u64> {
    const MAX_SAFE: u64 = (1 << 53) - 1;
    integer_field(field, value, 0, MAX_SAFE).map_err(|e| e.with_code(ErrorCode::InvalidOffset))
}

// The option names each JS options object accepts. The JS package gets them from the generated
// pkg-js/src/tables.js and refuses any other name (a misspelt `keyy` must never silently mean
// "no key"); the wasm boundary reads exactly these.

/// The option names of a FileStream's configuration (the JS `StreamConfig`).
pub const STREAM_OPTIONS: &[&str] = &[
    "bufferSize",
    "chunkSize",
    "memoryLimit",
    "useBufferPool",
    "isCompressed",
    "isEncrypted",
    "key",
    "size",
    "timeout",
    "signal",
    "pool",
    "raw",
];
/// What `pool.open` accepts besides [`STREAM_OPTIONS`].
pub const POOL_STREAM_OPTIONS: &[&str] = &["chunkProcessingMode", "priority"];
/// The option names of sealing (`seal`, `sealTransform`, a pooled seal).
pub const SEAL_OPTIONS: &[&str] = &["key", "compress", "chunkSize", "size", "signal", "pool", "priority"];
/// The option names of `unsealTransform`.
pub const UNSEAL_OPTIONS: &[&str] = &["key", "signal"];
/// The option names of a `BufferConfig`.
pub const BUFFER_OPTIONS: &[&str] = &["maxTotalSize", "maxBufferSize", "evictionPolicy", "evictionTimeout"];
/// The option names of a streaming configuration (`StreamingConfig` and its parts).
pub const STREAMING_OPTIONS: &[&str] = &[
    "maxWorkers",
    "workerTimeout",
    "workerBufferSize",
    "maxConcurrentOps",
    "maxStreamsPerWorker",
    "streamBufferSize",
    "chunkProcessingMode",
    "streamTimeout",
];
/// What the worker pool's constructor accepts besides [`STREAMING_OPTIONS`].
pub const POOL_OPTIONS: &[&str] = &["transport", "workerUrl", "createWorker"];
/// The option names of `httpSource` (a file read with HTTP Range requests).
pub const HTTP_OPTIONS: &[&str] =
    &["headers", "fetch", "maxRetries", "maxRangeSize", "concurrency", "signal", "timeout", "cacheSize"];
/// The options of `openPackage`.
pub const PACKAGE_OPTIONS: &[&str] = &["memoryLimit", "timeout", "signal"];
/// The options of a package entry's stream (`pkg.open`): the entry's record says how it is
/// stored, so only reading options and keys (the package module has its own buffer pool).
pub const ENTRY_OPTIONS: &[&str] =
    &["bufferSize", "chunkSize", "memoryLimit", "useBufferPool", "key", "decapsulationKey", "timeout", "signal"];
/// The options of `writePackage`.
pub const WRITE_PACKAGE_OPTIONS: &[&str] = &["comment", "vendorId", "appId", "creatorId", "localeId", "signal"];
/// The fields of a `PackageFile` given to `writePackage`.
pub const PACKAGE_FILE_FIELDS: &[&str] =
    &["path", "source", "type", "compression", "compressionLevel", "encryption", "key", "encapsulationKey"];
/// What `serveRange` accepts besides [`STREAM_OPTIONS`].
pub const SERVE_RANGE_OPTIONS: &[&str] = &["contentType", "headers"];
