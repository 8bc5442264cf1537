// The package entry for browsers and bundlers. The glue fetches the .wasm next to itself
// (`new URL('novuspack_stream_bg.wasm', import.meta.url)`, which Vite and webpack follow).
import init, * as glue from '../dist/wasm/novuspack_stream.js';
import { makeApi } from './api.js';

const loader = {
  async load() {
    await init();
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
