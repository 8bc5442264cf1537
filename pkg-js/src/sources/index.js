// The one byte-source contract every input is read through (zip.js's Reader, in this
// package's shape), by FileStream (through the wasm boundary), sealing, inspect and the pool:
//
//   size          number | null     stored length (null: a stream of unknown length)
//   randomAccess  boolean           read() works
//   read(offset, length) -> Promise<Uint8Array>   exactly `length` bytes, fewer only at the end
//   next(max)     -> Promise<Uint8Array | null>   the next bytes in order from the start (null
//                                                 at the end); the fastest way to read it all
//   readOwned?(offset, length)      as read(), into a fresh buffer the caller may transfer
//   close()                         releases what the source holds; pending reads end
//   shareable()   -> object | null  what a worker needs to read the source itself, or null
//   open?({ memoryLimit }) -> Promise   for sources that learn their size by asking (HTTP): call
//                                 (through openByteSource) before reading `size`
//   reader?()     -> byte source    for shared sources (an httpSource): one user's view, whose
//                                 close() ends only that user's reads; toByteSource calls it
//   lastError?                      the last error a read rejected with (see sourceError)
//
// Bytes returned by read() and next() may be views of the source's own memory, valid until the
// next call: copy them before keeping or transferring them.
import { invalid } from '../errors.js';
import { guard } from '../cancel.js';
import { BlobSource } from './blob.js';
import { BytesSource } from './bytes.js';
import { StreamSource } from './stream.js';

export function isBlob(value) {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

export function isReadableStream(value) {
  return typeof ReadableStream !== 'undefined' && value instanceof ReadableStream;
}

/** True for an object that already follows the contract (an httpSource, say). */
export function isByteSource(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.read === 'function' &&
    typeof value.next === 'function' &&
    'randomAccess' in value
  );
}

const EXPECTED = 'a Blob, ReadableStream, Uint8Array, ArrayBuffer or httpSource';

/** Checks that `value` is something the package reads. */
export function checkSource(value) {
  if (isBlob(value) || isReadableStream(value) || value instanceof Uint8Array || value instanceof ArrayBuffer) {
    return value;
  }
  if (isByteSource(value)) return value;
  throw invalid('source', value, EXPECTED);
}

/** `value` as a byte source; `size` is the declared length of a stream, if the caller knows it. */
export function toByteSource(value, { size } = {}) {
  checkSource(value);
  if (isByteSource(value)) return typeof value.reader === 'function' ? value.reader() : value;
  if (isBlob(value)) return new BlobSource(value);
  if (isReadableStream(value)) {
    if (value.locked) throw invalid('source', 'a locked ReadableStream', 'an unlocked ReadableStream');
    return new StreamSource(value, size ?? null);
  }
  return new BytesSource(value instanceof ArrayBuffer ? new Uint8Array(value) : value);
}

/**
 * `value` as a byte source whose `size` is known where it can be: a source that learns its size
 * by asking (an httpSource) makes its first request here, within `signal` and `timeout`.
 * `memoryLimit` is the reader's budget (an httpSource's read-ahead).
 */
export async function openByteSource(value, { size, memoryLimit, signal, timeout } = {}) {
  const bytes = toByteSource(value, { size });
  if (typeof bytes.open === 'function') {
    try {
      await guard(bytes.open({ memoryLimit }), { signals: [signal], timeout, onCancel: () => bytes.close() });
    } catch (error) {
      bytes.close();
      throw error;
    }
  }
  return bytes;
}

/**
 * The engine passes a source's errors on as data, keeping code and message only: when `error`
 * is the last error `bytes` rejected with, that original (with its context, e.g. an HTTP
 * status, and its cause) is returned instead.
 */
export function sourceError(error, bytes) {
  const original = bytes?.lastError;
  if (!original || !error || original === error) return error;
  const message = String(error.message ?? '');
  return message === original.message || message.endsWith(`: ${original.message}`) ? original : error;
}

/** The parts, joined into one new array. */
export function concatBytes(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
