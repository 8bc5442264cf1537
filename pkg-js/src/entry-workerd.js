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
  module: wasmModule,
  simd: true,
};

setLoader(loader);

export * from './api.js';
