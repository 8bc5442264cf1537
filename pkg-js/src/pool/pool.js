// StreamingWorkerPool: workers (workers.js), the job scheduler (scheduler.js), and sessions.
//   - Jobs (submitStreamingJob) wait in a priority queue (higher first, submission order among
//     equals) of bounded size: submitters wait for room (or, with `wait: false`, fail with
//     QUEUE_FULL). At most maxConcurrentOps run at once, two per worker (jobs.js); a job whose
//     worker dies is retried once on another, then fails WORKER_FAILED (scheduler.js).
//   - Sessions (pool.open, seal({ pool })): one file across the workers, which read and decode
//     (or seal) its chunks themselves (session.js).
//   - Transports: 'shared' (a SharedArrayBuffer claim table: workers claim chunks themselves),
//     'message' (chunks assigned by message), 'inline' (no Worker: the calling thread).
import { WorkerJobs, InlineJobs } from './jobs.js';
import { WorkerSet } from './workers.js';
import { ClaimTable, canShareMemory } from './claims.js';
import { DecodeSession } from './decode-session.js';
import { JobScheduler } from './scheduler.js';
import { aborted, errorOf, invalid } from '../errors.js';
import { whenAborted } from '../cancel.js';
import { checkOptions } from '../options.js';
import { openFileStream } from '../file-stream.js';
import { fail, loaded, parallelism, ready, runtime } from '../runtime.js';
import { openByteSource } from '../sources/index.js';

/** Chunks a claim table can hold at once (across the pool's sessions). */
const CLAIM_SLOTS = 256;
/** Reads a test can use to check that no key bytes are left in shared memory. */
export const SHARED_MEMORY = Symbol.for('novuspack-stream.sharedMemory');

export class StreamingWorkerPool {
  #config;
  #options;
  #transportName;
  #state = 'new'; // new | starting | running | stopping | stopped
  #starting = null;
  #settings = null;
  #jobs = null;
  #scheduler = new JobScheduler({
    isRunning: () => this.#state === 'running',
    settings: () => this.#settings,
    runner: () => this.#jobs,
  });
  #streams = 0;
  #streamWaiters = [];
  /** Chunks decoded for pool streams: by the workers (sessions), and by closed local streams. */
  #chunks = 0;
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
        this.#jobs = new InlineJobs(this.#scheduler, w);
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
            this.#scheduler.dispatch();
          },
        });
        this.#jobs = new WorkerJobs(this.#scheduler, this.workers);
        await this.workers.start();
      }
      this.#state = 'running';
      this.#scheduler.dispatch();
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
        this.#chunks += message.items.length;
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
      this.#scheduler.rejectQueued(() => errorOf('WORKER_FAILED', String(why)));
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
    this.#scheduler.rejectQueued(closed);
    this.#scheduler.rejectWaiting(closed);
    for (const waiter of this.#streamWaiters.splice(0)) waiter.reject(closed());
    for (const session of [...this.sessions.values()]) session.end();
    const grace = signal?.aborted ? 0 : (this.#settings?.workerTimeout ?? 0);
    const deadline = Date.now() + grace;
    let stopNow = false;
    signal?.addEventListener('abort', () => (stopNow = true), { once: true });
    while (this.#jobs.active() > 0 && Date.now() < deadline && !stopNow) await new Promise((r) => setTimeout(r, 10));
    const left = this.#jobs.active();
    this.workers?.stop();
    this.#scheduler.rejectRunning(() =>
      errorOf(left ? 'TIMEOUT' : 'CLOSED', 'the pool stopped before the job finished'),
    );
    this.#state = 'stopped';
  }

  // ----- public work -----

  /** Runs a job on a worker; resolves to its result. */
  async submitStreamingJob(job) {
    return this.#scheduler.submit(job, () => this.#ensureRunning());
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
    let bytes = null;
    try {
      const timeout = options.timeout ?? this.#settings.streamTimeout;
      // Opened first: an httpSource learns its size (and validator) here, so that the workers
      // can be handed what they need to fetch their own ranges.
      bytes = await openByteSource(source, {
        size: options.size,
        memoryLimit: options.memoryLimit,
        signal: options.signal,
        timeout,
      });
      if (this.#transportName !== 'inline' && bytes.randomAccess) session = new DecodeSession(this, bytes, mode);
      const { chunkProcessingMode, priority, ...streamOptions } = options;
      let stream = null;
      stream = await openFileStream(bytes, timeout === undefined ? streamOptions : { ...streamOptions, timeout }, {
        decoder: session ?? undefined,
        onClose: () => {
          session?.end();
          if (stream && this.#localStreams.delete(stream)) this.#chunks += stream.getStats().chunksRead;
          releaseStream();
        },
        kind: 'poolStream',
        what: 'the pool.open options',
      });
      if (!session) this.#localStreams.add(stream);
      return stream;
    } catch (error) {
      session?.end();
      bytes?.close();
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
    let chunks = this.#chunks;
    for (const stream of this.#localStreams) if (!stream.closed) chunks += stream.getStats().chunksRead;
    const jobs = this.#scheduler.stats();
    return {
      isRunning: this.#state === 'running',
      transport: this.#transportName,
      totalWorkers: this.workers ? this.workers.live().length : this.#jobs ? 1 : 0,
      activeWorkers: workers.filter((w) => w.active).length,
      jobsProcessed: jobs.processed + chunks,
      jobsFailed: jobs.failed,
      jobsRetried: jobs.retried,
      chunksProcessed: chunks,
      jobsInQueue: jobs.queued,
      jobsRunning: jobs.running,
      jobsWaitingForRoom: jobs.waiting,
      sessions: this.sessions.size,
      bytesProcessed: jobs.bytes,
      workers,
      queueWait: jobs.queueWait,
      runTime: jobs.runTime,
    };
  }
}
