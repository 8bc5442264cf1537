// Runs the pool suite on this page and publishes the results in window.__results. The page
// is served cross-origin isolated (the pool must pick 'shared') or not ('message').
import * as lib from 'novuspack-stream';
import { poolCases } from '../pool-suite.mjs';
import { runCases } from './run-cases.mjs';

// Shared memory where the page can make it (WebKitGTK's MiniBrowser is cross-origin isolated
// but has no SharedArrayBuffer: the pool must pick 'message' there).
const sharable = self.crossOriginIsolated && typeof SharedArrayBuffer !== 'undefined';
const expectTransport = sharable ? 'shared' : 'message';
const env = {
  transport: 'auto',
  expectTransport,
  makeWorker: (url) => new Worker(url, { type: 'module' }),
  bigBytes: 32 * 1024 * 1024,
};
const results = await runCases(poolCases(lib, env), document.getElementById('log'));
window.__results = { results, isolated: self.crossOriginIsolated, transport: expectTransport };
