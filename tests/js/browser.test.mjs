// Runs the shared suite in headless Chromium (Debian's, driven by playwright-core): serves the
// installed package and this folder with cross-origin isolation, loads browser/index.html and
// turns each case's result into a node:test subtest.
// Environment: NOVUSPACK_PKG (the folder holding node_modules/novuspack-stream),
// NOVUSPACK_DATA (prepare-data.mjs output), NOVUSPACK_SERVE (path of scripts/serve.mjs),
// NOVUSPACK_HEAVY=0, NOVUSPACK_REPORT.
import { test } from 'node:test';
import { appendFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pageResults, reportCases } from './chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// The installed copy of these tests lives elsewhere: the runner says where serve.mjs is.
const { serve } = await import(process.env.NOVUSPACK_SERVE ?? new URL('../../scripts/serve.mjs', import.meta.url).href);
const pkg = process.env.NOVUSPACK_PKG;
const data = process.env.NOVUSPACK_DATA;

test('the shared suite in headless Chromium', { timeout: 20 * 60 * 1000 }, async (t) => {
  const heavy = process.env.NOVUSPACK_HEAVY === '0' ? '0' : '1';
  const { results, isolated, figures } = await pageResults(
    serve,
    { '/pkg/': pkg, '/tests/': here, '/data/': data },
    `/tests/browser/index.html?heavy=${heavy}`,
    { timeout: 18 * 60 * 1000 },
  );
  if (process.env.NOVUSPACK_REPORT)
    appendFileSync(process.env.NOVUSPACK_REPORT, `${JSON.stringify({ runtime: 'chromium', ...figures })}\n`);
  await t.test('the page is cross-origin isolated', () => {
    if (!isolated) throw new Error('crossOriginIsolated is false');
  });
  await reportCases(t, results);
});
