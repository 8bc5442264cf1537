/**
 * novuspack-stream: stream, seek, decompress and decrypt large files with bounded memory.
 *
 * One import works in browsers (native ESM and bundlers), Node >= 20, Deno and Cloudflare
 * Workers. The wasm module loads on the first async call; `await ready()` before synchronous
 * calls (`new BufferPool()`, config helpers) in browsers.
 *
 * @example
 * ```ts
 * import { FileStream, seal, generateKey } from 'novuspack-stream';
 * const key = generateKey();
 * const sealed = await new Response(seal(file, { key, compress: true })).blob();
 * const stream = await FileStream.open(sealed, { key });
 * const header = new Uint8Array(512);
 * await stream.readAt(header, 0);          // random access, only the chunks needed
 * for await (const chunk of stream) { ... }
 * ```
 * @packageDocumentation
 */

/** Loads and instantiates the wasm module (once). Async calls do this themselves. */
export function ready(): Promise<void>;

/**
 * What FileStream.open, seal, inspect, serveRange and pool.open accept. A Blob (or File) is
 * read by ranges, never whole; an {@link HttpSource} by HTTP Range requests.
 */
export type Source = Blob | ReadableStream<Uint8Array> | Uint8Array | ArrayBuffer | HttpSource;

// ---------------------------------------------------------------- errors

/** The NovusPack structured error categories. */
export type ErrorType =
  'Validation' | 'IO' | 'Security' | 'Unsupported' | 'Context' | 'Corruption' | 'Encryption' | 'Compression';

/**
 * Stable error codes (see the README's table). Authentication failures are deliberately
 * alike: a wrong key and modified data both give `AUTH_FAILED`.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_OFFSET'
  | 'INVALID_KEY'
  | 'BUFFER_TOO_LARGE'
  | 'MEMORY_LIMIT'
  | 'NOT_FOUND'
  | 'READ_FAILED'
  | 'SIZE_MISMATCH'
  | 'RESOURCE_CHANGED'
  | 'WORKER_FAILED'
  | 'KEY_REQUIRED'
  | 'NOT_ENCRYPTED'
  | 'UNSUPPORTED_VERSION'
  | 'UNSUPPORTED_ALGORITHM'
  | 'UNKNOWN_FORMAT'
  | 'UNSUPPORTED_RUNTIME'
  | 'NOT_SEEKABLE'
  | 'RANGE_NOT_SUPPORTED'
  | 'CLOSED'
  | 'ABORTED'
  | 'TIMEOUT'
  | 'QUEUE_FULL'
  | 'TRUNCATED'
  | 'BAD_MAGIC'
  | 'CORRUPTED'
  | 'CHECKSUM_MISMATCH'
  | 'AUTH_FAILED'
  | 'INVALID_DATA'
  | 'OUTPUT_LIMIT'
  | 'NOT_READY'
  | 'VIEW_DETACHED'
  | 'INTERNAL_ERROR';

/** Which value was wrong and what was expected. */
export interface ErrorContext {
  field?: string;
  value?: unknown;
  expected?: string;
  /** The HTTP status that ended a remote read (404, 401, 403, 503 after retries, ...). */
  status?: number;
  /** A byte offset (stored or logical, as the message says). */
  offset?: number;
  /** A chunk number of the sealed format. */
  chunk?: number;
}

/**
 * The error of every rejection a caller can cause.
 * @example
 * ```ts
 * try { await FileStream.open(blob, { key }); }
 * catch (e) { if (e instanceof StreamError && e.code === 'AUTH_FAILED') askForKeyAgain(); }
 * ```
 */
export class StreamError extends Error {
  constructor(type: ErrorType, code: ErrorCode, message: string, context?: ErrorContext, options?: ErrorOptions);
  readonly name: 'StreamError';
  readonly type: ErrorType;
  readonly code: ErrorCode;
  readonly context?: ErrorContext;
  /** Plain data that survives postMessage / structuredClone. */
  toJSON(): { name: 'StreamError'; type: ErrorType; code: ErrorCode; message: string; context?: ErrorContext };
}

// ---------------------------------------------------------------- FileStream

/** Options of {@link FileStream.open}. */
/**
 * Options of `FileStream.open`. A source that starts with the sealed format's magic is always
 * opened as sealed, whatever the flags say (`KEY_REQUIRED` when it is encrypted and no key is
 * given); `raw` reads the stored bytes instead. Unknown option names are a `Validation` error
 * that names the closest known one.
 */
