// Sequential readers over the source kinds the package accepts, for sealing: each `read(max)`
// resolves to at most `max` bytes (a Uint8Array) or null at the end. A Blob is read through
// blob.stream(), which is much faster in browsers than slice() calls for a full pass.

import { invalid, readFailed } from './errors.js';

export function isBlob(value) {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

export function isReadableStream(value) {
  return typeof ReadableStream !== 'undefined' && value instanceof ReadableStream;
}

/** Checks that `source` is a Blob, ReadableStream, Uint8Array or ArrayBuffer. */
export function checkSource(source) {
  if (isBlob(source) || isReadableStream(source) || source instanceof Uint8Array || source instanceof ArrayBuffer) {
    return source;
  }
  throw invalid('source', source, 'a Blob, ReadableStream, Uint8Array or ArrayBuffer');
}

/** A reader of `source` in pieces of at most `max` bytes; `size` is known for all but streams. */
export function sourceReader(source) {
  checkSource(source);
  if (isBlob(source)) return streamReader(source.stream().getReader(), source.size);
  if (isReadableStream(source)) {
    if (source.locked) throw invalid('source', 'a locked ReadableStream', 'an unlocked ReadableStream');
    return streamReader(source.getReader(), undefined);
  }
  const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : source;
  let offset = 0;
  return {
    size: bytes.length,
    async read(max) {
      if (offset >= bytes.length) return null;
      const piece = bytes.subarray(offset, offset + max);
      offset += piece.length;
      return piece;
    },
    cancel() {},
  };
}

function streamReader(reader, size) {
  let pending = null;
  return {
    size,
    async read(max) {
      while (!pending || pending.length === 0) {
        let next;
        try {
          next = await reader.read();
        } catch (error) {
          throw readFailed(error);
        }
        const { done, value } = next;
        if (done) return null;
        pending = toBytes(value);
      }
      const piece = pending.subarray(0, max);
      pending = pending.subarray(piece.length);
      return piece;
    },
    cancel(reason) {
      reader.cancel(reason).catch(() => {});
    },
  };
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

/** A stream chunk as bytes; anything else is a typed error. */
export function toBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw invalid('stream chunk', value, 'a Uint8Array');
}
