// One test body for StreamingWorkerPool in every runtime: `poolCases(lib, env)` returns named
// async tests. `env` says what differs:
//   env.transport        the transport to ask for ('auto' where the runtime decides)
//   env.expectTransport  what the pool must report
//   env.makeWorker(url)  a Worker for the fault-injection case (absent where there are none)
//   env.workers          worker count to ask for (default 2)
//   env.bigBytes         size of the large parallel unseal case
import { assert, collect, sample } from './suite.mjs';

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

/** One macrotask (workerd's clock stands still during CPU work: no timers here). */
function tick() {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
  });
}

/** Waits, a macrotask at a time, until `condition()` holds. */
async function until(condition, what) {
  for (let i = 0; i < 200_000; i++) {
    if (condition()) return;
    await tick();
  }
  throw new Error(`gave up waiting until ${what}`);
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export function poolCases(lib, env) {
  const list = [];
  const test = (name, fn) => list.push([name, fn]);
  const workers = env.workers ?? 2;
  const make = (config = {}) =>
    new lib.StreamingWorkerPool({ maxWorkers: workers, transport: env.transport ?? 'auto', ...config });
  // Jobs in flight at once: two per worker (each has the next one ready), one inline.
  const capacity = (pool) => ({ shared: 2 * workers, message: 2 * workers, inline: 1 })[pool.transport];

  test('the pool reports its transport and workers', async () => {
    const pool = make();
    assert.equal(pool.transport, env.expectTransport);
    await pool.start();
    const s = pool.getStreamingStats();
    assert.equal(s.isRunning, true);
    assert.equal(s.transport, env.expectTransport);
    assert.equal(s.totalWorkers, env.expectTransport === 'inline' ? 1 : workers);
    await pool.stop();
    assert.equal(pool.getStreamingStats().isRunning, false);
    await assert.rejects(pool.submitStreamingJob({ op: 'digest', input: new Uint8Array(1) }), lib, 'Context', 'CLOSED');
  });

  test('pool.open decodes a large sealed Blob in parallel, byte-identical and in order', async () => {
    const pool = make();
    try {
      const key = lib.generateKey();
      const size = env.bigBytes ?? 48 * 1024 * 1024;
      const data = sample(size, 3, false);
      for (let i = 0; i < size; i += 1 << 20) data.set(sample(4096, i, true), i); // some compressible runs
      const sealed = await collect(lib.seal(data, { key, compress: 1, chunkSize: 1 << 20, pool }));
      const single = await lib.FileStream.open(new Blob([sealed]), { key });
      assert.equal(single.size, size, 'the pool-sealed file opens on one thread');
      single.close();
      for (const mode of [lib.ChunkMode.Sequential, lib.ChunkMode.Parallel, lib.ChunkMode.Adaptive]) {
        const stream = await pool.open(new Blob([sealed]), { key, chunkProcessingMode: mode });
        const got = await collect(stream.readable());
        assert.equal(hex(await sha256(got)), hex(await sha256(data)), `mode ${mode}`);
        const part = new Uint8Array(100);
        const again = await pool.open(sealed, { key });
        await again.readAt(part, size - 150);
        assert.bytes(part, data.subarray(size - 150, size - 50));
        again.close();
      }
      const s = pool.getStreamingStats();
      assert.ok(s.jobsProcessed >= 3 * (size >> 20), `chunk tasks ran on the pool: ${s.jobsProcessed}`);
      if (pool.transport !== 'inline') {
        assert.ok(s.workers.filter((w) => w.jobs > 0).length === workers, 'every worker took part');
      }
      assert.ok(s.queueWait.p50 >= 0 && s.runTime.p99 >= s.runTime.p50);
    } finally {
      await pool.stop();
    }
  });

  test('job ops: seal, unseal, inflate, deflate, digest; errors are StreamErrors', async () => {
    const pool = make();
    try {
      const key = lib.generateKey();
      const data = sample(3_000_000, 4, true);
      const sealed = (
        await pool.submitStreamingJob({ op: 'seal', input: new Blob([data]), options: { key, compress: 6 } })
      ).output;
      const opened = await lib.FileStream.open(sealed, { key });
      assert.equal(opened.size, data.length);
      const unsealed = await pool.submitStreamingJob({ id: 'u1', op: 'unseal', input: sealed, options: { key } });
      assert.equal(unsealed.id, 'u1');
      assert.bytes(unsealed.output, data);
      assert.equal(unsealed.bytesIn, sealed.length);
      assert.equal(unsealed.bytesOut, data.length);
      const deflated = await pool.submitStreamingJob({ op: 'deflate', input: data, options: { compress: 9 } });
      const inflated = await pool.submitStreamingJob({ op: 'inflate', input: deflated.output });
      assert.bytes(inflated.output, data);
      const gzip = await collect(new Blob([data]).stream().pipeThrough(new CompressionStream('gzip')));
      assert.bytes((await pool.submitStreamingJob({ op: 'inflate', input: gzip })).output, data, 'gzip');
      const plainDigest = (await pool.submitStreamingJob({ op: 'digest', input: data })).output;
      assert.equal(hex(plainDigest), hex(await sha256(data)));
      const sealedDigest = (await pool.submitStreamingJob({ op: 'digest', input: sealed, options: { key } })).output;
      assert.equal(hex(sealedDigest), hex(plainDigest), 'digest of the unsealed bytes');
      const stream = new Blob([data]).stream();
      assert.equal(hex((await pool.submitStreamingJob({ op: 'digest', input: stream })).output), hex(plainDigest));
      await assert.rejects(
        pool.submitStreamingJob({ op: 'unseal', input: sealed, options: { key: lib.generateKey() } }),
        lib,
        'Encryption',
        'AUTH_FAILED',
      );
      const bomb = (await pool.submitStreamingJob({ op: 'deflate', input: new Uint8Array(8 << 20) })).output;
      await assert.rejects(
        pool.submitStreamingJob({ op: 'inflate', input: bomb, options: { memoryLimit: 1 << 20 } }),
        lib,
        'Compression',
        'OUTPUT_LIMIT',
      );
      await assert.rejects(
        pool.submitStreamingJob({ op: 'frobnicate', input: data }),
        lib,
        'Validation',
        'INVALID_ARGUMENT',
      );
      await assert.rejects(
        pool.submitStreamingJob({ op: 'digest', input: 'text' }),
        lib,
        'Validation',
        'INVALID_ARGUMENT',
      );
      await assert.rejects(
        pool.submitStreamingJob({ op: 'digest', input: data, priority: 'high' }),
        lib,
        'Validation',
        'INVALID_ARGUMENT',
      );
      assert.equal(pool.getStreamingStats().jobsFailed, 2);
    } finally {
      await pool.stop();
    }
  });

  test('a high-priority job starts before the low ones queued ahead of it', async () => {
    const pool = make({ workerBufferSize: 100 });
    try {
      await pool.start();
      const input = sample(4 * 1024 * 1024, 5, true);
      const order = [];
      const lows = Array.from({ length: 30 }, (_, i) =>
        pool
          .submitStreamingJob({ id: `low${i}`, op: 'deflate', input, options: { compress: 6 }, priority: 0 })
          .then((r) => order.push(r.id)),
      );
      const high = pool
        .submitStreamingJob({ id: 'high', op: 'deflate', input, options: { compress: 6 }, priority: 10 })
        .then((r) => order.push(r.id));
      await Promise.all([...lows, high]);
      const before = order.indexOf('high');
      // Only jobs already handed to the transport (and running) can precede it.
      assert.ok(before <= capacity(pool) + workers, `high finished after ${before} low jobs`);
      assert.ok(order.indexOf('low29') > before, 'the last low job came after it');
      const ids = order.filter((id) => id.startsWith('low'));
      assert.equal(new Set(ids).size, 30);
    } finally {
      await pool.stop();
    }
  });

  test('a full queue makes submit wait: backpressure, and maxConcurrentOps', async () => {
    const pool = make({ workerBufferSize: 4, maxConcurrentOps: 1 });
    try {
      await pool.start();
      const input = sample(256 * 1024, 6, true);
      let peakQueue = 0;
      let peakRunning = 0;
      let sawWaiting = false;
      let settled = 0;
      const jobs = Array.from({ length: 40 }, (_, i) =>
        pool.submitStreamingJob({ id: `j${i}`, op: 'digest', input }).finally(() => (settled += 1)),
      );
      while (settled < 40) {
        const s = pool.getStreamingStats();
        peakQueue = Math.max(peakQueue, s.jobsInQueue);
        peakRunning = Math.max(peakRunning, s.jobsRunning);
        sawWaiting ||= s.jobsWaitingForRoom > 0;
        await tick();
      }
      const results = await Promise.all(jobs);
      assert.equal(results.length, 40);
      assert.ok(peakQueue <= 4, `queue held ${peakQueue} > 4`);
      assert.ok(peakRunning <= 1, `${peakRunning} ran at once with maxConcurrentOps 1`);
      assert.ok(sawWaiting, 'submitters waited for room');
    } finally {
      await pool.stop();
    }
  });

  test('aborting removes a queued job and stops a running one between pieces', async () => {
    const pool = make({ maxConcurrentOps: 1 });
    try {
      await pool.start();
      const big = sample(24 * 1024 * 1024, 7, false);
      const running = new AbortController();
      const long = pool.submitStreamingJob({
        op: 'deflate',
        input: big,
        options: { compress: 9 },
        signal: running.signal,
      });
      const queued = new AbortController();
      const waiting = pool.submitStreamingJob({ op: 'digest', input: big, signal: queued.signal });
      const after = pool.submitStreamingJob({ id: 'after', op: 'digest', input: sample(1000) });
      queued.abort();
      await assert.rejects(waiting, lib, 'Context', 'ABORTED');
      await until(() => pool.getStreamingStats().jobsRunning > 0, 'the long job runs');
      await tick();
      running.abort(new Error('no longer needed'));
      await assert.rejects(long, lib, 'Context', 'ABORTED');
      assert.equal((await after).id, 'after', 'the pool carries on');
      await assert.rejects(
        pool.submitStreamingJob({ op: 'digest', input: big, signal: AbortSignal.abort() }),
        lib,
        'Context',
        'ABORTED',
      );
    } finally {
      await pool.stop();
    }
  });

  test('stop finishes running jobs and rejects queued ones', async () => {
    // Room for all five in the queue (the default is four per worker).
    const pool = make({ maxConcurrentOps: 1, workerTimeout: 60_000, workerBufferSize: 8 });
    await pool.start();
    // Level 9 over incompressible bytes: certain to be running when stop() comes.
    const input = sample(12 * 1024 * 1024, 8, false);
    const first = pool.submitStreamingJob({ id: 'first', op: 'deflate', input, options: { compress: 9 } });
    const rest = Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => pool.submitStreamingJob({ id: `q${i}`, op: 'digest', input })),
    );
    await until(
      () => pool.getStreamingStats().jobsRunning > 0 && pool.getStreamingStats().jobsInQueue === 5,
      'one runs, five wait',
    );
    await pool.stop();
    assert.equal((await first).id, 'first', 'the running job finished');
    for (const job of await rest) {
      assert.equal(job.status, 'rejected');
      assert.streamError(job.reason, lib, 'Context', 'CLOSED');
    }
    assert.equal(pool.getStreamingStats().isRunning, false);
  });

  test('a worker terminated mid-job is replaced, and every job completes exactly once', async () => {
    if (!env.makeWorker || env.expectTransport === 'inline') return;
    const made = [];
    const pool = make({
      createWorker: (url) => {
        const w = env.makeWorker(url);
        made.push(w);
        return w;
      },
    });
    try {
      await pool.start();
      // Big inputs go by message, small ones through ring slots (shared transport): both paths.
      for (const [round, size] of [
        [0, 6 * 1024 * 1024],
        [1, 512 * 1024],
      ]) {
        const input = sample(size, 9 + round, false);
        const expected = hex(await sha256(input));
        const done = new Map();
        const jobs = Array.from({ length: 12 }, (_, i) =>
          pool
            .submitStreamingJob({
              id: `k${round}-${i}`,
              op: round ? 'deflate' : 'digest',
              input,
              options: { compress: 9 },
            })
            .then(
              async (r) => {
                done.set(r.id, (done.get(r.id) ?? 0) + 1);
                if (!round) return hex(r.output);
                const back = await pool.submitStreamingJob({ op: 'inflate', input: r.output });
                return hex(await sha256(back.output));
              },
              (e) => e,
            ),
        );
        await until(() => pool.getStreamingStats().jobsRunning >= workers, 'every worker is busy');
        made[made.length - (round ? 1 : workers)].terminate();
        const results = await Promise.all(jobs);
        for (const r of results) {
          if (typeof r === 'string') assert.equal(r, expected, 'every result is right');
          else assert.streamError(r, lib, 'IO', 'WORKER_FAILED');
        }
        assert.ok(
          [...done.values()].every((n) => n === 1),
          'no job completed twice',
        );
      }
      const s = pool.getStreamingStats();
      assert.equal(s.jobsProcessed + s.jobsFailed, 36);
      assert.ok(made.length >= workers + 2, 'each dead worker was replaced');
      assert.equal(s.totalWorkers, workers);
      const after = await pool.submitStreamingJob({ op: 'digest', input: sample(100) });
      assert.equal(after.bytesIn, 100, 'the pool carries on');
    } finally {
      await pool.stop();
    }
  });

  test('10,000 small jobs and 50 concurrent streams: none lost, none duplicated', async () => {
    const pool = make();
    try {
      const seen = new Set();
      const jobs = [];
      for (let i = 0; i < 10_000; i++) {
        const input = new Uint8Array(8);
        new DataView(input.buffer).setFloat64(0, i);
        jobs.push(pool.submitStreamingJob({ id: `s${i}`, op: 'digest', input }));
      }
      const results = await Promise.all(jobs);
      for (const [i, r] of results.entries()) {
        assert.equal(r.id, `s${i}`);
        seen.add(r.id);
      }
      assert.equal(seen.size, 10_000);
      const last = new Uint8Array(8);
      new DataView(last.buffer).setFloat64(0, 9999);
      assert.equal(hex(results[9999].output), hex(await sha256(last)));
      const key = lib.generateKey();
      const files = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const data = sample(200_000 + i * 1000, i + 1, i % 2 === 0);
          return { data, sealed: await collect(lib.seal(data, { key, chunkSize: 65536, compress: 1 })) };
        }),
      );
      const streams = await Promise.all(files.map((f) => pool.open(new Blob([f.sealed]), { key })));
      const outputs = await Promise.all(streams.map((s) => collect(s.readable())));
      outputs.forEach((out, i) => assert.bytes(out, files[i].data, `stream ${i}`));
      assert.equal(pool.getStreamingStats().jobsFailed, 0);
    } finally {
      await pool.stop();
    }
  });

  test('maxStreamsPerWorker bounds the streams served at once', async () => {
    const pool = make({ maxStreamsPerWorker: 1 });
    try {
      await pool.start();
      const key = lib.generateKey();
      const sealed = await collect(lib.seal(sample(300_000, 10), { key, chunkSize: 65536 }));
      const limit = pool.getStreamingStats().totalWorkers;
      const open = await Promise.all(Array.from({ length: limit }, () => pool.open(new Blob([sealed]), { key })));
      let third = null;
      const waiting = pool.open(new Blob([sealed]), { key }).then((s) => (third = s));
      for (let i = 0; i < 50; i++) await tick();
      assert.equal(third, null, 'a stream over the limit waits');
      open[0].close();
      await waiting;
      assert.ok(third !== null, 'it opens once a stream closes');
      for (const s of [...open, third]) s.close();
    } finally {
      await pool.stop();
    }
  });

  test('processStreamsConcurrently: one result per stream, in order, failures isolated', async () => {
    const key = lib.generateKey();
    const files = [];
    for (let i = 0; i < 10; i++) files.push(await collect(lib.seal(sample(50_000, i + 20), { key, chunkSize: 8192 })));
    files[3] = files[3].slice();
    files[3][files[3].length - 300] ^= 1;
    const streams = await Promise.all(files.map((f) => lib.FileStream.open(new Blob([f]), { key })));
    let active = 0;
    let peak = 0;
    const totals = new Array(10).fill(0);
    const results = await lib.processStreamsConcurrently(
      streams,
      async (stream) => {
        active += 1;
        peak = Math.max(peak, active);
        try {
          for await (const chunk of stream) totals[streams.indexOf(stream)] += chunk.length;
        } finally {
          active -= 1;
        }
      },
      { maxConcurrentOps: 3 },
    );
    assert.equal(results.length, 10);
    results.forEach((r, i) => {
      if (i === 3) assert.streamError(r, lib, 'Encryption', 'AUTH_FAILED');
      else {
        assert.equal(r, null, `stream ${i}`);
        assert.equal(totals[i], 50_000);
      }
    });
    assert.ok(peak <= 3 && peak >= 2, `peak concurrency ${peak}`);
  });

  // ----- sessions: workers read and decode the chunks themselves -----

  /** A sealed file of `chunks` chunks of `chunkSize` (some compressible, some not). */
  async function sealedFile(key, chunkSize, chunks, seed = 1) {
    const data = sample(chunkSize * chunks - 123, seed, false);
    for (let i = 0; i < data.length; i += 2 * chunkSize)
      data.set(sample(Math.min(chunkSize, data.length - i), i, true), i);
    return { data, sealed: await collect(lib.seal(data, { key, compress: 1, chunkSize })) };
  }

  test('pool.open gives the same bytes in order from every kind of source', async () => {
    const pool = make();
    try {
      const key = lib.generateKey();
      const { data, sealed } = await sealedFile(key, 64 * 1024, 40);
      const sources = [
        ['Blob', () => new Blob([sealed])],
        ['Uint8Array', () => sealed],
        ['ArrayBuffer', () => sealed.slice().buffer],
        ['ReadableStream', () => new Blob([sealed]).stream()],
      ];
      if (env.fileBlob) sources.push(['file-backed Blob', () => env.fileBlob(sealed)]);
      for (const [name, source] of sources) {
        const stream = await pool.open(await source(), { key });
        assert.bytes(await collect(stream.readable()), data, name);
      }
      assert.equal(pool.getStreamingStats().jobsFailed, 0);
    } finally {
      await pool.stop();
    }
  });

  test('seek and readAt far ahead while a window is in flight', async () => {
    const pool = make({ chunkProcessingMode: lib.ChunkMode.Parallel });
    try {
      const key = lib.generateKey();
      const chunk = 32 * 1024;
      const { data, sealed } = await sealedFile(key, chunk, 100, 2);
      const stream = await pool.open(new Blob([sealed]), { key });
      const first = await stream.readChunk();
      assert.bytes(first, data.subarray(0, chunk), 'first chunk');
      // Far ahead of the read-ahead window, while it is in flight.
      const far = new Uint8Array(5000);
      const ats = [90 * chunk + 17, 55 * chunk - 3, 2 * chunk];
      const reads = await Promise.all(ats.map((at) => stream.readAt(far.slice(), at).then(() => at)));
      for (const at of reads) {
        const into = new Uint8Array(5000);
        await stream.readAt(into, at);
        assert.bytes(into, data.subarray(at, at + 5000), `readAt ${at}`);
      }
      await stream.seek(70 * chunk + 5);
      const rest = await collect(stream.readable());
      assert.bytes(rest, data.subarray(70 * chunk + 5), 'after the seek');
    } finally {
      await pool.stop();
    }
  });

  test('close and abort with results in flight: nothing late is delivered, the pool carries on', async () => {
    const pool = make({ chunkProcessingMode: lib.ChunkMode.Parallel });
    try {
      const key = lib.generateKey();
      const { data, sealed } = await sealedFile(key, 64 * 1024, 60, 3);
      for (let round = 0; round < 5; round++) {
        const stream = await pool.open(new Blob([sealed]), { key });
        await stream.readChunk();
        stream.close();
        await assert.rejects(stream.readChunk(), lib, 'Context', 'CLOSED');
      }
      const controller = new AbortController();
      const aborting = await pool.open(new Blob([sealed]), { key, signal: controller.signal });
      await aborting.readChunk();
      const pending = aborting.readChunk();
      controller.abort(new Error('enough'));
      await pending.catch(() => {});
      await assert.rejects(aborting.readChunk(), lib, 'Context', 'ABORTED');
      await until(() => pool.getStreamingStats().sessions === 0, 'every session ended');
      const again = await pool.open(new Blob([sealed]), { key });
      assert.bytes(await collect(again.readable()), data, 'a new stream reads everything');
    } finally {
      await pool.stop();
    }
  });

  test('a worker killed mid-session: its chunks are re-issued, each delivered once', async () => {
    if (!env.makeWorker || env.expectTransport === 'inline') return;
    const made = [];
    const pool = make({
      chunkProcessingMode: lib.ChunkMode.Parallel,
      createWorker: (url) => {
        const w = env.makeWorker(url);
        made.push(w);
        return w;
      },
    });
    try {
      const key = lib.generateKey();
      const { data, sealed } = await sealedFile(key, 256 * 1024, 48, 4);
      for (const source of [new Blob([sealed]), sealed]) {
        const stream = await pool.open(source, { key });
        const parts = [];
        for (let i = 0; ; i++) {
          if (i === 5) made[made.length - 1].terminate();
          if (i === 20) made[made.length - 2].terminate();
          const chunk = await stream.readChunk();
          if (chunk === null) break;
          parts.push(chunk.slice());
        }
        const got = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const p of parts) {
          got.set(p, at);
          at += p.length;
        }
        assert.equal(hex(await sha256(got)), hex(await sha256(data)), 'every byte, in order, once');
      }
      assert.ok(made.length > workers, 'the dead workers were replaced');
      await until(() => pool.getStreamingStats().totalWorkers === workers, 'every worker is back');
    } finally {
      await pool.stop();
    }
  });

  test('no key bytes are ever in shared memory; workers get the per-file subkey only', async () => {
    const pool = make();
    try {
      const key = lib.generateKey();
      const { sealed } = await sealedFile(key, 64 * 1024, 20, 5);
      const stream = await pool.open(new Blob([sealed]), { key });
      await collect(stream.readable());
      // The subkey (FORMAT.md: HKDF-SHA256 of the key with the header's salt).
      const salt = sealed.slice(24, 40);
      const ikm = await crypto.subtle.importKey('raw', key, 'HKDF', false, ['deriveBits']);
      const info = new TextEncoder().encode('novuspack-stream v1 chunk key');
      const subkey = new Uint8Array(
        await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, ikm, 256),
      );
      const buffers = pool[Symbol.for('novuspack-stream.sharedMemory')]();
      if (pool.transport === 'shared') assert.ok(buffers.length > 0, 'the shared transport has shared memory');
      const contains = (buffer, needle) => {
        const bytes = new Uint8Array(buffer);
        outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
          for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
          return true;
        }
        return false;
      };
      for (const buffer of buffers) {
        assert.ok(!contains(buffer, key), 'the key is not in shared memory');
        assert.ok(!contains(buffer, subkey), 'the subkey is not in shared memory');
      }
    } finally {
      await pool.stop();
    }
  });

  test('a pool stream stays within its memoryLimit, read-ahead in flight included', async () => {
    const pool = make({ chunkProcessingMode: lib.ChunkMode.Parallel });
    try {
      const key = lib.generateKey();
      const { data, sealed } = await sealedFile(key, 256 * 1024, 40, 6);
      const limit = 2 * 1024 * 1024;
      const stream = await pool.open(new Blob([sealed]), { key, memoryLimit: limit });
      assert.equal(hex(await sha256(await collect(stream.readable()))), hex(await sha256(data)));
      const peak = stream.getStats().peakBufferedBytes;
      assert.ok(peak <= limit, `peak ${peak} > ${limit}`);
    } finally {
      await pool.stop();
    }
  });

  test('a pooled seal of a source shorter or longer than its declared size is SIZE_MISMATCH', async () => {
    const pool = make();
    try {
      const data = sample(300_000, 7, true);
      const stream = (bytes) => new Blob([bytes]).stream();
      for (const size of [data.length + 1, data.length - 1, data.length + 100_000]) {
        await assert.rejects(
          collect(lib.seal(stream(data), { size, chunkSize: 65536, pool })),
          lib,
          'IO',
          'SIZE_MISMATCH',
          `declared ${size}`,
        );
        await assert.rejects(
          collect(lib.seal(new Blob([data]), { size, chunkSize: 65536, pool })),
          lib,
          'IO',
          'SIZE_MISMATCH',
          `Blob, declared ${size}`,
        );
      }
      const right = await collect(lib.seal(stream(data), { size: data.length, chunkSize: 65536, pool }));
      const opened = await lib.FileStream.open(right);
      assert.equal(opened.size, data.length);
    } finally {
      await pool.stop();
    }
  });

  test('closing a stream in the middle of a 64 MiB chunk frees its worker at once', async () => {
    if (env.expectTransport === 'inline') return;
    const pool = make({ chunkProcessingMode: lib.ChunkMode.Sequential });
    try {
      const key = lib.generateKey();
      const data = sample(64 * 1024 * 1024 + 1000, 10, false);
      const sealed = await collect(lib.seal(data, { key, chunkSize: 64 * 1024 * 1024 }));
      const stream = await pool.open(new Blob([sealed]), { key });
      const before = pool.getStreamingStats().workers.reduce((n, w) => n + w.restarts, 0);
      const reading = stream.readChunk();
      // Decoding 64 MiB takes far longer than noticing that a worker took it.
      await until(() => pool.getStreamingStats().workers.some((w) => w.active), 'a worker has the chunk');
      stream.close();
      await reading.catch(() => {});
      await until(
        () => pool.getStreamingStats().workers.reduce((n, w) => n + w.restarts, 0) > before,
        'the busy worker was replaced',
      );
      const after = await pool.submitStreamingJob({ op: 'digest', input: sample(100) });
      assert.equal(after.bytesIn, 100, 'the pool carries on');
    } finally {
      await pool.stop();
    }
  });

  test('priorities past 2^31 and many equal ones keep their order', async () => {
    const pool = make({ maxConcurrentOps: 1, workerBufferSize: 100 });
    try {
      await pool.start();
      const order = [];
      const blocker = pool.submitStreamingJob({ id: 'blocker', op: 'deflate', input: sample(8 << 20, 8, false) });
      const jobs = [];
      for (const [id, priority] of [
        ['low', 2 ** 31],
        ['high', 2 ** 31 + 5],
        ['mid', 2 ** 31 + 1],
        ['negative', -(2 ** 40)],
      ]) {
        jobs.push(
          pool.submitStreamingJob({ id, op: 'digest', input: sample(10), priority }).then((r) => order.push(r.id)),
        );
      }
      for (let i = 0; i < 20; i++)
        jobs.push(
          pool
            .submitStreamingJob({ id: `eq${i}`, op: 'digest', input: sample(10), priority: 7 })
            .then((r) => order.push(r.id)),
        );
      await Promise.all([blocker, ...jobs]);
      const equal = order.filter((id) => id.startsWith('eq'));
      assert.equal(
        equal.join(),
        Array.from({ length: 20 }, (_, i) => `eq${i}`).join(),
        'submission order among equals',
      );
      const big = order.filter((id) => !id.startsWith('eq'));
      assert.equal(big.join(), 'high,mid,low,negative');
    } finally {
      await pool.stop();
    }
  });

  test('submit with wait: false fails QUEUE_FULL when the queue is full', async () => {
    const pool = make({ maxConcurrentOps: 1, workerBufferSize: 2 });
    try {
      await pool.start();
      const input = sample(4 << 20, 9, false);
      const jobs = [pool.submitStreamingJob({ op: 'deflate', input, options: { compress: 9 } })];
      await until(() => pool.getStreamingStats().jobsRunning === 1, 'one runs');
      jobs.push(pool.submitStreamingJob({ op: 'digest', input }), pool.submitStreamingJob({ op: 'digest', input }));
      await until(() => pool.getStreamingStats().jobsInQueue === 2, 'two wait');
      await assert.rejects(pool.submitStreamingJob({ op: 'digest', input, wait: false }), lib, 'Context', 'QUEUE_FULL');
      await Promise.all(jobs);
    } finally {
      await pool.stop();
    }
  });

  test('bad pool configuration is a typed error', async () => {
    assert.throws(() => new lib.StreamingWorkerPool({ transport: 'carrier-pigeon' }), lib, 'Validation');
    assert.throws(() => new lib.StreamingWorkerPool({ createWorker: 'no' }), lib, 'Validation');
    await assert.rejects(new lib.StreamingWorkerPool({ maxWorkers: 1000 }).start(), lib, 'Validation');
    await assert.rejects(new lib.StreamingWorkerPool({ streamBufferSize: 0 }).start(), lib, 'Validation');
    await assert.rejects(collect(lib.seal(sample(10), { pool: {} })), lib, 'Validation');
  });

  return list;
}
