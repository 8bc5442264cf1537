// `npm run bench`: the benchmark in Node, against fflate, pako, @noble/ciphers, libsodium.js,
// zip.js, the native (De)CompressionStream, node:zlib and node:crypto, on the corpus of
// bench/corpus.mjs. Writes bench/results-node.json and regenerates bench/RESULTS.md.
// `--quick` is the smoke test that `npm test` runs: small data, one run, every check.
import { createWriteStream, existsSync, readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import * as fflate from 'fflate';
import * as pako from 'pako';
import * as nobleChacha from '@noble/ciphers/chacha.js';
import sodium from 'libsodium-wrappers';
import * as zip from '@zip.js/zip.js';
import * as lib from 'novuspack-stream';
import { benchData, dataDir } from './corpus.mjs';
import { check } from './harness.mjs';
import { corpusStream, runCases } from './cases.mjs';
import { runPoolCases } from './pool.mjs';
import { finishRun } from './report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
// `--only <text>`: run just the groups whose title contains it, print them, write nothing.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

const { manifest, read } = benchData({ quick });
const corpus = read('corpus.bin');
const random = read('random.bin');
const deflated = read('corpus.deflate-raw');

// zip.js's own wasm zlib (what its codecs use when native streams are off).
const zipWasmDir = join(root, 'node_modules', '@zip.js', 'zip.js', 'lib', 'core', 'streams', 'zlib-wasm');
const zipWasm = await import(join(zipWasmDir, 'zlib-streams.js'));
zipWasm.setWasmExports(
  (await WebAssembly.instantiate(readFileSync(join(zipWasmDir, 'zlib-streams.wasm')))).instance.exports,
);

await sodium.ready;
await lib.ready();

const started = Date.now();
const groups = await runCases(
  {
    lib,
    fflate,
    pako,
    noble: nobleChacha,
    sodium,
    zip,
    zipInflate: zipWasm.DecompressionStreamZlib,
    node: { zlib, crypto, zlibTransform: (make) => Duplex.toWeb(make()), rss: () => process.memoryUsage().rss },
    corpus,
    random,
    deflated,
    quick,
    only,
  },
  (line) => console.error(line),
);
groups.push(
  ...(await runPoolCases(
    {
      lib,
      corpus,
      quick,
      only,
      // The calling thread's busy time: event-loop utilisation, in ms.
      busy: () => performance.eventLoopUtilization().active,
      settle: async () => {
        globalThis.gc?.();
        await new Promise((resolve) => setTimeout(resolve, 0));
      },
      load: () =>
        `load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' / ')} on ${availableParallelism()} cores`,
    },
    (line) => console.error(line),
  )),
);

// ----- memory: a 1 GiB sealed file on disk, streamed in a process of its own -----
if (!only) {
  const big = join(dataDir, quick ? 'quick-64MiB.sealed' : 'big-1GiB.sealed');
  const bigSize = (quick ? 64 : 1024) * 1024 * 1024;
  const key = new Uint8Array(32).fill(0x5a);
  if (!existsSync(big)) {
    // Corpus pieces, sealed at level 1, written as they come.
    const plain = corpusStream(corpus, bigSize, Math.min(4 * 1024 * 1024, corpus.length / 2));
    await pipeline(Readable.fromWeb(lib.seal(plain, { key, compress: 1 })), createWriteStream(`${big}.part`));
    renameSync(`${big}.part`, big);
  }
  const keyHex = Buffer.from(key).toString('hex');
  for (const [how, args] of [
    ['FileStream.open', []],
    ['pool.open with 2 workers', ['--pool', '2']],
  ]) {
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', join(root, 'bench', 'memory.mjs'), big, keyHex, ...args],
      {
        encoding: 'utf8',
      },
    );
    const m = JSON.parse(out.trim().split('\n').pop());
    check(m.bytes === bigSize, `the memory run read ${m.bytes} bytes`);
    groups.push({
      title: `memory: a ${bigSize >> 20} MiB sealed file on disk (fs.openAsBlob) read to the end by ${how} with memoryLimit 64 MiB, in a fresh process`,
      note: 'RSS growth = peak resident set size while streaming minus the idle process with the package (and pool) loaded',
      process: m,
    });
  }
}

// ----- sizes: what each library adds to an app -----
const gz = (path) => zlib.gzipSync(readFileSync(path), { level: 9 }).length;
const sizeOf = (paths) => {
  const files = paths.map((p) => join(root, p));
  return { raw: files.reduce((n, f) => n + statSync(f).size, 0), gzip: files.reduce((n, f) => n + gz(f), 0) };
};
const jsFiles = (dir) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dir, f));
groups.push({
  title: 'size: what an app ships (gzip -9 of the files the library loads)',
  sizes: [
    { name: 'novuspack-stream .wasm', ...sizeOf(['pkg-js/dist/wasm/novuspack_stream_bg.wasm']) },
    {
      name: 'novuspack-stream .wasm + JS (browser entry, pool, glue)',
      ...sizeOf([
        'pkg-js/dist/wasm/novuspack_stream_bg.wasm',
        'pkg-js/dist/wasm/novuspack_stream.js',
        ...jsFiles('pkg-js/src'),
        ...jsFiles('pkg-js/src/pool'),
      ]),
    },
    { name: 'fflate (umd/index.js, minified, everything)', ...sizeOf(['node_modules/fflate/umd/index.js']) },
    { name: 'pako (browser/pako.esm.min.mjs)', ...sizeOf(['node_modules/pako/dist/browser/pako.esm.min.mjs']) },
    {
      name: 'libsodium.js (wrappers + libsodium)',
      ...sizeOf([
        'node_modules/libsodium-wrappers/dist/modules/libsodium-wrappers.js',
        'node_modules/libsodium/dist/modules/libsodium.js',
      ]),
    },
    { name: 'zip.js (index.min.js)', ...sizeOf(['node_modules/@zip.js/zip.js/index.min.js']) },
  ],
});

const result = {
  runtime: `Node ${process.version}`,
  machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores`,
  date: new Date().toISOString(),
  quick,
  seconds: Math.round((Date.now() - started) / 1000),
  corpus: manifest,
  groups,
};
finishRun(result, { name: 'node', runtime: 'Node', only, quick });
