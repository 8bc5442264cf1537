// The package entry for Cloudflare Workers (workerd). The .wasm is imported as a compiled module (no
// WebAssembly.compile of bytes, which Workers forbid) and instantiated on first use, never at
// module top level. workerd always has WebAssembly SIMD, so only the SIMD build is imported.
import { initSync } from '../dist/wasm/novuspack_stream.js';
import * as glue from '../dist/wasm/novuspack_stream.js';
import wasmModule from '../dist/wasm/novuspack_stream_bg.wasm';
import { makeApi } from './api.js';

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

// The same list in every entry (ESM exports are static); tests/js/exports.test.mjs checks it.
export { StreamError } from './errors.js';
export const {
  ready,
  FileStream,
  seal,
  sealTransform,
  unsealTransform,
  generateKey,
  inspect,
  BufferPool,
  defaultBufferConfig,
  ChunkMode,
  StreamingConfigBuilder,
  createStreamingConfig,
  validateStreamingConfig,
  getStreamingConfigDefaults,
  memoryUsage,
  wasmBuild,
  StreamingWorkerPool,
  processStreamsConcurrently,
} = makeApi(loader);
