// One test body for remote files in every runtime (Node, Chromium, Deno): `httpCases(lib, env)`
// returns named async test functions over httpSource and serveRange, against the fault-injecting
// server of http-server.mjs. `env` supplies:
//   env.server        serverClient(url) of a running http-server.mjs (put files, queue faults,
//                     read the request log)
//   env.crossOrigin   true when that server is on another origin than the page (browsers)
//   env.fetchRange    the pool workers' fetch function (pkg-js/src/sources/http-fetch.js), when
//                     the runner can import package internals
// Every case ends in the exact bytes or a typed StreamError; request counts are the server's.
import { assert, sample } from './suite.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Polls `check` until it is true (a guard against hangs, not a timing assertion). */
async function until(check, what, limit = 20_000) {
  const start = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - start > limit) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function sameBytes(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) assert.ok(false, `${what}: differs at byte ${i}`);
  }
}

export function httpCases(lib, env) {
  const { server } = env;
  let counter = 0;
  const name = (what) => `${what}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

  async function sealedBytes(plain, options) {
    return new Uint8Array(await new Response(lib.seal(plain, options)).arrayBuffer());
  }

  /** A sealed file on the server: { url, name, plain, sealed, key }. */
  async function sealedFile(size, { chunkSize = 64 * KiB, fileOptions, seed = 7 } = {}) {
    const key = lib.generateKey();
    const plain = sample(size, seed);
    const sealed = await sealedBytes(plain, { key, chunkSize, compress: false });
    const n = name('sealed');
    await server.put(n, sealed, fileOptions);
    return { url: server.url(n), name: n, plain, sealed, key };
  }

  /** A plain (not sealed) file on the server. */
  async function plainFile(size, fileOptions, seed = 3) {
    const plain = sample(size, seed);
    const n = name('plain');
    await server.put(n, plain, fileOptions);
    return { url: server.url(n), name: n, plain };
  }

  const requests = async (n) => (await server.log(n)).requests;

  /** Opens a source and waits for the first bytes fetched beside the opening request. */
  async function opened(source) {
    await source.open();
    await source.read(0, 16);
  }

  /** Reads a FileStream to its end with readChunk. */
  async function readAll(stream) {
    const parts = [];
    let total = 0;
    for (;;) {
      const chunk = await stream.readChunk();
      if (chunk === null) break;
      parts.push(chunk.slice());
      total += chunk.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  async function readAtExact(stream, offset, length, plain) {
    const into = new Uint8Array(length);
    const n = await stream.readAt(into, offset);
    assert.equal(n, Math.min(length, plain.length - offset), 'readAt count');
    sameBytes(into.subarray(0, n), plain.subarray(offset, offset + n), `readAt ${offset}+${length}`);
  }

  const cases = [
    [
      'http: opening a sealed file costs 2 requests, a 4 KiB readAt in one chunk 1 more',
      async () => {
        const f = await sealedFile(2 * MiB);
        const source = lib.httpSource(f.url);
        assert.equal(source.size, null, 'size before the first response');
        const stream = await lib.FileStream.open(source, { key: f.key });
        assert.equal(stream.size, f.plain.length);
        assert.equal(source.size, f.sealed.length, 'size from Content-Range');
        assert.ok(source.validator, 'a validator');
        const opened = await requests(f.name);
        assert.equal(opened.length, 2, 'open: a suffix range and the first bytes');
        assert.ok(
          opened.some((r) => r.range === 'bytes=-65536'),
          'a suffix range',
        );
        assert.ok(!opened.some((r) => r.range === null), 'never a request without Range');
        await readAtExact(stream, 10 * 64 * KiB + 100, 4 * KiB, f.plain);
        assert.equal((await requests(f.name)).length, 3, 'readAt inside one chunk: exactly 1 request');
        await readAtExact(stream, 10 * 64 * KiB + 8000, 4 * KiB, f.plain);
        assert.equal((await requests(f.name)).length, 3, 'the same chunk again: no request');
        assert.equal(source.stats().requests, 3, 'stats() counts what the server saw');
        stream.close();
      },
    ],
    [
      'http: a file smaller than the first guess: the same two requests, and nothing more',
      async () => {
        const f = await sealedFile(20 * KiB, { chunkSize: 4 * KiB });
        const source = lib.httpSource(f.url);
        const stream = await lib.FileStream.open(source, { key: f.key });
        sameBytes(await readAll(stream), f.plain, 'whole file');
        const log = await requests(f.name);
        assert.equal(log.length, 2, 'the suffix range holds the whole file');
        assert.ok(
          log.some((r) => r.range === 'bytes=-65536'),
          'a suffix range',
        );
      },
    ],
    [
      'http: a file shorter than the first bytes asked (and an empty one)',
      async () => {
        for (const size of [1000, 1, 0]) {
          const f = await plainFile(size);
          const source = lib.httpSource(f.url);
          const stream = await lib.FileStream.open(source);
          assert.equal(stream.size, size);
          sameBytes(await readAll(stream), f.plain, `${size} bytes`);
          assert.equal(source.size, size);
        }
      },
    ],
    [
      'http: an index larger than the first guess costs one more request at open',
      async () => {
        const f = await sealedFile(1 * MiB, { chunkSize: 64 });
        const source = lib.httpSource(f.url);
        const stream = await lib.FileStream.open(source, { key: f.key });
        assert.equal((await requests(f.name)).length, 3, 'suffix, first bytes, rest of the index');
        await readAtExact(stream, 500_000, 64, f.plain);
        stream.close();
      },
    ],
    [
      'http: readers of one source share requests in flight and cached ranges',
      async () => {
        const f = await sealedFile(2 * MiB);
        const source = lib.httpSource(f.url);
        const a = await lib.FileStream.open(source, { key: f.key });
        const b = await lib.FileStream.open(source, { key: f.key });
        assert.equal((await requests(f.name)).length, 2, 'the second open costs nothing');
        const offset = 20 * 64 * KiB + 5;
        await Promise.all([
          readAtExact(a, offset, 4 * KiB, f.plain),
          readAtExact(b, offset, 4 * KiB, f.plain),
          readAtExact(a, offset + 10_000, 4 * KiB, f.plain),
        ]);
        assert.equal((await requests(f.name)).length, 3, 'concurrent reads of one chunk: one request');
        a.close();
        const c = await lib.FileStream.open(source, { key: f.key });
        await readAtExact(c, offset + 20_000, 4 * KiB, f.plain);
        assert.equal((await requests(f.name)).length, 3, 'a cached chunk is not fetched again');
        b.close();
        c.close();
      },
    ],
    [
      'http: neighbouring reads asked together are coalesced, up to maxRangeSize',
      async () => {
        const f = await plainFile(1 * MiB);
        const source = lib.httpSource(f.url, { maxRangeSize: 128 * KiB });
        await opened(source);
        await server.clear(f.name);
        const at = 300 * KiB;
        const parts = await Promise.all([0, 1, 2].map((i) => source.read(at + i * 64 * KiB, 64 * KiB)));
        parts.forEach((p, i) =>
          sameBytes(p, f.plain.subarray(at + i * 64 * KiB, at + (i + 1) * 64 * KiB), `part ${i}`),
        );
        const log = await requests(f.name);
        assert.equal(log.length, 2, 'three adjacent 64 KiB reads: two requests of at most 128 KiB');
        source.close();
      },
    ],
    [
      'http: reading in order uses growing ranges within maxRangeSize, at most `concurrency` in flight',
      async () => {
        const f = await sealedFile(6 * MiB);
        const source = lib.httpSource(f.url, { maxRangeSize: 1 * MiB, concurrency: 2 });
        const stream = await lib.FileStream.open(source, { key: f.key });
        sameBytes(await readAll(stream), f.plain, 'whole file');
        const log = await server.log(f.name);
        for (const r of log.requests) {
          const m = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? '');
          if (m) assert.ok(Number(m[2]) - Number(m[1]) + 1 <= 1 * MiB, `range ${r.range} within maxRangeSize`);
        }
        assert.ok(log.maxActive <= 2, `at most 2 requests in flight (saw ${log.maxActive})`);
        assert.ok(log.requests.length <= 14, `${log.requests.length} requests for 6 MiB in 1 MiB ranges`);
        assert.equal(source.stats().requests, log.requests.length);
      },
    ],
    [
      'http: close gives up read-ahead no one needs (its requests are aborted)',
      async () => {
        const f = await plainFile(8 * MiB, { rate: 4 * MiB });
        const source = lib.httpSource(f.url);
        const stream = await lib.FileStream.open(source);
        await stream.readChunk();
        await stream.readChunk();
        stream.close();
        await until(async () => (await requests(f.name)).every((r) => r.closed), 'the server to see every request end');
        const log = await requests(f.name);
        assert.ok(
          log.some((r) => !r.complete),
          'a read-ahead request was cut short',
        );
        assert.ok(source.stats().bytesFetched < f.plain.length / 2, 'most of the file was never sent');
      },
    ],
    [
      'http: 503, 500 and 429 (with and without Retry-After) are retried, then the exact bytes',
      async () => {
        const f = await sealedFile(1 * MiB);
        await server.faults(f.name, [{ status: 503 }, { status: 500 }]);
        const source = lib.httpSource(f.url);
        const stream = await lib.FileStream.open(source, { key: f.key });
        await server.faults(f.name, [{ status: 429, retryAfter: 1 }, { status: 429 }, { status: 502, retryAfter: 0 }]);
        await readAtExact(stream, 400_000, 4 * KiB, f.plain);
        assert.equal(source.stats().retries, 5, 'one retry per injected status');
        const log = await requests(f.name);
        assert.equal(log.length, 2 + 5 + 1, 'every request and retry reached the server once');
        stream.close();
      },
    ],
    [
      'http: too many failures end in READ_FAILED with the status, after maxRetries retries',
      async () => {
        const f = await sealedFile(256 * KiB);
        const source = lib.httpSource(f.url, { maxRetries: 2 });
        const stream = await lib.FileStream.open(source, { key: f.key });
        await server.faults(f.name, [{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }]);
        const e = await assert.rejects(stream.readAt(new Uint8Array(100), 100_000), lib, 'IO', 'READ_FAILED');
        assert.equal(e.context?.status, 503, 'context.status');
        assert.ok(/3 attempts/.test(e.message), e.message);
        assert.equal((await requests(f.name)).length, 2 + 3, 'maxRetries 2: three attempts');
        await readAtExact(stream, 100_000, 100, f.plain);
        stream.close();
      },
    ],
    [
      'http: a connection reset mid-body resumes from the bytes already received',
      async () => {
        const f = await plainFile(512 * KiB);
        const source = lib.httpSource(f.url);
        await opened(source);
        await server.clear(f.name);
        await server.faults(f.name, [{ reset: 100_000 }]);
        sameBytes(await source.read(100_000, 200_000), f.plain.subarray(100_000, 300_000), 'bytes');
        const log = await requests(f.name);
        assert.equal(log.length, 2);
        assert.equal(log[0].range, 'bytes=100000-299999');
        // 100,000 bytes were sent before the reset; a browser may not hand the last of them over.
        const resumed = Number(/^bytes=(\d+)-299999$/.exec(log[1].range)?.[1]);
        assert.ok(resumed > 100_000 && resumed <= 200_000, `the retry asks only for the rest (${log[1].range})`);
        assert.equal(source.stats().retries, 1);
        source.close();
      },
    ],
    [
      'http: a short body is resumed; a wrong Content-Range is retried, then READ_FAILED',
      async () => {
        const f = await plainFile(512 * KiB);
        const source = lib.httpSource(f.url, { maxRetries: 2 });
        await opened(source);
        await server.clear(f.name);
        await server.faults(f.name, [{ short: 5000 }, { shiftRange: 7 }]);
        sameBytes(await source.read(50_000, 100_000), f.plain.subarray(50_000, 150_000), 'short then shifted');
        const log = await requests(f.name);
        assert.equal(
          log.map((r) => r.range).join(' '),
          'bytes=50000-149999 bytes=55000-149999 bytes=55000-149999',
          'the short body resumed, the shifted answer asked again',
        );
        await server.faults(f.name, [{ shiftRange: 1 }, { shiftRange: 1 }, { shiftRange: 1 }]);
        const e = await assert.rejects(source.read(200_000, 1000), lib, 'IO', 'READ_FAILED');
        assert.ok(/Content-Range|answer says/.test(e.message), e.message);
        source.close();
      },
    ],
    [
      'http: a 200 to a range request on a large file is cut off at once (RANGE_NOT_SUPPORTED)',
      async () => {
        const f = await plainFile(2 * MiB, { rate: 8 * MiB });
        const source = lib.httpSource(f.url, { maxRangeSize: 256 * KiB });
        await opened(source);
        await server.clear(f.name);
        await server.faults(f.name, [{ whole: true }]);
        const e = await assert.rejects(source.read(1 * MiB, 1000), lib, 'Unsupported', 'RANGE_NOT_SUPPORTED');
        assert.equal(e.context?.status, 200);
        await until(async () => (await requests(f.name)).every((r) => r.closed), 'the server to see the request end');
        const [entry] = await requests(f.name);
        assert.equal(entry.status, 200);
        assert.equal(entry.complete, false, 'the body was not read to its end');
        source.close();
      },
    ],
    [
      'http: a server without ranges: a small file is taken whole, a large one refused',
      async () => {
        const small = await sealedFile(100 * KiB, { fileOptions: { ranges: false }, chunkSize: 16 * KiB });
        const source = lib.httpSource(small.url);
        const stream = await lib.FileStream.open(source, { key: small.key });
        sameBytes(await readAll(stream), small.plain, 'small file');
        // The whole file once; the first-bytes request's 200 is cut off (its size was not known yet).
        assert.equal((await requests(small.name)).length, 2, 'the two opening requests, nothing after');
        const large = await plainFile(3 * MiB, { ranges: false, rate: 8 * MiB });
        await assert.rejects(
          lib.FileStream.open(lib.httpSource(large.url, { maxRangeSize: 1 * MiB })),
          lib,
          'Unsupported',
          'RANGE_NOT_SUPPORTED',
        );
        await until(async () => (await requests(large.name)).every((r) => r.closed), 'the server to see it end');
        assert.equal((await requests(large.name))[0].complete, false, 'the 3 MiB body was not read');
      },
    ],
    [
      'http: the file replaced mid-read fails with RESOURCE_CHANGED, never mixing versions',
      async () => {
        for (const fileOptions of [{}, { etag: false }]) {
          const f = await sealedFile(4 * MiB, { fileOptions });
          const source = lib.httpSource(f.url);
          const stream = await lib.FileStream.open(source, { key: f.key });
          await readAtExact(stream, 0, 1000, f.plain);
          await server.faults(f.name, [{ replace: true }]);
          // Beyond what read-ahead after the first chunk may have fetched before the change.
          const e = await assert.rejects(stream.readAt(new Uint8Array(4096), 3_500_000), lib, 'IO', 'RESOURCE_CHANGED');
          assert.ok(/changed/.test(e.message), e.message);
          await assert.rejects(stream.readAt(new Uint8Array(10), 500_000), lib, 'IO', 'RESOURCE_CHANGED');
          await assert.rejects(lib.FileStream.open(source, { key: f.key }), lib, 'IO', 'RESOURCE_CHANGED');
          stream.close();
        }
      },
    ],
    [
      'http: without any validator, a replaced sealed file still never yields wrong bytes',
      async () => {
        const f = await sealedFile(1 * MiB, { fileOptions: { etag: false, lastModified: false } });
        const source = lib.httpSource(f.url);
        assert.equal(source.validator, null);
        const stream = await lib.FileStream.open(source, { key: f.key });
        await server.faults(f.name, [{ replace: true }]);
        const e = await assert.rejects(stream.readAt(new Uint8Array(4096), 700_000), lib, 'Encryption', 'AUTH_FAILED');
        assert.ok(e);
        stream.close();
      },
    ],
    [
      'http: 404, 401 and 403 fail at once with READ_FAILED and context.status',
      async () => {
        for (const status of [404, 401, 403]) {
          const f = await sealedFile(256 * KiB);
          await server.faults(f.name, [{ status, when: 'suffix' }]);
          const e = await assert.rejects(
            lib.FileStream.open(lib.httpSource(f.url), { key: f.key }),
            lib,
            'IO',
            'READ_FAILED',
          );
          assert.equal(e.context?.status, status, `context.status ${status}`);
          const suffixes = (await requests(f.name)).filter((r) => r.range === 'bytes=-65536');
          assert.equal(suffixes.length, 1, `${status}: no retry`);
        }
        const missing = lib.httpSource(server.url('no-such-file'));
        const e = await assert.rejects(lib.inspect(missing), lib, 'IO', 'READ_FAILED');
        assert.equal(e.context?.status, 404);
      },
    ],
    [
      'http: a stalled server: the source timeout retries then fails with TIMEOUT',
      async () => {
        const f = await sealedFile(256 * KiB);
        await server.faults(f.name, [
          { stall: true, when: 'suffix' },
          { stall: true, when: 'suffix' },
        ]);
        const source = lib.httpSource(f.url, { timeout: 200, maxRetries: 1 });
        await assert.rejects(lib.FileStream.open(source, { key: f.key }), lib, 'Context', 'TIMEOUT');
        await until(async () => (await requests(f.name)).every((r) => r.closed), 'the stalled requests to end');
        const suffixes = (await requests(f.name)).filter((r) => r.range === 'bytes=-65536');
        assert.equal(suffixes.length, 2, 'maxRetries 1: two attempts');
      },
    ],
    [
      'http: a stalled read: the stream timeout and an AbortSignal end it and its request',
      async () => {
        const f = await sealedFile(512 * KiB);
        const source = lib.httpSource(f.url);
        const stream = await lib.FileStream.open(source, { key: f.key, timeout: 300 });
        await server.faults(f.name, [{ stall: true }]);
        await assert.rejects(stream.readAt(new Uint8Array(100), 300_000), lib, 'Context', 'TIMEOUT');
        await until(async () => (await requests(f.name)).every((r) => r.closed), 'the stalled request to end');
        const other = await lib.FileStream.open(source, { key: f.key });
        await server.faults(f.name, [{ stall: true }]);
        const controller = new AbortController();
        const pending = other.readAt(new Uint8Array(100), 100_000, { signal: controller.signal });
        await until(async () => (await requests(f.name)).length === 4, 'the request to reach the server');
        controller.abort();
        await assert.rejects(pending, lib, 'Context', 'ABORTED');
        await until(async () => (await requests(f.name)).every((r) => r.closed), 'the aborted request to end');
        const opening = new AbortController();
        await server.faults(f.name, [{ stall: true, when: 'suffix' }]);
        const open = lib.FileStream.open(lib.httpSource(f.url), { key: f.key, signal: opening.signal });
        await until(async () => (await requests(f.name)).length === 6, 'the open requests to reach the server');
        opening.abort();
        await assert.rejects(open, lib, 'Context', 'ABORTED');
        await until(async () => (await requests(f.name)).every((r) => r.closed), 'the open request to end');
      },
    ],
    [
      "http: the source's own signal fails every read with ABORTED",
      async () => {
        const f = await sealedFile(512 * KiB);
        const controller = new AbortController();
        const source = lib.httpSource(f.url, { signal: controller.signal });
        const stream = await lib.FileStream.open(source, { key: f.key });
        await server.faults(f.name, [{ stall: true }]);
        const pending = stream.readAt(new Uint8Array(100), 300_000);
        await until(async () => (await requests(f.name)).length === 3, 'the read to reach the server');
        controller.abort();
        await assert.rejects(pending, lib, 'Context', 'ABORTED');
        await assert.rejects(lib.FileStream.open(source, { key: f.key }), lib, 'Context', 'ABORTED');
        await until(async () => (await requests(f.name)).every((r) => r.closed), 'the request to end');
      },
    ],
    [
      'http: a full read with faults on many requests: exact bytes, every request and retry counted',
      async () => {
        const f = await sealedFile(4 * MiB);
        const source = lib.httpSource(f.url, { maxRangeSize: 256 * KiB, concurrency: 3 });
        const stream = await lib.FileStream.open(source, { key: f.key });
        await server.faults(f.name, [
          { status: 503 },
          {},
          { reset: 1000 },
          {},
          { status: 429, retryAfter: 0 },
          { short: 5000 },
          {},
          { status: 500 },
        ]);
        sameBytes(await readAll(stream), f.plain, 'whole file');
        const log = await requests(f.name);
        const stats = source.stats();
        assert.equal(stats.retries, 5, 'one retry per fault');
        assert.equal(stats.requests, log.length, 'the client counts what the server saw');
        assert.ok(log.length <= 2 + Math.ceil((4 * MiB) / (64 * KiB)) + 5, `${log.length} requests`);
      },
    ],
    [
      'http: inspect, seal and unseal read an httpSource',
      async () => {
        const f = await sealedFile(1 * MiB);
        const info = await lib.inspect(lib.httpSource(f.url));
        assert.equal(info.storedSize, f.sealed.length);
        assert.equal(info.encrypted, true);
        const plain = await plainFile(700 * KiB);
        const key = lib.generateKey();
        const resealed = await sealedBytes(lib.httpSource(plain.url), { key, chunkSize: 32 * KiB });
        const back = await lib.FileStream.open(resealed, { key });
        sameBytes(await readAll(back), plain.plain, 'seal(httpSource) round trip');
        assert.equal(back.size, plain.plain.length);
      },
    ],
    [
      'http: pool.open and pooled seal: the workers fetch their own ranges; a changed file is RESOURCE_CHANGED',
      async () => {
        const pool = new lib.StreamingWorkerPool({ maxWorkers: 2 });
        try {
          const f = await sealedFile(3 * MiB);
          const source = lib.httpSource(f.url);
          const stream = await pool.open(source, { key: f.key, chunkProcessingMode: 1 });
          sameBytes(await readAll(stream), f.plain, 'pool.open(httpSource)');
          stream.close();
          const seen = (await requests(f.name)).length;
          const own = source.stats().requests;
          // The calling thread's source made the opening requests; the records came to the workers.
          assert.ok(seen > own, `the workers made requests of their own (server: ${seen}, this thread: ${own})`);
          assert.ok(own <= 3, `the calling thread read header and index only (${own} requests)`);

          const plain = await plainFile(900 * KiB);
          const key = lib.generateKey();
          const input = lib.httpSource(plain.url);
          const resealed = new Uint8Array(
            await new Response(lib.seal(input, { key, chunkSize: 64 * KiB, pool })).arrayBuffer(),
          );
          const inputSeen = (await requests(plain.name)).length;
          assert.ok(inputSeen > input.stats().requests, `the workers fetched the input (server: ${inputSeen})`);
          const back = await lib.FileStream.open(resealed, { key });
          sameBytes(await readAll(back), plain.plain, 'pooled seal of an httpSource');

          // Sequential: one chunk in flight, so the change comes before most records are fetched.
          const changed = await sealedFile(3 * MiB);
          const later = await pool.open(lib.httpSource(changed.url), { key: changed.key, chunkProcessingMode: 0 });
          await readAtExact(later, 0, 1000, changed.plain);
          await server.faults(changed.name, [{ replace: true }]);
          await assert.rejects(readAll(later), lib, 'IO', 'RESOURCE_CHANGED');
          later.close();
        } finally {
          await pool.stop();
        }
      },
    ],
    [
      'http: shareable() is plain data a worker can receive',
      async () => {
        const f = await sealedFile(256 * KiB);
        const source = lib.httpSource(f.url, { headers: { 'x-test': 'yes' } });
        assert.equal(source.shareable(), null, 'nothing to share before the size is known');
        await lib.FileStream.open(source, { key: f.key }).then((s) => s.close());
        const shared = structuredClone(source.shareable());
        assert.equal(shared.kind, 'http');
        assert.equal(shared.url, f.url);
        assert.equal(shared.size, f.sealed.length);
        assert.equal(shared.validator, source.validator);
        assert.ok(
          shared.headers.some(([n, v]) => n === 'x-test' && v === 'yes'),
          'headers',
        );
        const custom = lib.httpSource(f.url, { fetch: (...args) => fetch(...args) });
        await lib.FileStream.open(custom, { key: f.key }).then((s) => s.close());
        assert.equal(custom.shareable(), null, 'a custom fetch cannot cross to a worker');
        if (env.fetchRange) {
          const bytes = await env.fetchRange(shared, 1000, 5000);
          sameBytes(bytes, f.sealed.subarray(1000, 5000), 'fetchRange');
          await server.faults(f.name, [{ status: 503 }, { replace: true }]);
          await assert.rejects(env.fetchRange(shared, 0, 100), lib, 'IO', 'RESOURCE_CHANGED');
        }
      },
    ],
    [
      'http: options and URLs are checked',
      async () => {
        const e = assert.throws(() => lib.httpSource('http://127.0.0.1/x', { maxRetry: 2 }), lib, 'Validation');
        assert.ok(/maxRetries/.test(e.message), e.message);
        assert.throws(() => lib.httpSource('ftp://example.com/x'), lib, 'Validation', 'INVALID_ARGUMENT');
        assert.throws(() => lib.httpSource('http://127.0.0.1/x', { maxRangeSize: 10 }), lib, 'Validation');
        assert.throws(() => lib.httpSource(42), lib, 'Validation');
      },
    ],
  ];
  if (env.crossOrigin) {
    cases.push([
      'http: a cross-origin server without CORS headers: the message names them',
      async () => {
        const f = await sealedFile(64 * KiB, { fileOptions: { cors: false } });
        const e = await assert.rejects(
          lib.FileStream.open(lib.httpSource(f.url, { maxRetries: 0 }), { key: f.key }),
          lib,
          'IO',
          'READ_FAILED',
        );
        assert.ok(/Access-Control-Expose-Headers: Content-Range, ETag/.test(e.message), e.message);
      },
    ]);
  }
  return [...cases, ...serveRangeCases(lib, env, { sealedFile, sealedBytes, plainFile, requests, until, sameBytes })];
}

/** serveRange over bytes in memory and over an httpSource. */
function serveRangeCases(lib, env, { sealedFile, sealedBytes, requests, until, sameBytes }) {
  const get = (headers = {}, method = 'GET') => new Request('http://test.local/media/x', { method, headers });
  const body = async (response) => new Uint8Array(await response.arrayBuffer());

  return [
    [
      'serveRange: 200 and 206 for bytes=a-b, a- and -n, 416, several ranges, HEAD, 405',
      async () => {
        const key = lib.generateKey();
        const plain = sample(300 * KiB, 11);
        const sealed = await sealedBytes(plain, { key, chunkSize: 16 * KiB, compress: true });
        const serve = (request) => lib.serveRange(request, sealed, { key, contentType: 'video/webm' });
        let r = await serve(get());
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('content-length'), String(plain.length));
        assert.equal(r.headers.get('accept-ranges'), 'bytes');
        assert.equal(r.headers.get('content-type'), 'video/webm');
        const etag = r.headers.get('etag');
        assert.ok(etag && etag.startsWith('"') && !etag.startsWith('W/'), `a strong ETag (${etag})`);
        sameBytes(await body(r), plain, '200 body');
        for (const [range, start, end] of [
          ['bytes=100-199', 100, 200],
          ['bytes=20000-', 20000, plain.length],
          ['bytes=-5000', plain.length - 5000, plain.length],
          ['bytes=0-0', 0, 1],
          ['bytes=300000-999999999', 300000, plain.length],
          ['bytes=-999999999', 0, plain.length],
        ]) {
          r = await serve(get({ range }));
          assert.equal(r.status, 206, range);
          assert.equal(r.headers.get('content-range'), `bytes ${start}-${end - 1}/${plain.length}`, range);
          assert.equal(r.headers.get('content-length'), String(end - start), range);
          assert.equal(r.headers.get('etag'), etag, 'the same ETag');
          sameBytes(await body(r), plain.subarray(start, end), range);
        }
        for (const range of [`bytes=${plain.length}-`, 'bytes=-0', `bytes=${plain.length + 5}-${plain.length + 9}`]) {
          r = await serve(get({ range }));
          assert.equal(r.status, 416, range);
          assert.equal(r.headers.get('content-range'), `bytes */${plain.length}`);
        }
        r = await serve(get({ range: 'bytes=0-9,20-29' }));
        assert.equal(r.status, 200, 'several ranges: the whole body');
        sameBytes(await body(r), plain, 'several ranges');
        r = await serve(get({ range: 'items=0-9' }));
        assert.equal(r.status, 200, 'another unit: ignored');
        await r.body.cancel();
        r = await serve(get({ range: 'bytes=10-19', 'if-range': '"not-it"' }));
        assert.equal(r.status, 200, 'If-Range that does not match: the whole body');
        await r.body.cancel();
        r = await serve(get({ range: 'bytes=10-19', 'if-range': etag }));
        assert.equal(r.status, 206, 'If-Range that matches');
        sameBytes(await body(r), plain.subarray(10, 20), 'If-Range');
        r = await serve(get({ 'if-none-match': etag }));
        assert.equal(r.status, 304);
        r = await serve(get({ range: 'bytes=5-9' }, 'HEAD'));
        assert.equal(r.status, 206);
        assert.equal(r.headers.get('content-length'), '5');
        assert.equal((await body(r)).length, 0, 'HEAD has no body');
        r = await serve(get({}, 'POST'));
        assert.equal(r.status, 405);
        const other = await sealedBytes(plain, { key, chunkSize: 16 * KiB, compress: true });
        const otherTag = (await lib.serveRange(get({}, 'HEAD'), other, { key })).headers.get('etag');
        assert.ok(otherTag && otherTag !== etag, 'another sealed file (same content) has another ETag');
        await assert.rejects(lib.serveRange(get(), sealed, { key, contentTyp: 'x' }), lib, 'Validation');
        await assert.rejects(lib.serveRange(get(), sealed), lib, 'Security', 'KEY_REQUIRED');
      },
    ],
    [
      'serveRange: damaged data errors the body after the last verified byte',
      async () => {
        const key = lib.generateKey();
        const plain = sample(200 * KiB, 12);
        const sealed = await sealedBytes(plain, { key, chunkSize: 16 * KiB, compress: false });
        sealed[48 + 5 * (16 * KiB + 20) + 100] ^= 1; // inside chunk 5
        const r = await lib.serveRange(get({ range: 'bytes=1000-' }), sealed, { key });
        assert.equal(r.status, 206);
        const reader = r.body.getReader();
        let got = 0;
        let failure = null;
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            sameBytes(value, plain.subarray(1000 + got, 1000 + got + value.length), 'verified bytes only');
            got += value.length;
          }
        } catch (error) {
          failure = error;
        }
        assert.ok(failure, 'the body fails');
        assert.streamError(failure, lib, 'Encryption', 'AUTH_FAILED');
        assert.ok(1000 + got <= 5 * 16 * KiB, `stopped before the damaged chunk (${got} bytes)`);
      },
    ],
    [
      'serveRange: over an httpSource, ranges cost their chunks; a cancelled body stops the requests',
      async () => {
        const f = await sealedFile(6 * MiB, { fileOptions: { rate: 6 * MiB } });
        const source = lib.httpSource(f.url);
        let r = await lib.serveRange(get({ range: 'bytes=3000000-3000999' }), source, { key: f.key });
        assert.equal(r.status, 206);
        sameBytes(await body(r), f.plain.subarray(3_000_000, 3_001_000), 'a 1000-byte range');
        assert.equal((await requests(f.name)).length, 3, 'open (2) + one chunk');
        r = await lib.serveRange(get({ range: 'bytes=3000500-3001499' }), source, { key: f.key });
        sameBytes(await body(r), f.plain.subarray(3_000_500, 3_001_500), 'again');
        assert.equal((await requests(f.name)).length, 3, 'cached: no request');
        r = await lib.serveRange(get(), source, { key: f.key });
        assert.equal(r.status, 200);
        const reader = r.body.getReader();
        await reader.read();
        await reader.read();
        await reader.cancel();
        await until(async () => (await requests(f.name)).every((x) => x.closed), 'the server to see every request end');
        assert.ok(source.stats().bytesFetched < f.sealed.length / 2, 'most of the file was never sent');
        const etag = r.headers.get('etag');
        assert.ok(etag, 'an ETag from the validator and the sealed header');
        const again = await lib.serveRange(get({}, 'HEAD'), source, { key: f.key });
        assert.equal(again.headers.get('etag'), etag, 'stable');
      },
    ],
  ];
}
