// The pool suite in Node with worker_threads: 'auto' (which must pick the SharedArrayBuffer
// ring) and 'message'.
import { describe, test } from 'node:test';
import { Worker as NodeWorker } from 'node:worker_threads';
import { mkdtempSync, openAsBlob, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lib from 'novuspack-stream';
import { poolCases } from './pool-suite.mjs';
import { nodeCase } from './suite.mjs';

for (const [transport, expectTransport] of [
  ['auto', 'shared'],
  ['message', 'message'],
]) {
  describe(`Node worker_threads, transport ${transport}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'novuspack-pool-'));
    let files = 0;
    const env = {
      transport,
      expectTransport,
      makeWorker: (url) => new NodeWorker(url),
      // fs.openAsBlob's Blobs cannot be sent to a worker: the calling thread reads them.
      fileBlob(bytes) {
        const path = join(dir, `file-${files++}`);
        writeFileSync(path, bytes);
        return openAsBlob(path);
      },
    };
    for (const [name, fn] of poolCases(lib, env)) {
      test(name, { timeout: 5 * 60 * 1000 }, nodeCase(fn));
    }
  });
}
