// Runs the pool suite on this page and publishes the results in window.__results. The page
// is served cross-origin isolated (the pool must pick 'shared') or not ('message').
import * as lib from 'novuspack-stream';
import { poolCases } from '../pool-suite.mjs';

const expectTransport = self.crossOriginIsolated ? 'shared' : 'message';
const env = {
  transport: 'auto',
  expectTransport,
  makeWorker: (url) => new Worker(url, { type: 'module' }),
  bigBytes: 32 * 1024 * 1024,
};
const log = document.getElementById('log');
const results = [];
for (const [name, fn] of poolCases(lib, env)) {
  const start = performance.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: performance.now() - start });
  } catch (error) {
    results.push({ name, ok: false, ms: performance.now() - start, error: String(error?.stack ?? error) });
  }
  log.textContent = results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.name}`).join('\n');
}
window.__results = { results, isolated: self.crossOriginIsolated, transport: expectTransport };
