// The demo page in headless Chromium: upload a generated file, seal it with a key, reopen the
// result, check that the random-access viewer shows the right bytes, and take a screenshot.
// Served exactly as `npm start` serves it (www/ and pkg-js/ with cross-origin isolation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function content(length) {
  const out = Buffer.alloc(length);
  let x = 7;
  for (let i = 0; i < length; i++) {
    if ((i >> 12) % 2 === 0) out[i] = 97 + ((i * 7) % 26);
    else {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      out[i] = x >>> 24;
    }
  }
  return out;
}

test('demo: seal, reopen, random access, screenshot', { timeout: 5 * 60 * 1000 }, async () => {
  const server = await serve({ '/': join(root, 'www'), '/pkg-js/': join(root, 'pkg-js') });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() =>
      document.getElementById('runtime').textContent.startsWith('crossOriginIsolated: true'),
    );
    const data = content(12 * 1024 * 1024 + 321);
    await page.setInputFiles('#seal-file', { name: 'sample.bin', mimeType: 'application/octet-stream', buffer: data });
    await page.click('#seal-keygen');
    await page.selectOption('#seal-chunk', '65536');
    await page.click('#seal-start');
    await page.waitForSelector('#seal-result:not([hidden])', { timeout: 120_000 });
    assert.match(await page.textContent('#seal-status'), /sealed 12\.6 MB into [0-9.]+ MB \(5[0-9]\.[0-9]%\)/);
    await page.click('#seal-reopen');
    await page.waitForSelector('#viewer:not([hidden])', { timeout: 120_000 });
    assert.match(
      await page.textContent('#open-status'),
      /verified 12\.6 MB \(sealed, encrypted, compressed, 193 chunks of 65536 B\)/,
    );
    for (const offset of [0, 4095, 1234567, data.length - 100]) {
      await page.fill('#view-offset', String(offset));
      await page.waitForFunction((o) => document.getElementById('view-hex').dataset.offset === String(o), offset);
      const shown = await page.getAttribute('#view-hex', 'data-hex');
      assert.equal(shown, data.subarray(offset, offset + 256).toString('hex'), `bytes at ${offset}`);
    }
    assert.match(await page.textContent('#pool-stats'), /hits \d+/);
    // The worker pool sealed and opened it: its transport and every worker's share are shown.
    assert.equal(await page.getAttribute('#pool-summary', 'data-transport'), 'shared');
    const jobs = await page.$$eval('.worker-row', (rows) => rows.map((r) => Number(r.dataset.jobs)));
    assert.ok(jobs.length >= 1 && jobs.every((n) => n > 0), `per-worker tasks: ${jobs}`);
    mkdirSync(join(root, 'build'), { recursive: true });
    await page.screenshot({ path: join(root, 'build', 'demo.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('demo: a wrong key is reported as a typed error', { timeout: 5 * 60 * 1000 }, async () => {
  const server = await serve({ '/': join(root, 'www'), '/pkg-js/': join(root, 'pkg-js') });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.getElementById('runtime').textContent.startsWith('crossOriginIsolated'));
    await page.setInputFiles('#seal-file', {
      name: 'small.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello '.repeat(10000)),
    });
    await page.click('#seal-keygen');
    await page.click('#seal-start');
    await page.waitForSelector('#seal-result:not([hidden])');
    // Take the sealed file the page offers for download and open it with another key.
    const sealed = await page.evaluate(async () => {
      const blob = await (await fetch(document.getElementById('seal-download').href)).arrayBuffer();
      return Array.from(new Uint8Array(blob));
    });
    await page.setInputFiles('#open-file', {
      name: 'small.txt.sealed',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(sealed),
    });
    await page.fill('#open-key', 'ab'.repeat(32));
    await page.click('#open-start');
    await page.waitForFunction(() => document.getElementById('open-status').classList.contains('error'));
    assert.match(await page.textContent('#open-status'), /StreamError: Encryption AUTH_FAILED/);
    await page.fill('#open-key', 'not hex');
    await page.click('#open-start');
    await page.waitForFunction(() => /64 hex digits/.test(document.getElementById('open-status').textContent));
  } finally {
    await browser.close();
    await server.close();
  }
});
