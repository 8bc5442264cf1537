// FileStream reading: seal then open round trips at chunk edges (Blob and ReadableStream
// sources), readAt at random offsets (concurrently too), a Blob read in order while readAt and
// seeks jump around, seek / read(into) / readable() (BYOB where the engine has byte streams),
// progress, estimatedTimeRemaining and the stats fields.
import { assert, sample, collect, byteStreams, concat, streamOf, sealBytes, readAll, caseList } from '../helpers.mjs';

export function fileStreamCases(lib) {
  const { FileStream } = lib;
  const { list, test } = caseList();

  test('seal then FileStream round-trips Blob and ReadableStream sources at chunk edges', async () => {
    const cs = 4096;
    for (const len of [0, 1, cs - 1, cs, cs + 1, 3 * cs + 7]) {
      for (const key of [undefined, lib.generateKey()]) {
        for (const compress of [false, 6]) {
          const data = sample(len, len + 1, true);
          const sealed = await sealBytes(lib, data, { key, compress, chunkSize: cs });
          const label = `len ${len} key ${!!key} compress ${compress}`;
          for (const source of [new Blob([sealed]), streamOf(sealed, 1000), streamOf(sealed, 777, { bytes: true })]) {
            const fs = await FileStream.open(source, { key, isCompressed: true });
            assert.bytes(await readAll(fs), data, label);
            assert.equal(fs.size, len, label);
            assert.equal(fs.position, len, label);
            fs.close();
          }
        }
      }
    }
  });

  test('readAt at random offsets equals the plaintext slice, concurrently too', async () => {
    const data = sample(300_000, 7, true);
    const key = lib.generateKey();
    const sealed = await sealBytes(lib, data, { key, compress: 1, chunkSize: 16384 });
    const fs = await FileStream.open(new Blob([sealed]), { key });
    assert.equal(fs.size, data.length);
    let x = 12345;
    const ranges = [];
    for (let i = 0; i < 60; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      ranges.push([x % data.length, 1 + (x % 40000)]);
    }
    const results = await Promise.all(
      ranges.map(async ([offset, length]) => {
        const into = new Uint8Array(length);
        const n = await fs.readAt(into, offset);
        return [offset, into.subarray(0, n)];
      }),
    );
    for (const [offset, bytes] of results) {
      assert.bytes(bytes, data.subarray(offset, Math.min(offset + bytes.length, data.length)), `at ${offset}`);
      assert.ok(bytes.length > 0);
    }
    assert.equal(fs.position, 0, 'readAt never moves the position');
    // More rounds of concurrent reads on fresh streams: reads queued on the Blob's stream must
    // not hand out bytes a later read detaches (a BYOB read takes its buffer away); that once
    // made a readAt throw inside the engine and never settle.
    const noise = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7 + (i >> 9)) & 255);
    const noiseSealed = await sealBytes(lib, noise, { key, compress: 1, chunkSize: 16384 });
    for (let round = 0; round < 12; round++) {
      const again = await FileStream.open(new Blob([noiseSealed]), { key });
      let y = 12345 + round;
      const reads = [];
      for (let i = 0; i < 60; i++) {
        y = (y * 1103515245 + 12345) % 2147483648;
        const [offset, length] = [y % noise.length, 1 + (y % 40000)];
        reads.push(
          (async () => {
            const into = new Uint8Array(length);
            const n = await again.readAt(into, offset);
            assert.bytes(into.subarray(0, n), noise.subarray(offset, offset + n), `round ${round} at ${offset}`);
          })(),
        );
      }
      // A guard against a hang, not a timing assertion.
      let timer;
      const hung = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`round ${round}: readAt never settled`)), 30_000);
      });
      try {
        await Promise.race([Promise.all(reads), hung]);
      } finally {
        clearTimeout(timer);
      }
      again.close();
    }
    const edge = new Uint8Array(10);
    assert.equal(await fs.readAt(edge, data.length - 3), 3);
    assert.equal(await fs.readAt(edge, data.length), 0);
    fs.close();
  });

  // A Blob read in order is served by one blob.stream(); readAt and seeks that break the order
  // go by slice, and a later sequence starts a new stream. Every byte must still be right.
  test('a Blob read in order while readAt and seeks jump around gives the right bytes', async () => {
    const data = sample(400_000, 11, true);
    const key = lib.generateKey();
    const blobs = [
      ['sealed', new Blob([await sealBytes(lib, data, { key, compress: 6, chunkSize: 16384 })]), { key }],
      ['plain', new Blob([data]), { chunkSize: 10_000 }],
    ];
    for (const [name, blob, config] of blobs) {
      const fs = await FileStream.open(blob, config);
      const got = [];
      let chunk;
      let i = 0;
      while ((chunk = await fs.readChunk()) !== null) {
        got.push(chunk);
        if (i++ % 3 === 0) {
          // Interleaved random access, while the in-order pass goes on.
          const offset = (i * 7919) % (data.length - 5000);
          const into = new Uint8Array(5000);
          assert.equal(await fs.readAt(into, offset), 5000, name);
          assert.bytes(into, data.subarray(offset, offset + 5000), `${name} readAt ${offset}`);
        }
      }
      assert.bytes(concat(got), data, `${name} in order`);
      await fs.seek(123_457);
      const rest = [];
      while ((chunk = await fs.readChunk()) !== null) rest.push(chunk);
      assert.bytes(concat(rest), data.subarray(123_457), `${name} after a backward seek`);
      fs.close();
    }
  });

  test('seek then read, read(into) and the BYOB readable()', async () => {
    const data = sample(100_000, 3);
    const fs = await FileStream.open(new Blob([await sealBytes(lib, data, { chunkSize: 8192 })]), {
      isCompressed: true,
    });
    await fs.seek(50_000);
    assert.equal(fs.position, 50_000);
    const into = new Uint8Array(1000);
    const n = await fs.read(into);
    assert.ok(n > 0 && n <= 1000);
    assert.bytes(into.subarray(0, n), data.subarray(50_000, 50_000 + n));
    await fs.seek(99_000);
    if (byteStreams) {
      const reader = fs.readable().getReader({ mode: 'byob' });
      let got = 0;
      const rest = new Uint8Array(1000);
      for (;;) {
        const { done, value } = await reader.read(new Uint8Array(300));
        if (done) break;
        rest.set(value, got);
        got += value.length;
      }
      assert.bytes(rest.subarray(0, got), data.subarray(99_000));
    } else {
      // No byte streams in this engine (WebKit): readable() is a default stream.
      let threw = false;
      try {
        fs.readable().getReader({ mode: 'byob' });
      } catch {
        threw = true;
      }
      assert.ok(threw, 'no BYOB reader where the engine has no byte streams');
      assert.bytes(await collect(fs.readable()), data.subarray(99_000), 'the rest, default reader');
    }
    await fs.seek(0);
    assert.bytes(await collect(fs.readable()), data, 'default reader');
    await assert.rejects(fs.seek(100_001), lib, 'Validation', 'INVALID_OFFSET');
  });

  test('progress and ETA report position, total, speed and time', async () => {
    const data = sample(2_000_000, 5, true);
    const fs = await FileStream.open(new Blob([await sealBytes(lib, data, { compress: 1, chunkSize: 65536 })]), {
      isCompressed: true,
    });
    const start = fs.progress();
    assert.equal(start.bytesRead, 0);
    assert.equal(start.totalBytes, data.length);
    for (let i = 0; i < 10; i++) await fs.readChunk();
    const mid = fs.progress();
    assert.equal(mid.bytesRead, 655_360);
    assert.ok(mid.elapsed >= 0 && typeof mid.readSpeed === 'number');
    const eta = fs.estimatedTimeRemaining();
    assert.ok(eta === null || eta >= 0, `eta ${eta}`);
    if (mid.readSpeed > 0) {
      const expected = ((mid.totalBytes - mid.bytesRead) / mid.readSpeed) * 1000;
      assert.ok(Math.abs(eta - expected) <= expected * 0.5 + 5, `eta ${eta} vs ${expected}`);
    }
    await readAll(fs);
    assert.equal(fs.estimatedTimeRemaining(), 0);
    const stats = fs.getStats();
    for (const field of [
      'bytesRead',
      'readOps',
      'chunksRead',
      'seeks',
      'storedBytesRead',
      'decompressedBytes',
      'decryptedBytes',
      'poolHits',
      'poolMisses',
      'peakBufferedBytes',
      'elapsed',
      'readSpeed',
    ]) {
      assert.equal(typeof stats[field], 'number', field);
    }
    assert.equal(stats.bytesRead, data.length);
    assert.equal(stats.decompressedBytes >= data.length, true);
    fs.close();
    assert.equal(fs.getStats().bytesRead, data.length, 'stats survive close');
    const unknown = await FileStream.open(
      streamOf(await collect(new Blob([data]).stream().pipeThrough(new CompressionStream('gzip')))),
      {
        isCompressed: true,
      },
    );
    assert.equal(unknown.size, null);
    assert.equal(unknown.estimatedTimeRemaining(), null);
    assert.equal(unknown.progress().totalBytes, null);
    assert.bytes(await readAll(unknown), data, 'gzip from CompressionStream');
    assert.equal(unknown.size, data.length);
  });

  return list;
}
