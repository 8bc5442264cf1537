// The memory row of `npm run bench`, in a process of its own so nothing else it holds counts:
// streams a 1 GiB sealed file from disk (fs.openAsBlob, so the file is never in memory) with
// memoryLimit 64 MiB, and prints as JSON the resident set size above the idle process (after
// the package is loaded), wasm memory, and the stream's own peak of buffered bytes.
// With `--pool N`, the stream is pool.open's on a pool of N workers (started before idle is
// measured): the calling thread reads the file in batches and the workers decode.
//   node --expose-gc bench/memory.mjs <sealed file> <key hex> [--pool N]
import { openAsBlob } from 'node:fs';
import * as lib from 'novuspack-stream';

const [path, keyHex] = process.argv.slice(2);
const key = Uint8Array.from(keyHex.match(/../g), (h) => parseInt(h, 16));
const workers = process.argv.includes('--pool') ? Number(process.argv[process.argv.indexOf('--pool') + 1]) : 0;
await lib.ready();
const pool = workers ? new lib.StreamingWorkerPool({ maxWorkers: workers }) : null;
await pool?.start();
globalThis.gc?.();
const rss = () => process.memoryUsage().rss;
const idle = rss();
let peak = idle;
const sampler = setInterval(() => (peak = Math.max(peak, rss())), 10);
const options = { key, memoryLimit: 64 * 1024 * 1024 };
const stream = pool
  ? await pool.open(await openAsBlob(path), options)
  : await lib.FileStream.open(await openAsBlob(path), options);
let bytes = 0;
let chunks = 0;
for (;;) {
  const chunk = await stream.readChunk();
  if (chunk === null) break;
  bytes += chunk.length;
  if (++chunks % 64 === 0) peak = Math.max(peak, rss());
}
const stats = stream.getStats();
stream.close();
await pool?.stop();
clearInterval(sampler);
peak = Math.max(peak, rss());
console.log(
  JSON.stringify({
    bytes,
    idleRss: idle,
    peakRss: peak,
    rssGrowth: peak - idle,
    wasmMemory: lib.memoryUsage().wasmMemory,
    peakBufferedBytes: stats.peakBufferedBytes,
  }),
);
