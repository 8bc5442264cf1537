//! One test body for every wasm runtime (included by `node.rs`, `browser.rs`, `worker.rs`): the
//! `#[wasm_bindgen]` boundary driven with real `Blob`, `ReadableStream` and `Uint8Array`
//! objects, checking results and the plain-data errors the JS package rebuilds; and (`crypto`)
//! the shipped cipher proven against references in whichever wasm build runs it.

mod crypto;

use js_sys::{Array, Object, Reflect, Uint8Array};
use novuspack_stream::wasm::{
    build_streaming_config, default_buffer_config, WasmBufferPool, WasmFileStream, WasmOpener, WasmSealer,
};
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(inline_js = r#"
// WebKit has no byte ReadableStreams (no ReadableByteStreamController): a default one there.
function byteStreams() {
  try { new ReadableStream({ type: 'bytes' }); return true; } catch { return false; }
}
export function makeStream(data, piece, bytes) {
  let offset = 0;
  if (bytes && byteStreams()) {
    return new ReadableStream({
      type: 'bytes',
      pull(controller) {
        if (offset >= data.length) { controller.close(); const r = controller.byobRequest; if (r) r.respond(0); return; }
        const n = Math.min(piece, data.length - offset);
        const r = controller.byobRequest;
        if (r) {
          const m = Math.min(n, r.view.byteLength);
          r.view.set(data.subarray(offset, offset + m));
          offset += m;
          r.respond(m);
        } else {
          controller.enqueue(data.slice(offset, offset + n));
          offset += n;
        }
      },
    });
  }
  return new ReadableStream({
    pull(controller) {
      if (offset >= data.length) { controller.close(); return; }
      const n = Math.min(piece, data.length - offset);
      controller.enqueue(data.slice(offset, offset + n));
      offset += n;
    },
  });
}
export function stringStream() {
  return new ReadableStream({ start(c) { c.enqueue('not bytes'); c.close(); } });
}
export function makeBlob(data) { return new Blob([data]); }
// The byte-source contract the boundary reads through (pkg-js/src/sources has the real ones):
// a minimal version over Blob, bytes and ReadableStream; anything else passes unchanged.
export function byteSource(value) {
  if (value instanceof Blob) {
    let next = 0;
    const read = async (o, n) => new Uint8Array(await value.slice(o, Math.min(o + n, value.size)).arrayBuffer());
    return { size: value.size, randomAccess: true, read,
      async next(max) { if (next >= value.size) return null; const b = await read(next, max); next += b.length; return b; },
      close() {} };
  }
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) {
    const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : value;
    let next = 0;
    const read = async (o, n) => bytes.subarray(Math.min(o, bytes.length), Math.min(o + n, bytes.length));
    return { size: bytes.length, randomAccess: true, read,
      async next(max) { if (next >= bytes.length) return null; const b = await read(next, max); next += b.length; return b; },
      close() {} };
  }
  if (value instanceof ReadableStream) {
    const reader = value.getReader();
    let leftover = null;
    return { size: null, randomAccess: false,
      async read() { throw new Error('not random access'); },
      async next(max) {
        if (!leftover) {
          const { done, value: chunk } = await reader.read();
          if (done) return null;
          if (!(chunk instanceof Uint8Array)) return chunk;
          leftover = chunk;
        }
        const piece = leftover.subarray(0, max);
        leftover = piece.length < leftover.length ? leftover.subarray(piece.length) : null;
        return piece;
      },
      close() { reader.cancel().catch(() => {}); } };
  }
  return value;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = makeStream)]
    fn make_stream(data: &Uint8Array, piece: u32, bytes: bool) -> JsValue;
    #[wasm_bindgen(js_name = stringStream)]
    fn string_stream() -> JsValue;
    #[wasm_bindgen(js_name = makeBlob)]
    fn make_blob(data: &Uint8Array) -> JsValue;
    #[wasm_bindgen(js_name = byteSource)]
    fn byte_source(value: JsValue) -> JsValue;
}

fn text(len: usize) -> Vec<u8> {
    let words = b"wasm blob stream reader chunk seal open ";
    (0..len).map(|i| words[(i * 3 + i / 17) % words.len()]).collect()
}

