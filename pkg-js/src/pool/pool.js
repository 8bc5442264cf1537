// StreamingWorkerPool: the scheduler.
//   - Tasks wait in a priority queue (higher first, submission order among equals) of bounded
//     size (workerBufferSize): submitters wait for room, highest priority first.
//   - At most maxConcurrentOps tasks run at once; the transport (transports.js) runs them.
//   - A task whose worker dies is retried once on a fresh worker, then fails WORKER_FAILED;
//     results carry the attempt number, so none completes twice.
//   - pool.open: a FileStream whose sealed chunks are decoded by PoolDecoder (decoder.js).
import { InlineTransport, MessageTransport, SharedTransport } from './transports.js';
import { Latency, PriorityQueue } from './queue.js';
import { canShareMemory } from './ring.js';
import { PoolDecoder } from './decoder.js';
import { aborted, errorOf, invalid } from '../errors.js';
import { whenAborted } from '../cancel.js';
import { checkOptions } from '../options.js';
import { checkKey } from '../keys.js';
import { openFileStream } from '../file-stream.js';
import { fail, loaded, parallelism, ready, runtime } from '../runtime.js';
import { concatBytes } from '../sources/index.js';
import { toBytes } from '../sources/to-bytes.js';
import { ChunkMode as MODES } from '../tables.js';

let taskIds = 0;

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
      parts.push(toBytes(value));
    }
    return { bytes: concatBytes(parts), owned: true };
  }
  throw invalid('job.input', input, 'a Blob, Uint8Array or ReadableStream');
}

export class StreamingWorkerPool {
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
    const canSpawn = Boolean(this.#options.createWorker || runtime().createWorker);
    if (wanted === 'inline' || !canSpawn) {
      if (wanted === 'shared' || wanted === 'message') {
        throw errorOf('UNSUPPORTED_ALGORITHM', `transport '${wanted}' needs Workers, which this runtime lacks`);
      }
      return 'inline';
    }
    if (wanted === 'shared' && !canShareMemory()) {
      throw errorOf(
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
    const url = workerUrl ? new URL(workerUrl, globalThis.location?.href) : runtime().workerUrl?.();
    if (createWorker) return createWorker(url);
    return workerUrl ? runtime().createWorkerFromUrl(url) : runtime().createWorker();
  }

  /** Starts the workers (also done by the first submit or open). */
  async start(options = {}) {
    const signal = options?.signal;
    if (this.#state === 'running') return;
    if (this.#state === 'stopping' || this.#state === 'stopped') throw errorOf('CLOSED', 'the pool was stopped');
    this.#starting ??= this.#start();
    await Promise.race([this.#starting, whenAborted(signal)]);
  }

  async #start() {
    this.#state = 'starting';
    try {
      await ready();
      const w = loaded();
      w.validateStreamingConfig(this.#config);
      const cores = parallelism();
      const c = this.#config;
      const workers = this.#transportName === 'inline' ? 1 : c.maxWorkers || Math.max(1, Math.min(cores, 256));
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
        module: runtime().module,
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
      throw fail(error);
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
    const closed = () => errorOf('CLOSED', 'the pool is stopping');
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
      this.#settle(task, errorOf(left ? 'TIMEOUT' : 'CLOSED', 'the pool stopped before the job finished'));
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
    if (error) task.reject(fail(error));
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
        this.#settle(task, errorOf('WORKER_FAILED', String(error?.message ?? error)));
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
    const key = checkKey(options.key, 'options.key');
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
      throw fail(error);
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
      return await openFileStream(source, options, {
        decoder,
        onClose: releaseStream,
        kind: 'poolStream',
        what: 'the pool.open options',
      });
    } catch (error) {
      releaseStream();
      throw fail(error);
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