export interface StreamConfig {
  /** Read buffer in bytes (0 or absent = default 256 KiB, smaller under a memoryLimit). */
  bufferSize?: number;
  /** Bytes per readChunk (0 or absent = the sealed chunk size, else the buffer size). */
  chunkSize?: number;
  /** Most bytes this stream may hold buffered (0 = no limit; at least 65536 otherwise). */
  memoryLimit?: number;
  /** Draw buffers from the pool (default true). */
  useBufferPool?: boolean;
  /** Data is compressed: sealed container, gzip, zlib or raw deflate (detected). */
  isCompressed?: boolean;
  /** Data is encrypted: sealed container or NovusPack v1 ChaCha20-Poly1305 framing. */
  isEncrypted?: boolean;
  /** 32 bytes, for encrypted data. Giving a key also turns on decoding. */
  key?: Uint8Array;
  /** Total logical size of a ReadableStream source, when the caller knows it (checked). */
  size?: number;
  /** Milliseconds allowed for each operation; past it the operation rejects with TIMEOUT and the stream closes. */
  timeout?: number;
  /** Cancels every pending and later operation (ABORTED); the stream closes. */
  signal?: AbortSignal;
  /** A pool other than the shared default. */
  pool?: BufferPool;
  /** Read the stored bytes as they are, even sealed ones (not with the decoding options). */
  raw?: boolean;
}

/** Counters of one stream. Byte counts are logical unless named `stored`. */
export interface StreamStats {
  bytesRead: number;
  readOps: number;
  chunksRead: number;
  seeks: number;
  storedBytesRead: number;
  decompressedBytes: number;
  decryptedBytes: number;
  poolHits: number;
  poolMisses: number;
  /** Most bytes the stream held buffered at once (never above memoryLimit). */
  peakBufferedBytes: number;
  /** Bytes buffered now. */
  bufferedBytes: number;
  /** Milliseconds since open. */
  elapsed: number;
  /** bytesRead per second since open. */
  readSpeed: number;
}

/** Where the sequential reader stands. */
export interface StreamProgress {
  /** The position (how far sequential reading has come), at most totalBytes. */
  bytesRead: number;
  totalBytes: number | null;
  /** Bytes per second delivered since open. */
  readSpeed: number;
  /** Milliseconds since open. */
  elapsed: number;
}

/** What FileStream found in its source. */
export interface StreamFormat {
  /** 'plain' | 'sealed' | 'gzip' | 'zlib' | 'deflate-raw' | 'v1' | 'v1+gzip' | ... */
  kind: string;
  compressed: boolean;
  encrypted: boolean;
  chunkSize?: number;
  chunkCount?: number;
  storedSize?: number;
}

/** Per-call options of the read operations. */
export interface ReadOptions {
  /** Cancels this call (ABORTED); the stream closes. */
  signal?: AbortSignal;
}

/**
 * Logical (decompressed, decrypted) bytes over a source, with bounded memory.
 *
 * Sequential operations (readChunk, read, seek, iteration) run one at a time in call order;
 * readAt may run concurrently with anything. Nothing decrypted is released before its tag
 * verifies.
 */
