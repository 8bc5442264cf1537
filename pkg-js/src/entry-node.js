// The package entry for Node: reads the .wasm next to the glue.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker as NodeWorker } from 'node:worker_threads';
import init, { initSync } from '../dist/wasm/novuspack_stream.js';
import * as glue from '../dist/wasm/novuspack_stream.js';
import { setLoader } from './runtime.js';
import { simdSupported } from './simd.js';

// NOVUSPACK_SIMD=0 forces the plain build (the tests run it that way too).
const simd = process.env.NOVUSPACK_SIMD !== '0' && simdSupported();
const url = simd
  ? new URL('../dist/wasm/novuspack_stream_bg.wasm', import.meta.url)
  : new URL('../dist/wasm/novuspack_stream_plain_bg.wasm', import.meta.url);

const packagesUrl = simd
  ? new URL('../dist/wasm-nvpk/novuspack_stream_nvpk_bg.wasm', import.meta.url)
  : new URL('../dist/wasm-nvpk/novuspack_stream_nvpk_plain_bg.wasm', import.meta.url);

const loader = {
  simd,
  parallelism: () => availableParallelism(),
  async load() {
    // Compiled once here; the same Module goes to every pool worker.
    this.module = await WebAssembly.compile(await readFile(url));
    await init({ module_or_path: this.module });
    return glue;
  },
  loadSync() {
    this.module = new WebAssembly.Module(readFileSync(url));
    initSync({ module: this.module });
    return glue;
  },
  async loadPackages() {
    const packages = await import('../dist/wasm-nvpk/novuspack_stream_nvpk.js');
    await packages.default({ module_or_path: await WebAssembly.compile(await readFile(packagesUrl)) });
    return packages;
  },
  workerUrl: () => new URL('./pool/worker-node.js', import.meta.url),
  createWorker: () => new NodeWorker(new URL('./pool/worker-node.js', import.meta.url)),
  createWorkerFromUrl: (workerUrl) => new NodeWorker(workerUrl),
};

setLoader(loader);

export * from './api.js';
