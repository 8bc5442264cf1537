// The demo page's remote panels in headless Chromium, served as `npm start` serves them: open a
// sealed file by URL (from the fault-injecting server, another origin) and read it at offsets
// (one request per chunk), then seal a WebM made by ffmpeg and play it with a seek through the
// demo's Service Worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKey, keyToHex, seal } from 'novuspack-stream';
import { serve } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';
import { startHttpServer } from './http-server.mjs';
import { sample } from './suite.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('demo: open a sealed file by URL, read it; seal a video and seek in it', { timeout: 180_000 }, async () => {
  const origin = await startHttpServer();
  const site = await serve({ '/': join(root, 'www'), '/pkg-js/': join(root, 'pkg-js') });
  const browser = await launchChromium();
  try {
    const key = generateKey();
    const plain = sample(3 * 1024 * 1024, 21);
    origin.put('demo.sealed', new Uint8Array(await new Response(seal(plain, { key, chunkSize: 65536 })).arrayBuffer()));
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${site.url}/`);
    await page.fill('#url-input', `${origin.url}/demo.sealed`);
    await page.fill('#url-key', keyToHex(key));
    await page.click('#url-open');
    await page.waitForSelector('#url-viewer:not([hidden])', { timeout: 60_000 });
    assert.match(
      await page.textContent('#url-status'),
      /3\.1 MB \(sealed, encrypted, 48 chunks\) · opened with 2 requests/,
    );
    for (const offset of [0, 1_000_000, plain.length - 64]) {
      await page.fill('#url-offset', String(offset));
      await page.waitForFunction((o) => document.getElementById('url-hex').dataset.offset === String(o), offset);
      const shown = (await page.textContent('#url-hex')).replaceAll(' ', '');
      assert.equal(shown, Buffer.from(plain.subarray(offset, offset + 64)).toString('hex'), `bytes at ${offset}`);
    }
    assert.match(await page.textContent('#url-time'), /readAt\(\d+\): [\d.]+ ms, 1 request$/);

    const webm = join(mkdtempSync(join(tmpdir(), 'novuspack-demo-')), 'clip.webm');
    execFileSync('ffmpeg', [
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=duration=4:size=320x240:rate=25',
      '-c:v',
      'libvpx-vp9',
      '-g',
      '25',
      '-deadline',
      'realtime',
      '-y',
      webm,
    ]);
    await page.setInputFiles('#video-file', { name: 'clip.webm', mimeType: 'video/webm', buffer: readFileSync(webm) });
    await page.click('#video-play');
    const seeked = await page.evaluate(async () => {
      const video = document.getElementById('video');
      while (video.currentTime < 0.2) {
        if (video.error) throw new Error(`video error ${video.error.code}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const done = new Promise((r) => video.addEventListener('seeked', r, { once: true }));
      video.currentTime = 2.5;
      await done;
      return new Promise((r) => video.requestVideoFrameCallback((now, meta) => r(meta.mediaTime)));
    });
    assert.ok(Math.abs(seeked - 2.5) < 0.25, `a frame at ${seeked} after seeking to 2.5 s`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await site.close();
    await origin.close();
  }
});
