// Launching Debian's Chromium for tests (playwright-core cannot download browsers here): the
// flags keep it from reaching for the network at start.
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function launchChromium() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * Serves `mounts` (with `serve` from scripts/serve.mjs, cross-origin isolated unless `isolate`
 * is false), opens `path` in Chromium, waits for the page's `window.__results` and returns it.
 */
export async function pageResults(serve, mounts, path, { isolate = true, timeout }) {
  const server = await serve(mounts, { isolate });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}${path}`);
    await page.waitForFunction(() => window.__results, null, { timeout, polling: 500 });
    const results = await page.evaluate(() => window.__results);
    if (results.results.length === 0) throw new Error(`no results; page errors: ${errors.join('\n')}`);
    return results;
  } finally {
    await browser.close();
    await server.close();
  }
}

/** One node:test subtest per case the page ran ({ name, ok, error, skipped }). */
export async function reportCases(t, results, prefix = '') {
  for (const r of results) {
    await t.test(`${prefix}${r.name}`, { skip: r.skipped ?? false }, () => {
      if (!r.ok) throw new Error(r.error);
    });
  }
}
