// Every public name of the package, once: each runtime entry sets its wasm loader and
// re-exports this module (tests/js/exports.test.mjs checks the list against index.d.ts).
export { StreamError } from './errors.js';
export { ready, memoryUsage, wasmBuild } from './runtime.js';
export { FileStream } from './file-stream.js';
export { seal, sealTransform, unsealTransform } from './seal.js';
export { generateKey, keyFromHex, keyToHex } from './keys.js';
export { inspect } from './inspect.js';
export { openPackage, NovusPackage } from './package/open.js';
export { writePackage } from './package/write.js';
export { generateKemKeyPair } from './package/kem.js';
export { BufferPool } from './buffer-pool.js';
export {
  ChunkMode,
  StreamingConfigBuilder,
  createStreamingConfig,
  defaultBufferConfig,
  getStreamingConfigDefaults,
  validateStreamingConfig,
} from './config.js';
export { StreamingWorkerPool } from './pool/pool.js';
export { processStreamsConcurrently } from './pool/process.js';
export { httpSource } from './sources/http.js';
export { serveRange } from './serve-range.js';
