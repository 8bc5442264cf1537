// How many streams run at once: maxStreamsPerWorker bounds a pool's open streams;
// processStreamsConcurrently (maxConcurrentOps, results in order, failures isolated).
import { assert, sample, collect, caseList } from '../helpers.mjs';
import { tick, poolKit } from './pool-helpers.mjs';

export function poolConcurrencyCases(lib, env) {
  const { make } = poolKit(lib, env);
  const { list, test } = caseList();

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

  return list;
}
