// inspect(): describes a sealed file (Blob, Uint8Array, ArrayBuffer) without its key; other
// data and truncated files are typed errors.
import { assert, sample, streamOf, sealBytes, caseList } from '../helpers.mjs';

export function inspectCases(lib) {
  const { list, test } = caseList();

  test('inspect describes a sealed file without its key', async () => {
    const key = lib.generateKey();
    const data = sample(100_000, 21, true);
    const sealed = await sealBytes(lib, data, { key, compress: 6, chunkSize: 16384 });
    for (const source of [new Blob([sealed]), sealed, sealed.buffer]) {
      const info = await lib.inspect(source);
      assert.equal(info.kind, 'sealed');
      assert.equal(info.encrypted, true);
      assert.equal(info.compressed, true);
      assert.equal(info.chunkSize, 16384);
      assert.equal(info.chunkCount, 7);
      assert.equal(info.storedSize, sealed.length);
      assert.equal(info.declaredSize, data.length, 'seal() of a Blob records the size');
    }
    await assert.rejects(lib.inspect(new Blob([data])), lib, 'Unsupported', 'UNKNOWN_FORMAT');
    await assert.rejects(lib.inspect(new Blob([sealed.subarray(0, sealed.length - 5)])), lib, 'Corruption');
    await assert.rejects(lib.inspect(streamOf(sealed)), lib, 'Validation', 'INVALID_ARGUMENT');
  });

  return list;
}
