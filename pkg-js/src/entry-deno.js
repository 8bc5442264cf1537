// The package entry for Deno: reads the .wasm next to the glue (needs --allow-read for the package folder).
import init, { initSync } from '../dist/wasm/novuspack_stream.js';
import * as glue from '../dist/wasm/novuspack_stream.js';
import { makeApi } from './api.js';

const url = new URL('../dist/wasm/novuspack_stream_bg.wasm', import.meta.url);

const loader = {
  async load() {
    await init({ module_or_path: await Deno.readFile(url) });
    return glue;
  },
  loadSync() {
    initSync({ module: Deno.readFileSync(url) });
    return glue;
  },
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
} = makeApi(loader);
