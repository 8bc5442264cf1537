// Helpers shared by every test suite (suite.mjs, pool-suite.mjs, package-suite.mjs,
// http-suite.mjs, the per-feature case modules in cases/) and their runners: assertions that
// know StreamError, skips that every runner reports as skipped, deterministic sample bytes,
// stream helpers, test vectors. suite.mjs re-exports all of it.

export class AssertionError extends Error {}

/** Thrown by a case that cannot run here; each runner reports it as skipped, never passed. */
export class Skip extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'Skip';
  }
}

/** Skips the running case: `reason` says why. */
export function skip(reason) {
  throw new Skip(reason);
}

/** True for a Skip (also one rebuilt from another realm: a page, a worker). */
export const isSkip = (error) => error?.name === 'Skip';

/** A case as a node:test body: a Skip becomes `t.skip(reason)`. */
export function nodeCase(fn) {
  return async (t) => {
    try {
      await fn();
    } catch (error) {
      if (!isSkip(error)) throw error;
      t.skip(error.message);
    }
  };
}

function fail(message) {
  throw new AssertionError(message);
}

export const assert = {
  ok(value, message = 'expected a truthy value') {
    if (!value) fail(message);
  },
  equal(actual, expected, message = '') {
    if (!Object.is(actual, expected)) fail(`${message} expected ${String(expected)}, got ${String(actual)}`);
  },
  bytes(actual, expected, message = '') {
    if (!(actual instanceof Uint8Array)) fail(`${message} expected a Uint8Array, got ${actual}`);
    if (actual.length !== expected.length) fail(`${message} length ${actual.length}, expected ${expected.length}`);
    for (let i = 0; i < actual.length; i++) {
      if (actual[i] !== expected[i]) fail(`${message} differs at byte ${i}: ${actual[i]} != ${expected[i]}`);
    }
  },
  /** Checks that `error` is a StreamError with this type and (optional) code. */
  streamError(error, lib, type, code, message = '') {
    if (!(error instanceof lib.StreamError)) fail(`${message} expected a StreamError, got ${error?.stack ?? error}`);
    if (error.type !== type)
      fail(`${message} expected type ${type}, got ${error.type} (${error.code}: ${error.message})`);
    if (code && error.code !== code) fail(`${message} expected code ${code}, got ${error.code} (${error.message})`);
    return error;
  },
  async rejects(promiseOrFn, lib, type, code, message = '') {
    try {
      await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
    } catch (error) {
      return assert.streamError(error, lib, type, code, message);
    }
    fail(`${message} expected a rejection with ${type}/${code}`);
  },
  throws(fn, lib, type, code, message = '') {
    try {
      fn();
    } catch (error) {
      return assert.streamError(error, lib, type, code, message);
    }
    fail(`${message} expected a throw with ${type}/${code}`);
  },
};

/** Deterministic pseudo-random bytes (xorshift), compressible when `text` is set. */
export function sample(length, seed = 1, text = false) {
  const out = new Uint8Array(length);
  let x = seed | 1;
  const words = 'stream seek chunk seal open index footer header nonce deflate blob reader ';
  for (let i = 0; i < length; i++) {
    if (text) {
      out[i] = words.charCodeAt((i * 7 + (i >> 5)) % words.length);
    } else {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 255;
    }
  }
  return out;
}

/** The parts, joined. */
export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads a byte stream to the end (rejecting with the stream's own error). */
export async function collect(stream) {
  const reader = stream.getReader();
  const parts = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concat(parts);
    parts.push(value);
  }
}

/** Whether this engine has byte ReadableStreams (WebKit has none: no BYOB readers). */
export const byteStreams = (() => {
  try {
    new ReadableStream({ type: 'bytes' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * A ReadableStream of `data` in pieces of `piece` bytes; `stallAfter` stops delivering. `bytes`:
 * a byte stream, where the engine has them.
 */
export function streamOf(data, piece = 65536, { bytes = false, stallAfter = Infinity } = {}) {
  let offset = 0;
  return new ReadableStream({
    type: bytes && byteStreams ? 'bytes' : undefined,
    pull(controller) {
      if (offset >= stallAfter) return new Promise(() => {});
      if (offset >= data.length) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      const n = Math.min(piece, data.length - offset, stallAfter - offset);
      controller.enqueue(data.slice(offset, offset + n));
      offset += n;
    },
  });
}

/** `data` sealed by `lib.seal` with `options`, as bytes. */
export async function sealBytes(lib, data, options) {
  return collect(lib.seal(new Blob([data]), options));
}

/** Reads a FileStream to the end by readChunk(). */
export async function readAll(stream) {
  const parts = [];
  for (;;) {
    const chunk = await stream.readChunk();
    if (chunk === null) return concat(parts);
    parts.push(chunk);
  }
}

/**
 * A case list and the `test(name, fn, options)` that fills it: each case is `[name, fn, options]`
 * (options: { heavy }, which runners that decide skips up front, like Deno's, read).
 */
export function caseList() {
  const list = [];
  const test = (name, fn, options = {}) => list.push([name, fn, options]);
  return { list, test };
}

/** Bytes from a hex string. */
export function fromHex(text) {
  return Uint8Array.from(text.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** A test vector from its JSON text (tests/vectors/*.json). */
export function parseVector(json) {
  const v = typeof json === 'string' ? JSON.parse(json) : json;
  const hex = fromHex;
  return {
    name: v.name,
    key: v.key ? hex(v.key) : undefined,
    sealed: hex(v.sealed),
    plaintext: hex(v.plaintext),
    error: v.error,
  };
}
