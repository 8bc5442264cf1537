// The pool suite in headless Chromium: on a cross-origin isolated page (SharedArrayBuffer: the
// 'shared' ring) and on a page without isolation ('message'), against the installed package.
// Environment: NOVUSPACK_PKG, NOVUSPACK_SERVE.
import { test } from 'node:test';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pageResults, reportCases } from './chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { serve } = await import(process.env.NOVUSPACK_SERVE ?? new URL('../../scripts/serve.mjs', import.meta.url).href);
const pkg = process.env.NOVUSPACK_PKG;

for (const isolate of [true, false]) {
  const transport = isolate ? 'shared' : 'message';
  test(
    `the pool suite in Chromium, ${isolate ? 'cross-origin isolated' : 'not isolated'} (${transport})`,
    { timeout: 15 * 60 * 1000 },
    async (t) => {
      const {
        results,
        isolated,
        transport: picked,
      } = await pageResults(serve, { '/pkg/': pkg, '/tests/': here }, '/tests/browser/pool.html', {
        isolate,
        timeout: 14 * 60 * 1000,
      });
      await t.test(
        `the page is ${isolate ? '' : 'not '}cross-origin isolated and the pool picks '${transport}'`,
        () => {
          if (isolated !== isolate || picked !== transport)
            throw new Error(`isolated ${isolated}, transport ${picked}`);
        },
      );
      await reportCases(t, results);
    },
  );
}
