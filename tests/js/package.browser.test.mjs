// The package suite in headless Chromium, against the installed package: the package module is
// fetched only when the page first opens a package.
// Environment: NOVUSPACK_PKG, NOVUSPACK_DATA, NOVUSPACK_SERVE.
import { test } from 'node:test';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pageResults, reportCases } from './chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { serve } = await import(process.env.NOVUSPACK_SERVE ?? new URL('../../scripts/serve.mjs', import.meta.url).href);

test('the package suite in Chromium', { timeout: 15 * 60 * 1000 }, async (t) => {
  const { results } = await pageResults(
    serve,
    { '/pkg/': process.env.NOVUSPACK_PKG, '/tests/': here, '/data/': process.env.NOVUSPACK_DATA },
    '/tests/browser/package.html',
    { timeout: 14 * 60 * 1000 },
  );
  await reportCases(t, results);
});
