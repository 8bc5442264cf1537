// Pool sessions, in which workers read and decode the chunks themselves: every kind of source
// (env.fileBlob adds a file-backed Blob), seek and readAt far ahead of the read-ahead window,
// close and abort with results in flight, a worker killed mid-session, no key bytes in shared
// memory, a stream's memoryLimit with read-ahead in flight.
import { assert, sample, skip, collect, caseList } from '../helpers.mjs';
import { sha256, until, hex, poolKit } from './pool-helpers.mjs';

export function poolSessionCases(lib, env) {
  const { workers, make } = poolKit(lib, env);
  const { list, test } = caseList();

  /** A sealed file of `chunks` chunks of `chunkSize` (some compressible, some not). */
  async function sealedFile(key, chunkSize, chunks, seed = 1) {
    const data = sample(chunkSize * chunks - 123, seed, false);
    for (let i = 0; i < data.length; i += 2 * chunkSize)
      data.set(sample(Math.min(chunkSize, data.length - i), i, true), i);
    return { data, sealed: await collect(lib.seal(data, { key, compress: 1, chunkSize })) };
  }

  test('pool.open gives the same bytes in order from every kind of source', async () => {
    const pool = make();
    try {
      const key = lib.generateKey();
      const { data, sealed } = await sealedFile(key, 64 * 1024, 40);
      const sources = [
        ['Blob', () => new Blob([sealed])],
        ['Uint8Array', () => sealed],
        ['ArrayBuffer', () => sealed.slice().buffer],
        ['ReadableStream', () => new Blob([sealed]).stream()],
      ];
      if (env.fileBlob) sources.push(['file-backed Blob', () => env.fileBlob(sealed)]);
      for (const [name, source] of sources) {
        const stream = await pool.open(await source(), { key });
        assert.bytes(await collect(stream.readable()), data, name);
      }
      assert.equal(pool.getStreamingStats().jobsFailed, 0);
    } finally {
      await pool.stop();
    }
  });

  test('seek and readAt far ahead while a window is in flight', async () => {
    const pool = make({ chunkProcessingMode: lib.ChunkMode.Parallel });
    try {
      const key = lib.generateKey();
      const chunk = 32 * 1024;
      const { data, sealed } = await sealedFile(key, chunk, 100, 2);
      const stream = await pool.open(new Blob([sealed]), { key });
      const first = await stream.readChunk();
      assert.bytes(first, data.subarray(0, chunk), 'first chunk');
      // Far ahead of the read-ahead window, while it is in flight.
      const far = new Uint8Array(5000);
      const ats = [90 * chunk + 17, 55 * chunk - 3, 2 * chunk];
      const reads = await Promise.all(ats.map((at) => stream.readAt(far.slice(), at).then(() => at)));
      for (const at of reads) {
        const into = new Uint8Array(5000);
        await stream.readAt(into, at);
        assert.bytes(into, data.subarray(at, at + 5000), `readAt ${at}`);
      }
      await stream.seek(70 * chunk + 5);
      const rest = await collect(stream.readable());
      assert.bytes(rest, data.subarray(70 * chunk + 5), 'after the seek');
    } finally {
      await pool.stop();
    }
  });

  test('close and abort with results in flight: nothing late is delivered, the pool carries on', async () => {
    const pool = make({ chunkProcessingMode: lib.ChunkMode.Parallel });
    try {
      const key = lib.generateKey();
      const { data, sealed } = await sealedFile(key, 64 * 1024, 60, 3);
      for (let round = 0; round < 5; round++) {
        const stream = await pool.open(new Blob([sealed]), { key });
        await stream.readChunk();
        stream.close();
        await assert.rejects(stream.readChunk(), lib, 'Context', 'CLOSED');
      }
      const controller = new AbortController();
      const aborting = await pool.open(new Blob([sealed]), { key, signal: controller.signal });
      await aborting.readChunk();
      const pending = aborting.readChunk();
      controller.abort(new Error('enough'));
      await pending.catch(() => {});
      await assert.rejects(aborting.readChunk(), lib, 'Context', 'ABORTED');
      await until(() => pool.getStreamingStats().sessions === 0, 'every session ended');
      const again = await pool.open(new Blob([sealed]), { key });
      assert.bytes(await collect(again.readable()), data, 'a new stream reads everything');
    } finally {
      await pool.stop();
    }
  });

  test('a worker killed mid-session: its chunks are re-issued, each delivered once', async () => {
    if (!env.makeWorker || env.expectTransport === 'inline') skip('no workers to terminate here (inline)');
    const made = [];
    const pool = make({
      chunkProcessingMode: lib.ChunkMode.Parallel,
      createWorker: (url) => {
        const w = env.makeWorker(url);
        made.push(w);
        return w;
      },
    });
    try {
      const key = lib.generateKey();
      const { data, sealed } = await sealedFile(key, 256 * 1024, 48, 4);
      for (const source of [new Blob([sealed]), sealed]) {
        const stream = await pool.open(source, { key });
        const parts = [];
        for (let i = 0; ; i++) {
          if (i === 5) made[made.length - 1].terminate();
          if (i === 20) made[made.length - 2].terminate();
          const chunk = await stream.readChunk();
          if (chunk === null) break;
          parts.push(chunk.slice());
        }
        const got = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const p of parts) {
          got.set(p, at);
          at += p.length;
        }
        assert.equal(hex(await sha256(got)), hex(await sha256(data)), 'every byte, in order, once');
      }
      assert.ok(made.length > workers, 'the dead workers were replaced');
      await until(() => pool.getStreamingStats().totalWorkers === workers, 'every worker is back');
    } finally {
      await pool.stop();
    }
  });

  test('no key bytes are ever in shared memory; workers get the per-file subkey only', async () => {
    const pool = make();
    try {
      const key = lib.generateKey();
      const { sealed } = await sealedFile(key, 64 * 1024, 20, 5);
      const stream = await pool.open(new Blob([sealed]), { key });
      await collect(stream.readable());
      // The subkey (FORMAT.md §2: HKDF-SHA256 of the key with the header's salt, version 2 label).
      const salt = sealed.slice(24, 40);
      const ikm = await crypto.subtle.importKey('raw', key, 'HKDF', false, ['deriveBits']);
      const derive = async (label) =>
        new Uint8Array(
          await crypto.subtle.deriveBits(
            { name: 'HKDF', hash: 'SHA-256', salt, info: new TextEncoder().encode(label) },
            ikm,
            256,
          ),
        );
      assert.equal(sealed[8], 2, 'a version 2 file');
      // The same derivation gives the header's key commitment: the subkey below is the real one.
      assert.bytes(
        await derive('novuspack-stream v2 key commitment'),
        sealed.slice(40, 72),
        'the derivation matches the header',
      );
      const subkey = await derive('novuspack-stream v2 chacha20-poly1305 chunk key');
      const buffers = pool[Symbol.for('novuspack-stream.sharedMemory')]();
      if (pool.transport === 'shared') assert.ok(buffers.length > 0, 'the shared transport has shared memory');
      const contains = (buffer, needle) => {
        const bytes = new Uint8Array(buffer);
        outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
          for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
          return true;
        }
        return false;
      };
      for (const buffer of buffers) {
        assert.ok(!contains(buffer, key), 'the key is not in shared memory');
        assert.ok(!contains(buffer, subkey), 'the subkey is not in shared memory');
      }
    } finally {
      await pool.stop();
    }
  });

  test('a pool stream stays within its memoryLimit, read-ahead in flight included', async () => {
    const pool = make({ chunkProcessingMode: lib.ChunkMode.Parallel });
    try {
      const key = lib.generateKey();
      const { data, sealed } = await sealedFile(key, 256 * 1024, 40, 6);
      const limit = 2 * 1024 * 1024;
      const stream = await pool.open(new Blob([sealed]), { key, memoryLimit: limit });
      assert.equal(hex(await sha256(await collect(stream.readable()))), hex(await sha256(data)));
      const peak = stream.getStats().peakBufferedBytes;
      assert.ok(peak <= limit, `peak ${peak} > ${limit}`);
    } finally {
      await pool.stop();
    }
  });

  return list;
}
