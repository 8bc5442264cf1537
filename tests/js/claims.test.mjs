// Two README claims about browsers, in Chromium against the installed package: the package
// works under the strict Content Security Policy the README gives (`script-src 'self'
// 'wasm-unsafe-eval'; worker-src 'self'`, nothing else allowed), wasm compiled, workers
// started, the package module loaded; and an engine without WebAssembly SIMD gets the plain
// build (wasmBuild().simd false) and works the same.
// Environment: NOVUSPACK_PKG, NOVUSPACK_SERVE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { serve } = await import(process.env.NOVUSPACK_SERVE ?? new URL('../../scripts/serve.mjs', import.meta.url).href);
// The README's policy, plus the hash of the page's own inline import map (a page's choice,
// not something the package needs).
const html = readFileSync(join(here, 'browser', 'claims.html'), 'utf8');
const importMap = html.match(/<script type="importmap">([\s\S]*?)<\/script>/)[1];
const hash = createHash('sha256').update(importMap).digest('base64');
const CSP = `default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-${hash}'; worker-src 'self'`;

async function run(query) {
  const server = await serve(
    { '/pkg/': process.env.NOVUSPACK_PKG, '/tests/': here },
    { headers: { 'Content-Security-Policy': CSP } },
  );
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // Resource errors are checked by URL below (the browser asks for /favicon.ico on its own).
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load') && errors.push(m.text()));
    page.on(
      'response',
      (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && errors.push(`${r.status()} ${r.url()}`),
    );
    await page.goto(`${server.url}/tests/browser/claims.html${query}`);
    await page.waitForFunction(() => window.__results, null, { timeout: 120_000 });
    return { ...(await page.evaluate(() => window.__results)), errors };
  } finally {
    await browser.close();
    await server.close();
  }
}

for (const [what, query, simd] of [
  ['the SIMD build', '', true],
  ['the plain build, on an engine without WebAssembly SIMD', '?nosimd=1', false],
]) {
  test(
    `under the README's strict CSP: ${what} seals, reads, runs the pool and a package`,
    { timeout: 180_000 },
    async () => {
      const r = await run(query);
      assert.equal(r.error, undefined, r.error);
      assert.deepEqual(r.violations, [], 'no CSP violation');
      assert.deepEqual(r.errors, [], 'no page error');
      assert.equal(r.readAt, true);
      assert.equal(r.pool, true);
      assert.equal(r.transport, 'shared');
      assert.equal(r.package, true);
      assert.equal(r.simd, simd, 'wasmBuild().simd');
    },
  );
}
