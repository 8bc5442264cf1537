//! NovusPack packages at the boundary (feature `nvpk`, built into the second wasm module):
//! `WasmPackage` (an opened package: header, entries and comment as plain JS data, and entry
//! streams) and `WasmStreamWriter` (the two-pass writer behind `writePackage`).

use std::rc::Rc;

use js_sys::{Array, BigInt, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::config::{key_from, stream_config, Fields};
use super::error::{js, wrong_type, JsResult};
use super::pool::WasmBufferPool;
use super::source::JsSource;
use super::stream::WasmOpening;
use crate::core::error::{Result, StreamError};
use crate::core::nvpk::{
    Compression, DecapsulationKey, EncryptKey, Encryption, EntryKey, EntrySpec, FileEntry, Header, OpenOptions,
    Package, StreamWriter, WriterOptions,
};
use crate::core::stream::EntryOpen;

const MAX_SAFE: u64 = (1 << 53) - 1;

/// Sets `name` on `obj` (a fresh plain object: cannot fail).
fn set(obj: &Object, name: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(name), &value.into());
}

#[allow(clippy::cast_precision_loss)]
fn num(v: u64) -> JsValue {
    JsValue::from_f64(v as f64)
}

fn big(v: u64) -> JsValue {
    BigInt::from(v).into()
}

fn header_js(h: &Header) -> JsValue {
    let o = Object::new();
    for (name, value) in [
        ("magic", h.magic),
        ("formatVersion", h.format_version),
        ("flags", h.flags),
        ("packageDataVersion", h.package_data_version),
        ("metadataVersion", h.metadata_version),
        ("packageCrc", h.package_crc),
        ("localeId", h.locale_id),
        ("vendorId", h.vendor_id),
        ("creatorId", h.creator_id),
        ("archivePartInfo", h.archive_part_info),
        ("commentSize", h.comment_size),
    ] {
        set(&o, name, value);
    }
    for (name, value) in [
        ("createdTime", h.created_time),
        ("modifiedTime", h.modified_time),
        ("appId", h.app_id),
        ("indexStart", h.index_start),
        ("indexSize", h.index_size),
        ("archiveChainId", h.archive_chain_id),
        ("commentStart", h.comment_start),
        ("signatureOffset", h.signature_offset),
    ] {
        set(&o, name, big(value));
    }
    o.into()
}

fn entry_js(e: &FileEntry) -> JsValue {
    let o = Object::new();
    set(&o, "fileId", big(e.file_id));
    set(&o, "paths", e.paths.iter().map(|p| JsValue::from_str(p)).collect::<Array>());
    set(&o, "type", e.entry_type);
    set(&o, "fileVersion", e.file_version);
    set(&o, "metadataVersion", e.metadata_version);
    set(&o, "originalSize", num(e.original_size));
    set(&o, "storedSize", num(e.stored_size));
    set(&o, "rawChecksum", e.raw_checksum);
    set(&o, "storedChecksum", e.stored_checksum);
    set(&o, "compression", e.compression().map_or("unknown", Compression::as_str));
    set(&o, "compressionId", e.compression_type);
    set(&o, "compressionLevel", e.compression_level);
    set(&o, "encryption", e.encryption().map_or("unknown", Encryption::as_str));
    set(&o, "encryptionId", e.encryption_type);
    let hashes = e
        .hashes
        .iter()
        .map(|h| {
            let o = Object::new();
            set(&o, "type", h.hash_type);
            set(&o, "purpose", h.purpose);
            set(&o, "value", Uint8Array::from(&h.value[..]));
            JsValue::from(o)
        })
        .collect::<Array>();
    set(&o, "hashes", hashes);
    let optional = e
        .optional_data
        .iter()
        .map(|d| {
            let o = Object::new();
            set(&o, "type", d.data_type);
            set(&o, "data", Uint8Array::from(&d.data[..]));
            JsValue::from(o)
        })
        .collect::<Array>();
    set(&o, "optionalData", optional);
    set(&o, "special", e.is_special());
    set(&o, "offset", num(e.offset));
    set(&o, "dataOffset", num(e.data_offset));
    o.into()
}

/// An opened package.
#[wasm_bindgen]
pub struct WasmPackage {
    inner: Rc<Package>,
}

