// Sealing as streams: sealTransform and unsealTransform round trips with backpressure, seal() of a
// ReadableStream with a declared size (SIZE_MISMATCH when it is wrong), generateKey.
import { assert, sample, collect, streamOf, readAll, caseList } from '../helpers.mjs';

export function sealCases(lib) {
  const { FileStream } = lib;
  const { list, test } = caseList();

  test('sealTransform and unsealTransform round-trip with backpressure', async () => {
    const data = sample(500_000, 13, true);
    const key = lib.generateKey();
    const sealed = await collect(
      streamOf(data, 3333).pipeThrough(lib.sealTransform({ key, compress: 9, chunkSize: 65536 })),
    );
    assert.ok(sealed.length < data.length / 2, 'compressed');
    const fs = await FileStream.open(new Blob([sealed]), { key });
    assert.bytes(await readAll(fs), data);
    // seal() of a stream whose pieces are smaller than a chunk (pulls that seal nothing yet).
    const stored = await collect(lib.seal(streamOf(data, 1000), { chunkSize: 65536, size: data.length }));
    const inOrder = await FileStream.open(streamOf(stored, 5000), { isCompressed: true });
    assert.equal(inOrder.size, data.length, 'the declared size is in the header');
    assert.bytes(await readAll(inOrder), data);
    await assert.rejects(
      collect(lib.seal(streamOf(data, 1000), { size: data.length + 1 })),
      lib,
      'IO',
      'SIZE_MISMATCH',
    );
    const reader = streamOf(sealed, 100_000).pipeThrough(lib.unsealTransform({ key })).getReader();
    const parts = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.bytes(new Uint8Array(await new Blob(parts).arrayBuffer()), data);
    const k = lib.generateKey();
    assert.equal(k.length, 32);
    assert.ok(!k.every((b, i) => b === key[i]), 'keys differ');
  });

  return list;
}
