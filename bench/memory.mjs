// The memory row of `npm run bench`, in a process of its own so nothing else it holds counts:
// streams a 1 GiB sealed file from disk (fs.openAsBlob, so the file is never in memory) with
// memoryLimit 64 MiB, and prints as JSON the resident set size above the idle process (after
// the package is loaded), wasm memory, and the stream's own peak of buffered bytes.
// With `--pool N`, the stream is pool.open's on a pool of N workers (started before idle is
// measured): the calling thread reads the file in batches and the workers decode. With
// `--entry P`, the file is a NovusPack package and the stream is its entry P (the package is
// opened, so its module loaded, before idle is measured). With `--seal OUT`, the file is the
// input of `seal` (compress 6, with the key) piped to the file OUT, as the README's Node
// example does. A URL instead of a file is read through httpSource (and its requests and peak
// of bytes held are reported). The JS heap and ArrayBuffers above idle are reported beside RSS
// (what the program holds, without what the allocator keeps).
//   node --expose-gc bench/memory.mjs <file or URL> <key hex> [--pool N | --entry P | --seal OUT]
import { createWriteStream, openAsBlob, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as lib from 'novuspack-stream';

const [path, keyHex] = process.argv.slice(2);
const key = Uint8Array.from(keyHex.match(/../g), (h) => parseInt(h, 16));
const workers = process.argv.includes('--pool') ? Number(process.argv[process.argv.indexOf('--pool') + 1]) : 0;
await lib.ready();
const pool = workers ? new lib.StreamingWorkerPool({ maxWorkers: workers }) : null;
await pool?.start();
const entry = process.argv.includes('--entry') ? process.argv[process.argv.indexOf('--entry') + 1] : null;
const sealTo = process.argv.includes('--seal') ? process.argv[process.argv.indexOf('--seal') + 1] : null;
const pkg = entry ? await lib.openPackage(await openAsBlob(path)) : null;
globalThis.gc?.();
const rss = () => process.memoryUsage().rss;
const js = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const idle = rss();
const idleJs = js();
let peak = idle;
let peakJs = idleJs;
const sample = () => {
  peak = Math.max(peak, rss());
  peakJs = Math.max(peakJs, js());
};
const sampler = setInterval(sample, 10);
const remote = /^https?:/.test(path) ? lib.httpSource(path) : null;
let peakHeld = 0;
const options = { key, memoryLimit: 64 * 1024 * 1024 };
let bytes = 0;
let peakBufferedBytes = null;
if (sealTo) {
  const input = await openAsBlob(path);
  await pipeline(Readable.fromWeb(lib.seal(input, { key, compress: 6 })), createWriteStream(sealTo));
  bytes = input.size;
  rmSync(sealTo);
} else {
  const stream = pkg
    ? await pkg.open(entry, { memoryLimit: options.memoryLimit })
    : pool
      ? await pool.open(await openAsBlob(path), options)
      : await lib.FileStream.open(remote ?? (await openAsBlob(path)), options);
  let chunks = 0;
  for (;;) {
    const chunk = await stream.readChunk();
    if (chunk === null) break;
    bytes += chunk.length;
    if (remote) peakHeld = Math.max(peakHeld, remote.stats().bytesHeld);
    if (++chunks % 64 === 0) sample();
  }
  peakBufferedBytes = stream.getStats().peakBufferedBytes;
  stream.close();
}
await pool?.stop();
clearInterval(sampler);
sample();
console.log(
  JSON.stringify({
    bytes,
    idleRss: idle,
    peakRss: peak,
    rssGrowth: peak - idle,
    jsGrowth: peakJs - idleJs,
    wasmMemory: lib.memoryUsage().wasmMemory + lib.memoryUsage().packageWasmMemory,
    peakBufferedBytes,
    ...(remote ? { sourcePeakBytesHeld: peakHeld, requests: remote.stats().requests } : {}),
  }),
);
