// BufferPool: lending, reuse, eviction, limits, stats, views over wasm memory and close; a
// FileStream drawing its buffers from a pool and returning them.
import { assert, sample, sealBytes, readAll, caseList } from '../helpers.mjs';

export function bufferPoolCases(lib) {
  const { FileStream } = lib;
  const { list, test } = caseList();

  test('BufferPool lends, reuses, evicts, reports and closes', async () => {
    await lib.ready();
    const defaults = lib.defaultBufferConfig();
    assert.equal(defaults.maxTotalSize, 1024 ** 3);
    assert.equal(defaults.maxBufferSize, 1024 ** 2);
    assert.equal(defaults.evictionPolicy, 'lru');
    assert.equal(defaults.evictionTimeout, 300_000);
    const pool = new lib.BufferPool({ maxTotalSize: 8192, maxBufferSize: 4096 });
    const a = pool.get(1000);
    assert.equal(a.length, 1024);
    a.write(new Uint8Array([1, 2, 3]), 5);
    assert.bytes(a.read(5, 3), new Uint8Array([1, 2, 3]));
    pool.put(a);
    assert.throws(() => a.read(), lib, 'Context', 'CLOSED');
    assert.throws(() => pool.put(a), lib, 'Context', 'CLOSED');
    const b = pool.get(900);
    assert.equal(b.accessCount, 2, 'the free buffer of the class was reused');
    const c = pool.get(4096);
    const d = pool.get(2048);
    let stats = pool.getStats();
    assert.equal(stats.hits, 1);
    assert.equal(stats.activeBuffers, 3);
    assert.equal(pool.totalSize(), 1024 + 4096 + 2048);
    assert.throws(() => pool.get(2048), lib, 'Validation', 'MEMORY_LIMIT');
    pool.put(c);
    pool.put(d);
    const e = pool.get(3000); // evicts the least recently used free buffer (c)
    stats = pool.getStats();
    assert.equal(stats.evictions, 1);
    assert.ok(Array.isArray(stats.classes) && stats.classes.length >= 3);
    pool.setMaxTotalSize(2048);
    assert.ok(pool.totalSize() <= 1024 + 3072, 'free buffers went at once');
    assert.throws(() => pool.get(0), lib, 'Validation');
    assert.throws(() => pool.get(5000), lib, 'Validation', 'BUFFER_TOO_LARGE');
    const other = new lib.BufferPool();
    assert.throws(() => other.put(e), lib, 'Validation', 'INVALID_ARGUMENT');
    e.withView((view) => {
      view[0] = 42;
    });
    assert.equal(e.read(0, 1)[0], 42, 'writes through the view persist');
    assert.throws(
      () =>
        e.withView(() => {
          // Grows wasm memory while the view is alive (however much earlier cases grew it).
          const before = lib.memoryUsage().wasmMemory;
          for (let i = 0; i < 256 && lib.memoryUsage().wasmMemory === before; i++) other.get(1024 * 1024);
        }),
      lib,
      'Validation',
      'VIEW_DETACHED',
    );
    assert.throws(() => e.withView(async () => {}), lib, 'Validation');
    pool.close();
    assert.throws(() => pool.get(10), lib, 'Context', 'CLOSED');
    assert.throws(() => new lib.BufferPool({ evictionPolicy: 'fifo' }), lib, 'Validation');
    other.close();
  });

  test('a FileStream draws from and returns to its pool', async () => {
    const pool = new lib.BufferPool();
    const key = lib.generateKey();
    const sealed = await sealBytes(lib, sample(400_000), { key, chunkSize: 32768 });
    const fs = await FileStream.open(new Blob([sealed]), { key, pool });
    await readAll(fs);
    const s = fs.getStats();
    assert.ok(s.poolHits > 0 && s.poolMisses > 0, `hits ${s.poolHits} misses ${s.poolMisses}`);
    fs.close();
    assert.equal(pool.getStats().activeBuffers, 0);
    await assert.rejects(FileStream.open(new Blob([sealed]), { key, pool: {} }), lib, 'Validation');
  });

  return list;
}
