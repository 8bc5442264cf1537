// The pool suite under `deno test` with Deno's module Workers (the package's worker script is
// read from the package folder: --allow-read covers it).
import * as lib from 'novuspack-stream';
import { poolCases } from './pool-suite.mjs';

const env = {
  transport: 'auto',
  expectTransport: 'shared',
  makeWorker: (url) => new Worker(url, { type: 'module' }),
  bigBytes: 32 * 1024 * 1024,
};

for (const [name, fn] of poolCases(lib, env)) {
  Deno.test({ name: `Deno workers: ${name}`, fn, sanitizeOps: false, sanitizeResources: false });
}
