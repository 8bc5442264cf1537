// The shared JS suite, the pool suite (cross-origin isolated and not) and the package suite in
// Firefox (geckodriver) and WebKit (WebKitGTK's MiniBrowser through WebKitWebDriver, under
// Xvfb), against the installed package, over W3C WebDriver (webdriver.mjs): the same pages
// Chromium runs through Playwright. The 1 GiB case is skipped here (it runs in Chromium).
// Environment: NOVUSPACK_PKG, NOVUSPACK_DATA, NOVUSPACK_SERVE, NOVUSPACK_BROWSERS (default
// "firefox,webkit").
import { test } from 'node:test';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportCases } from './chromium.mjs';
import { BROWSERS, webdriverResults } from './webdriver.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { serve } = await import(process.env.NOVUSPACK_SERVE ?? new URL('../../scripts/serve.mjs', import.meta.url).href);
const mounts = { '/pkg/': process.env.NOVUSPACK_PKG, '/tests/': here, '/data/': process.env.NOVUSPACK_DATA };
const PAGES = [
  ['the JS suite', 'index.html?heavy=0', true],
  ['the pool suite, cross-origin isolated', 'pool.html', true],
  ['the pool suite, not isolated (message)', 'pool.html', false],
  ['the package suite', 'package.html', true],
];

for (const browser of (process.env.NOVUSPACK_BROWSERS ?? 'firefox,webkit').split(',')) {
  for (const [what, page, isolate] of PAGES) {
    test(
      `${what} in ${browser}`,
      { timeout: 15 * 60 * 1000, skip: BROWSERS[browser].available() ? false : `${browser} is not installed` },
      async (t) => {
        const server = await serve(mounts, { isolate });
        try {
          const { results, isolated } = await webdriverResults(browser, `${server.url}/tests/browser/${page}`, {
            timeout: 12 * 60 * 1000,
          });
          if (results.length === 0) throw new Error('no results');
          await t.test(`the page is ${isolate ? '' : 'not '}cross-origin isolated`, () => {
            if (isolated !== isolate) throw new Error(`crossOriginIsolated is ${isolated}`);
          });
          await reportCases(t, results);
        } finally {
          await server.close();
        }
      },
    );
  }
}
