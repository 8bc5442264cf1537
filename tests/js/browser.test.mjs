// Runs the shared suite in headless Chromium (Debian's, driven by playwright-core): serves the
// installed package and this folder with cross-origin isolation, loads browser/index.html and
// turns each case's result into a node:test subtest.
// Environment: NOVUSPACK_PKG (the folder holding node_modules/novuspack-stream),
// NOVUSPACK_VECTORS, NOVUSPACK_SERVE (path of scripts/serve.mjs), NOVUSPACK_HEAVY=0,
// NOVUSPACK_REPORT.
import { test } from 'node:test';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCipheriv, randomBytes } from 'node:crypto';
import { launchChromium } from './chromium.mjs';
import { sample } from './suite.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// The installed copy of these tests lives elsewhere: the runner says where serve.mjs is.
const { serve } = await import(process.env.NOVUSPACK_SERVE ?? new URL('../../scripts/serve.mjs', import.meta.url).href);
const pkg = process.env.NOVUSPACK_PKG;
const data = join(pkg, 'browser-data');


function prepareData() {
  mkdirSync(data, { recursive: true });
  const dir = process.env.NOVUSPACK_VECTORS;
  const vectors = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
  writeFileSync(join(data, 'vectors.json'), JSON.stringify(vectors));
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const plaintext = sample(200_000, 99, true);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  writeFileSync(join(data, 'v1.bin'), Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
  writeFileSync(join(data, 'v1-plain.bin'), plaintext);
  writeFileSync(join(data, 'v1.json'), JSON.stringify({ key: key.toString('hex') }));
}

test('the shared suite in headless Chromium', { timeout: 20 * 60 * 1000 }, async (t) => {
  prepareData();
  const server = await serve({ '/pkg/': pkg, '/tests/': here, '/data/': data });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const heavy = process.env.NOVUSPACK_HEAVY === '0' ? '0' : '1';
    await page.goto(`${server.url}/tests/browser/index.html?heavy=${heavy}`);
    await page.waitForFunction(() => window.__results, null, { timeout: 18 * 60 * 1000, polling: 500 });
    const { results, isolated, figures } = await page.evaluate(() => window.__results);
    if (process.env.NOVUSPACK_REPORT) appendFileSync(process.env.NOVUSPACK_REPORT, `${JSON.stringify({ runtime: 'chromium', ...figures })}\n`);
    await t.test('the page is cross-origin isolated', () => {
      if (!isolated) throw new Error('crossOriginIsolated is false');
    });
    if (results.length === 0) throw new Error(`no results; page errors: ${errors.join('\n')}`);
    for (const r of results) {
      await t.test(r.name, () => {
        if (!r.ok) throw new Error(r.error);
      });
    }
  } finally {
    await browser.close();
    await server.close();
  }
});
