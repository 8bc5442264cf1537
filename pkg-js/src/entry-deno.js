// The package entry for Deno: reads the .wasm next to the glue (needs --allow-read for the package folder).
import init, { initSync } from '../dist/wasm/novuspack_stream.js';
import * as glue from '../dist/wasm/novuspack_stream.js';
import { setLoader } from './runtime.js';
import { simdSupported } from './simd.js';

const simd = simdSupported();
const url = simd
  ? new URL('../dist/wasm/novuspack_stream_bg.wasm', import.meta.url)
  : new URL('../dist/wasm/novuspack_stream_plain_bg.wasm', import.meta.url);

const packagesUrl = simd
  ? new URL('../dist/wasm-nvpk/novuspack_stream_nvpk_bg.wasm', import.meta.url)
  : new URL('../dist/wasm-nvpk/novuspack_stream_nvpk_plain_bg.wasm', import.meta.url);

const loader = {
  simd,
  async load() {
    // Compiled once here; the same Module goes to every pool worker.
    this.module = await WebAssembly.compile(await Deno.readFile(url));
    await init({ module_or_path: this.module });
    return glue;
  },
  loadSync() {
    this.module = new WebAssembly.Module(Deno.readFileSync(url));
    initSync({ module: this.module });
    return glue;
  },
  async loadPackages() {
    const packages = await import('../dist/wasm-nvpk/novuspack_stream_nvpk.js');
    await packages.default({ module_or_path: await WebAssembly.compile(await Deno.readFile(packagesUrl)) });
    return packages;
  },
  workerUrl: () => new URL('./pool/worker-web.js', import.meta.url),
  createWorker: () => new Worker(new URL('./pool/worker-web.js', import.meta.url), { type: 'module' }),
  createWorkerFromUrl: (workerUrl) => new Worker(workerUrl, { type: 'module' }),
};

setLoader(loader);

export * from './api.js';
