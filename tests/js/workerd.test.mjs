// examples/cloudflare-worker on the real workerd binary (npm `workerd`): the example is bundled
// against the installed package with the `workerd` export condition (esbuild, as wrangler
// does; the .wasm stays a separate wasm module), a capnp config is generated, and real HTTP
// requests go through it, among them 256 MiB bodies both ways while workerd's memory is
// sampled through the inspector (the isolate's JS heap and ArrayBuffers, which is what the
// 128 MB limit counts; process RSS is reported too), and tampered bodies, which must never
// come back as unverified bytes. Run with node --experimental-websocket (Node 20).
// Environment: NOVUSPACK_PKG (the folder with node_modules/novuspack-stream), NOVUSPACK_REPORT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startWorkerd } from './workerd.mjs';
import { inspect, isolateBytes, rss, sampled } from './workerd-inspect.mjs';
import { block, blocks as plaintext, verifyBlocks as verify } from './blocks.mjs';
import { FileStream, seal, generateKey } from 'novuspack-stream';

const pkg = process.env.NOVUSPACK_PKG;
const exampleSrc = process.env.NOVUSPACK_WORKER_EXAMPLE;
const dir = join(pkg, 'workerd');
const MiB = 1024 * 1024;
const key = generateKey();
const hex = Buffer.from(key).toString('hex');
let workerd;
let base;
let inspectorPort;

function post(path, body, extra = {}) {
  return fetch(`${base}${path}`, { method: 'POST', body, duplex: 'half', ...extra });
}

before(async () => {
  // The example's source, resolved against the installed package (not the repository).
  cpSync(dirname(exampleSrc), join(pkg, 'worker-src'), { recursive: true });
  const entry = join(pkg, 'worker-src', 'index.js');
  workerd = await startWorkerd({ entry, dir, bindings: { SEAL_KEY: hex }, probe: '/stats' });
  base = workerd.base;
  inspectorPort = workerd.inspectorPort;
});

after(() => workerd?.stop());

test('small bodies: seal on the worker, unseal on the worker', async () => {
  const data = new TextEncoder().encode('hello workers '.repeat(5000));
  const sealed = new Uint8Array(await (await post('/seal', data)).arrayBuffer());
  const local = await FileStream.open(sealed, { key });
  assert.equal(local.size, data.length, 'the header carries no size for a streamed body, the index does');
  const back = await post('/unseal', sealed);
  assert.equal(back.status, 200);
  assert.deepEqual(new Uint8Array(await back.arrayBuffer()), data);
  const stats = await (await fetch(`${base}/stats`)).json();
  assert.ok(stats.wasmMemory > 0);
});

test('256 MiB each way streams through in bounded memory', { timeout: 10 * 60 * 1000 }, async () => {
  const total = 256 * MiB;
  const session = await inspect(inspectorPort);
  const idle = { isolate: await isolateBytes(session), rss: rss(workerd.pid) };
  // Seal on the worker; verify the sealed stream here as it arrives.
  const [sealedBytes, seal256] = await sampled(session, workerd.pid, async () => {
    const response = await post('/seal?level=1', plaintext(total));
    assert.equal(response.status, 200);
    const stream = await FileStream.open(response.body, { key, memoryLimit: 64 * MiB });
    return verify(stream.readable());
  });
  assert.equal(sealedBytes, total);
  // Seal here, unseal on the worker, verify what comes back.
  const [plainBytes, unseal256] = await sampled(session, workerd.pid, async () => {
    const response = await post('/unseal', seal(plaintext(total), { key, compress: 1 }));
    assert.equal(response.status, 200);
    return verify(response.body);
  });
  assert.equal(plainBytes, total);
  session.close();
  const { wasmMemory } = await (await fetch(`${base}/stats`)).json();
  const figures = { idle, seal: seal256, unseal: unseal256, wasmMemory };
  if (process.env.NOVUSPACK_REPORT)
    appendFileSync(process.env.NOVUSPACK_REPORT, `${JSON.stringify({ runtime: 'workerd', workerd256MiB: figures })}\n`);
  for (const peak of [seal256, unseal256]) {
    // What the 128 MB isolate limit counts: JS heap and ArrayBuffers, wasm memory included.
    assert.ok(peak.isolate < 128 * MiB, `the isolate reached ${(peak.isolate / MiB).toFixed(1)} MiB`);
  }
  assert.ok(wasmMemory <= 32 * MiB, `wasm memory ${wasmMemory}`);
});

test('tampered, foreign and unsealed bodies never come back as unverified bytes', async () => {
  const data = new Uint8Array(3 * MiB);
  for (let i = 0; i < data.length; i += MiB) data.set(block(i), i);
  const sealed = new Uint8Array(await new Response(seal(data, { key, chunkSize: 256 * 1024 })).arrayBuffer());

  const early = sealed.slice();
  early[100] ^= 1; // inside chunk 0: nothing is sent but a clean error
  let response = await post('/unseal', early);
  assert.equal(response.status, 422);
  assert.equal((await response.json()).error.code, 'AUTH_FAILED');

  const late = sealed.slice();
  late[Math.floor(sealed.length * 0.6)] ^= 1; // a later chunk: the transfer breaks there
  response = await post('/unseal', late);
  assert.equal(response.status, 200);
  const reader = response.body.getReader();
  let got = 0;
  let failed = false;
  let wrong = null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Checked outside the try: an assertion failure here must not count as the body failing.
      const expected = data.subarray(got, got + value.length);
      if (wrong === null && !value.every((b, i) => b === expected[i])) wrong = got;
      got += value.length;
    }
  } catch {
    failed = true;
  }
  assert.equal(wrong, null, `only verified bytes (bytes from offset ${wrong} differ)`);
  assert.ok(failed, 'the response body fails');
  assert.ok(got < data.length * 0.6, `stopped before the tampered chunk (${got} bytes)`);

  const foreign = new Uint8Array(await new Response(seal(data, { key: generateKey() })).arrayBuffer());
  response = await post('/unseal', foreign);
  assert.equal(response.status, 422);
  assert.equal((await response.json()).error.code, 'AUTH_FAILED');

  response = await post('/unseal', new TextEncoder().encode('not a sealed file at all, not even close'));
  assert.equal(response.status, 422);
  assert.equal((await response.json()).error.code, 'UNKNOWN_FORMAT');

  response = await post('/seal?level=42', data);
  assert.equal(response.status, 400);
  assert.equal((await response.json()).error.type, 'Validation');
});
