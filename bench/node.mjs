// `npm run bench`: the benchmark in Node, against fflate, pako, @noble/ciphers, libsodium.js,
// zip.js, the native (De)CompressionStream, node:zlib and node:crypto, on the corpus of
// bench/corpus.mjs. Writes bench/results-node.json and regenerates bench/RESULTS.md.
// `--quick` is the smoke test that `npm test` runs: small data, one run, every check.
import { createWriteStream, existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { availableParallelism, cpus } from 'node:os';
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
import { runPackageCases } from './packages.mjs';
import { benchPackage } from './package-data.mjs';
import { remoteGroups } from './remote-groups.mjs';
import * as fzstd from 'fzstd';
import { ZSTDDecoder } from 'zstddec';
import lz4js from 'lz4js';
import xzDecompress from 'xz-decompress';
import { gcm } from '@noble/ciphers/aes.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { finishRun } from './report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
// `--only <text>`: run just the groups whose title contains it, print them, write nothing.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

const { manifest, read, dir } = benchData({ quick });
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
// The pool's groups run in a process of their own (bench/pool-process.mjs says why).
groups.push(
  ...JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--expose-gc',
        join(root, 'bench', 'pool-process.mjs'),
        ...(quick ? ['--quick'] : []),
        ...(only ? ['--only', only] : []),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
    ),
  ),
);
groups.push(
  ...(await runPackageCases(
    {
      lib,
      corpus,
      meta: benchPackage(dir, corpus),
      packageBytes: new Uint8Array(readFileSync(join(dir, 'package.nvpk'))),
      quick,
      only,
      fzstd,
      ZSTDDecoder,
      lz4js,
      XzReadableStream: xzDecompress.XzReadableStream,
      gcm,
      mlKem768: ml_kem768,
      node: { crypto },
    },
    (line) => console.error(line),
  )),
);

// ----- remote files: httpSource against a local server with latency (a process of its own) -----
groups.push(...remoteGroups('node', { quick, only }));

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

// ----- memory: 1 GiB on disk sealed to disk (the README's Node example), in a process of its own -----
if (!only) {
  const input = join(dataDir, quick ? 'quick-64MiB.sealed' : 'big-1GiB.sealed');
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', join(root, 'bench', 'memory.mjs'), input, '00'.repeat(32), '--seal', `${input}.resealed`],
    { encoding: 'utf8' },
  );
  const m = JSON.parse(out.trim().split('\n').pop());
  check(m.bytes === statSync(input).size, `the seal memory run read ${m.bytes} bytes`);
  groups.push({
    title: `memory: sealing a ${Math.round(m.bytes / 1024 / 1024)} MiB file on disk to a file (fs.openAsBlob, seal with compress 6 and a key, pipeline to fs.createWriteStream), in a fresh process`,
    note: 'RSS growth = peak resident set size while sealing minus the idle process with the package loaded',
    process: m,
  });
}

// ----- memory: a 1 GiB zstd entry of a package on disk, streamed in a process of its own -----
if (!only) {
  const bigSize = (quick ? 64 : 1024) * 1024 * 1024;
  const path = join(dataDir, quick ? 'quick-64MiB.nvpk' : 'big-1GiB.nvpk');
  if (!existsSync(path)) {
    // The corpus repeated, through `zstd -3` (streamed), in a package of one entry.
    const { buildPackage } = await import('../tests/js/nvpk/spec-package.mjs');
    const repeats = bigSize / corpus.length;
    let crc = 0;
    for (let i = 0; i < repeats; i++) crc = zlib.crc32(corpus, crc);
    const stored = await new Promise((resolve, reject) => {
      const child = spawn('zstd', ['-3', '-c', '-q'], { stdio: ['pipe', 'pipe', 'inherit'] });
      const parts = [];
      child.stdout.on('data', (d) => parts.push(d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(parts)) : reject(new Error(`zstd: ${code}`))));
      (async () => {
        for (let i = 0; i < repeats; i++) if (!child.stdin.write(corpus)) await once(child.stdin, 'drain');
        child.stdin.end();
      })();
    });
    const { bytes } = buildPackage([
      { paths: ['/big.bin'], stored, originalSize: bigSize, rawChecksum: crc, compression: 'zstd' },
    ]);
    writeFileSync(`${path}.part`, bytes);
    renameSync(`${path}.part`, path);
  }
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', join(root, 'bench', 'memory.mjs'), path, '00', '--entry', '/big.bin'],
    { encoding: 'utf8' },
  );
  const m = JSON.parse(out.trim().split('\n').pop());
  check(m.bytes === bigSize, `the package memory run read ${m.bytes} bytes`);
  groups.push({
    title: `memory: a ${bigSize >> 20} MiB zstd entry (zstd -3) of a package on disk (fs.openAsBlob) read to the end with memoryLimit 64 MiB, in a fresh process`,
    note: 'RSS growth = peak resident set size while streaming minus the idle process with the package opened (both wasm modules loaded); target: 64 + 16 MiB',
    process: m,
  });
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
      name: 'novuspack-stream .wasm, plain build (no SIMD)',
      ...sizeOf(['pkg-js/dist/wasm/novuspack_stream_plain_bg.wasm']),
    },
    {
      name: 'novuspack-stream package module .wasm (loaded on the first package; replaces nothing)',
      ...sizeOf(['pkg-js/dist/wasm-nvpk/novuspack_stream_nvpk_bg.wasm']),
    },
    {
      name: 'novuspack-stream package module .wasm, plain build',
      ...sizeOf(['pkg-js/dist/wasm-nvpk/novuspack_stream_nvpk_plain_bg.wasm']),
    },
    {
      name: 'novuspack-stream .wasm + JS (browser entry, pool, glue)',
      ...sizeOf([
        'pkg-js/dist/wasm/novuspack_stream_bg.wasm',
        'pkg-js/dist/wasm/novuspack_stream.js',
        ...jsFiles('pkg-js/src'),
        ...jsFiles('pkg-js/src/pool'),
        ...jsFiles('pkg-js/src/sources'),
      ]),
    },
    {
      name: 'novuspack-stream package module: .wasm + glue + package JS',
      ...sizeOf([
        'pkg-js/dist/wasm-nvpk/novuspack_stream_nvpk_bg.wasm',
        'pkg-js/dist/wasm-nvpk/novuspack_stream_nvpk.js',
        ...jsFiles('pkg-js/src/package'),
      ]),
    },
    { name: 'fzstd (esm/index.mjs)', ...sizeOf(['node_modules/fzstd/esm/index.mjs']) },
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
