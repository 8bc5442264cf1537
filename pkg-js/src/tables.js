// GENERATED from the Rust core (src/core/error.rs, src/core/config.rs) by tests/js_tables.rs: do not
// edit. `NOVUSPACK_WRITE_TABLES=1 cargo test --test js_tables` rewrites it; `cargo test` checks it.

/** The type (NovusPack category) of every error code. */
export const ERROR_TYPES = Object.freeze({
  INVALID_ARGUMENT: 'Validation',
  INVALID_OFFSET: 'Validation',
  INVALID_KEY: 'Validation',
  BUFFER_TOO_LARGE: 'Validation',
  MEMORY_LIMIT: 'Validation',
  NOT_FOUND: 'Validation',
  READ_FAILED: 'IO',
  SIZE_MISMATCH: 'IO',
  RESOURCE_CHANGED: 'IO',
  WORKER_FAILED: 'IO',
  KEY_REQUIRED: 'Security',
  NOT_ENCRYPTED: 'Security',
  UNSUPPORTED_VERSION: 'Unsupported',
  UNSUPPORTED_ALGORITHM: 'Unsupported',
  UNKNOWN_FORMAT: 'Unsupported',
  UNSUPPORTED_RUNTIME: 'Unsupported',
  NOT_SEEKABLE: 'Unsupported',
  RANGE_NOT_SUPPORTED: 'Unsupported',
  CLOSED: 'Context',
  ABORTED: 'Context',
  TIMEOUT: 'Context',
  QUEUE_FULL: 'Context',
  TRUNCATED: 'Corruption',
  BAD_MAGIC: 'Corruption',
  CORRUPTED: 'Corruption',
  CHECKSUM_MISMATCH: 'Corruption',
  AUTH_FAILED: 'Encryption',
  INVALID_DATA: 'Compression',
  OUTPUT_LIMIT: 'Compression',
  NOT_READY: 'Context',
  VIEW_DETACHED: 'Validation',
  INTERNAL_ERROR: 'Unsupported',
});

/** The option names each options object accepts (any other name is refused). */
export const OPTION_NAMES = Object.freeze({
  stream: Object.freeze(['bufferSize', 'chunkSize', 'memoryLimit', 'useBufferPool', 'isCompressed', 'isEncrypted', 'key', 'size', 'timeout', 'signal', 'pool', 'raw']),
  poolStream: Object.freeze(['bufferSize', 'chunkSize', 'memoryLimit', 'useBufferPool', 'isCompressed', 'isEncrypted', 'key', 'size', 'timeout', 'signal', 'pool', 'raw', 'chunkProcessingMode', 'priority']),
  seal: Object.freeze(['key', 'compress', 'chunkSize', 'size', 'signal', 'pool', 'priority']),
  unseal: Object.freeze(['key', 'signal']),
  buffer: Object.freeze(['maxTotalSize', 'maxBufferSize', 'evictionPolicy', 'evictionTimeout']),
  streaming: Object.freeze(['maxWorkers', 'workerTimeout', 'workerBufferSize', 'maxConcurrentOps', 'maxStreamsPerWorker', 'streamBufferSize', 'chunkProcessingMode', 'streamTimeout']),
  pool: Object.freeze(['maxWorkers', 'workerTimeout', 'workerBufferSize', 'maxConcurrentOps', 'maxStreamsPerWorker', 'streamBufferSize', 'chunkProcessingMode', 'streamTimeout', 'transport', 'workerUrl', 'createWorker']),
  job: Object.freeze(['key', 'compress', 'chunkSize', 'size', 'signal', 'pool', 'priority', 'bufferSize', 'memoryLimit', 'useBufferPool', 'isCompressed', 'isEncrypted', 'timeout', 'raw']),
  http: Object.freeze(['headers', 'fetch', 'maxRetries', 'maxRangeSize', 'concurrency', 'signal', 'timeout', 'cacheSize']),
  serveRange: Object.freeze(['bufferSize', 'chunkSize', 'memoryLimit', 'useBufferPool', 'isCompressed', 'isEncrypted', 'key', 'size', 'timeout', 'signal', 'pool', 'raw', 'contentType', 'headers']),
  package: Object.freeze(['memoryLimit', 'timeout', 'signal']),
  entry: Object.freeze(['bufferSize', 'chunkSize', 'memoryLimit', 'useBufferPool', 'key', 'decapsulationKey', 'timeout', 'signal']),
  writePackage: Object.freeze(['comment', 'vendorId', 'appId', 'creatorId', 'localeId', 'signal']),
  packageFile: Object.freeze(['path', 'source', 'type', 'compression', 'compressionLevel', 'encryption', 'key', 'encapsulationKey']),
});

/** How a stream's chunks are processed by a worker pool. */
export const ChunkMode = Object.freeze({ Sequential: 0, Parallel: 1, Adaptive: 2 });
