// One test body for every JavaScript runtime (Node, Chromium, Deno, ...): `cases(lib, env)`
// returns named async test functions over the public API of the package, `lib`. Each runner
// registers them with its own test framework. `env` supplies what differs per runtime:
//   env.vectors()   -> [{ name, key, sealed, plaintext, error }] from tests/vectors
//   env.v1Sample()  -> { key, framed, plaintext } made by an independent implementation
//   env.heavy       -> run the 1 GiB case
//   env.expectSimd  -> which wasm build should be loaded (default: the SIMD one)

export class AssertionError extends Error {}

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
function concat(parts) {
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

/** A ReadableStream of `data` in pieces of `piece` bytes; `stallAfter` stops delivering. */
function streamOf(data, piece = 65536, { bytes = false, stallAfter = Infinity } = {}) {
  let offset = 0;
  return new ReadableStream({
    type: bytes ? 'bytes' : undefined,
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

async function sealBytes(lib, data, options) {
  return collect(lib.seal(new Blob([data]), options));
}

async function readAll(stream) {
  const parts = [];
  for (;;) {
    const chunk = await stream.readChunk();
    if (chunk === null) return concat(parts);
    parts.push(chunk);
  }
}

/** The test cases: [name, async () => {...}]. */
export function cases(lib, env) {
  const { FileStream, StreamError } = lib;
  const list = [];
  const test = (name, fn) => list.push([name, fn]);

  // First, so the wasm memory it measures is its own (memory never shrinks).
  test('a 1 GiB stream is read with memoryLimit 64 MiB in bounded wasm memory', async () => {
    if (!env.heavy) return;
    const GiB = 1024 ** 3;
    const block = sample(1 << 20, 17);
    let produced = 0;
    const plaintext = new ReadableStream({
      pull(controller) {
        if (produced >= GiB) return controller.close();
        const chunk = block.slice();
        new DataView(chunk.buffer).setFloat64(0, produced);
        controller.enqueue(chunk);
        produced += chunk.length;
      },
    });
    const key = lib.generateKey();
    const sealed = plaintext.pipeThrough(lib.sealTransform({ key, chunkSize: 1 << 20 }));
    const fs = await FileStream.open(sealed, { key, memoryLimit: 64 * 1024 * 1024 });
    let offset = 0;
    for (;;) {
      const chunk = await fs.readChunk();
      if (chunk === null) break;
      assert.equal(chunk.length, 1 << 20);
      assert.equal(new DataView(chunk.buffer, chunk.byteOffset).getFloat64(0), offset, 'chunk order');
      assert.equal(chunk[1000], block[1000]);
      offset += chunk.length;
    }
    assert.equal(offset, GiB);
    assert.equal(fs.size, GiB);
    const peak = fs.getStats().peakBufferedBytes;
    const wasm = lib.memoryUsage().wasmMemory;
    env.report?.({ oneGiB: { peakBufferedBytes: peak, wasmMemory: wasm } });
    assert.ok(peak <= 64 * 1024 * 1024, `peak buffered ${peak}`);
    assert.ok(wasm <= 80 * 1024 * 1024, `wasm memory ${wasm}`);
  });

  test('the SIMD build loads where the engine has WebAssembly SIMD, the plain one where asked', async () => {
    await lib.ready();
    assert.equal(lib.wasmBuild().simd, env.expectSimd ?? true, 'wasmBuild().simd');
  });

  test('seal then FileStream round-trips Blob and ReadableStream sources at chunk edges', async () => {
    const cs = 4096;
    for (const len of [0, 1, cs - 1, cs, cs + 1, 3 * cs + 7]) {
      for (const key of [undefined, lib.generateKey()]) {
        for (const compress of [false, 6]) {
          const data = sample(len, len + 1, true);
          const sealed = await sealBytes(lib, data, { key, compress, chunkSize: cs });
          const label = `len ${len} key ${!!key} compress ${compress}`;
          for (const source of [new Blob([sealed]), streamOf(sealed, 1000), streamOf(sealed, 777, { bytes: true })]) {
            const fs = await FileStream.open(source, { key, isCompressed: true });
            assert.bytes(await readAll(fs), data, label);
            assert.equal(fs.size, len, label);
            assert.equal(fs.position, len, label);
            fs.close();
          }
        }
      }
    }
  });

  test('readAt at random offsets equals the plaintext slice, concurrently too', async () => {
    const data = sample(300_000, 7, true);
    const key = lib.generateKey();
    const fs = await FileStream.open(new Blob([await sealBytes(lib, data, { key, compress: 1, chunkSize: 16384 })]), {
      key,
    });
    assert.equal(fs.size, data.length);
    let x = 12345;
    const ranges = [];
    for (let i = 0; i < 60; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      ranges.push([x % data.length, 1 + (x % 40000)]);
    }
    const results = await Promise.all(
      ranges.map(async ([offset, length]) => {
        const into = new Uint8Array(length);
        const n = await fs.readAt(into, offset);
        return [offset, into.subarray(0, n)];
      }),
    );
    for (const [offset, bytes] of results) {
      assert.bytes(bytes, data.subarray(offset, Math.min(offset + bytes.length, data.length)), `at ${offset}`);
      assert.ok(bytes.length > 0);
    }
    assert.equal(fs.position, 0, 'readAt never moves the position');
    const edge = new Uint8Array(10);
    assert.equal(await fs.readAt(edge, data.length - 3), 3);
    assert.equal(await fs.readAt(edge, data.length), 0);
    fs.close();
  });

  // A Blob read in order is served by one blob.stream(); readAt and seeks that break the order
  // go by slice, and a later sequence starts a new stream. Every byte must still be right.
  test('a Blob read in order while readAt and seeks jump around gives the right bytes', async () => {
    const data = sample(400_000, 11, true);
    const key = lib.generateKey();
    const blobs = [
      ['sealed', new Blob([await sealBytes(lib, data, { key, compress: 6, chunkSize: 16384 })]), { key }],
      ['plain', new Blob([data]), { chunkSize: 10_000 }],
    ];
    for (const [name, blob, config] of blobs) {
      const fs = await FileStream.open(blob, config);
      const got = [];
      let chunk;
      let i = 0;
      while ((chunk = await fs.readChunk()) !== null) {
        got.push(chunk);
        if (i++ % 3 === 0) {
          // Interleaved random access, while the in-order pass goes on.
          const offset = (i * 7919) % (data.length - 5000);
          const into = new Uint8Array(5000);
          assert.equal(await fs.readAt(into, offset), 5000, name);
          assert.bytes(into, data.subarray(offset, offset + 5000), `${name} readAt ${offset}`);
        }
      }
      assert.bytes(concat(got), data, `${name} in order`);
      await fs.seek(123_457);
      const rest = [];
      while ((chunk = await fs.readChunk()) !== null) rest.push(chunk);
      assert.bytes(concat(rest), data.subarray(123_457), `${name} after a backward seek`);
      fs.close();
    }
  });

  test('seek then read, read(into) and the BYOB readable()', async () => {
    const data = sample(100_000, 3);
    const fs = await FileStream.open(new Blob([await sealBytes(lib, data, { chunkSize: 8192 })]), {
      isCompressed: true,
    });
    await fs.seek(50_000);
    assert.equal(fs.position, 50_000);
    const into = new Uint8Array(1000);
    const n = await fs.read(into);
    assert.ok(n > 0 && n <= 1000);
    assert.bytes(into.subarray(0, n), data.subarray(50_000, 50_000 + n));
    await fs.seek(99_000);
    const reader = fs.readable().getReader({ mode: 'byob' });
    let got = 0;
    const rest = new Uint8Array(1000);
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(300));
      if (done) break;
      rest.set(value, got);
      got += value.length;
    }
    assert.bytes(rest.subarray(0, got), data.subarray(99_000));
    await fs.seek(0);
    assert.bytes(await collect(fs.readable()), data, 'default reader');
    await assert.rejects(fs.seek(100_001), lib, 'Validation', 'INVALID_OFFSET');
  });

  test('progress and ETA report position, total, speed and time', async () => {
    const data = sample(2_000_000, 5, true);
    const fs = await FileStream.open(new Blob([await sealBytes(lib, data, { compress: 1, chunkSize: 65536 })]), {
      isCompressed: true,
    });
    const start = fs.progress();
    assert.equal(start.bytesRead, 0);
    assert.equal(start.totalBytes, data.length);
    for (let i = 0; i < 10; i++) await fs.readChunk();
    const mid = fs.progress();
    assert.equal(mid.bytesRead, 655_360);
    assert.ok(mid.elapsed >= 0 && typeof mid.readSpeed === 'number');
    const eta = fs.estimatedTimeRemaining();
    assert.ok(eta === null || eta >= 0, `eta ${eta}`);
    if (mid.readSpeed > 0) {
      const expected = ((mid.totalBytes - mid.bytesRead) / mid.readSpeed) * 1000;
      assert.ok(Math.abs(eta - expected) <= expected * 0.5 + 5, `eta ${eta} vs ${expected}`);
    }
    await readAll(fs);
    assert.equal(fs.estimatedTimeRemaining(), 0);
    const stats = fs.getStats();
    for (const field of [
      'bytesRead',
      'readOps',
      'chunksRead',
      'seeks',
      'storedBytesRead',
      'decompressedBytes',
      'decryptedBytes',
      'poolHits',
      'poolMisses',
      'peakBufferedBytes',
      'elapsed',
      'readSpeed',
    ]) {
      assert.equal(typeof stats[field], 'number', field);
    }
    assert.equal(stats.bytesRead, data.length);
    assert.equal(stats.decompressedBytes >= data.length, true);
    fs.close();
    assert.equal(fs.getStats().bytesRead, data.length, 'stats survive close');
    const unknown = await FileStream.open(
      streamOf(await collect(new Blob([data]).stream().pipeThrough(new CompressionStream('gzip')))),
      {
        isCompressed: true,
      },
    );
    assert.equal(unknown.size, null);
    assert.equal(unknown.estimatedTimeRemaining(), null);
    assert.equal(unknown.progress().totalBytes, null);
    assert.bytes(await readAll(unknown), data, 'gzip from CompressionStream');
    assert.equal(unknown.size, data.length);
  });

  test('every damaged test vector fails with its typed error and never yields other bytes', async () => {
    const vectors = await env.vectors();
    assert.ok(vectors.length >= 10, 'vectors loaded');
    for (const v of vectors) {
      for (const kind of ['blob', 'stream']) {
        const source = kind === 'blob' ? new Blob([v.sealed]) : streamOf(v.sealed, 50);
        let got = new Uint8Array(0);
        let error = null;
        try {
          const fs = await FileStream.open(source, { key: v.key, isCompressed: true });
          got = await readAll(fs);
        } catch (e) {
          error = e;
        }
        if (v.error === null) {
          assert.equal(error, null, `${v.name} (${kind}): ${error?.message}`);
          assert.bytes(got, v.plaintext, `${v.name} (${kind})`);
        } else {
          assert.ok(error !== null, `${v.name} (${kind}) was accepted`);
          assert.ok(error instanceof StreamError, `${v.name}: ${error}`);
          if (kind === 'stream') assert.equal(error.code, v.error, `${v.name}`);
          assert.ok(['Corruption', 'Encryption', 'Compression'].includes(error.type), `${v.name}: ${error.type}`);
        }
      }
    }
  });

  test('bad arguments, keys and sources are typed StreamErrors', async () => {
    const key = lib.generateKey();
    const sealed = await sealBytes(lib, sample(10_000), { key, chunkSize: 1024 });
    const blob = new Blob([sealed]);
    await assert.rejects(FileStream.open(blob, { key: lib.generateKey() }), lib, 'Encryption', 'AUTH_FAILED');
    await assert.rejects(FileStream.open(blob, { isCompressed: true }), lib, 'Security', 'KEY_REQUIRED');
    await assert.rejects(FileStream.open(blob, { key: new Uint8Array(16) }), lib, 'Validation', 'INVALID_KEY');
    await assert.rejects(FileStream.open(blob, { key: 'secret' }), lib, 'Validation', 'INVALID_KEY');
    const plain = await sealBytes(lib, sample(100), {});
    await assert.rejects(FileStream.open(new Blob([plain]), { key }), lib, 'Security', 'NOT_ENCRYPTED');
    await assert.rejects(FileStream.open(new Blob([plain]), { isEncrypted: true }), lib, 'Security', 'NOT_ENCRYPTED');
    await assert.rejects(FileStream.open('a string'), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(FileStream.open(blob, 'options'), lib, 'Validation', 'INVALID_ARGUMENT');
    const e = await assert.rejects(
      FileStream.open(blob, { key, bufferSize: -1 }),
      lib,
      'Validation',
      'INVALID_ARGUMENT',
    );
    assert.equal(e.context.field, 'bufferSize');
    await assert.rejects(FileStream.open(blob, { key, memoryLimit: 1.5 }), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(FileStream.open(blob, { key, memoryLimit: 1024 }), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(FileStream.open(blob, { key, signal: 'no' }), lib, 'Validation', 'INVALID_ARGUMENT');
    const locked = streamOf(sealed);
    locked.getReader();
    await assert.rejects(FileStream.open(locked, { key }), lib, 'Validation', 'INVALID_ARGUMENT');

    const fs = await FileStream.open(blob, { key });
    for (const offset of [-1, 0.5, NaN, Infinity, 10_001, '3']) {
      await assert.rejects(
        fs.readAt(new Uint8Array(4), offset),
        lib,
        'Validation',
        'INVALID_OFFSET',
        `offset ${offset}`,
      );
      await assert.rejects(fs.seek(offset), lib, 'Validation', 'INVALID_OFFSET', `seek ${offset}`);
    }
    await assert.rejects(fs.readAt([1, 2], 0), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(fs.read('buffer'), lib, 'Validation', 'INVALID_ARGUMENT');
    fs.close();
    fs.close();
    await assert.rejects(fs.readChunk(), lib, 'Context', 'CLOSED');
    await assert.rejects(fs.readAt(new Uint8Array(1), 0), lib, 'Context', 'CLOSED');

    const gzip = await collect(new Blob([sample(50_000, 9, true)]).stream().pipeThrough(new CompressionStream('gzip')));
    gzip[gzip.length - 6] ^= 1;
    const bad = await FileStream.open(new Blob([gzip]), { isCompressed: true });
    await assert.rejects(readAll(bad), lib, 'Corruption', 'CHECKSUM_MISMATCH');
    await assert.rejects(
      collect(lib.seal(new Blob([sample(10)]), { compress: 11 })),
      lib,
      'Validation',
      'INVALID_ARGUMENT',
    );
    await assert.rejects(collect(lib.seal(42)), lib, 'Validation', 'INVALID_ARGUMENT');
    const tampered = sealed.slice();
    tampered[200] ^= 1;
    await assert.rejects(
      collect(new Blob([tampered]).stream().pipeThrough(lib.unsealTransform({ key }))),
      lib,
      'Encryption',
      'AUTH_FAILED',
    );
    await assert.rejects(
      collect(new Blob([sealed.subarray(0, 5000)]).stream().pipeThrough(lib.unsealTransform({ key }))),
      lib,
      'Corruption',
      'TRUNCATED',
    );
  });

  test('sealed data is never read as plain: no key, misspelt options, raw on request', async () => {
    const data = sample(20_000, 5, true);
    const key = lib.generateKey();
    const locked = await sealBytes(lib, data, { key, compress: 6, chunkSize: 4096 });
    const open = await sealBytes(lib, data, { compress: 6, chunkSize: 4096 });
    for (const source of [() => new Blob([locked]), () => locked, () => streamOf(locked, 1000)]) {
      await assert.rejects(FileStream.open(source()), lib, 'Security', 'KEY_REQUIRED', 'no key, no flags');
      const e = await assert.rejects(FileStream.open(source(), { keyy: key }), lib, 'Validation', 'INVALID_ARGUMENT');
      assert.ok(/unknown option keyy.*did you mean key\?/.test(e.message), e.message);
      assert.equal(e.context.field, 'keyy');
      const raw = await FileStream.open(source(), { raw: true });
      assert.bytes(await readAll(raw), locked, 'raw reads the stored bytes');
    }
    for (const source of [new Blob([open]), streamOf(open, 999)]) {
      const fs = await FileStream.open(source);
      assert.equal(fs.size === null || fs.size === data.length, true);
      assert.bytes(await readAll(fs), data, 'an unencrypted sealed file opens as sealed without flags');
    }
    await assert.rejects(FileStream.open(new Blob([locked]), { raw: true, key }), lib, 'Validation');
    const typo = await assert.rejects(
      FileStream.open(new Blob([locked]), { key, memorylimit: 1 << 20 }),
      lib,
      'Validation',
      'INVALID_ARGUMENT',
    );
    assert.ok(typo.message.includes('did you mean memoryLimit?'), typo.message);
    assert.throws(() => new lib.BufferPool({ maxTotalSise: 1 }), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(collect(lib.seal(new Blob([data]), { compres: 6 })), lib, 'Validation', 'INVALID_ARGUMENT');
    assert.throws(() => lib.unsealTransform({ kye: key }), lib, 'Validation', 'INVALID_ARGUMENT');
  });

  test('not sealed, gzip or zlib is UNKNOWN_FORMAT; source failures are READ_FAILED everywhere', async () => {
    const text = new TextEncoder().encode('neither sealed nor compressed, just text. '.repeat(200));
    for (const source of [new Blob([text]), text, streamOf(text, 100), new Blob([])]) {
      await assert.rejects(FileStream.open(source, { isCompressed: true }), lib, 'Unsupported', 'UNKNOWN_FORMAT');
    }
    const failing = () =>
      new ReadableStream({
        pull(controller) {
          controller.error(new Error('disk on fire'));
        },
      });
    const sealError = await assert.rejects(collect(lib.seal(failing())), lib, 'IO', 'READ_FAILED');
    assert.ok(sealError.message.includes('disk on fire'), sealError.message);
    const openError = await assert.rejects(
      FileStream.open(failing(), { isCompressed: true }),
      lib,
      'IO',
      'READ_FAILED',
    );
    assert.ok(openError.message.includes('disk on fire'), openError.message);
  });

  test('stats are true for every source kind: chunks, pool hits and misses, peak buffered bytes', async () => {
    const data = sample(2_000_000, 3);
    for (const [name, source] of [
      ['Blob', () => new Blob([data])],
      ['Uint8Array', () => data],
      ['ReadableStream', () => streamOf(data, 100_000)],
    ]) {
      const pool = new lib.BufferPool();
      const fs = await FileStream.open(source(), { pool, bufferSize: 100_000 });
      let calls = 0;
      const parts = [];
      for (let chunk = await fs.readChunk(); chunk !== null; chunk = await fs.readChunk()) {
        parts.push(chunk);
        calls += 1;
      }
      assert.bytes(concat(parts), data, name);
      const s = fs.getStats();
      assert.ok(calls >= 20, `${name}: ${calls} readChunk calls`);
      assert.equal(s.chunksRead >= 20, true, `${name}: chunksRead ${s.chunksRead}`);
      assert.ok(s.poolHits + s.poolMisses >= 20, `${name}: pool hits ${s.poolHits}, misses ${s.poolMisses}`);
      assert.ok(s.poolHits >= 10, `${name}: buffers are reused (hits ${s.poolHits})`);
      assert.ok(s.peakBufferedBytes >= 100_000, `${name}: peak buffered ${s.peakBufferedBytes}`);
      assert.equal(s.bytesRead, data.length, name);
      if (name !== 'ReadableStream') assert.equal(s.chunksRead, 20, `${name}: one chunk per readChunk`);
      fs.close();
      pool.close();
    }
  });

  test('NovusPack v1 framing from an independent implementation decrypts, tampering fails', async () => {
    const { key, framed, plaintext } = await env.v1Sample();
    for (const source of [new Blob([framed]), streamOf(framed, 9999)]) {
      const fs = await FileStream.open(source, { isEncrypted: true, key });
      assert.equal(fs.format.kind, 'v1');
      assert.equal(fs.size, plaintext.length);
      const into = new Uint8Array(500);
      await fs.readAt(into, 1234);
      assert.bytes(into, plaintext.subarray(1234, 1734));
      assert.bytes(await readAll(fs), plaintext);
    }
    const bad = framed.slice();
    bad[framed.length - 1] ^= 1;
    await assert.rejects(
      FileStream.open(new Blob([bad]), { isEncrypted: true, key }),
      lib,
      'Encryption',
      'AUTH_FAILED',
    );
    await assert.rejects(
      FileStream.open(streamOf(framed), { isEncrypted: true, key, memoryLimit: 65536 }),
      lib,
      'Validation',
      'MEMORY_LIMIT',
    );
    // A caller-held buffer changed after open: the changed bytes are refused, never decrypted.
    const held = framed.slice();
    const fs = await FileStream.open(held, { key });
    const into = new Uint8Array(100);
    await fs.readAt(into, 150_000);
    assert.bytes(into, plaintext.subarray(150_000, 150_100));
    held[12 + 150_050] ^= 1;
    await assert.rejects(fs.readAt(into, 150_000), lib, 'Encryption', 'AUTH_FAILED', 'a changed byte');
    await fs.readAt(into, 1000);
    assert.bytes(into, plaintext.subarray(1000, 1100), 'unchanged blocks still read');
  });

  test('abort and timeout mid-read reject with Context errors and close the stream', async () => {
    const data = sample(200_000, 11);
    const sealed = await sealBytes(lib, data, { chunkSize: 4096 });
    const stalled = () => streamOf(sealed, 10_000, { stallAfter: 60_000 });

    // The source delivers the header and chunk 0, then nothing: later reads wait on it.
    const controller = new AbortController();
    const fs = await FileStream.open(streamOf(sealed, 10_000, { stallAfter: 8000 }), { isCompressed: true });
    assert.equal((await fs.readChunk()).length, 4096);
    const waiting = fs.readAt(new Uint8Array(10), 100_000);
    const aborted = fs.readChunk({ signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 30);
    await assert.rejects(aborted, lib, 'Context', 'ABORTED');
    await assert.rejects(waiting, lib, 'Context', 'CLOSED', 'a read waiting on the source when the stream closed');
    assert.equal(fs.closed, true);
    await assert.rejects(fs.readChunk(), lib, 'Context', 'CLOSED');

    const timed = await FileStream.open(stalled(), { isCompressed: true, timeout: 50 });
    const t0 = Date.now();
    await assert.rejects(readAll(timed), lib, 'Context', 'TIMEOUT');
    assert.ok(Date.now() - t0 < 5000, 'the timeout fired');
    assert.equal(timed.closed, true);

    const streamWide = new AbortController();
    const wide = await FileStream.open(stalled(), { isCompressed: true, signal: streamWide.signal });
    const pending = readAll(wide);
    streamWide.abort();
    await assert.rejects(pending, lib, 'Context', 'ABORTED');
    await assert.rejects(wide.readChunk(), lib, 'Context', 'ABORTED');
    await assert.rejects(FileStream.open(stalled(), { signal: AbortSignal.abort() }), lib, 'Context', 'ABORTED');
    await assert.rejects(
      FileStream.open(streamOf(sealed, 10, { stallAfter: 20 }), { isCompressed: true, timeout: 40 }),
      lib,
      'Context',
      'TIMEOUT',
    );
    const sealAbort = new AbortController();
    const sealing = collect(lib.seal(streamOf(data, 1000, { stallAfter: 5000 }), { signal: sealAbort.signal }));
    setTimeout(() => sealAbort.abort(), 20);
    await assert.rejects(sealing, lib, 'Context', 'ABORTED');
  });

  test('inspect describes a sealed file without its key', async () => {
    const key = lib.generateKey();
    const data = sample(100_000, 21, true);
    const sealed = await sealBytes(lib, data, { key, compress: 6, chunkSize: 16384 });
    for (const source of [new Blob([sealed]), sealed, sealed.buffer]) {
      const info = await lib.inspect(source);
      assert.equal(info.kind, 'sealed');
      assert.equal(info.encrypted, true);
      assert.equal(info.compressed, true);
      assert.equal(info.chunkSize, 16384);
      assert.equal(info.chunkCount, 7);
      assert.equal(info.storedSize, sealed.length);
      assert.equal(info.declaredSize, data.length, 'seal() of a Blob records the size');
    }
    await assert.rejects(lib.inspect(new Blob([data])), lib, 'Unsupported', 'UNKNOWN_FORMAT');
    await assert.rejects(lib.inspect(new Blob([sealed.subarray(0, sealed.length - 5)])), lib, 'Corruption');
    await assert.rejects(lib.inspect(streamOf(sealed)), lib, 'Validation', 'INVALID_ARGUMENT');
  });

  test('sealTransform and unsealTransform round-trip with backpressure', async () => {
    const data = sample(500_000, 13, true);
    const key = lib.generateKey();
    const sealed = await collect(
      streamOf(data, 3333).pipeThrough(lib.sealTransform({ key, compress: 9, chunkSize: 65536 })),
    );
    assert.ok(sealed.length < data.length / 2, 'compressed');
    const fs = await FileStream.open(new Blob([sealed]), { key });
    assert.bytes(await readAll(fs), data);
    // seal() of a stream whose pieces are smaller than a chunk (pulls that seal nothing yet).
    const stored = await collect(lib.seal(streamOf(data, 1000), { chunkSize: 65536, size: data.length }));
    const inOrder = await FileStream.open(streamOf(stored, 5000), { isCompressed: true });
    assert.equal(inOrder.size, data.length, 'the declared size is in the header');
    assert.bytes(await readAll(inOrder), data);
    await assert.rejects(
      collect(lib.seal(streamOf(data, 1000), { size: data.length + 1 })),
      lib,
      'IO',
      'SIZE_MISMATCH',
    );
    const reader = streamOf(sealed, 100_000).pipeThrough(lib.unsealTransform({ key })).getReader();
    const parts = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.bytes(new Uint8Array(await new Blob(parts).arrayBuffer()), data);
    const k = lib.generateKey();
    assert.equal(k.length, 32);
    assert.ok(!k.every((b, i) => b === key[i]), 'keys differ');
  });

  test('BufferPool lends, reuses, evicts, reports and closes', async () => {
    await lib.ready();
    const defaults = lib.defaultBufferConfig();
    assert.equal(defaults.maxTotalSize, 1024 ** 3);
    assert.equal(defaults.maxBufferSize, 1024 ** 2);
    assert.equal(defaults.evictionPolicy, 'lru');
    assert.equal(defaults.evictionTimeout, 300_000);
    const pool = new lib.BufferPool({ maxTotalSize: 8192, maxBufferSize: 4096 });
    const a = pool.get(1000);
    assert.equal(a.length, 1024);
    a.write(new Uint8Array([1, 2, 3]), 5);
    assert.bytes(a.read(5, 3), new Uint8Array([1, 2, 3]));
    pool.put(a);
    assert.throws(() => a.read(), lib, 'Context', 'CLOSED');
    assert.throws(() => pool.put(a), lib, 'Context', 'CLOSED');
    const b = pool.get(900);
    assert.equal(b.accessCount, 2, 'the free buffer of the class was reused');
    const c = pool.get(4096);
    const d = pool.get(2048);
    let stats = pool.getStats();
    assert.equal(stats.hits, 1);
    assert.equal(stats.activeBuffers, 3);
    assert.equal(pool.totalSize(), 1024 + 4096 + 2048);
    assert.throws(() => pool.get(2048), lib, 'Validation', 'MEMORY_LIMIT');
    pool.put(c);
    pool.put(d);
    const e = pool.get(3000); // evicts the least recently used free buffer (c)
    stats = pool.getStats();
    assert.equal(stats.evictions, 1);
    assert.ok(Array.isArray(stats.classes) && stats.classes.length >= 3);
    pool.setMaxTotalSize(2048);
    assert.ok(pool.totalSize() <= 1024 + 3072, 'free buffers went at once');
    assert.throws(() => pool.get(0), lib, 'Validation');
    assert.throws(() => pool.get(5000), lib, 'Validation', 'BUFFER_TOO_LARGE');
    const other = new lib.BufferPool();
    assert.throws(() => other.put(e), lib, 'Validation', 'INVALID_ARGUMENT');
    e.withView((view) => {
      view[0] = 42;
    });
    assert.equal(e.read(0, 1)[0], 42, 'writes through the view persist');
    assert.throws(
      () =>
        e.withView(() => {
          other.get(1024 * 1024); // grows wasm memory while the view is alive
          for (let i = 0; i < 64; i++) other.get(1024 * 1024);
        }),
      lib,
      'Validation',
      'VIEW_DETACHED',
    );
    assert.throws(() => e.withView(async () => {}), lib, 'Validation');
    pool.close();
    assert.throws(() => pool.get(10), lib, 'Context', 'CLOSED');
    assert.throws(() => new lib.BufferPool({ evictionPolicy: 'fifo' }), lib, 'Validation');
    other.close();
  });

  test('a FileStream draws from and returns to its pool', async () => {
    const pool = new lib.BufferPool();
    const key = lib.generateKey();
    const sealed = await sealBytes(lib, sample(400_000), { key, chunkSize: 32768 });
    const fs = await FileStream.open(new Blob([sealed]), { key, pool });
    await readAll(fs);
    const s = fs.getStats();
    assert.ok(s.poolHits > 0 && s.poolMisses > 0, `hits ${s.poolHits} misses ${s.poolMisses}`);
    fs.close();
    assert.equal(pool.getStats().activeBuffers, 0);
    await assert.rejects(FileStream.open(new Blob([sealed]), { key, pool: {} }), lib, 'Validation');
  });

  test('streaming configuration: builder, defaults, validation', async () => {
    await lib.ready();
    assert.equal(lib.ChunkMode.Parallel, 1);
    const built = new lib.StreamingConfigBuilder()
      .withStreamBufferSize(65536)
      .withChunkProcessingMode(lib.ChunkMode.Parallel)
      .build();
    assert.equal(built.streamBufferSize, 65536);
    assert.equal(built.chunkProcessingMode, 1);
    assert.equal(built.maxStreamsPerWorker, undefined, 'unset stays unset');
    const all = new lib.StreamingConfigBuilder().withMaxStreamsPerWorker(2).withStreamTimeout(1000).build();
    assert.equal(all.maxStreamsPerWorker, 2);
    assert.equal(all.streamTimeout, 1000);
    for (const [method, value, field] of [
      ['withStreamBufferSize', 0, 'streamBufferSize'],
      ['withStreamBufferSize', -5, 'streamBufferSize'],
      ['withChunkProcessingMode', 3, 'chunkProcessingMode'],
      ['withStreamTimeout', 'soon', 'streamTimeout'],
    ]) {
      const error = assert.throws(() => new lib.StreamingConfigBuilder()[method](value).build(), lib, 'Validation');
      assert.equal(error.context.field, field);
    }
    const created = lib.createStreamingConfig();
    assert.ok(created.maxWorkers >= 1);
    lib.validateStreamingConfig(created);
    const defaults = lib.getStreamingConfigDefaults();
    assert.equal(defaults.maxWorkers, 0);
    assert.equal(defaults.chunkProcessingMode, 2);
    assert.throws(() => lib.validateStreamingConfig({ maxWorkers: 10_000 }), lib, 'Validation');
  });

  return list;
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
