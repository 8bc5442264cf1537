// The pool suite in Node with worker_threads: 'auto' (which must pick the SharedArrayBuffer
// ring) and 'message'.
import { describe, test } from 'node:test';
import { Worker as NodeWorker } from 'node:worker_threads';
import * as lib from 'novuspack-stream';
import { poolCases } from './pool-suite.mjs';

for (const [transport, expectTransport] of [
  ['auto', 'shared'],
  ['message', 'message'],
]) {
  describe(`Node worker_threads, transport ${transport}`, () => {
    for (const [name, fn] of poolCases(lib, { transport, expectTransport, makeWorker: (url) => new NodeWorker(url) })) {
      test(name, { timeout: 5 * 60 * 1000 }, fn);
    }
  });
}