fn key() -> Uint8Array {
    Uint8Array::from(&[7u8; 32][..])
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap()
}

/// Asserts that `error` is StreamError data with this type and code.
fn assert_error(error: &JsValue, ty: &str, code: &str) {
    assert_eq!(get(error, "name").as_string().as_deref(), Some("StreamError"), "{error:?}");
    assert_eq!(get(error, "type").as_string().as_deref(), Some(ty), "{error:?}");
    assert_eq!(get(error, "code").as_string().as_deref(), Some(code), "{error:?}");
    assert!(get(error, "message").as_string().is_some_and(|m| !m.is_empty()));
}

fn seal(data: &[u8], key: Option<Uint8Array>, chunk_size: u32, compress: bool) -> Vec<u8> {
    let options = obj(&[("compress", compress.into()), ("chunkSize", chunk_size.into())]);
    let mut sealer = WasmSealer::new(options, key, None).unwrap();
    let mut out = sealer.update(data).unwrap();
    out.extend(sealer.finish().unwrap());
    out
}

async fn open(source: JsValue, config: JsValue, key: Option<Uint8Array>) -> Result<WasmFileStream, JsValue> {
    let pool = WasmBufferPool::new(JsValue::UNDEFINED).unwrap();
    let mut opening = WasmFileStream::prepare(byte_source(source), config, key, &pool, JsValue::UNDEFINED)?;
    let value = JsFuture::from(opening.open()).await?;
    Ok(WasmFileStream::try_from_js_value(value).expect("open resolves to a WasmFileStream"))
}

async fn read_all(stream: &WasmFileStream) -> Result<Vec<u8>, JsValue> {
    let mut out = Vec::new();
    loop {
        let chunk = JsFuture::from(stream.read_chunk()).await?;
        if chunk.is_null() {
            return Ok(out);
        }
        out.extend(chunk.dyn_into::<Uint8Array>().unwrap().to_vec());
    }
}

fn compressed() -> JsValue {
    obj(&[("isCompressed", true.into())])
}

#[wasm_bindgen_test]
async fn blob_round_trips_at_chunk_edges() {
    for len in [0usize, 1, 1023, 1024, 1025, 5 * 1024 + 3] {
        let data = text(len);
        let sealed = seal(&data, Some(key()), 1024, true);
        let blob = make_blob(&Uint8Array::from(&sealed[..]));
        let stream = open(blob, compressed(), Some(key())).await.unwrap();
        assert_eq!(stream.size(), Some(len as f64));
        assert_eq!(read_all(&stream).await.unwrap(), data, "len {len}");
        stream.close();
        assert!(stream.closed());
    }
}

#[wasm_bindgen_test]
async fn readable_streams_default_and_byob_round_trip() {
    let data = text(100_000);
    let sealed = Uint8Array::from(&seal(&data, None, 4096, true)[..]);
    for (piece, bytes) in [(1, false), (777, false), (65536, false), (500, true), (100_000, true)] {
        let stream = open(make_stream(&sealed, piece, bytes), compressed(), None).await.unwrap();
        assert_eq!(read_all(&stream).await.unwrap(), data, "piece {piece} bytes {bytes}");
        assert_eq!(stream.size(), Some(100_000.0));
    }
}

