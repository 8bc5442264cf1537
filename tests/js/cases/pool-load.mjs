// Pool load: 10,000 small jobs and 50 concurrent pool streams, none lost, none duplicated.
import { assert, sample, collect, caseList } from '../helpers.mjs';
import { sha256, hex, poolKit } from './pool-helpers.mjs';

export function poolLoadCases(lib, env) {
  const { make } = poolKit(lib, env);
  const { list, test } = caseList();

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

  return list;
}
