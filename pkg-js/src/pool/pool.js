// StreamingWorkerPool: workers (workers.js), the job scheduler, and sessions.
//   - Jobs (submitStreamingJob) wait in a priority queue (higher first, submission order among
//     equals) of bounded size: submitters wait for room (or, with `wait: false`, fail with
//     QUEUE_FULL). At most maxConcurrentOps run at once, two per worker (jobs.js); a job whose
//     worker dies is retried once on another, then fails WORKER_FAILED.
//   - Sessions (pool.open, seal({ pool })): one file across the workers, which read and decode
//     (or seal) its chunks themselves (session.js).
//   - Transports: 'shared' (a SharedArrayBuffer claim table: workers claim chunks themselves),
//     'message' (chunks assigned by message), 'inline' (no Worker: the calling thread).
import { WorkerJobs, InlineJobs } from './jobs.js';
import { WorkerSet } from './workers.js';
import { ClaimTable, canShareMemory } from './claims.js';
import { DecodeSession } from './decode-session.js';
import { Latency, PriorityQueue } from './queue.js';
import { aborted, errorOf, invalid } from '../errors.js';
import { whenAborted } from '../cancel.js';
import { checkKey } from '../keys.js';
import { checkOptions } from '../options.js';
import { openFileStream } from '../file-stream.js';
import { fail, loaded, parallelism, ready, runtime } from '../runtime.js';
import { concatBytes, toByteSource } from '../sources/index.js';
import { toBytes } from '../sources/to-bytes.js';

/** Chunks a claim table can hold at once (across the pool's sessions). */
const CLAIM_SLOTS = 256;
/** Reads a test can use to check that no key bytes are left in shared memory. */
export const SHARED_MEMORY = Symbol.for('novuspack-stream.sharedMemory');

let taskIds = 0;

async function readInput(input, signal) {
  if (input instanceof Uint8Array) return input;
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    return new Uint8Array(await Promise.race([input.arrayBuffer(), whenAborted(signal)]));
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
    return concatBytes(parts);
  }
  throw invalid('job.input', input, 'a Blob, Uint8Array or ReadableStream');
}

