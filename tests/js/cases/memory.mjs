// Memory bounds: a 1 GiB sealed stream read with memoryLimit 64 MiB stays within bounded wasm
// memory (env.heavy runs it; env.report receives the measured figures). It runs first in
// cases(), so the wasm memory it measures is its own (wasm memory never shrinks).
import { assert, sample, skip, caseList } from '../helpers.mjs';

export function memoryCases(lib, env) {
  const { FileStream } = lib;
  const { list, test } = caseList();

  test(
    'a 1 GiB stream is read with memoryLimit 64 MiB in bounded wasm memory',
    async () => {
      if (!env.heavy) skip('the 1 GiB case (NOVUSPACK_HEAVY=0)');
      const GiB = 1024 ** 3;
      const block = sample(1 << 20, 17);
      let produced = 0;
      const plaintext = new ReadableStream({
        pull(controller) {
          if (produced >= GiB) return controller.close();
          const chunk = block.slice();
          new DataView(chunk.buffer).setFloat64(0, produced);
          controller.enqueue(chunk);
          produced += chunk.length;
        },
      });
      const key = lib.generateKey();
      const sealed = plaintext.pipeThrough(lib.sealTransform({ key, chunkSize: 1 << 20 }));
      const fs = await FileStream.open(sealed, { key, memoryLimit: 64 * 1024 * 1024 });
      let offset = 0;
      for (;;) {
        const chunk = await fs.readChunk();
        if (chunk === null) break;
        assert.equal(chunk.length, 1 << 20);
        assert.equal(new DataView(chunk.buffer, chunk.byteOffset).getFloat64(0), offset, 'chunk order');
        assert.equal(chunk[1000], block[1000]);
        offset += chunk.length;
      }
      assert.equal(offset, GiB);
      assert.equal(fs.size, GiB);
      const peak = fs.getStats().peakBufferedBytes;
      const wasm = lib.memoryUsage().wasmMemory;
      env.report?.({ oneGiB: { peakBufferedBytes: peak, wasmMemory: wasm } });
      assert.ok(peak <= 64 * 1024 * 1024, `peak buffered ${peak}`);
      assert.ok(wasm <= 80 * 1024 * 1024, `wasm memory ${wasm}`);
    },
    { heavy: true },
  );

  return list;
}
