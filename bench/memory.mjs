// The memory row of `npm run bench`, in a process of its own so nothing else it holds counts:
// streams a 1 GiB sealed file from disk (fs.openAsBlob, so the file is never in memory) with
// memoryLimit 64 MiB, and prints as JSON the resident set size above the idle process (after
// the package is loaded), wasm memory, and the stream's own peak of buffered bytes.
//   node --expose-gc bench/memory.mjs <sealed file> <key hex>
import { openAsBlob } from 'node:fs';
import * as lib from 'novuspack-stream';

const [path, keyHex] = process.argv.slice(2);
const key = Uint8Array.from(keyHex.match(/../g), (h) => parseInt(h, 16));
await lib.ready();
globalThis.gc?.();
const rss = () => process.memoryUsage().rss;
const idle = rss();
let peak = idle;
const sampler = setInterval(() => (peak = Math.max(peak, rss())), 10);
const stream = await lib.FileStream.open(await openAsBlob(path), { key, memoryLimit: 64 * 1024 * 1024 });
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
