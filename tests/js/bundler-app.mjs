// The small app every bundler test builds (vite.test.mjs, vite-dev.test.mjs, webpack.test.mjs,
// esbuild.test.mjs): it imports the installed package by its bare name, seals a text, opens it
// with FileStream.open, reads with readAt, checks a wrong key, then starts a StreamingWorkerPool
// of 2 workers and reads the sealed Blob through pool.open (bytes compared); it publishes what
// it saw in window.__result. runApp() opens the page in Chromium and checks that result.
import assert from 'node:assert/strict';
import { launchChromium } from './chromium.mjs';

/** The phrase the app seals, repeated: `bundled by <name>; `. */
const phrase = (name) => `bundled by ${name}; `;
const REPEAT = 50000;

/** The page: `script` is the bundle (or the module to serve), `module` whether it is an ES module. */
export function appPage(script, { module = true } = {}) {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>novuspack-stream in a bundle</title></head>
<body><pre id="out">loading</pre><script ${module ? 'type="module" ' : ''}src="${script}"></script></body></html>
`;
}

/** The app's source (main.js) for the bundler `name`. */
export function appSource(name) {
  return `import { FileStream, seal, generateKey, StreamError, StreamingWorkerPool, memoryUsage } from 'novuspack-stream';

async function main() {
  const key = generateKey();
  const data = new TextEncoder().encode(${JSON.stringify(phrase(name))}.repeat(${REPEAT}));
  const sealed = await new Response(seal(new Blob([data]), { key, compress: true, chunkSize: 65536 })).blob();
  const stream = await FileStream.open(sealed, { key });
  const part = new Uint8Array(${phrase(name).length});
  await stream.readAt(part, ${phrase(name).length} * 1000);
  stream.close();
  let wrongKey = null;
  try {
    await FileStream.open(sealed, { key: generateKey() });
  } catch (e) {
    wrongKey = e instanceof StreamError ? e.code : String(e);
  }
  const pool = new StreamingWorkerPool({ maxWorkers: 2 });
  await pool.start();
  const pooled = await pool.open(sealed, { key });
  const got = new Uint8Array(data.length);
  let pooledBytes = 0;
  let pooledSame = true;
  for await (const chunk of pooled) {
    if (pooledBytes + chunk.length > data.length) {
      pooledSame = false;
      break;
    }
    got.set(chunk, pooledBytes);
    pooledBytes += chunk.length;
  }
  pooledSame &&= pooledBytes === data.length && got.every((b, i) => b === data[i]);
  const again = await pool.open(sealed, { key });
  const tail = new Uint8Array(100);
  await again.readAt(tail, data.length - 100);
  again.close();
  const stats = pool.getStreamingStats();
  await pool.stop();
  return {
    transport: pool.transport,
    totalWorkers: stats.totalWorkers,
    workersUsed: stats.workers.filter((w) => w.jobs > 0).length,
    pooledBytes,
    pooledSame,
    pooledTail: tail.every((b, i) => b === data[data.length - 100 + i]),
    pooledJobs: stats.jobsProcessed,
    size: stream.size,
    part: new TextDecoder().decode(part),
    sealedSize: sealed.size,
    wrongKey,
    wasm: memoryUsage().wasmMemory,
  };
}

main().then(
  (result) => {
    window.__result = result;
    document.getElementById('out').textContent = JSON.stringify(result);
  },
  (error) => {
    window.__result = { error: String(error?.stack ?? error) };
    document.getElementById('out').textContent = window.__result.error;
  },
);
`;
}

/**
 * Opens `url` in Chromium, waits for the app's result and checks it: the round trip, the wrong
 * key, and the pool's 2 workers (on the SharedArrayBuffer ring: the page is cross-origin
 * isolated) giving back every byte.
 */
export async function runApp(url, name) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // Every failed request but the browser's own favicon request is an error.
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(url);
    await page.waitForFunction(() => window.__result, null, { timeout: 120_000 });
    const result = await page.evaluate(() => window.__result);
    assert.equal(result.error, undefined, `the app failed: ${result.error}\n${errors.join('\n')}`);
    const size = phrase(name).length * REPEAT;
    assert.equal(result.transport, 'shared', 'the bundled worker runs, on the SharedArrayBuffer ring');
    assert.equal(result.totalWorkers, 2);
    assert.ok(result.workersUsed >= 1, 'the workers decoded the chunks');
    assert.equal(result.pooledBytes, size);
    assert.ok(result.pooledSame, 'pool.open gives back every byte');
    assert.ok(result.pooledTail, 'readAt through the pool');
    assert.ok(result.pooledJobs >= 13, `the workers decoded the chunks: ${result.pooledJobs}`);
    assert.equal(result.size, size);
    assert.equal(result.part, phrase(name));
    assert.ok(result.sealedSize < size / 10, 'compressed');
    assert.equal(result.wrongKey, 'AUTH_FAILED');
    assert.ok(result.wasm > 0);
    assert.deepEqual(errors, []);
    return result;
  } finally {
    await browser.close();
  }
}
