// FileStream stats are true for every source kind (Blob, Uint8Array, ReadableStream): chunks
// read, buffer pool hits and misses, peak buffered bytes.
import { assert, sample, concat, streamOf, caseList } from '../helpers.mjs';

export function statsCases(lib) {
  const { FileStream } = lib;
  const { list, test } = caseList();

  test('stats are true for every source kind: chunks, pool hits and misses, peak buffered bytes', async () => {
    const data = sample(2_000_000, 3);
    for (const [name, source] of [
      ['Blob', () => new Blob([data])],
      ['Uint8Array', () => data],
      ['ReadableStream', () => streamOf(data, 100_000)],
    ]) {
      const pool = new lib.BufferPool();
      const fs = await FileStream.open(source(), { pool, bufferSize: 100_000 });
      let calls = 0;
      const parts = [];
      for (let chunk = await fs.readChunk(); chunk !== null; chunk = await fs.readChunk()) {
        parts.push(chunk);
        calls += 1;
      }
      assert.bytes(concat(parts), data, name);
      const s = fs.getStats();
      assert.ok(calls >= 20, `${name}: ${calls} readChunk calls`);
      assert.equal(s.chunksRead >= 20, true, `${name}: chunksRead ${s.chunksRead}`);
      assert.ok(s.poolHits + s.poolMisses >= 20, `${name}: pool hits ${s.poolHits}, misses ${s.poolMisses}`);
      assert.ok(s.poolHits >= 10, `${name}: buffers are reused (hits ${s.poolHits})`);
      assert.ok(s.peakBufferedBytes >= 100_000, `${name}: peak buffered ${s.peakBufferedBytes}`);
      assert.equal(s.bytesRead, data.length, name);
      if (name !== 'ReadableStream') assert.equal(s.chunksRead, 20, `${name}: one chunk per readChunk`);
      fs.close();
      pool.close();
    }
  });

  return list;
}
