// Compiled (not run) by `tsc --noEmit` against the installed package: every export is used
// with the types a caller would write, and misuse is marked @ts-expect-error, so both a
// missing declaration and a too-loose one fail the check. Compiled three times: with the DOM
// library only (tsconfig.json, with types.dom.ts), with Node's types only (tsconfig.node.json,
// with types.node.ts) and with both (tsconfig.both.json).
import {
  BufferPool,
  ChunkMode,
  FileStream,
  StreamError,
  StreamingConfigBuilder,
  createStreamingConfig,
  defaultBufferConfig,
  generateKey,
  getStreamingConfigDefaults,
  inspect,
  memoryUsage,
  wasmBuild,
  processStreamsConcurrently,
  ready,
  seal,
  sealTransform,
  unsealTransform,
  validateStreamingConfig,
  StreamingWorkerPool,
} from 'novuspack-stream';
import type { ErrorCode, PoolWorker } from 'novuspack-stream';
import type {
  BufferConfig,
  BufferPoolStats,
  ErrorType,
  SealedInfo,
  PooledBuffer,
  SealOptions,
  Source,
  StreamConfig,
  StreamProgress,
  StreamStats,
  StreamingConfig,
  StreamingJob,
  StreamingResult,
  StreamingStats,
} from 'novuspack-stream';

export async function everything(
  blob: Blob,
  body: ReadableStream<Uint8Array>,
  makeWorker: (url: URL) => PoolWorker,
): Promise<number> {
  await ready();
  const key: Uint8Array = generateKey();
  const options: SealOptions = { key, compress: 6, chunkSize: 1 << 16, signal: AbortSignal.timeout(1000) };
  const sealed: ReadableStream<Uint8Array> = seal(blob, options);
  const piped: ReadableStream<Uint8Array> = body
    .pipeThrough(sealTransform({ compress: true }))
    .pipeThrough(unsealTransform({ key }));
  const source: Source = new Uint8Array(4);
  const pool = new BufferPool({
    maxTotalSize: 1 << 20,
    evictionPolicy: 'time',
    evictionTimeout: 1000,
  } satisfies BufferConfig);
  const config: StreamConfig = {
    key,
    memoryLimit: 64 << 20,
    isCompressed: true,
    timeout: 5000,
    pool,
    signal: new AbortController().signal,
  };
  const stream: FileStream = await FileStream.open(sealed, config);
  const size: number | null = stream.size;
  const position: number = stream.position;
  const closed: boolean = stream.closed;
  const chunk: Uint8Array | null = await stream.readChunk({ signal: AbortSignal.timeout(100) });
  const n: number = await stream.read(new Uint8Array(10));
  const m: number = await stream.readAt(new Uint8Array(10), 5);
  await stream.seek(0);
  const stats: StreamStats = stream.getStats();
  const progress: StreamProgress = stream.progress();
  const eta: number | null = stream.estimatedTimeRemaining();
  const readable: ReadableStream<Uint8Array> = stream.readable();
  for await (const part of stream) {
    const bytes: Uint8Array = part;
    void bytes;
  }
  stream.close();
  const buffer: PooledBuffer = pool.get(100);
  buffer.write(new Uint8Array(3), 1);
  const copy: Uint8Array = buffer.read(0, 3);
  const first: number = buffer.withView((view) => view[0]);
  pool.put(buffer);
  const poolStats: BufferPoolStats = pool.getStats();
  const total: number = pool.totalSize() + pool.evictExpired();
  pool.setMaxTotalSize(1024);
  pool.close();
  const defaults: Required<BufferConfig> = defaultBufferConfig();
  const built: StreamingConfig = new StreamingConfigBuilder()
    .withStreamBufferSize(1 << 20)
    .withChunkProcessingMode(ChunkMode.Adaptive)
    .withMaxStreamsPerWorker(4)
    .withStreamTimeout(30_000)
    .build();
  validateStreamingConfig(built);
  const created: Required<StreamingConfig> = createStreamingConfig();
  const all: Required<StreamingConfig> = getStreamingConfigDefaults();
  const timeout: number = all.streamTimeout;
  // @ts-expect-error: codes are a closed union, so a typo does not compile
  const typo: ErrorCode = 'AUTH_FAILD';
  const wasm: number = memoryUsage().wasmMemory;
  const simd: boolean = wasmBuild().simd;
  const info: SealedInfo = await inspect(blob);
  const chunks: number = info.chunkCount + (info.declaredSize ?? 0);
  try {
    await FileStream.open(blob);
  } catch (e) {
    if (e instanceof StreamError) {
      const type: ErrorType = e.type;
      const field: string | undefined = e.context?.field;
      const code: ErrorCode = e.code;
      if (e.code === 'AUTH_FAILED') void code;
      void [type, field, e.toJSON().message, timeout, typo];
    }
  }
  const workers = new StreamingWorkerPool({
    maxWorkers: 2,
    transport: 'auto',
    createWorker: makeWorker,
  });
  await workers.start({ signal: AbortSignal.timeout(5000) });
  const job: StreamingJob = { id: 'a', op: 'digest', input: blob, priority: 2, options: { key } };
  const result: StreamingResult = await workers.submitStreamingJob(job);
  const pooled: FileStream = await workers.open(blob, { key, chunkProcessingMode: ChunkMode.Parallel });
  const sealedByPool: ReadableStream<Uint8Array> = seal(blob, { key, pool: workers });
  const workerStats: StreamingStats = workers.getStreamingStats();
  const transport: 'shared' | 'message' | 'inline' = workers.transport;
  const outcomes: (Error | null)[] = await processStreamsConcurrently(
    [pooled],
    async (s) => void (await s.readChunk()),
    { maxConcurrentOps: 2 },
  );
  await workers.stop();
  // @ts-expect-error: jobs have five ops
  await workers.submitStreamingJob({ op: 'compress', input: blob });
  // @ts-expect-error: a key is bytes, not a string
  await FileStream.open(blob, { key: 'secret' });
  // @ts-expect-error: modes are 0, 1 or 2
  new StreamingConfigBuilder().withChunkProcessingMode(3);
  // @ts-expect-error: only 'lru' or 'time'
  new BufferPool({ evictionPolicy: 'fifo' });
  // @ts-expect-error: FileStream is made by FileStream.open
  new FileStream();
  void [
    piped,
    source,
    size,
    position,
    closed,
    chunk,
    n,
    m,
    stats,
    progress,
    eta,
    readable,
    copy,
    first,
    poolStats,
    defaults,
    created,
    all,
  ];
  return total + wasm + chunks;
}

