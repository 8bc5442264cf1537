// seal({ pool }): a pooled seal of a source shorter or longer than its declared size is
// SIZE_MISMATCH (ReadableStream and Blob sources); the right size opens.
import { assert, sample, collect, caseList } from '../helpers.mjs';
import { poolKit } from './pool-helpers.mjs';

export function poolSealCases(lib, env) {
  const { make } = poolKit(lib, env);
  const { list, test } = caseList();

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

  return list;
}
