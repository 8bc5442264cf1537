// The demo's package panel in headless Chromium: a package written by writePackage (zstd text,
// an LZ4 PNG, an AES-256-GCM binary) opened from a file and from a URL, browsed as a tree,
// previewed as text, image and hex, and downloaded. Served as `npm start` serves the demo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { serve } from '../../scripts/serve.mjs';
import { launchChromium } from './chromium.mjs';
import { writePackage } from '../../pkg-js/src/entry-node.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A 40x30 RGB PNG (filter 0 rows), a real image for the preview. */
function png(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b) => {
    let c = ~0;
    for (const x of b) c = crcTable[(c ^ x) & 255] ^ (c >>> 8);
    return ~c >>> 0;
  };
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows.set([x * 6, y * 8, 128], y * (1 + width * 3) + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test(
  'demo: browse a package from a file and from a URL; preview text, image and hex',
  { timeout: 5 * 60 * 1000 },
  async () => {
    const key = new Uint8Array(32).fill(3);
    const text = Buffer.from('Hello from a NovusPack package.\n'.repeat(2000));
    const binary = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 37) & 255));
    const image = png(40, 30);
    const bytes = Buffer.from(
      await new Response(
        writePackage(
          [
            { path: '/docs/readme.txt', source: text, compression: 'zstd' },
            { path: '/img/logo.png', source: image, compression: 'lz4' },
            { path: '/data/blob.bin', source: binary, encryption: 'aes-256-gcm', key },
          ],
          { comment: 'demo package' },
        ),
      ).arrayBuffer(),
    );
    const files = mkdtempSync(join(tmpdir(), 'novuspack-demo-'));
    writeFileSync(join(files, 'assets.nvpk'), bytes);
    const server = await serve({ '/': join(root, 'www'), '/pkg-js/': join(root, 'pkg-js'), '/files/': files });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1600 } });
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() =>
        document.getElementById('runtime').textContent.startsWith('crossOriginIsolated'),
      );
      await page.setInputFiles('#package-file', {
        name: 'assets.nvpk',
        mimeType: 'application/octet-stream',
        buffer: bytes,
      });
      await page.waitForSelector('#package-tree .entry');
      assert.match(await page.textContent('#package-status'), /3 entries.*comment: demo package/);
      assert.deepEqual(await page.$$eval('#package-tree summary', (s) => s.map((x) => x.textContent)), [
        'data/',
        'docs/',
        'img/',
      ]);
      // Text.
      await page.click('.entry[data-path="/docs/readme.txt"]');
      await page.waitForSelector('#package-preview[data-path="/docs/readme.txt"]');
      assert.equal(await page.getAttribute('#package-preview', 'data-bytes'), String(text.length));
      assert.match(
        await page.textContent('#package-preview-body pre[data-kind="text"]'),
        /^Hello from a NovusPack package\./,
      );
      // Image.
      await page.click('.entry[data-path="/img/logo.png"]');
      await page.waitForSelector('#package-preview[data-path="/img/logo.png"]');
      await page.waitForFunction(() => document.querySelector('#package-preview-body img')?.naturalWidth === 40);
      // Encrypted: without the key a typed error, with it a hex preview.
      await page.click('.entry[data-path="/data/blob.bin"]');
      await page.waitForFunction(() => /KEY_REQUIRED/.test(document.getElementById('package-status').textContent));
      await page.fill('#package-key', '03'.repeat(32));
      await page.click('.entry[data-path="/data/blob.bin"]');
      await page.waitForSelector('#package-preview[data-path="/data/blob.bin"]');
      assert.match(await page.textContent('#package-preview-body pre[data-kind="hex"]'), /^00 25 4a 6f/);
      const downloaded = await page.evaluate(async () => {
        const b = await (await fetch(document.getElementById('package-download').href)).arrayBuffer();
        return Array.from(new Uint8Array(b));
      });
      assert.deepEqual(Buffer.from(downloaded), binary);
      // From a URL: only records and the entries opened are fetched.
      await page.fill('#package-url', `${server.url}/files/assets.nvpk`);
      await page.click('#package-open-url');
      await page
        .waitForFunction(() => /assets\.nvpk: 3 entries/.test(document.getElementById('package-status').textContent))
        .catch(async (e) => {
          throw new Error(`${e.message}: the status says ${await page.textContent('#package-status')}`);
        });
      await page.click('.entry[data-path="/docs/readme.txt"]');
      await page.waitForSelector('#package-preview[data-path="/docs/readme.txt"]');
      mkdirSync(join(root, 'build'), { recursive: true });
      await page.screenshot({ path: join(root, 'build', 'demo-package.png'), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
);
