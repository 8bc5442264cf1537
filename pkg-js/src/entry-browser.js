// The package entry for browsers and bundlers. The .wasm is found with
// `new URL('../dist/wasm/novuspack_stream_bg.wasm', import.meta.url)`, which Vite and webpack follow
// (and the plain build's, for engines without WebAssembly SIMD).
import init, * as glue from '../dist/wasm/novuspack_stream.js';
import { setLoader } from './runtime.js';
import { simdSupported } from './simd.js';

const simd = simdSupported();
const wasmUrl = simd
  ? new URL('../dist/wasm/novuspack_stream_bg.wasm', import.meta.url)
  : new URL('../dist/wasm/novuspack_stream_plain_bg.wasm', import.meta.url);

// The package module (NovusPack packages), fetched only when a package is first used.
const packagesUrl = simd
  ? new URL('../dist/wasm-nvpk/novuspack_stream_nvpk_bg.wasm', import.meta.url)
  : new URL('../dist/wasm-nvpk/novuspack_stream_nvpk_plain_bg.wasm', import.meta.url);

async function compile(url) {
  try {
    return await WebAssembly.compileStreaming(fetch(url));
  } catch {
    // A server that does not send application/wasm.
    return WebAssembly.compile(await (await fetch(url)).arrayBuffer());
  }
}

const loader = {
  simd,
  async load() {
    // Compiled once here; the same Module goes to every pool worker.
    this.module = await compile(wasmUrl);
    await init({ module_or_path: this.module });
    return glue;
  },
  async loadPackages() {
    const packages = await import('../dist/wasm-nvpk/novuspack_stream_nvpk.js');
    await packages.default({ module_or_path: await compile(packagesUrl) });
    return packages;
  },
  workerUrl: () => new URL('./pool/worker-web.js', import.meta.url),
  // A literal that bundlers (Vite, webpack) recognize and bundle the worker from.
  createWorker: () => new Worker(new URL('./pool/worker-web.js', import.meta.url), { type: 'module' }),
  createWorkerFromUrl: (url) => new Worker(url, { type: 'module' }),
};

setLoader(loader);

export * from './api.js';