export class FileStream implements AsyncIterable<Uint8Array> {
  private constructor();
  /**
   * Opens `source`. On a Blob, a sealed file's footer and index are read first and then only
   * the chunks needed; a ReadableStream is decoded in order.
   * @example
   * ```ts
   * const fs = await FileStream.open(file, { key, memoryLimit: 64 << 20, signal });
   * ```
   */
  static open(source: Source, config?: StreamConfig): Promise<FileStream>;
  /** Logical size; null while unknown (e.g. gzip from a stream, until its end). */
  readonly size: number | null;
  /** Logical read position. */
  readonly position: number;
  readonly closed: boolean;
  /** What was found in the source. */
  readonly format: StreamFormat;
  /** The package entry this stream reads (streams from {@link NovusPackage.open}); null otherwise. */
  readonly entry: FileEntry | null;
  /** The next chunk from the position; null at the end. */
  readChunk(options?: ReadOptions): Promise<Uint8Array | null>;
  /** Moves the position to `offset` (0..size). On a ReadableStream, going back past the buffered bytes is NOT_SEEKABLE. */
  seek(offset: number, options?: ReadOptions): Promise<void>;
  /** io.Reader: reads into `into` from the position; bytes read, 0 only at the end. */
  read(into: Uint8Array, options?: ReadOptions): Promise<number>;
  /** io.ReaderAt: fills `into` from `offset` unless the end comes first; never moves the position; safe to call concurrently. */
  readAt(into: Uint8Array, offset: number, options?: ReadOptions): Promise<number>;
  /** Idempotent; returns buffers to the pool. Stats and progress stay readable. */
  close(): void;
  getStats(): StreamStats;
  progress(): StreamProgress;
  /** ms: (totalBytes - bytesRead) / readSpeed; 0 when done; null when size or speed is unknown. */
  estimatedTimeRemaining(): number | null;
  /** The rest of the stream as a byte stream (BYOB-capable, pull-based: backpressure is the reader's pace). Cancelling it closes this FileStream. */
  readable(): ReadableStream<Uint8Array>;
  /** Iterates the rest chunk by chunk, then closes the stream. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
}

// ---------------------------------------------------------------- NovusPack packages

/**
 * Opens a NovusPack package (.nvpk, FormatVersion 1) from a random-access source: reads the
 * header, file index, comment and entry records (never entry data), in as few reads as the
 * source allows. The codecs and ciphers of packages live in a second wasm module, loaded here
 * on first use.
 * @example
 * ```ts
 * const pkg = await openPackage(httpSource('https://cdn.example/assets.nvpk'));
 * const stream = await pkg.open('/textures/hero.png', { key });
 * const image = await new Response(stream.readable()).blob();
 * ```
 */
export function openPackage(
  source: Blob | Uint8Array | ArrayBuffer | HttpSource,
  options?: { signal?: AbortSignal; timeout?: number; memoryLimit?: number },
): Promise<NovusPackage>;

/** An opened package. */
export class NovusPackage {
  private constructor();
  /** Every header field; u64 fields as bigint. */
  readonly header: PackageHeader;
  /** The entries, in file-index order. */
  readonly entries: readonly FileEntry[];
  /** The package comment, or null. */
  readonly comment: string | null;
  /** The package's length in bytes. */
  readonly size: number;
  readonly closed: boolean;
  /** The entry with a stored path ("/dir/file.txt"), or one without the leading "/". */
  find(path: string): FileEntry | undefined;
  /**
   * A FileStream over an entry's original bytes: decrypted (nothing before its tag verifies),
   * decompressed, and checked (RawChecksum, StoredChecksum, SHA-256) when read to its end.
   * NOT_FOUND for a path that is not in the package.
   */
  open(entry: FileEntry | string, config?: EntryStreamConfig): Promise<FileStream>;
  /** Closes the package, its source and every open entry stream (idempotent). */
  close(): void;
}

/** What {@link NovusPackage.open} accepts: the entry's record says how it is stored. */
export interface EntryStreamConfig extends Pick<
  StreamConfig,
  'bufferSize' | 'chunkSize' | 'memoryLimit' | 'useBufferPool' | 'timeout' | 'signal'
> {
  /** 32 bytes, for AES-256-GCM and ChaCha20-Poly1305 entries. */
  key?: Uint8Array;
  /** For ML-KEM entries: the 64-byte seed, or the expanded FIPS 203 key (1632 / 2400 / 3168 bytes). */
  decapsulationKey?: Uint8Array;
}

/** The header fields, in camelCase; u64 fields as bigint. */
export interface PackageHeader {
  magic: number;
  formatVersion: number;
  flags: number;
  packageDataVersion: number;
  metadataVersion: number;
  packageCrc: number;
  createdTime: bigint;
  modifiedTime: bigint;
  localeId: number;
  appId: bigint;
  vendorId: number;
  creatorId: number;
  indexStart: bigint;
  indexSize: bigint;
  archiveChainId: bigint;
  archivePartInfo: number;
  commentSize: number;
  commentStart: bigint;
  signatureOffset: bigint;
}

/** One file entry of a package (frozen). */
export interface FileEntry {
  readonly fileId: bigint;
  /** Stored paths, the first the primary one ("/dir/file.txt"). */
  readonly paths: readonly string[];
  /** File type (65000 and up: special metadata files). */
  readonly type: number;
  readonly fileVersion: number;
  readonly metadataVersion: number;
  readonly originalSize: number;
  readonly storedSize: number;
  /** CRC-32 of the original bytes. */
  readonly rawChecksum: number;
  /** CRC-32 of the stored bytes. */
  readonly storedChecksum: number;
  /** 'unknown' for an id this reader does not know (opening the entry is UNSUPPORTED_ALGORITHM). */
  readonly compression: 'none' | 'zstd' | 'lz4' | 'lzma' | 'unknown';
  readonly compressionId: number;
  readonly compressionLevel: number;
  readonly encryption: 'none' | 'aes-256-gcm' | 'ml-kem' | 'chacha20-poly1305' | 'unknown';
  readonly encryptionId: number;
  /** Hash entries (type 0 = SHA-256 of the original bytes, checked when read to the end). */
  readonly hashes: readonly { readonly type: number; readonly purpose: number; readonly value: Uint8Array }[];
  /** Optional data entries, as stored. */
  readonly optionalData: readonly { readonly type: number; readonly data: Uint8Array }[];
  /** True for special metadata files (type 65000-65535). */
  readonly special: boolean;
  /** Offset of the FileEntry record. */
  readonly offset: number;
  /** Offset of the entry's stored bytes. */
  readonly dataOffset: number;
}

/**
 * A fresh ML-KEM key pair (512, 768 or 1024; default 768) for 'ml-kem' entries:
 * `decapsulationKey` is the 64-byte seed (secret), `encapsulationKey` the public key.
 */
export function generateKemKeyPair(
  parameterSet?: 512 | 768 | 1024,
): Promise<{ decapsulationKey: Uint8Array; encapsulationKey: Uint8Array }>;

/** One file of {@link writePackage}. */
export interface PackageFile {
  /** Its path in the package (normalized: "/" separators, a leading "/", no "." or ".."). */
  path: string;
  source: Source;
  /** File type (0 = generic binary). */
  type?: number;
  compression?: 'none' | 'zstd' | 'lz4' | 'lzma';
  /** zstd 1-22 (default 3); LZMA 0-9 (the xz preset, default 6); ignored by LZ4. */
  compressionLevel?: number;
  encryption?: 'none' | 'aes-256-gcm' | 'chacha20-poly1305' | 'ml-kem';
  /** 32 bytes, for 'aes-256-gcm' and 'chacha20-poly1305'. */
  key?: Uint8Array;
  /** The ML-KEM public key (800, 1184 or 1568 bytes) for 'ml-kem'. */
  encapsulationKey?: Uint8Array;
}

/**
 * Writes a package of `files` as a byte stream. The header comes first but depends on every
 * entry's stored size, so each file is read twice (compressed and encrypted twice, with the
 * same nonces): one entry's bytes are held at a time. A ReadableStream source is read once and
 * held until it is written.
 */
export function writePackage(
  files: Iterable<PackageFile> | AsyncIterable<PackageFile>,
  options?: {
    comment?: string;
    vendorId?: number;
    appId?: bigint | number;
    creatorId?: number;
    localeId?: number;
    signal?: AbortSignal;
  },
): ReadableStream<Uint8Array>;

// ---------------------------------------------------------------- sealing

/** Options of {@link seal} and {@link sealTransform}. */
export interface SealOptions {
  /** Encrypt (ChaCha20-Poly1305 under a per-file subkey) when present. */
  key?: Uint8Array;
  /** Deflate level 0..10; true = 6; false or absent = store. */
  compress?: boolean | number;
  /** Plaintext bytes per chunk (64 B .. 64 MiB; default 256 KiB). */
  chunkSize?: number;
  /**
   * The plaintext length, recorded in the header so readers in order know it from the first
   * chunk (a Blob or Uint8Array source gives it by itself). A source of another length fails
   * with SIZE_MISMATCH.
   */
  size?: number;
  signal?: AbortSignal;
  /** seal(): chunks are sealed by this pool's workers (sealTransform ignores it). */
  pool?: StreamingWorkerPool;
}

/**
 * Seals `source` into the seekable sealed format (FORMAT.md), as a byte stream pulled at the
 * reader's pace. A Blob or Uint8Array source records its length in the header.
 * @example
 * ```ts
 * const sealed = await new Response(seal(file, { key, compress: true })).blob();
 * ```
 */
export function seal(source: Source, options?: SealOptions): ReadableStream<Uint8Array>;
/** Plaintext in, sealed bytes out. */
export function sealTransform(options?: SealOptions): TransformStream<Uint8Array, Uint8Array>;
/**
 * Sealed bytes in, verified plaintext out (in order, no index needed). Output waits for the
 * reader, so a highly compressed input does not pile up in memory.
 * @example
 * ```ts
 * const plain = response.body!.pipeThrough(unsealTransform({ key }));
 * ```
 */
export function unsealTransform(options?: {
  key?: Uint8Array;
  signal?: AbortSignal;
}): TransformStream<Uint8Array, Uint8Array>;
/** 32 random bytes from crypto.getRandomValues. */
export function generateKey(): Uint8Array;
/**
 * A key from 64 hex digits (surrounding whitespace ignored), as `novuspack-stream keygen`
 * writes it. Anything else is `INVALID_KEY` (described by its length, never its contents).
 */
export function keyFromHex(hex: string): Uint8Array;
/** The 64 lowercase hex digits of a 32-byte key. */
export function keyToHex(key: Uint8Array): string;

/** What a sealed file's header and footer say (see {@link inspect}). */
export interface SealedInfo {
  kind: 'sealed';
  version: number;
  compressed: boolean;
  encrypted: boolean;
  chunkSize: number;
  chunkCount: number;
  storedSize: number;
  /** The plaintext size written in the header, if the writer knew it (unauthenticated here). */
  declaredSize?: number;
  indexOffset: number;
  indexLength: number;
}

/**
 * Describes a sealed file from its header (80 bytes; 48 in version 1) and 24-byte footer, without
 * a key. Nothing here is authenticated (CRCs only): open it with FileStream to verify. Throws
 * UNKNOWN_FORMAT for data that is not sealed, BAD_MAGIC for a sealed file without its footer.
 * @example
 * ```ts
 * const info = await inspect(file); // { encrypted: true, chunkSize: 262144, chunkCount: 4000, ... }
 * ```
 */
export function inspect(source: Blob | Uint8Array | ArrayBuffer | HttpSource): Promise<SealedInfo>;

// ---------------------------------------------------------------- BufferPool

/** Options of a {@link BufferPool}. */
export interface BufferConfig {
  /** Bytes held by the pool at most, free and lent out. */
  maxTotalSize?: number;
  /** Largest single buffer. */
  maxBufferSize?: number;
  /** 'lru': free buffers stay until room is needed, least recently used go first; 'time': also released after evictionTimeout idle. */
  evictionPolicy?: 'lru' | 'time';
  /** ms after which an unused buffer is released (policy 'time'). */
  evictionTimeout?: number;
}

/** DefaultBufferConfig: 1 GiB, 1 MiB, 'lru', 300000 ms. */
export function defaultBufferConfig(): Required<BufferConfig>;

/** Statistics of one size class. */
export interface BufferClassStats {
  size: number;
  free: number;
  active: number;
  hits: number;
  misses: number;
  evictions: number;
}

export interface BufferPoolStats {
  hits: number;
  misses: number;
  evictions: number;
  /** Bytes held now (free + lent out). */
  totalSize: number;
  bufferCount: number;
  activeBuffers: number;
  freeBuffers: number;
  /** Bytes lent out / bytes held. */
  utilization: number;
  classes: BufferClassStats[];
}

/**
 * A buffer lent by a {@link BufferPool}, living in wasm linear memory. Its bytes are reached by
 * copying ({@link PooledBuffer.write}, {@link PooledBuffer.read}) or through a view that lives
 * only during {@link PooledBuffer.withView}'s callback: wasm memory can grow at any later call
 * into the library, which detaches every view, so no view outlives the callback.
 */
export interface PooledBuffer {
  /** Usable size in bytes: at least the size asked for (its size class). */
  readonly length: number;
  readonly pool: BufferPool;
  /** How many times this buffer has been lent (1 on first use). */
  readonly accessCount: number;
  /** Copies `data` in at `offset`. */
  write(data: Uint8Array, offset?: number): void;
  /** Copies bytes out (a new array, independent of wasm memory). */
  read(offset?: number, length?: number): Uint8Array;
  /**
   * Calls `fn` with a view of the buffer and returns its result. The view is valid only during
   * this synchronous call; if wasm memory grew meanwhile, VIEW_DETACHED is thrown.
   */
  withView<T>(fn: (view: Uint8Array) => T): T;
  /** Same as pool.put(this). */
  release(): void;
}

/**
 * Reusable buffers in size classes (powers of two in quarter steps), with a byte limit held by
 * LRU eviction, optional idle-time eviction and access statistics.
 * @example
 * ```ts
 * await ready();
 * const pool = new BufferPool({ maxTotalSize: 256 << 20 });
 * const stream = await FileStream.open(blob, { key, pool });
 * ```
 */
export class BufferPool {
  /** Needs the wasm module: `await ready()` first in browsers. */
  constructor(config?: BufferConfig);
  /** A free buffer of the size class if there is one, else a new one (evicting to stay in limits). */
  get(size: number): PooledBuffer;
  /** Back to the pool (evicts to stay within limits). */
  put(buffer: PooledBuffer): void;
  getStats(): BufferPoolStats;
  /** Bytes held now (free + lent out). */
  totalSize(): number;
  /** Takes effect at once: free buffers are evicted until within the limit. */
  setMaxTotalSize(bytes: number): void;
  /** Releases buffers idle longer than evictionTimeout (policy 'time'); returns how many. */
  evictExpired(): number;
  readonly config: Required<BufferConfig>;
  readonly closed: boolean;
  /** Releases everything; later get() throws CLOSED. */
  close(): void;
}

// ---------------------------------------------------------------- configuration

export const ChunkMode: { readonly Sequential: 0; readonly Parallel: 1; readonly Adaptive: 2 };
export type ChunkModeValue = 0 | 1 | 2;

export interface ConcurrencyConfig {
  /** 0 = auto (hardwareConcurrency / availableParallelism). */
  maxWorkers?: number;
  /** ms for a graceful stop. */
  workerTimeout?: number;
  /** Job queue capacity (0 = auto). */
  workerBufferSize?: number;
  /** 0 = no limit. */
  maxConcurrentOps?: number;
}

export interface StreamingConcurrencyConfig extends ConcurrencyConfig {
  /** 0 = no limit. */
  maxStreamsPerWorker?: number;
  streamBufferSize?: number;
  chunkProcessingMode?: ChunkModeValue;
}

export interface StreamingConfig extends StreamingConcurrencyConfig {
  streamTimeout?: number;
}

/**
 * Builds a validated {@link StreamingConfig}; options never set stay unset.
 * @example
 * ```ts
 * const config = new StreamingConfigBuilder().withChunkProcessingMode(ChunkMode.Parallel).build();
 * ```
 */
export class StreamingConfigBuilder {
  withStreamBufferSize(bytes: number): this;
  withChunkProcessingMode(mode: ChunkModeValue): this;
  withMaxStreamsPerWorker(max: number): this;
  withStreamTimeout(ms: number): this;
  /** Validates (throws StreamError 'Validation' naming the field). */
  build(): StreamingConfig;
}

/** Every option set to a default suited to this runtime (worker count from the hardware). */
export function createStreamingConfig(): Required<StreamingConfig>;
/** Throws StreamError 'Validation' naming the first invalid field. */
export function validateStreamingConfig(config: StreamingConfig): void;
/** Every default value. */
export function getStreamingConfigDefaults(): Required<StreamingConfig>;

// ---------------------------------------------------------------- worker pool

/** Options of a {@link StreamingWorkerPool}. */
/**
 * What the pool needs of a worker: a Web Worker (browsers, Deno) or a `worker_threads` Worker
 * (Node) both fit.
 */
export interface PoolWorker {
  postMessage(message: any, transfer?: any): void;
  terminate(): unknown;
}

export interface StreamingWorkerPoolConfig extends StreamingConcurrencyConfig {
  /**
   * 'auto' (default) picks 'shared' where SharedArrayBuffer can be shared (cross-origin isolated
   * pages, Node worker_threads, Deno), 'message' where it cannot, 'inline' where there are no
   * Workers (Cloudflare Workers, Deno Deploy).
   */
  transport?: 'auto' | 'shared' | 'message' | 'inline';
  /** The worker script, when self-hosted (CSP, a CDN): pkg-js/src/pool/worker-web.js (worker-node.js in Node). */
  workerUrl?: string | URL;
  /** Makes a worker (a Web Worker, or a worker_threads Worker in Node) for the given script URL. */
  createWorker?: (url: URL) => PoolWorker;
}

/** A unit of work for {@link StreamingWorkerPool.submitStreamingJob}. */
export interface StreamingJob {
  /** Echoed in the result (default `job-<n>`). */
  id?: string;
  /**
   * 'deflate': raw deflate (RFC 1951) out (`options.compress`: level, default 6); 'inflate':
   * raw deflate, zlib or gzip in (detected; `options.memoryLimit` caps the output, default
   * 1 GiB, past it OUTPUT_LIMIT); 'seal' / 'unseal': the sealed format (`options.key`,
   * `compress`, `chunkSize`); 'digest': SHA-256 of the bytes, of the plaintext if they are
   * sealed.
   */
  op: 'seal' | 'unseal' | 'inflate' | 'deflate' | 'digest';
  /** Read whole before the job runs (a job's output is whole too). */
  input: Blob | Uint8Array | ReadableStream<Uint8Array>;
  options?: SealOptions & StreamConfig;
  /** Higher runs first; equal priorities run in submission order. */
  priority?: number;
  /** Removes the job from the queue, or stops it between pieces of 256 KiB. */
  signal?: AbortSignal;
  /** When the queue is full: wait for room (true, the default) or fail at once with QUEUE_FULL. */
  wait?: boolean;
}

export interface StreamingResult {
  id: string;
  output: Uint8Array;
  bytesIn: number;
  bytesOut: number;
  /** Index of the worker that ran it (0 inline). */
  worker: number;
  /** ms from submission to completion. */
  elapsed: number;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  count: number;
}

export interface WorkerStats {
  id: number;
  /** Jobs and chunks this worker completed. */
  jobs: number;
  /** Chunks of pool streams and pooled seals it decoded or sealed. */
  chunks: number;
  failed: number;
  bytes: number;
  /** ms spent running jobs and chunks. */
  busyTime: number;
  /** How many times this worker was replaced after dying. */
  restarts: number;
  active: boolean;
}

export interface StreamingStats {
  isRunning: boolean;
  transport: 'shared' | 'message' | 'inline';
  totalWorkers: number;
  activeWorkers: number;
  /** Jobs completed, and chunks decoded or sealed for pool streams and pooled seals. */
  jobsProcessed: number;
  jobsFailed: number;
  /** Jobs run again after their worker died (once each at most). */
  jobsRetried: number;
  /** Chunks decoded or sealed for pool streams and pooled seals. */
  chunksProcessed: number;
  /** Pool streams and pooled seals open now. */
  sessions: number;
  jobsInQueue: number;
  jobsRunning: number;
  /** Submitters waiting for room in the queue (backpressure). */
  jobsWaitingForRoom: number;
  bytesProcessed: number;
  workers: WorkerStats[];
  /** ms between queueing and running, over recent jobs. */
  queueWait: LatencySummary;
  /** ms of running, over recent jobs. */
  runTime: LatencySummary;
}

/**
 * Workers that run jobs and decode or seal chunks in parallel. Jobs wait in a queue of
 * `workerBufferSize` (submitters wait for room, highest priority first), at most
 * `maxConcurrentOps` run at once. A worker that dies mid-job is replaced and the job retried
 * once on another worker, then rejected with WORKER_FAILED; no job completes twice. For
 * `open` and `seal({ pool })` the workers get the file once (its authenticated header, the
 * per-file subkey, never your key, the chunk table and, when they can read it, the Blob) and
 * read, decode and transfer the chunks back themselves; a dead worker's chunks are re-issued.
 * @example
 * ```ts
 * const pool = new StreamingWorkerPool({ maxWorkers: 4 });
 * const stream = await pool.open(file, { key });            // chunks decoded on 4 workers
 * const sealed = seal(file, { key, compress: true, pool });  // chunks sealed on 4 workers
 * await pool.stop();
 * ```
 */
export class StreamingWorkerPool {
  constructor(config?: StreamingWorkerPoolConfig);
  /** What 'auto' chose: 'shared' = the SharedArrayBuffer job queue; 'message' = postMessage; 'inline' = no Worker. */
  readonly transport: 'shared' | 'message' | 'inline';
  /** Starts the workers (the first submit or open does it too). */
  start(options?: { signal?: AbortSignal }): Promise<void>;
  /** Finishes running jobs (up to workerTimeout), rejects queued ones with a 'Context' error, ends every worker. */
  stop(options?: { signal?: AbortSignal }): Promise<void>;
  submitStreamingJob(job: StreamingJob): Promise<StreamingResult>;
  /**
   * A FileStream whose sealed chunks the workers read and decode, delivered in order without a
   * copy on this thread; the chunkProcessingMode sets the read-ahead: Sequential (one chunk),
   * Parallel (enough for every worker to decode a batch while reading the next), Adaptive
   * (widened while the reader waits). Within `memoryLimit`, chunks in flight included. Blobs
   * workers can read (in-memory, File) are read by them; other random-access sources (a Node
   * fs.openAsBlob file, bytes) are read here in batches and transferred; ReadableStreams and
   * the 'inline' transport decode on this thread.
   */
  open(
    source: Source,
    config?: StreamConfig & { chunkProcessingMode?: ChunkModeValue; priority?: number },
  ): Promise<FileStream>;
  getStreamingStats(): StreamingStats;
}

/**
 * Runs `processor` over every stream, at most `maxConcurrentOps` (or the worker count) at
 * once; resolves to one slot per stream, in order: null, or the error it threw.
 */
export function processStreamsConcurrently(
  streams: FileStream[],
  processor: (stream: FileStream) => Promise<void>,
  config?: StreamingConcurrencyConfig,
): Promise<(Error | null)[]>;

/** Bytes of wasm linear memory (it grows, never shrinks). */
export function memoryUsage(): { wasmMemory: number; packageWasmMemory: number };

/**
 * Which build of the wasm module was loaded: `simd` where the engine has WebAssembly SIMD
 * (every runtime since 2023), else the plain fallback (same API, slower ChaCha20 and inflate).
 */
export function wasmBuild(): { simd: boolean };

// ---------------------------------------------------------------- remote files and serving ranges

/** Request headers: a `Headers`, an object, or name-value pairs (DOM's HeadersInit, also without the DOM library). */
export type HeadersLike = Headers | Record<string, string> | [string, string][];

/** Options of {@link httpSource}. */
export interface HttpSourceOptions {
  /** Sent with every request (authorization, ...). Plain data: it goes to pool workers too. */
  headers?: HeadersLike;
  /**
   * The fetch to use (default `globalThis.fetch`): a Workers service binding's fetch, an R2
   * adapter, a test double. With a custom fetch, pool workers cannot fetch for themselves.
   */
  fetch?: typeof fetch;
  /**
   * Retries per request on network errors, timeouts, 408, 429 and 5xx (default 3): backoff
   * from 100 ms doubling to 5 s, with jitter, or the server's Retry-After when longer (a
   * Retry-After over 60 s fails the read). A retry resumes after the bytes already received.
   */
  maxRetries?: number;
  /** Bytes per request at most (64 KiB .. 1 GiB; default 16 MiB, as CDNs and proxies expect). */
  maxRangeSize?: number;
  /** Requests in flight at most for this source, every reader together (1..64; default 4). */
  concurrency?: number;
  /**
   * Milliseconds a request may wait for an answer, or between two pieces of its body, before
   * it counts as failed (and is retried); default 30000; 0 = never.
   */
  timeout?: number;
  /** Bytes of fetched ranges kept for later reads, least recently used dropped first (default 16 MiB). */
  cacheSize?: number;
  /** Aborts every request; every pending and later read fails with ABORTED. */
  signal?: AbortSignal;
}

/**
 * A file on a web server, CDN or object store, read with HTTP Range requests: usable wherever
 * a {@link Source} is (FileStream.open, pool.open, seal, inspect, serveRange). One HttpSource
 * may be opened by many streams at once: they share its size, validator, cached ranges and
 * request budget, and closing one stream ends only its own requests.
 *
 * Costs, after which nothing else is requested: opening = two requests side by side, in one
 * round trip: a suffix range (`bytes=-65536`: size, footer and index of a sealed file of up to
 * about 16,000 chunks) and the first 4 KiB (its header); an index larger than that, one more. `readAt` inside one chunk = exactly 1 request; the same bytes are never
 * fetched twice while cached or in flight; reads asked together are merged when they touch
 * (up to maxRangeSize); reading in order = read-ahead ranges growing from 256 KiB to
 * maxRangeSize, at most `concurrency` in flight, their unread bytes at most 8 times what the
 * pass has read (at least 1 MiB) and within a quarter of the stream's memoryLimit (else
 * concurrency x maxRangeSize, at most 64 MiB). A seek, close or cancelled body aborts what no
 * reader needs.
 *
 * Guarantees: the size comes from Content-Range (never a HEAD, never Accept-Ranges); the first
 * response's strong ETag (else Last-Modified) and size must be repeated by every later one,
 * else RESOURCE_CHANGED and every later read fails: bytes of two versions are never mixed. A
 * wrong Content-Range or body length is retried, then READ_FAILED. A 200 answer to a range
 * request is cancelled at once (RANGE_NOT_SUPPORTED), unless it is the whole file within
 * maxRangeSize. 404, 401, 403: READ_FAILED with `context.status`, no retry. Cross-origin, the
 * server must send `Access-Control-Allow-Origin`, `Access-Control-Allow-Headers: Range` and
 * `Access-Control-Expose-Headers: Content-Range, ETag` (failures say so).
 * @example
 * ```ts
 * const source = httpSource('https://cdn.example.com/movie.sealed', { headers: { authorization } });
 * const stream = await FileStream.open(source, { key, memoryLimit: 64 << 20 });
 * await stream.readAt(buffer, offset); // one request
 * ```
 */
export interface HttpSource {
  /** The absolute URL read. */
  readonly url: string;
  /** The file's stored size, known after the first response (Content-Range); null before. */
  readonly size: number | null;
  /** The strong ETag (else Last-Modified) every response must repeat; null before the first response or when the server sends neither. */
  readonly validator: string | null;
  /** Requests sent (retries included), body bytes received, retries, and bytes held now (cache and requests in flight). */
  stats(): { requests: number; bytesFetched: number; retries: number; bytesHeld: number };
}

/** A file read with HTTP Range requests (see {@link HttpSource}). Nothing is requested until it is opened. */
export function httpSource(url: string | URL, options?: HttpSourceOptions): HttpSource;

/** Options of {@link serveRange}: those of the FileStream that reads the source, and of the response. */
export interface ServeRangeOptions extends StreamConfig {
  /** Content-Type of the response (default application/octet-stream). */
  contentType?: string;
  /** Extra response headers (Cache-Control, ...). */
  headers?: HeadersLike;
}

/**
 * The logical bytes of `source` (decrypted, decompressed) as an HTTP response with Range
 * support: a Service Worker's fetch handler (a `<video>` seeking inside an encrypted file), a
 * Cloudflare Worker, Deno.serve, Node. GET and HEAD (405 otherwise); no Range: 200 with
 * Content-Length and `Accept-Ranges: bytes`; one range (`bytes=a-b`, `a-`, `-n`): 206 with
 * Content-Range; unsatisfiable: 416 with `Content-Range: bytes &#42;/size`; several ranges, or an
 * If-Range that does not match: 200 with the whole body; If-None-Match: 304. A strong ETag
 * identifies the source's bytes (a sealed file's random salt, or the remote validator); a
 * source with no cheap identity (a plain Blob, bytes, a stream) gets none.
 *
 * The body is read on demand, a chunk at a time, within `memoryLimit`; cancelling it closes
 * the stream and stops its requests. A chunk that fails to verify errors the body: no
 * unauthenticated byte is ever sent. Errors before the response (a wrong key, an unreachable
 * source) reject with a StreamError.
 * @example
 * ```ts
 * // A Service Worker that plays an encrypted video, seeking included:
 * const source = httpSource('/videos/talk.sealed');
 * self.addEventListener('fetch', (event) => {
 *   if (new URL(event.request.url).pathname === '/media/talk.webm')
 *     event.respondWith(serveRange(event.request, source, { key, contentType: 'video/webm' }));
 * });
 * ```
 */
export function serveRange(request: Request, source: Source, options?: ServeRangeOptions): Promise<Response>;
