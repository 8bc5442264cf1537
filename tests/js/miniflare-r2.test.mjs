// The Cloudflare Worker example's /media route reading a sealed object in place from an R2
// bucket, on miniflare (the simulator Cloudflare ships: its local R2 and its own workerd). The
// example's R2 adapter (src/r2-fetch.js) turns httpSource's Range requests into ranged
// `bucket.get`s; the object is read whole and by ranges, every byte checked, and a replaced
// object fails with RESOURCE_CHANGED rather than mixing versions. 256 MiB (16 MiB with
// NOVUSPACK_QUICK=1). Environment: NOVUSPACK_PKG, NOVUSPACK_WORKER_EXAMPLE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Miniflare } from 'miniflare';
import { generateKey, keyToHex, seal } from 'novuspack-stream';
import { bundleWorker } from './workerd.mjs';
import { block, blocks, verifyBlocks } from './blocks.mjs';

const pkg = process.env.NOVUSPACK_PKG;
const MiB = 1024 * 1024;
const total = process.env.NOVUSPACK_QUICK === '1' ? 16 * MiB : 256 * MiB;
const key = generateKey();
let mf;
let bucket;

function plainAt(offset, length) {
  const out = new Uint8Array(length);
  for (let at = 0; at < length;) {
    const b = Math.floor((offset + at) / MiB) * MiB;
    const within = offset + at - b;
    const n = Math.min(MiB - within, length - at);
    out.set(block(b).subarray(within, within + n), at);
    at += n;
  }
  return out;
}

before(async () => {
  cpSync(dirname(process.env.NOVUSPACK_WORKER_EXAMPLE), join(pkg, 'worker-r2-src'), { recursive: true });
  const dir = join(pkg, 'miniflare-r2');
  const { script, wasm } = await bundleWorker({ entry: join(pkg, 'worker-r2-src', 'index.js'), dir });
  mf = new Miniflare({
    modules: [
      { type: 'ESModule', path: 'worker.js', contents: readFileSync(script, 'utf8') },
      ...wasm.map((w) => ({ type: 'CompiledWasm', path: w, contents: readFileSync(join(dir, w)) })),
    ],
    // miniflare's own workerd: a date it knows.
    compatibilityDate: '2026-04-01',
    r2Buckets: ['MEDIA'],
    bindings: { SEAL_KEY: keyToHex(key) },
  });
  await mf.ready;
  bucket = await mf.getR2Bucket('MEDIA');
  const sealed = new Uint8Array(await new Response(seal(blocks(total), { key, chunkSize: 256 * 1024 })).arrayBuffer());
  await bucket.put('big.sealed', sealed);
});

after(() => mf?.dispose());

const media = (name, headers = {}) => mf.dispatchFetch(`http://localhost/media/${name}`, { headers });

test(`R2: a ${total / MiB} MiB sealed object served whole and by ranges`, { timeout: 600_000 }, async () => {
  const whole = await media('big.sealed');
  assert.equal(whole.status, 200);
  assert.equal(await verifyBlocks(whole.body), total);
  let x = 11;
  for (let i = 0; i < 10; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const start = x % (total - 2 * MiB);
    const length = 1 + (x % (2 * MiB));
    const response = await media('big.sealed', { range: `bytes=${start}-${start + length - 1}` });
    assert.equal(response.status, 206);
    assert.equal(response.headers.get('content-range'), `bytes ${start}-${start + length - 1}/${total}`);
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), plainAt(start, length), `range ${start}+${length}`);
  }
  const tail = await media('big.sealed', { range: 'bytes=-777' });
  assert.equal(tail.status, 206);
  assert.deepEqual(new Uint8Array(await tail.arrayBuffer()), plainAt(total - 777, 777));
  const missing = await media('nothing.sealed');
  assert.equal(missing.status, 404);
  await missing.arrayBuffer();
});

test('R2: an object replaced while it is read fails, never mixing versions', async () => {
  const a = new Uint8Array(await new Response(seal(blocks(8 * MiB), { key, chunkSize: 64 * 1024 })).arrayBuffer());
  await bucket.put('swap.sealed', a);
  const response = await media('swap.sealed');
  assert.equal(response.status, 200);
  const reader = response.body.getReader();
  const first = await reader.read();
  assert.deepEqual(first.value, plainAt(0, first.value.length));
  // Same plaintext, sealed again: another salt, so other stored bytes and another ETag.
  const b = new Uint8Array(await new Response(seal(blocks(8 * MiB), { key, chunkSize: 64 * 1024 })).arrayBuffer());
  await bucket.put('swap.sealed', b);
  let got = first.value.length;
  let failed = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      assert.deepEqual(value, plainAt(got, value.length), 'bytes of the first version only');
      got += value.length;
    }
  } catch {
    failed = true;
  }
  // Either read-ahead had everything before the swap (the first version, whole), or the body failed.
  assert.ok(failed || got === 8 * MiB, `${got} bytes, failed: ${failed}`);
});
