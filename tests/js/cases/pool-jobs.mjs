// Pool jobs (submitStreamingJob): the ops (seal, unseal, inflate, deflate, digest) and their
// typed errors, priority order, backpressure of a full queue and maxConcurrentOps, aborting a
// queued or running job, stop() finishing running jobs and rejecting queued ones.
import { assert, sample, collect, caseList } from '../helpers.mjs';
import { sha256, tick, until, hex, poolKit } from './pool-helpers.mjs';

export function poolJobCases(lib, env) {
  const { workers, make, capacity } = poolKit(lib, env);
  const { list, test } = caseList();

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

  return list;
}
