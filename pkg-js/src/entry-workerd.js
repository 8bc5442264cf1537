// The package entry for Cloudflare Workers (workerd). The .wasm is imported as a compiled module (no
// WebAssembly.compile of bytes, which Workers forbid) and instantiated on first use, never at
// module top level. workerd always has WebAssembly SIMD, so only the SIMD build is imported.
import { initSync } from '../dist/wasm/novuspack_stream.js';
import * as glue from '../dist/wasm/novuspack_stream.js';
import wasmModule from '../dist/wasm/novuspack_stream_bg.wasm';
import { setLoader } from './runtime.js';

const loader = {
  async load() {
    return this.loadSync();
  },
  loadSync() {
    initSync({ module: wasmModule });
    return glue;
  },
  async loadPackages() {
    // A separate wasm module of the bundle, instantiated only when a package is first used.
    const [packages, { default: module }] = await Promise.all([
      import('../dist/wasm-nvpk/novuspack_stream_nvpk.js'),
      import('../dist/wasm-nvpk/novuspack_stream_nvpk_bg.wasm'),
    ]);
    packages.initSync({ module });
    return packages;
  },
  module: wasmModule,
  simd: true,
};

setLoader(loader);

export * from './api.js';