// Remote files and serving ranges.
import { httpSource, serveRange } from 'novuspack-stream';
import type { HttpSource, HttpSourceOptions, ServeRangeOptions } from 'novuspack-stream';

export async function remote(request: Request, key: Uint8Array): Promise<Response> {
  const options: HttpSourceOptions = {
    headers: { authorization: 'Bearer x' },
    fetch: (input, init) => fetch(input, init),
    maxRetries: 2,
    maxRangeSize: 8 << 20,
    concurrency: 4,
    timeout: 10_000,
    cacheSize: 4 << 20,
    signal: AbortSignal.timeout(60_000),
  };
  const source: HttpSource = httpSource(new URL('https://example.com/f.sealed'), options);
  const asSource: Source = source;
  const stream = await FileStream.open(asSource, { key });
  const size: number | null = source.size;
  const validator: string | null = source.validator;
  const { requests, bytesFetched, retries, bytesHeld } = source.stats();
  const info: SealedInfo = await inspect(source);
  // @ts-expect-error: an unknown option name
  httpSource('https://example.com/f', { maxRetry: 2 });
  const serveOptions: ServeRangeOptions = { key, contentType: 'video/webm', headers: { 'cache-control': 'no-store' } };
  const response: Response = await serveRange(request, source, serveOptions);
  stream.close();
  void [size, validator, requests, bytesFetched, retries, bytesHeld, info];
  return response;
}

// NovusPack packages.
import { generateKemKeyPair, openPackage, writePackage, NovusPackage } from 'novuspack-stream';
import type { EntryStreamConfig, FileEntry, PackageFile, PackageHeader } from 'novuspack-stream';

export async function packages(blob: Blob, key: Uint8Array): Promise<Uint8Array> {
  const pkg: NovusPackage = await openPackage(blob, { signal: AbortSignal.timeout(10_000), timeout: 5000 });
  const header: PackageHeader = pkg.header;
  const indexStart: bigint = header.indexStart;
  const entry: FileEntry | undefined = pkg.find('/a.txt');
  const first: FileEntry = pkg.entries[0];
  const codec: 'none' | 'zstd' | 'lz4' | 'lzma' | 'unknown' = first.compression;
  const options: EntryStreamConfig = { key, memoryLimit: 64 << 20, chunkSize: 1 << 16 };
  const stream: FileStream = await pkg.open(entry ?? first, options);
  const same: FileEntry | null = stream.entry;
  const { decapsulationKey, encapsulationKey } = await generateKemKeyPair(768);
  // @ts-expect-error: no such parameter set
  await generateKemKeyPair(256);
  const files: PackageFile[] = [
    { path: '/a.txt', source: blob, compression: 'zstd', compressionLevel: 19 },
    { path: '/b.bin', source: new Uint8Array(4), encryption: 'ml-kem', encapsulationKey },
    // @ts-expect-error: not a codec
    { path: '/c', source: blob, compression: 'brotli' },
  ];
  const written: ReadableStream<Uint8Array> = writePackage(files, { comment: 'c', appId: 5n });
  await pkg.open('/a.txt', { decapsulationKey });
  pkg.close();
  void [indexStart, codec, same, written];
  return new Uint8Array(await new Response(stream.readable()).arrayBuffer());
}
