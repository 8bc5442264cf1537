// Worker failure during jobs: a worker terminated mid-job (env.makeWorker) is replaced, its jobs
// are retried on another and every job completes exactly once, both by message and through the
// shared ring.
import { assert, sample, skip, caseList } from '../helpers.mjs';
import { sha256, until, hex, poolKit } from './pool-helpers.mjs';

export function poolWorkerCases(lib, env) {
  const { workers, make } = poolKit(lib, env);
  const { list, test } = caseList();

  test('a worker terminated mid-job is replaced, its jobs retried elsewhere, and every job completes exactly once', async () => {
    if (!env.makeWorker || env.expectTransport === 'inline') skip('no workers to terminate here (inline)');
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
        const retriedBefore = pool.getStreamingStats().jobsRetried;
        made[made.length - (round ? 1 : workers)].terminate();
        const results = await Promise.all(jobs);
        // One worker died: its jobs are retried once on another and complete (no WORKER_FAILED).
        for (const r of results) {
          if (typeof r !== 'string') throw r;
          assert.equal(r, expected, 'every result is right');
        }
        assert.equal(done.size, 12, 'every job completed');
        assert.ok(
          [...done.values()].every((n) => n === 1),
          'no job completed twice',
        );
        const retried = pool.getStreamingStats().jobsRetried - retriedBefore;
        assert.ok(retried >= 1, `the dead worker's job was retried (${retried})`);
      }
      const s = pool.getStreamingStats();
      assert.equal(s.jobsProcessed, 36);
      assert.equal(s.jobsFailed, 0);
      assert.ok(made.length >= workers + 2, 'each dead worker was replaced');
      // The jobs may all finish on the others before a replacement has started (WebKit).
      await until(() => pool.getStreamingStats().totalWorkers === workers, 'the replacements are ready');
      const after = await pool.submitStreamingJob({ op: 'digest', input: sample(100) });
      assert.equal(after.bytesIn, 100, 'the pool carries on');
    } finally {
      await pool.stop();
    }
  });

  return list;
}
