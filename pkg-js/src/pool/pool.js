// StreamingWorkerPool: the scheduler, and what uses it.
//   - Tasks wait in a priority queue (higher first, submission order among equals) of bounded
//     size (workerBufferSize): submitters wait for room, highest priority first.
//   - At most maxConcurrentOps tasks run at once; the transport (transports.js) runs them.
//   - A task whose worker dies is retried once on a fresh worker, then fails WORKER_FAILED;
//     results carry the attempt number, so none completes twice.
//   - pool.open: a FileStream whose sealed chunks are decoded by PoolDecoder, which the wasm
//     engine drives (start / finish tickets, read-ahead window per ChunkMode).
//   - seal({ pool }): chunks sealed by workers, written in order.
import { InlineTransport, MessageTransport, SharedTransport } from './transports.js';
import { Latency, PriorityQueue } from './queue.js';
import { canShareMemory } from './ring.js';
import { concatBytes } from '../sources.js';
import { checkOptions } from '../options.js';

const MODES = { Sequential: 0, Parallel: 1, Adaptive: 2 };

/**
 * Builds the pool classes over the API's internals: `ctx` = { ready, loaded, loader, fail,
 * errors: { StreamError, aborted, closedError, invalid }, openFileStream, sourceReader, toBytes }.
 */
