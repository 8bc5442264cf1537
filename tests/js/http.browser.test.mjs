// Runs the remote-file suite (http-suite.mjs) in headless Chromium: the fault-injecting server
// runs here, on another origin than the page (so CORS is exercised), and the page gets its URL.
// Environment: NOVUSPACK_PKG (the folder holding node_modules/novuspack-stream), NOVUSPACK_SERVE.
import { test } from 'node:test';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pageResults, reportCases } from './chromium.mjs';
import { startHttpServer } from './http-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { serve } = await import(process.env.NOVUSPACK_SERVE ?? new URL('../../scripts/serve.mjs', import.meta.url).href);

test('the remote-file suite in headless Chromium', { timeout: 10 * 60 * 1000 }, async (t) => {
  const server = await startHttpServer();
  try {
    const { results } = await pageResults(
      serve,
      { '/pkg/': process.env.NOVUSPACK_PKG, '/tests/': here },
      `/tests/browser/http.html?server=${encodeURIComponent(server.url)}`,
      { timeout: 9 * 60 * 1000 },
    );
    await reportCases(t, results);
  } finally {
    await server.close();
  }
});
