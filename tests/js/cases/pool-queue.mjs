// The pool's job queue at its edges: priorities past 2^31, negative ones and many equal ones
// keep their order; submit with wait: false fails QUEUE_FULL when the queue is full.
import { assert, sample, caseList } from '../helpers.mjs';
import { until, poolKit } from './pool-helpers.mjs';

export function poolQueueCases(lib, env) {
  const { make } = poolKit(lib, env);
  const { list, test } = caseList();

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

  return list;
}