#[wasm_bindgen_test]
async fn read_at_and_seek_over_a_blob() {
    let data = text(50_000);
    let sealed = seal(&data, Some(key()), 2048, true);
    let stream = open(make_blob(&Uint8Array::from(&sealed[..])), compressed(), Some(key())).await.unwrap();
    for (offset, len) in [(0usize, 10usize), (2047, 2), (2048, 5000), (49_990, 100), (12_345, 1)] {
        let into = Uint8Array::new_with_length(len as u32);
        let n = JsFuture::from(stream.read_at(into.clone(), offset as f64)).await.unwrap().as_f64().unwrap() as usize;
        let end = (offset + len).min(data.len());
        assert_eq!(n, end - offset);
        assert_eq!(into.to_vec()[..n], data[offset..end]);
    }
    assert_eq!(stream.position(), 0.0);
    JsFuture::from(stream.seek(30_000.0)).await.unwrap();
    let into = Uint8Array::new_with_length(100);
    let n = JsFuture::from(stream.read_into(into.clone())).await.unwrap().as_f64().unwrap() as usize;
    assert_eq!(into.to_vec()[..n], data[30_000..30_000 + n]);
    let progress = stream.progress();
    assert_eq!(get(&progress, "totalBytes").as_f64(), Some(50_000.0));
    assert_eq!(get(&progress, "bytesRead").as_f64(), Some((30_000 + n) as f64));
    let stats = stream.stats();
    assert!(get(&stats, "decryptedBytes").as_f64().unwrap() > 0.0);
    assert_eq!(get(&stats, "seeks").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
async fn plain_uint8array_and_arraybuffer_sources() {
    let data = text(10_000);
    let bytes = Uint8Array::from(&data[..]);
    let stream = open(bytes.clone().into(), JsValue::UNDEFINED, None).await.unwrap();
    assert_eq!(read_all(&stream).await.unwrap(), data);
    let stream = open(bytes.buffer().into(), JsValue::UNDEFINED, None).await.unwrap();
    assert_eq!(read_all(&stream).await.unwrap(), data);
}

#[wasm_bindgen_test]
async fn bad_input_becomes_typed_error_data() {
    let data = text(5000);
    let sealed = seal(&data, Some(key()), 1024, true);
    let blob = || make_blob(&Uint8Array::from(&sealed[..]));
    let wrong = Uint8Array::from(&[9u8; 32][..]);
    assert_error(&open(blob(), compressed(), Some(wrong)).await.err().unwrap(), "Encryption", "AUTH_FAILED");
    assert_error(&open(blob(), compressed(), None).await.err().unwrap(), "Security", "KEY_REQUIRED");
    let short_key = Uint8Array::from(&[1u8; 31][..]);
    assert_error(&open(blob(), compressed(), Some(short_key)).await.err().unwrap(), "Validation", "INVALID_KEY");
    let truncated = make_blob(&Uint8Array::from(&sealed[..sealed.len() - 30]));
    let e = open(truncated, compressed(), Some(key())).await.err().unwrap();
    assert_eq!(get(&e, "type").as_string().as_deref(), Some("Corruption"), "{e:?}");
    let mut flipped = sealed.clone();
    flipped[100] ^= 4;
    let stream = open(make_blob(&Uint8Array::from(&flipped[..])), compressed(), Some(key())).await.unwrap();
    assert_error(&read_all(&stream).await.err().unwrap(), "Encryption", "AUTH_FAILED");

    let bad = obj(&[("bufferSize", (-1).into())]);
    let e = open(blob(), bad, Some(key())).await.err().unwrap();
    assert_error(&e, "Validation", "INVALID_ARGUMENT");
    assert_eq!(get(&get(&e, "context"), "field").as_string().as_deref(), Some("bufferSize"));
    let e = open(blob(), obj(&[("isCompressed", "yes".into())]), None).await.err().unwrap();
    assert_eq!(get(&get(&e, "context"), "field").as_string().as_deref(), Some("isCompressed"));
    assert_error(
        &open(JsValue::from(42), JsValue::UNDEFINED, None).await.err().unwrap(),
        "Validation",
        "INVALID_ARGUMENT",
    );

    let stream = open(blob(), compressed(), Some(key())).await.unwrap();
    let into = Uint8Array::new_with_length(4);
    for offset in [-1.0, 1.5, f64::NAN, 6000.0] {
        let e = JsFuture::from(stream.read_at(into.clone(), offset)).await.unwrap_err();
        assert_error(&e, "Validation", "INVALID_OFFSET");
    }
    stream.close();
    assert_error(&JsFuture::from(stream.read_chunk()).await.unwrap_err(), "Context", "CLOSED");

    // Opening peeks at the first bytes (sealed data is recognised whatever the flags), so a
    // stream of strings fails at open; the error is the same typed one.
    let e = open(string_stream(), JsValue::UNDEFINED, None).await.err().unwrap();
    assert_error(&e, "Validation", "INVALID_ARGUMENT");
}

#[wasm_bindgen_test]
fn sealer_and_opener_push_bytes() {
    let data = text(20_000);
    let sealed = seal(&data, Some(key()), 4096, false);
    let mut opener = WasmOpener::new(Some(key()), true).unwrap();
    let mut out = Vec::new();
    let mut rest = &sealed[..];
    while !rest.is_empty() {
        out.extend(opener.update(&rest[..rest.len().min(1000)]).unwrap());
        rest = &rest[opener.consumed() as usize..];
    }
    opener.finish().unwrap();
    assert!(opener.done());
    assert_eq!(out, data);
    let mut partial = WasmOpener::new(Some(key()), true).unwrap();
    partial.update(&sealed[..100]).unwrap();
    assert_error(&partial.finish().unwrap_err(), "Corruption", "TRUNCATED");
    assert_error(
        &WasmSealer::new(obj(&[("compress", 11.into())]), None, None).err().unwrap(),
        "Validation",
        "INVALID_ARGUMENT",
    );
}

#[wasm_bindgen_test]
fn buffer_pool_through_the_boundary() {
    let config = obj(&[("maxTotalSize", 8192.into()), ("maxBufferSize", 4096.into())]);
    let pool = WasmBufferPool::new(config).unwrap();
    let a = pool.get(1000.0).unwrap();
    assert_eq!(pool.length(a).unwrap(), 1024);
    pool.write(a, 10, &[1, 2, 3]).unwrap();
    assert_eq!(pool.read(a, 10, 3).unwrap(), vec![1, 2, 3]);
    assert_error(&pool.write(a, 1023, &[1, 2]).unwrap_err(), "Validation", "INVALID_OFFSET");
    pool.put(a).unwrap();
    assert_error(&pool.put(a).unwrap_err(), "Context", "CLOSED");
    let b = pool.get(900.0).unwrap();
    assert_eq!(pool.access_count(b).unwrap(), 2.0, "reused");
    let stats = pool.stats();
    assert_eq!(get(&stats, "hits").as_f64(), Some(1.0));
    assert_eq!(get(&stats, "activeBuffers").as_f64(), Some(1.0));
    assert!(Array::is_array(&get(&stats, "classes")));
    assert_error(&pool.get(5000.0).unwrap_err(), "Validation", "BUFFER_TOO_LARGE");
    assert_error(&pool.get(0.0).unwrap_err(), "Validation", "INVALID_ARGUMENT");
    pool.set_max_total_size(1024.0).unwrap();
    pool.close();
    assert_error(&pool.get(10.0).unwrap_err(), "Context", "CLOSED");
    let e = WasmBufferPool::new(obj(&[("evictionPolicy", "fifo".into())])).err().unwrap();
    assert_eq!(get(&get(&e, "context"), "field").as_string().as_deref(), Some("evictionPolicy"));
    assert_eq!(get(&default_buffer_config(), "maxTotalSize").as_f64(), Some(1_073_741_824.0));
}

#[wasm_bindgen_test]
fn streaming_config_validation_names_fields() {
    let ok = build_streaming_config(obj(&[("streamBufferSize", 4096.into())])).unwrap();
    assert_eq!(get(&ok, "streamBufferSize").as_f64(), Some(4096.0));
    assert!(get(&ok, "chunkProcessingMode").is_undefined(), "unset stays unset");
    for (field, value) in
        [("streamBufferSize", JsValue::from(0)), ("chunkProcessingMode", 7.into()), ("streamTimeout", (-5).into())]
    {
        let e = build_streaming_config(obj(&[(field, value)])).unwrap_err();
        assert_eq!(get(&e, "type").as_string().as_deref(), Some("Validation"));
        assert_eq!(get(&get(&e, "context"), "field").as_string().as_deref(), Some(field));
    }
}

#[wasm_bindgen_test]
fn wasm_memory_is_reported() {
    assert!(novuspack_stream::wasm::wasm_memory_bytes() >= 65536.0);
}
