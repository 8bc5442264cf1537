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

async function compile() {
  try {
    return await WebAssembly.compileStreaming(fetch(wasmUrl));
  } catch {
    // A server that does not send application/wasm.
    return WebAssembly.compile(await (await fetch(wasmUrl)).arrayBuffer());
  }
}

const loader = {
  simd,
  async load() {
    // Compiled once here; the same Module goes to every pool worker.
    this.module = await compile();
    await init({ module_or_path: this.module });
    return glue;
  },
  workerUrl: () => new URL('./pool/worker-web.js', import.meta.url),
  // A literal that bundlers (Vite, webpack) recognize and bundle the worker from.
  createWorker: () => new Worker(new URL('./pool/worker-web.js', import.meta.url), { type: 'module' }),
  createWorkerFromUrl: (url) => new Worker(url, { type: 'module' }),
};

setLoader(loader);

export * from './api.js';