#[wasm_bindgen]
impl WasmPackage {
    /// Opens the package in `source` (a random-access byte source): reads its header, index,
    /// comment and entry records; resolves to a `WasmPackage`. `memoryLimit` bounds what the
    /// records may take (0: the default).
    pub fn open(source: JsValue, options: JsValue) -> Promise {
        let opened = (|| -> Result<(JsSource, OpenOptions)> {
            let f = Fields::of(&options)?;
            let mut open = OpenOptions::default();
            if let Some(limit) = f.number("memoryLimit", 0, MAX_SAFE)?.filter(|&l| l > 0) {
                open.memory_limit = limit;
            }
            f.number("timeout", 1, MAX_SAFE)?;
            Ok((JsSource::from_js(source)?, open))
        })();
        future_to_promise(async move {
            let (source, options) = js(opened)?;
            let package = js(Package::open(&source, &options).await)?;
            Ok(WasmPackage { inner: Rc::new(package) }.into())
        })
    }

    /// Every header field; u64 fields as bigint.
    pub fn header(&self) -> JsValue {
        header_js(&self.inner.header)
    }

    /// The entries in file-index order, as plain objects (sizes and offsets as numbers, the
    /// FileID as a bigint).
    pub fn entries(&self) -> Array {
        self.inner.entries.iter().map(entry_js).collect()
    }

    /// The comment, if any.
    #[wasm_bindgen(getter)]
    pub fn comment(&self) -> Option<String> {
        self.inner.comment.clone()
    }

    /// The package's length in bytes.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> f64 {
        num(self.inner.len).as_f64().unwrap_or(0.0)
    }

    /// The index (in `entries()`) of the entry with this path, with or without its leading "/".
    pub fn find(&self, path: &str) -> Option<u32> {
        let entry = self.inner.find(path)?;
        let i = self.inner.entries.iter().position(|e| std::ptr::eq(e, entry))?;
        u32::try_from(i).ok()
    }

    /// Prepares a stream over entry `index`, whose stored bytes `source` holds (the package's
    /// bytes from the entry's `dataOffset`, `storedSize` long); `open()` on the result reads it.
    #[wasm_bindgen(js_name = prepareEntry)]
    pub fn prepare_entry(
        &self,
        index: u32,
        source: JsValue,
        config: JsValue,
        key: Option<Uint8Array>,
        decapsulation_key: Option<Uint8Array>,
        pool: &WasmBufferPool,
    ) -> JsResult<WasmOpening> {
        let entry = self
            .inner
            .entries
            .get(index as usize)
            .cloned()
            .ok_or_else(|| super::error::to_js(StreamError::invalid("entry", index, "an entry of this package")))?;
        let mut config = js(stream_config(&config, None))?;
        let keys = EntryKey {
            key: js(key_from(key))?,
            decapsulation_key: decapsulation_key
                .map(|k| DecapsulationKey::from_bytes(&k.to_vec()))
                .transpose()
                .map_err(super::error::to_js)?,
        };
        config.key = None;
        let source = js(JsSource::from_js(source))?;
        Ok(WasmOpening::for_entry(source, config, pool.pool(), EntryOpen { entry, keys }))
    }
}

/// An entry's spec from the JS `PackageFile` (its bytes arrive separately).
fn entry_spec(file: &JsValue) -> Result<EntrySpec> {
    let f = Fields::of(file)?;
    let path = match f.get("path") {
        Some(v) => v.as_string().ok_or_else(|| wrong_type("path", &v, "a string"))?,
        None => return Err(StreamError::invalid("path", "undefined", "the entry's path in the package")),
    };
    let name = |field: &str| -> Result<Option<String>> {
        f.get(field).map(|v| v.as_string().ok_or_else(|| wrong_type(field, &v, "a string"))).transpose()
    };
    let compression =
        name("compression")?.map_or(Ok(Compression::None), |n| Compression::from_name(&n, "compression"))?;
    let encryption = name("encryption")?.map_or(Ok(Encryption::None), |n| Encryption::from_name(&n, "encryption"))?;
    let bytes = |field: &str| -> Result<Option<Vec<u8>>> {
        f.get(field)
            .map(|v| v.dyn_into::<Uint8Array>().map(|a| a.to_vec()).map_err(|v| wrong_type(field, &v, "a Uint8Array")))
            .transpose()
    };
    let key = match (f.get("key"), bytes("encapsulationKey")?) {
        (Some(_), Some(_)) => {
            return Err(StreamError::invalid("key", "a key and an encapsulationKey", "one of them"));
        }
        (Some(k), None) => {
            let k = k.dyn_into::<Uint8Array>().map_err(|v| wrong_type("key", &v, "a Uint8Array"))?;
            key_from(Some(k))?.map(EncryptKey::Symmetric)
        }
        (None, Some(ek)) => Some(EncryptKey::Encapsulation(ek)),
        (None, None) => None,
    };
    Ok(EntrySpec {
        paths: vec![path],
        entry_type: u16::try_from(f.number("type", 0, 65535)?.unwrap_or(0)).unwrap_or(0),
        compression,
        compression_level: u8::try_from(f.number("compressionLevel", 0, 22)?.unwrap_or(0)).unwrap_or(0),
        encryption,
        key,
    })
}