export class StreamingWorkerPool {
  #config;
  #options;
  #transportName;
  #state = 'new'; // new | starting | running | stopping | stopped
  #starting = null;
  #settings = null;
  #jobs = null;
  #queue = new PriorityQueue();
  #waiting = new PriorityQueue(); // submitters waiting for room
  #reserved = 0;
  #running = new Set();
  #seq = 0;
  #streams = 0;
  #streamWaiters = [];
  #stats = { processed: 0, failed: 0, bytes: 0, retried: 0, chunks: 0 };
  #queueWait = new Latency();
  #runTime = new Latency();
  /** Pool streams decoded on this thread ('inline', ReadableStream sources): their chunks count. */
  #localStreams = new Set();
  /** The workers (none for 'inline'), the claim table ('shared'), the open sessions. */
  workers = null;
  claims = null;
  sessions = new Map();

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
        throw errorOf('UNSUPPORTED_RUNTIME', `transport '${wanted}' needs Workers, which this runtime lacks`);
      }
      return 'inline';
    }
    if (wanted === 'shared' && !canShareMemory()) {
      throw errorOf('UNSUPPORTED_RUNTIME', "transport 'shared' needs SharedArrayBuffer (a cross-origin isolated page)");
    }
    if (wanted === 'auto') return canShareMemory() ? 'shared' : 'message';
    return wanted;
  }

  /** 'shared', 'message' or 'inline': what this pool uses. */
  get transport() {
    return this.#transportName;
  }

  /** True while the pool runs (started, not stopping). */
  get running() {
    return this.#state === 'running';
  }

  /** The configuration in force: every default resolved by the core (after start). */
  get config() {
    return this.#settings ? { ...this.#settings } : { ...this.#config };
  }

  #createWorker() {
    const { createWorker, workerUrl } = this.#options;
    const l = runtime();
    const url = workerUrl ? new URL(workerUrl, globalThis.location?.href) : l.workerUrl?.();
    if (createWorker) return createWorker(url);
    return workerUrl ? l.createWorkerFromUrl(url) : l.createWorker();
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
      const inline = this.#transportName === 'inline';
      this.#settings = w.poolSettings(this.#config, parallelism(), !inline);
      if (inline) {
        this.#jobs = new InlineJobs(this, w);
      } else {
        this.claims = this.#transportName === 'shared' ? ClaimTable.create(CLAIM_SLOTS) : null;
        this.workers = new WorkerSet({
          count: this.#settings.workers,
          create: () => this.#createWorker(),
          init: (worker) => {
            this.claims?.setLive(worker.index, worker.incarnation);
            return {
              type: 'init',
              module: runtime().module,
              incarnation: worker.incarnation,
              index: worker.index,
              claims: this.claims?.buffer,
            };
          },
          startTimeout: this.#settings.workerTimeout,
          onMessage: (worker, message) => this.#onMessage(worker, message),
          onLost: (worker, why) => this.#onLost(worker, why),
          // A dead worker may have claimed more before it really stopped: once it can no
          // longer run, what it holds goes back again.
          onExit: (worker) => {
            for (const session of this.sessions.values()) session.onWorkerLost(worker);
          },
          onReplaced: (worker) => {
            for (const session of this.sessions.values()) session.sendTo(worker);
            this.wakeDispatch();
          },
        });
        this.#jobs = new WorkerJobs(this, this.workers);
        await this.workers.start();
      }
      this.#state = 'running';
      this.wakeDispatch();
    } catch (error) {
      this.#state = 'new';
      this.#starting = null;
      this.workers?.stop();
      this.workers = null;
      throw fail(error);
    }
  }

  #onMessage(worker, message) {
    switch (message?.type) {
      case 'job-result':
      case 'job-error':
        this.#jobs.onMessage(worker, message);
        break;
      case 'chunks': {
        const session = this.sessions.get(message.session);
        this.#stats.chunks += message.items.length;
        worker.stats.jobs += message.items.length;
        session?.onChunks(worker, message);
        break;
      }
      case 'chunk-error':
        this.sessions.get(message.session)?.onChunkError(worker, message);
        break;
      default:
        break;
    }
  }

  #onLost(worker, why) {
    if (this.workers.workers[worker.index] === worker) this.claims?.setLive(worker.index, 0);
    this.#jobs.onLost(worker, why);
    for (const session of this.sessions.values()) session.onWorkerLost(worker);
    if (this.#state === 'running' && this.workers.live().length === 0 && this.workers.stopping) {
      for (const task of this.#queue.drain()) this.#settle(task, errorOf('WORKER_FAILED', String(why)));
    }
  }

  // ----- sessions -----

  addSession(session) {
    this.sessions.set(session.id, session);
  }

  removeSession(session) {
    this.sessions.delete(session.id);
  }

  /** The live worker with the least work, if any. */
  leastLoaded() {
    let best = null;
    for (const w of this.workers?.live() ?? []) if (!best || w.load < best.load) best = w;
    return best;
  }

  /** Wakes the workers that went idle (the claim table has new work). */
  wakeIdle() {
    if (!this.claims) return;
    for (const worker of this.workers.live()) {
      if (this.claims.takeIdle(worker.index)) this.workers.post(worker, { type: 'wake' });
    }
  }

  /** The shared memory this pool made (tests check that no key bytes are ever in it). */
  [SHARED_MEMORY]() {
    return this.claims ? [this.claims.buffer] : [];
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
    for (const session of [...this.sessions.values()]) session.end();
    const grace = signal?.aborted ? 0 : (this.#settings?.workerTimeout ?? 0);
    const deadline = Date.now() + grace;
    let stopNow = false;
    signal?.addEventListener('abort', () => (stopNow = true), { once: true });
    while (this.#jobs.active() > 0 && Date.now() < deadline && !stopNow) await new Promise((r) => setTimeout(r, 10));
    const left = this.#jobs.active();
    this.workers?.stop();
    for (const task of [...this.#running]) {
      this.#settle(task, errorOf(left ? 'TIMEOUT' : 'CLOSED', 'the pool stopped before the job finished'));
    }
    this.#state = 'stopped';
  }

  /** Waits for room in the queue, in priority order (`wait: false`: QUEUE_FULL instead). */
  #admit(priority, signal, wait) {
    const capacity = this.#settings.queueCapacity;
    if (this.#queue.size + this.#reserved < capacity && this.#waiting.size === 0) {
      this.#reserved += 1;
      return Promise.resolve();
    }
    if (!wait) return Promise.reject(errorOf('QUEUE_FULL', `the job queue is full (${capacity} jobs wait already)`));
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
    const capacity = this.#settings.queueCapacity;
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
    // Running: the worker stops between pieces.
    task.cancelled = true;
    this.#jobs.cancel(task);
    this.#settle(task, aborted(reason));
  }

  #settle(task, error, value) {
    if (task.settled) return;
    task.settled = true;
    task.input = null;
    this.#running.delete(task);
    task.signal?.removeEventListener('abort', task.onAbort);
    if (error) task.reject(fail(error));
    else task.resolve(value);
  }

  /** Dispatches queued tasks while workers have room and maxConcurrentOps allows. */
  wakeDispatch() {
    if (this.#state !== 'running') return;
    const limit = this.#settings.maxConcurrentOps || Infinity;
    while (this.#queue.size > 0 && this.#running.size < Math.min(limit, this.#jobs.capacity())) {
      const task = this.#queue.pop();
      task.startedAt = performance.now();
      this.#running.add(task);
      if (!this.#jobs.send(task)) {
        this.#running.delete(task);
        this.#queue.push(task);
        break;
      }
    }
    this.#admitWaiting();
  }

  // ----- called by the job runners -----

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
        this.#stats.retried += 1;
        this.#queue.push(task);
      } else {
        this.#stats.failed += 1;
        this.#settle(task, error);
      }
    }
    this.wakeDispatch();
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
    if (job.wait !== undefined && typeof job.wait !== 'boolean') throw invalid('job.wait', job.wait, 'a boolean');
    const options = checkOptions(job.options, 'job', 'the job options');
    const key = checkKey(options.key, 'options.key');
    if (job.signal?.aborted) throw aborted(job.signal.reason);
    await this.#ensureRunning();
    const started = performance.now();
    await this.#admit(priority, job.signal, job.wait ?? true);
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
      key: key ? key.slice() : undefined,
      options: { compress: options.compress, chunkSize: options.chunkSize, memoryLimit: options.memoryLimit },
    };
    const result = await this.#run({ meta, input, priority, signal: job.signal });
    return {
      id: job.id ?? `job-${taskIds}`,
      output: result.output,
      bytesIn: input.length,
      bytesOut: result.output.length,
      worker: result.worker,
      elapsed: performance.now() - started,
    };
  }

  async #ensureRunning() {
    if (this.#state === 'running') return;
    await this.start();
  }

  /**
   * A FileStream whose sealed chunks the workers read and decode themselves, delivered in
   * order. ReadableStream sources (no index) and the 'inline' transport decode on this thread.
   */
  async open(source, config = {}) {
    const options = checkOptions(config, 'poolStream', 'the pool.open options');
    await this.#ensureRunning();
    const mode = options.chunkProcessingMode ?? this.#settings.chunkProcessingMode;
    if (![0, 1, 2].includes(mode))
      throw invalid('chunkProcessingMode', mode, '0 (Sequential), 1 (Parallel) or 2 (Adaptive)');
    const releaseStream = await this.#streamSlot(options.signal);
    let session = null;
    try {
      const bytes = toByteSource(source, { size: options.size });
      if (this.#transportName !== 'inline' && bytes.randomAccess) session = new DecodeSession(this, bytes, mode);
      const timeout = options.timeout ?? this.#settings.streamTimeout;
      const { chunkProcessingMode, priority, ...streamOptions } = options;
      let stream = null;
      stream = await openFileStream(bytes, timeout === undefined ? streamOptions : { ...streamOptions, timeout }, {
        decoder: session ?? undefined,
        onClose: () => {
          session?.end();
          if (stream && this.#localStreams.delete(stream)) this.#stats.chunks += stream.getStats().chunksRead;
          releaseStream();
        },
        kind: 'poolStream',
        what: 'the pool.open options',
      });
      if (!session) this.#localStreams.add(stream);
      return stream;
    } catch (error) {
      session?.end();
      releaseStream();
      throw fail(error);
    }
  }

  /** At most workers x maxStreamsPerWorker streams at once; resolves to a release function. */
  #streamSlot(signal) {
    const max = this.#settings.maxStreamsPerWorker * this.#settings.workers;
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

  /** Workers this pool runs (1 for 'inline'). */
  get workerCount() {
    return this.#settings?.workers ?? 0;
  }

  getStreamingStats() {
    const workers = this.workers ? this.workers.stats() : (this.#jobs?.stats?.() ?? []);
    // A worker holding a claimed chunk is busy too.
    if (this.claims) {
      const owners = new Set();
      for (let slot = 0; slot < this.claims.slots; slot++) owners.add(this.claims.owner(slot));
      for (const w of workers) if (owners.has(this.workers.workers[w.id]?.incarnation)) w.active = true;
    }
    let chunks = this.#stats.chunks;
    for (const stream of this.#localStreams) if (!stream.closed) chunks += stream.getStats().chunksRead;
    return {
      isRunning: this.#state === 'running',
      transport: this.#transportName,
      totalWorkers: this.workers ? this.workers.live().length : this.#jobs ? 1 : 0,
      activeWorkers: workers.filter((w) => w.active).length,
      jobsProcessed: this.#stats.processed + chunks,
      jobsFailed: this.#stats.failed,
      jobsRetried: this.#stats.retried,
      chunksProcessed: chunks,
      jobsInQueue: this.#queue.size,
      jobsRunning: this.#running.size,
      jobsWaitingForRoom: this.#waiting.size,
      sessions: this.sessions.size,
      bytesProcessed: this.#stats.bytes,
      workers,
      queueWait: this.#queueWait.summary(),
      runTime: this.#runTime.summary(),
    };
  }
}
