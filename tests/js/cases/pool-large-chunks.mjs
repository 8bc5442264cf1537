// A 64 MiB chunk: closing its stream while a worker decodes it frees that worker at once
// (the worker is replaced) and the pool carries on.
import { assert, sample, skip, collect, caseList } from '../helpers.mjs';
import { until, poolKit } from './pool-helpers.mjs';

export function poolLargeChunkCases(lib, env) {
  const { make } = poolKit(lib, env);
  const { list, test } = caseList();

  test('closing a stream in the middle of a 64 MiB chunk frees its worker at once', async () => {
    if (env.expectTransport === 'inline') skip('no workers here (inline)');
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

  return list;
}