/// `writePackage`'s writer: pass 1 plans every entry, then the header, pass 2 writes them, then
/// the trailer (src/core/nvpk/stream_writer.rs).
#[wasm_bindgen]
pub struct WasmStreamWriter {
    inner: StreamWriter,
}

#[wasm_bindgen]
impl WasmStreamWriter {
    /// A writer: `{ comment, vendorId, appId (bigint), creatorId, localeId }` and the creation
    /// time in Unix milliseconds (the caller's clock).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, created_ms: f64) -> JsResult<WasmStreamWriter> {
        js((|| {
            let f = Fields::of(&options)?;
            let comment = f
                .get("comment")
                .map(|v| v.as_string().ok_or_else(|| wrong_type("comment", &v, "a string")))
                .transpose()?;
            let app_id = match f.get("appId") {
                None => 0,
                Some(v) if v.is_bigint() => u64::try_from(BigInt::from(v.clone()))
                    .map_err(|_| StreamError::invalid("appId", "a bigint", "an unsigned 64-bit bigint"))?,
                Some(_) => f.number("appId", 0, MAX_SAFE)?.unwrap_or(0),
            };
            let u32_field = |name: &str| -> Result<u32> {
                Ok(u32::try_from(f.number(name, 0, u64::from(u32::MAX))?.unwrap_or(0)).unwrap_or(0))
            };
            let created = crate::core::config::integer_field("createdTime", created_ms, 0, MAX_SAFE)?;
            let options = WriterOptions {
                comment,
                vendor_id: u32_field("vendorId")?,
                app_id,
                creator_id: u32_field("creatorId")?,
                locale_id: u32_field("localeId")?,
                created_time: created.saturating_mul(1_000_000),
            };
            Ok(WasmStreamWriter { inner: StreamWriter::new(&options)? })
        })())
    }

    /// Pass 1: prepares the next file (a `PackageFile`'s fields) to learn its stored size.
    pub fn plan(&mut self, file: JsValue, data: &[u8]) -> JsResult<()> {
        js(entry_spec(&file).and_then(|spec| self.inner.plan(&spec, data)))
    }

    /// Ends pass 1: the final 112-byte header.
    pub fn header(&mut self) -> JsResult<Uint8Array> {
        js(self.inner.header()).map(|h| Uint8Array::from(&h[..]))
    }

    /// Pass 2: `[record, storedBytes]` of the next file.
    pub fn write(&mut self, file: JsValue, data: &[u8]) -> JsResult<Array> {
        let (record, stored) = js(entry_spec(&file).and_then(|spec| self.inner.write(&spec, data)))?;
        Ok([Uint8Array::from(&record[..]), Uint8Array::from(&stored[..])].into_iter().collect())
    }

    /// The trailer (file index and comment): the package's last bytes.
    pub fn finish(&mut self) -> JsResult<Uint8Array> {
        js(self.inner.finish()).map(|t| Uint8Array::from(&t[..]))
    }
}

/// A fresh ML-KEM key pair of parameter set `level` (512, 768 or 1024):
/// `[decapsulationKey (64-byte seed), encapsulationKey]`.
#[wasm_bindgen(js_name = kemKeyPair)]
pub fn kem_key_pair(level: u32) -> JsResult<Array> {
    let (seed, public) = js(crate::core::nvpk::kem_key_pair(level))?;
    Ok([Uint8Array::from(&seed[..]), Uint8Array::from(&public[..])].into_iter().collect())
}
