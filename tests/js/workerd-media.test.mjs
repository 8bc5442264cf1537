// The Cloudflare Worker example's /media route on the real workerd: the sealed object lives on
// an origin (the fault-injecting server here, reached through a service binding, as a Worker
// reaches its origin), and the worker serves its decrypted bytes with Range support. A 256 MiB
// object (32 MiB with NOVUSPACK_QUICK=1) is read whole and by random ranges while the isolate's
// memory is sampled through the inspector: it must stay under workerd's 128 MB limit. A damaged
// object never yields an unverified byte. Run with node --experimental-websocket (Node 20).
// Environment: NOVUSPACK_PKG, NOVUSPACK_WORKER_EXAMPLE (the example's src/index.js), NOVUSPACK_REPORT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateKey, keyToHex, seal } from 'novuspack-stream';
import { startHttpServer } from './http-server.mjs';
import { startWorkerd } from './workerd.mjs';
import { inspect, isolateBytes, rss, sampled } from './workerd-inspect.mjs';
import { block, blocks, verifyBlocks } from './blocks.mjs';

const pkg = process.env.NOVUSPACK_PKG;
const MiB = 1024 * 1024;
const total = process.env.NOVUSPACK_QUICK === '1' ? 32 * MiB : 256 * MiB;
const key = generateKey();
let origin;
let workerd;
let plainAt;

before(async () => {
  origin = await startHttpServer();
  const sealed = new Uint8Array(await new Response(seal(blocks(total), { key, chunkSize: 256 * 1024 })).arrayBuffer());
  origin.put('big.sealed', sealed);
  const damaged = sealed.slice(0, 8 * MiB + 5000);
  plainAt = (offset, length) => {
    const out = new Uint8Array(length);
    for (let at = 0; at < length;) {
      const b = Math.floor((offset + at) / MiB) * MiB;
      const within = offset + at - b;
      const n = Math.min(MiB - within, length - at);
      out.set(block(b).subarray(within, within + n), at);
      at += n;
    }
    return out;
  };
  const tampered = sealed.slice();
  tampered[Math.floor(sealed.length / 2)] ^= 1;
  origin.put('tampered.sealed', tampered);
  origin.put('short.sealed', damaged);
  cpSync(dirname(process.env.NOVUSPACK_WORKER_EXAMPLE), join(pkg, 'worker-media-src'), { recursive: true });
  workerd = await startWorkerd({
    entry: join(pkg, 'worker-media-src', 'index.js'),
    dir: join(pkg, 'workerd-media'),
    bindings: { SEAL_KEY: keyToHex(key) },
    services: { ORIGIN: origin.url.replace('http://', '') },
    probe: '/stats',
  });
});

after(async () => {
  workerd?.stop();
  await origin?.close();
});

const media = (name, headers = {}) => fetch(`${workerd.base}/media/${name}`, { headers });

test(
  `GET /media: a ${total / MiB} MiB sealed object from the origin, whole and by ranges, under 128 MB`,
  { timeout: 600_000 },
  async () => {
    const session = await inspect(workerd.inspectorPort);
    // An open inspector session keeps workerd (and this process) alive: always close it.
    try {
      await underLimit(session);
    } finally {
      session.close();
    }
  },
);

/** Reads the object whole, then by ranges, sampling the isolate's memory; checks the limit. */
async function underLimit(session) {
  const idle = { isolate: await isolateBytes(session), rss: rss(workerd.pid) };
  const [seen, whole] = await sampled(session, workerd.pid, async () => {
    const response = await media('big.sealed');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-length'), String(total));
    assert.equal(response.headers.get('accept-ranges'), 'bytes');
    return verifyBlocks(response.body);
  });
  assert.equal(seen, total);
  const [, ranges] = await sampled(session, workerd.pid, async () => {
    let x = 7;
    for (let i = 0; i < 12; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const start = x % (total - 3 * MiB);
      const length = 1 + (x % (3 * MiB));
      const response = await media('big.sealed', { range: `bytes=${start}-${start + length - 1}` });
      assert.equal(response.status, 206);
      assert.equal(response.headers.get('content-range'), `bytes ${start}-${start + length - 1}/${total}`);
      assert.deepEqual(
        new Uint8Array(await response.arrayBuffer()),
        plainAt(start, length),
        `range ${start}+${length}`,
      );
    }
    const tail = await media('big.sealed', { range: 'bytes=-1000' });
    assert.equal(tail.status, 206);
    assert.deepEqual(new Uint8Array(await tail.arrayBuffer()), plainAt(total - 1000, 1000));
    const past = await media('big.sealed', { range: `bytes=${total}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${total}`);
    await past.arrayBuffer();
  });
  const figures = { object: total, idle, whole, ranges };
  if (process.env.NOVUSPACK_REPORT)
    appendFileSync(process.env.NOVUSPACK_REPORT, `${JSON.stringify({ runtime: 'workerd', mediaRoute: figures })}\n`);
  console.log(`# workerd /media: ${JSON.stringify(figures)}`);
  for (const peak of [whole, ranges]) {
    assert.ok(peak.isolate < 128 * MiB, `the isolate reached ${(peak.isolate / MiB).toFixed(1)} MiB`);
  }
}

test('GET /media: damaged and missing objects never give unverified bytes', async () => {
  const response = await media('tampered.sealed');
  assert.equal(response.status, 200);
  const reader = response.body.getReader();
  let got = 0;
  let failed = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      assert.deepEqual(value, plainAt(got, value.length), 'only verified bytes');
      got += value.length;
    }
  } catch {
    failed = true;
  }
  assert.ok(failed, 'the body fails');
  assert.ok(got <= total / 2, `stopped before the damaged chunk (${got} bytes)`);
  const missing = await media('no-such.sealed');
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'READ_FAILED');
  const cut = await media('short.sealed');
  assert.ok(cut.status >= 400, `a truncated object: ${cut.status}`);
  await cut.arrayBuffer();
});
