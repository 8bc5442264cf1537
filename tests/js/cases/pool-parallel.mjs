// The worker pool starts with its transport (env.expectTransport) and workers, and pool.open
// decodes a large sealed Blob in parallel on all of them (every ChunkMode), byte-identical and
// in order (env.bigBytes).
import { assert, sample, collect, caseList } from '../helpers.mjs';
import { sha256, hex, poolKit } from './pool-helpers.mjs';

export function poolParallelCases(lib, env) {
  const { workers, make } = poolKit(lib, env);
  const { list, test } = caseList();

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

  return list;
}