export function makePool(ctx) {
  const { StreamError, aborted, invalid } = ctx.errors;
  const fail = ctx.fail;
  let taskIds = 0;
  let codecIds = 0;

  function rebuild(error) {
    return fail(error);
  }

  /** Resolves when `signal` aborts (never when there is none). */
  function whenAborted(signal) {
    return new Promise((_, reject) => {
      if (!signal) return;
      if (signal.aborted) reject(aborted(signal.reason));
      else signal.addEventListener('abort', () => reject(aborted(signal.reason)), { once: true });
    });
  }

  async function readInput(input, signal) {
    if (input instanceof Uint8Array) return { bytes: input, owned: false };
    if (typeof Blob !== 'undefined' && input instanceof Blob) {
      return { bytes: new Uint8Array(await Promise.race([input.arrayBuffer(), whenAborted(signal)])), owned: true };
    }
    if (typeof ReadableStream !== 'undefined' && input instanceof ReadableStream) {
      const reader = input.getReader();
      const parts = [];
      const stop = whenAborted(signal);
      stop.catch(() => reader.cancel().catch(() => {}));
      for (;;) {
        const { done, value } = await Promise.race([reader.read(), stop]);
        if (done) break;
        parts.push(ctx.toBytes(value));
      }
      return { bytes: concatBytes(parts), owned: true };
    }
    throw invalid('job.input', input, 'a Blob, Uint8Array or ReadableStream');
  }

  class StreamingWorkerPool {
    #config;
    #options;
    #transportName;
    #transport = null;
    #state = 'new'; // new | starting | running | stopping | stopped
    #starting = null;
    #queue = new PriorityQueue();
    #waiting = new PriorityQueue(); // submitters waiting for room
    #reserved = 0;
    #running = new Set();
    #seq = 0;
    #streams = 0;
    #streamWaiters = [];
    #stats = { processed: 0, failed: 0, bytes: 0, retried: 0 };
    #queueWait = new Latency();
    #runTime = new Latency();
    #workerCount = 0;

    constructor(config = {}) {
      const {
        transport = 'auto',
        workerUrl,
        createWorker,
        ...rest
      } = checkOptions(config, 'pool', 'the StreamingWorkerPool config');
      if (!['auto', 'shared', 'message', 'inline'].includes(transport)) {
        throw invalid('transport', transport, "'auto', 'shared', 'message' or 'inline'");
      }
      if (createWorker !== undefined && typeof createWorker !== 'function')
        throw invalid('createWorker', createWorker, 'a function');
      if (workerUrl !== undefined && typeof workerUrl !== 'string' && !(workerUrl instanceof URL)) {
        throw invalid('workerUrl', workerUrl, 'a string or URL');
      }
      this.#options = { workerUrl, createWorker };
      this.#config = { ...rest };
      this.#transportName = this.#choose(transport);
    }

    #choose(wanted) {
      const canSpawn = Boolean(this.#options.createWorker || ctx.loader.createWorker);
      if (wanted === 'inline' || !canSpawn) {
        if (wanted === 'shared' || wanted === 'message') {
          throw new StreamError(
            'Unsupported',
            'UNSUPPORTED_ALGORITHM',
            `transport '${wanted}' needs Workers, which this runtime lacks`,
          );
        }
        return 'inline';
      }
      if (wanted === 'shared' && !canShareMemory()) {
        throw new StreamError(
          'Unsupported',
          'UNSUPPORTED_ALGORITHM',
          "transport 'shared' needs SharedArrayBuffer (a cross-origin isolated page)",
        );
      }
      if (wanted === 'auto') return canShareMemory() ? 'shared' : 'message';
      return wanted;
    }

    /** 'shared', 'message' or 'inline': what this pool uses. */
    get transport() {
      return this.#transportName;
    }

    /** The resolved concurrency configuration (after start). */
    get config() {
      return { ...this.#config };
    }

    #createWorker() {
      const { createWorker, workerUrl } = this.#options;
      const url = workerUrl ? new URL(workerUrl, globalThis.location?.href) : ctx.loader.workerUrl?.();
      if (createWorker) return createWorker(url);
      return workerUrl ? ctx.loader.createWorkerFromUrl(url) : ctx.loader.createWorker();
    }

    /** Starts the workers (also done by the first submit or open). */
    async start(options = {}) {
      const signal = options?.signal;
      if (this.#state === 'running') return;
      if (this.#state === 'stopping' || this.#state === 'stopped')
        throw new StreamError('Context', 'CLOSED', 'the pool was stopped');
      this.#starting ??= this.#start();
      await Promise.race([this.#starting, whenAborted(signal)]);
    }

    async #start() {
      this.#state = 'starting';
      try {
        await ctx.ready();
        const w = ctx.loaded();
        w.validateStreamingConfig(this.#config);
        const parallelism = ctx.loader.parallelism?.() ?? globalThis.navigator?.hardwareConcurrency ?? 1;
        const c = this.#config;
        const workers = this.#transportName === 'inline' ? 1 : c.maxWorkers || Math.max(1, Math.min(parallelism, 256));
        this.#workerCount = workers;
        this.#config = {
          maxWorkers: workers,
          workerTimeout: c.workerTimeout ?? 30_000,
          workerBufferSize: c.workerBufferSize || workers * 8,
          maxConcurrentOps: c.maxConcurrentOps ?? 0,
          maxStreamsPerWorker: c.maxStreamsPerWorker ?? 0,
          streamBufferSize: c.streamBufferSize ?? 1024 * 1024,
          chunkProcessingMode: c.chunkProcessingMode ?? MODES.Adaptive,
        };
        const base = {
          count: workers,
          createWorker: () => this.#createWorker(),
          module: ctx.loader.module,
          startTimeout: this.#config.workerTimeout,
        };
        if (this.#transportName === 'inline') this.#transport = new InlineTransport(this, { glue: w });
        else if (this.#transportName === 'shared') {
          this.#transport = new SharedTransport(this, {
            ...base,
            slotBytes: this.#config.streamBufferSize + 64 * 1024,
          });
        } else this.#transport = new MessageTransport(this, base);
        await this.#transport.start();
        this.#state = 'running';
        this.wakeDispatch();
      } catch (error) {
        this.#state = 'new';
        this.#starting = null;
        this.#transport?.stop(0);
        throw rebuild(error);
      }
    }

    async #ensureRunning() {
      if (this.#state === 'running') return;
      await this.start();
    }

    /**
     * Finishes running jobs (up to workerTimeout), rejects queued ones with a 'Context' error,
     * and ends every worker.
     */
    async stop(options = {}) {
      const signal = options?.signal;
      if (this.#state === 'stopped' || this.#state === 'new') {
        this.#state = 'stopped';
        return;
      }
      await this.#starting?.catch(() => {});
      this.#state = 'stopping';
      const closed = () => new StreamError('Context', 'CLOSED', 'the pool is stopping');
      for (const task of this.#queue.drain()) this.#settle(task, closed());
      for (const waiter of this.#waiting.drain()) waiter.reject(closed());
      for (const waiter of this.#streamWaiters.splice(0)) waiter.reject(closed());
      const grace = signal?.aborted ? 0 : this.#config.workerTimeout;
      // An abort during the grace period ends the workers at once.
      const now = whenAborted(signal).then(
        () => 0,
        () => this.#transport.stop(0),
      );
      const left = await Promise.race([this.#transport.stop(grace), now]);
      for (const task of [...this.#running]) {
        this.#settle(
          task,
          new StreamError('Context', left ? 'TIMEOUT' : 'CLOSED', 'the pool stopped before the job finished'),
        );
      }
      this.#state = 'stopped';
    }

    /** Waits for room in the queue, in priority order. */
    #admit(priority, signal) {
      const capacity = this.#config.workerBufferSize;
      if (this.#queue.size + this.#reserved < capacity && this.#waiting.size === 0) {
        this.#reserved += 1;
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => {
        const waiter = { priority, seq: this.#seq++, resolve, reject };
        this.#waiting.push(waiter);
        signal?.addEventListener(
          'abort',
          () => {
            if (this.#waiting.remove(waiter)) reject(aborted(signal.reason));
          },
          { once: true },
        );
      });
    }

    #admitWaiting() {
      const capacity = this.#config.workerBufferSize;
      while (this.#waiting.size > 0 && this.#queue.size + this.#reserved < capacity) {
        this.#reserved += 1;
        this.#waiting.pop().resolve();
      }
    }

    /** Queues a task (after admission) and resolves to its result. */
    #run({ meta, input, priority, signal }) {
      return new Promise((resolve, reject) => {
        const task = {
          id: ++taskIds,
          seq: this.#seq++,
          priority,
          meta,
          input,
          bytesIn: input.length,
          attempt: 0,
          // Kept until settled, for one retry if a worker dies (inputs are posted as copies).
          retryInput: input,
          enqueuedAt: performance.now(),
          resolve,
          reject,
          settled: false,
        };
        this.#reserved -= 1;
        if (signal) {
          if (signal.aborted) {
            this.#admitWaiting();
            reject(aborted(signal.reason));
            return;
          }
          task.onAbort = () => this.#abort(task, signal.reason);
          signal.addEventListener('abort', task.onAbort, { once: true });
          task.signal = signal;
        }
        this.#queue.push(task);
        this.wakeDispatch();
      });
    }

    #abort(task, reason) {
      if (task.settled) return;
      if (this.#queue.remove(task)) {
        this.#settle(task, aborted(reason));
        this.#admitWaiting();
        return;
      }
      // Running: the worker stops between pieces; a chunk task simply has its result dropped.
      task.cancelled = true;
      this.#transport.cancel(task);
      this.#settle(task, aborted(reason));
    }

    #settle(task, error, value) {
      if (task.settled) return;
      task.settled = true;
      task.input = null;
      task.retryInput = null;
      this.#running.delete(task);
      task.signal?.removeEventListener('abort', task.onAbort);
      if (error) task.reject(rebuild(error));
      else task.resolve(value);
    }

    /** Dispatches queued tasks while the transport and maxConcurrentOps allow. */
    wakeDispatch() {
      if (this.#state !== 'running') return;
      const limit = this.#config.maxConcurrentOps || Infinity;
      while (this.#queue.size > 0 && this.#running.size < Math.min(limit, this.#transport.capacity())) {
        const task = this.#queue.pop();
        task.startedAt = performance.now();
        this.#running.add(task);
        if (!this.#transport.send(task)) {
          this.#running.delete(task);
          this.#queue.push(task);
          break;
        }
      }
      this.#admitWaiting();
    }

    // ----- called by transports -----

    taskDone(task, result) {
      this.#running.delete(task);
      if (!task.settled) {
        this.#stats.processed += 1;
        this.#stats.bytes += task.bytesIn;
        this.#queueWait.add(task.startedAt - task.enqueuedAt);
        this.#runTime.add(result.runMs ?? performance.now() - task.startedAt);
        this.#settle(task, null, result);
      }
      this.wakeDispatch();
    }

    taskFailed(task, error, { retry }) {
      this.#running.delete(task);
      if (!task.settled) {
        if (retry && task.attempt === 0 && !task.cancelled && this.#state === 'running') {
          // Once more, on another (or a fresh) worker.
          task.attempt += 1;
          task.input = task.retryInput;
          this.#stats.retried += 1;
          this.#queue.push(task);
        } else {
          this.#stats.failed += 1;
          this.#settle(task, error);
        }
      }
      this.wakeDispatch();
    }

    workerLost(index, error) {
      if (this.#state === 'running' && this.#transport.capacity() === 0) {
        for (const task of this.#queue.drain())
          this.#settle(task, new StreamError('IO', 'WORKER_FAILED', String(error?.message ?? error)));
      }
    }

    // ----- public work -----

    /** Runs a job on a worker; resolves to its result. */
    async submitStreamingJob(job) {
      if (job === null || typeof job !== 'object') throw invalid('job', job, 'an object');
      const ops = ['seal', 'unseal', 'inflate', 'deflate', 'digest'];
      if (!ops.includes(job.op)) throw invalid('job.op', job.op, ops.map((o) => `'${o}'`).join(', '));
      const priority = job.priority ?? 0;
      if (typeof priority !== 'number' || !Number.isFinite(priority))
        throw invalid('job.priority', priority, 'a finite number');
      if (job.signal !== undefined && !(job.signal instanceof AbortSignal))
        throw invalid('job.signal', job.signal, 'an AbortSignal');
      const options = checkOptions(job.options, 'job', 'the job options');
      const key = options.key;
      if (key !== undefined && !(key instanceof Uint8Array))
        throw invalid('options.key', key, 'a Uint8Array of 32 bytes', 'INVALID_KEY');
      if (job.signal?.aborted) throw aborted(job.signal.reason);
      await this.#ensureRunning();
      const started = performance.now();
      await this.#admit(priority, job.signal);
      let input;
      try {
        input = await readInput(job.input, job.signal);
      } catch (error) {
        this.#reserved -= 1;
        this.#admitWaiting();
        throw rebuild(error);
      }
      const meta = {
        op: job.op,
        key: key ? Array.from(key) : undefined,
        options: { compress: options.compress, chunkSize: options.chunkSize, memoryLimit: options.memoryLimit },
      };
      const result = await this.#run({ meta, input: input.bytes, priority, signal: job.signal });
      return {
        id: job.id ?? `job-${taskIds}`,
        output: result.output,
        bytesIn: input.bytes.length,
        bytesOut: result.output.length,
        worker: result.worker,
        elapsed: performance.now() - started,
      };
    }

    /** A chunk task (pool.open, seal({ pool })): admitted like a job, retried once. */
    async runChunk(meta, input, priority, signal) {
      await this.#ensureRunning();
      await this.#admit(priority, signal);
      return this.#run({ meta, input, priority, signal });
    }

    /** A FileStream whose sealed chunks are decoded by the workers, output in order. */
    async open(source, config = {}) {
      const options = config ?? {};
      await this.#ensureRunning();
      const mode = options.chunkProcessingMode ?? this.#config.chunkProcessingMode;
      if (![0, 1, 2].includes(mode))
        throw invalid('chunkProcessingMode', mode, '0 (Sequential), 1 (Parallel) or 2 (Adaptive)');
      const releaseStream = await this.#streamSlot(options.signal);
      try {
        const decoder = await PoolDecoder.forSource(this, source, options, mode);
        return await ctx.openFileStream(source, options, decoder, releaseStream);
      } catch (error) {
        releaseStream();
        throw rebuild(error);
      }
    }

    /** At most workers x maxStreamsPerWorker streams at once; resolves to a release function. */
    #streamSlot(signal) {
      const max = this.#config.maxStreamsPerWorker * this.#workerCount;
      const makeRelease = () => {
        let done = false;
        return () => {
          if (done) return;
          done = true;
          this.#streams -= 1;
          const next = this.#streamWaiters.shift();
          if (next) {
            this.#streams += 1;
            next.resolve(makeRelease());
          }
        };
      };
      if (!max || this.#streams < max) {
        this.#streams += 1;
        return Promise.resolve(makeRelease());
      }
      return new Promise((resolve, reject) => {
        const waiter = { resolve, reject };
        this.#streamWaiters.push(waiter);
        signal?.addEventListener(
          'abort',
          () => {
            const at = this.#streamWaiters.indexOf(waiter);
            if (at >= 0) {
              this.#streamWaiters.splice(at, 1);
              reject(aborted(signal.reason));
            }
          },
          { once: true },
        );
      });
    }

    get workerCount() {
      return this.#workerCount;
    }

    getStreamingStats() {
      const workers = this.#transport?.workerStats() ?? [];
      return {
        isRunning: this.#state === 'running',
        transport: this.#transportName,
        totalWorkers: this.#transport?.liveWorkers() ?? 0,
        activeWorkers: workers.filter((w) => w.active).length,
        jobsProcessed: this.#stats.processed,
        jobsFailed: this.#stats.failed,
        jobsRetried: this.#stats.retried,
        jobsInQueue: this.#queue.size,
        jobsRunning: this.#running.size,
        jobsWaitingForRoom: this.#waiting.size,
        bytesProcessed: this.#stats.bytes,
        workers,
        queueWait: this.#queueWait.summary(),
        runTime: this.#runTime.summary(),
      };
    }
  }

  /** Decodes a sealed random-access source's chunks on the pool's workers (the wasm engine calls it). */
  class PoolDecoder {
    static async forSource(pool, source, options, mode) {
      if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) return null;
      const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : source;
      const head = await readRange(bytes, 0, 48);
      const magic = [0x89, 0x4e, 0x50, 0x4b, 0x53, 0x0d, 0x0a, 0x1a];
      if (head.length < 48 || !magic.every((b, i) => head[i] === b)) return null;
      return new PoolDecoder(pool, bytes, head, options, mode);
    }

    constructor(pool, source, header, options, mode) {
      this.pool = pool;
      this.source = source;
      this.codec = {
        id: `${++codecIds}`,
        header: Array.from(header),
        key: options.key ? Array.from(options.key) : undefined,
      };
      this.priority = options.priority ?? 0;
      this.mode = mode;
      this.tickets = new Map();
      this.next = 0;
      this.adaptive = pool.workerCount;
    }

    start(chunk, offset, length, plainLen, last) {
      const ticket = ++this.next;
      const controller = new AbortController();
      const startedAt = performance.now();
      const promise = readRange(this.source, offset, length).then((record) =>
        this.pool.runChunk(
          { op: 'openChunk', codec: this.codec, chunk, last, plainLen },
          record,
          this.priority,
          controller.signal,
        ),
      );
      promise.catch(() => {});
      this.tickets.set(ticket, { promise, controller, startedAt });
      return ticket;
    }

    async finish(ticket) {
      const entry = this.tickets.get(ticket);
      this.tickets.delete(ticket);
      const asked = performance.now();
      const result = await entry.promise;
      this.#tune(performance.now() - asked, performance.now() - entry.startedAt);
      return { output: result.output, deflated: result.deflated };
    }

    cancel(ticket) {
      this.tickets.get(ticket)?.controller.abort();
      this.tickets.delete(ticket);
    }

    window() {
      const workers = this.pool.workerCount;
      // Inline, chunks run one at a time on this thread: nothing to gain from read-ahead.
      if (this.mode === MODES.Sequential || this.pool.transport === 'inline') return 1;
      if (this.mode === MODES.Parallel) return 2 * workers;
      return this.adaptive;
    }

    /** Adaptive: widen while the reader waits for chunks, narrow while chunks wait for it. */
    #tune(waited, total) {
      if (this.mode !== MODES.Adaptive) return;
      const workers = this.pool.workerCount;
      if (waited > 0.25 * total) this.adaptive = Math.min(this.adaptive + 1, 4 * workers);
      else if (waited < 0.02 * total) this.adaptive = Math.max(this.adaptive - 1, workers);
    }
  }

  /** Bytes [offset, offset + length) of a Blob or Uint8Array, as a new array. */
  async function readRange(source, offset, length) {
    if (typeof Blob !== 'undefined' && source instanceof Blob) {
      return new Uint8Array(await source.slice(offset, offset + length).arrayBuffer());
    }
    return source.slice(offset, offset + length);
  }

  /** seal() with chunks sealed by the pool's workers, output in order. */
  function sealWithPool(source, options, pool) {
    let codec = null;
    let reader = null;
    let chunkSize = 0;
    let level = 6;
    let held = null;
    let index = 0;
    let ended = false;
    let emittedHeader = false;
    let total = 0;
    let offset = 48;
    const lens = [];
    const inFlight = [];
    const controller = new AbortController();
    const cleanup = () => {
      controller.abort();
      codec?.free();
      codec = null;
    };

    async function readChunk() {
      const parts = [];
      let length = 0;
      while (length < chunkSize) {
        const piece = await reader.read(chunkSize - length);
        if (piece === null) break;
        parts.push(piece);
        length += piece.length;
      }
      return parts.length === 0 ? null : concatBytes(parts);
    }

    function dispatch(chunk, last) {
      const meta = { op: 'sealChunk', codec: { id: codecId, header, key }, chunk: index, last, level };
      inFlight.push(pool.runChunk(meta, chunk, options.priority ?? 0, controller.signal));
      total += chunk.length;
      index += 1;
    }

    let codecId;
    let header;
    let key;
    let started = null;
    return new ReadableStream(
      {
        // Some runtimes (workerd) pull before an async start() settles: pull waits for it.
        start() {
          started = begin();
          return started;
        },
        async pull(stream) {
          await started;
          return pullSealed(stream);
        },
        cancel(reason) {
          reader?.cancel(reason);
          cleanup();
        },
      },
      { highWaterMark: 0 },
    );

    async function begin() {
      try {
        await ctx.ready();
        reader = ctx.sourceReader(source);
        const w = ctx.loaded();
        codec = w.WasmChunkCodec.forSealing(
          { compress: options.compress, chunkSize: options.chunkSize, size: options.size ?? reader.size },
          options.key,
        );
        chunkSize = codec.chunkSize;
        level = w.deflateLevel({ compress: options.compress });
        header = Array.from(codec.headerBytes());
        key = options.key ? Array.from(options.key) : undefined;
        codecId = `s${++codecIds}`;
        await pool.start();
        options.signal?.addEventListener('abort', () => cleanup(), { once: true });
      } catch (error) {
        reader?.cancel();
        throw rebuild(error);
      }
    }

    async function pullSealed(stream) {
      try {
        if (!emittedHeader) {
          emittedHeader = true;
          stream.enqueue(Uint8Array.from(header));
          return;
        }
        // Keep a window of chunks sealing while the first one is written.
        const window = 2 * Math.max(1, pool.workerCount);
        while (!ended && inFlight.length < window) {
          const next = await readChunk();
          if (next === null) {
            ended = true;
            dispatch(held ?? new Uint8Array(0), true);
            held = null;
          } else {
            if (held) dispatch(held, false);
            held = next;
          }
        }
        if (inFlight.length > 0) {
          const { output } = await inFlight.shift();
          lens.push(output.length);
          offset += output.length;
          stream.enqueue(output);
          return;
        }
        stream.enqueue(codec.sealIndex(total, Uint32Array.from(lens), offset));
        stream.close();
        cleanup();
      } catch (error) {
        reader.cancel(error);
        cleanup();
        throw rebuild(error);
      }
    }
  }

  /** Runs `processor` over every stream, at most `concurrency` at once; one result per stream. */
  async function processStreamsConcurrently(streams, processor, config = {}) {
    if (!Array.isArray(streams)) throw invalid('streams', streams, 'an array of FileStreams');
    if (typeof processor !== 'function') throw invalid('processor', processor, 'a function');
    const limit =
      config?.maxConcurrentOps ||
      config?.maxWorkers ||
      ctx.loader.parallelism?.() ||
      globalThis.navigator?.hardwareConcurrency ||
      4;
    const results = new Array(streams.length).fill(null);
    let next = 0;
    async function lane() {
      while (next < streams.length) {
        const i = next++;
        try {
          await processor(streams[i]);
        } catch (error) {
          results[i] = error instanceof Error ? error : new StreamError('Unsupported', 'INTERNAL_ERROR', String(error));
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(limit, streams.length) }, lane));
    return results;
  }

  return { StreamingWorkerPool, processStreamsConcurrently, sealWithPool };
}
