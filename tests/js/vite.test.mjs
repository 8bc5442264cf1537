// A Vite production build of a small page that imports the installed package and starts its
// worker pool, with no plugins and no manual copying of the .wasm or the worker script (Vite
// follows `new URL(..., import.meta.url)` and `new Worker(new URL(...))`), served as static
// files and run in headless Chromium.
// Environment: NOVUSPACK_PKG (the test project), NOVUSPACK_SERVE (scripts/serve.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { launchChromium } from './chromium.mjs';

const { serve } = await import(process.env.NOVUSPACK_SERVE);
const app = join(process.env.NOVUSPACK_PKG, 'vite-app');

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>vite + novuspack-stream</title></head>
<body><pre id="out">loading</pre><script type="module" src="./main.js"></script></body></html>
`;

const MAIN = `import { FileStream, seal, generateKey, StreamError, StreamingWorkerPool, memoryUsage } from 'novuspack-stream';

const key = generateKey();
const text = 'bundled by vite; '.repeat(50000);
const data = new TextEncoder().encode(text);
const sealed = await new Response(seal(new Blob([data]), { key, compress: true, chunkSize: 65536 })).blob();
const stream = await FileStream.open(sealed, { key });
const part = new Uint8Array(17);
await stream.readAt(part, 17 * 1000);
let wrongKey = null;
try {
  await FileStream.open(sealed, { key: generateKey() });
} catch (e) {
  wrongKey = e instanceof StreamError ? e.code : String(e);
}
const pool = new StreamingWorkerPool({ maxWorkers: 2 });
await pool.start();
const pooled = await pool.open(sealed, { key });
let pooledBytes = 0;
for await (const chunk of pooled) pooledBytes += chunk.length;
const stats = pool.getStreamingStats();
await pool.stop();
window.__result = {
  transport: pool.transport,
  pooledBytes,
  pooledJobs: stats.jobsProcessed,
  size: stream.size,
  part: new TextDecoder().decode(part),
  sealedSize: sealed.size,
  wrongKey,
  wasm: memoryUsage().wasmMemory,
};
document.getElementById('out').textContent = JSON.stringify(window.__result);
`;

test(
  'a Vite build loads the package, its wasm and its worker pool in Chromium',
  { timeout: 5 * 60 * 1000 },
  async () => {
    rmSync(app, { recursive: true, force: true });
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'index.html'), PAGE);
    writeFileSync(join(app, 'main.js'), MAIN);
    await build({ root: app, logLevel: 'warn', build: { outDir: join(app, 'dist'), target: 'es2022' } });
    const assets = readdirSync(join(app, 'dist', 'assets'));
    assert.ok(
      assets.some((f) => f.endsWith('.wasm')),
      `the .wasm is emitted as an asset: ${assets.join(', ')}`,
    );
    const server = await serve({ '/': join(app, 'dist') });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => window.__result, null, { timeout: 60_000 });
      const result = await page.evaluate(() => window.__result);
      assert.equal(result.transport, 'shared', 'the bundled worker runs, on the SharedArrayBuffer ring');
      assert.equal(result.pooledBytes, 17 * 50000);
      assert.ok(result.pooledJobs >= 13, `the workers decoded the chunks: ${result.pooledJobs}`);
      assert.equal(result.size, 17 * 50000);
      assert.equal(result.part, 'bundled by vite; ');
      assert.ok(result.sealedSize < (17 * 50000) / 10, 'compressed');
      assert.equal(result.wrongKey, 'AUTH_FAILED');
      assert.ok(result.wasm > 0);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
);
