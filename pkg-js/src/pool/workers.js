// The pool's workers: starting them (each instantiates the one compiled wasm Module), one API
// over Web Workers and Node worker_threads, noticing when one dies and starting a replacement
// under a new incarnation number, per-worker statistics, and keeping Node alive only while a
// worker has work (idle workers are unref'd).
import { errorOf } from '../errors.js';

/** How long a terminated Web Worker (which fires no event) may still run, at most. */
const WEB_EXIT_GRACE_MS = 1000;

/**
 * One API over a Web Worker and a Node worker_threads Worker. `onDeath(why)` runs when it
 * stops being usable; `onExit()` once it can no longer touch shared memory (Node: its 'exit'
 * event; terminate() there is asynchronous and the thread may run on briefly).
 */
function adapt(raw, onMessage, onDeath, onExit) {
  const node = typeof raw.on === 'function' && typeof raw.addEventListener !== 'function';
  let dead = false;
  let exited = false;
  const exit = () => {
    if (exited) return;
    exited = true;
    onExit();
  };
  const die = (why) => {
    if (dead) return;
    dead = true;
    onDeath(why);
    if (!node) setTimeout(exit, WEB_EXIT_GRACE_MS);
  };
  const terminate = raw.terminate.bind(raw);
  // Web Workers fire no event when terminated: notice it when whoever made one terminates it.
  raw.terminate = (...args) => {
    const result = terminate(...args);
    die('terminated');
    return result;
  };
  if (node) {
    raw.on('message', onMessage);
    raw.on('error', (error) => die(error?.message ?? 'error'));
    raw.on('exit', (code) => {
      die(`exited with code ${code}`);
      exit();
    });
  } else {
    raw.addEventListener('message', (event) => onMessage(event.data));
    raw.addEventListener('error', (event) => {
      event.preventDefault?.();
      die(event.message || 'error');
    });
    raw.addEventListener('messageerror', () => die('a message could not be read'));
  }
  return {
    post: (message, transfer) => raw.postMessage(message, transfer ?? []),
    /** Ends the worker without reporting a death (the pool is stopping or replacing it). */
    end() {
      dead = true;
      terminate();
    },
    ref: () => raw.ref?.(),
    unref: () => raw.unref?.(),
    get dead() {
      return dead;
    },
  };
}

export class WorkerSet {
  /**
   * `count` workers made by `create()`; `init(worker)` is the first message each gets;
   * `onMessage(worker, message)`, `onLost(worker, why)` (a worker died and its work must be
   * re-issued), `onReplaced(worker)` (a replacement is ready).
   */
  constructor({ count, create, init, startTimeout, onMessage, onLost, onReplaced, onExit }) {
    this.count = count;
    this.create = create;
    this.init = init;
    this.startTimeout = startTimeout;
    this.onMessage = onMessage;
    this.onLost = onLost;
    this.onReplaced = onReplaced;
    this.onExit = onExit;
    this.workers = [];
    this.incarnations = 0;
    this.stopping = false;
    this.holds = 0;
  }

  async start() {
    await Promise.all(Array.from({ length: this.count }, (_, i) => this.#spawn(i)));
  }

  /** Starts worker `index` (again, after a death) and resolves once it is ready. */
  #spawn(index) {
    const previous = this.workers[index];
    const stats = previous?.stats ?? { id: index, jobs: 0, failed: 0, bytes: 0, chunks: 0, busyTime: 0, restarts: -1 };
    stats.restarts += 1;
    // A new identity per start: a replacement never shares one with a worker still exiting.
    const worker = { index, incarnation: ++this.incarnations, stats, ready: false, handle: null, load: 0, refs: 0 };
    this.workers[index] = worker;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.handle?.end();
        reject(errorOf('WORKER_FAILED', `worker ${index} did not start within ${this.startTimeout} ms`));
      }, this.startTimeout);
      worker.handle = adapt(
        this.create(),
        (message) => {
          if (message?.type === 'ready') {
            clearTimeout(timer);
            worker.ready = true;
            if (this.holds === 0 && worker.refs === 0) worker.handle.unref();
            resolve(worker);
            if (previous) this.onReplaced(worker);
            return;
          }
          if (message?.type === 'crashed') {
            worker.handle.end();
            this.#lost(worker, message.error?.message ?? 'crashed');
            return;
          }
          this.onMessage(worker, message);
        },
        (why) => {
          clearTimeout(timer);
          if (!worker.ready) reject(errorOf('WORKER_FAILED', `worker ${index} failed to start: ${why}`));
          this.#lost(worker, why);
        },
        () => this.onExit(worker),
      );
      worker.handle.post(this.init(worker));
    });
  }

  #lost(worker, why) {
    if (!worker.ready && !this.workers.includes(worker)) return;
    worker.ready = false;
    if (this.workers[worker.index] !== worker) return;
    this.onLost(worker, why);
    if (!this.stopping) {
      this.#spawn(worker.index).catch((error) => this.onLost(this.workers[worker.index], error.message));
    }
  }

  /** Ends a worker that will not answer (a decode that cannot be interrupted); it is replaced. */
  replace(worker, why) {
    if (this.workers[worker.index] !== worker || !worker.ready) return;
    worker.handle.end();
    this.#lost(worker, why);
  }

  /** Ready workers. */
  live() {
    return this.workers.filter((w) => w.ready);
  }

  /** The worker with this incarnation, if it is still the one at its index. */
  byIncarnation(incarnation) {
    return this.workers.find((w) => w.incarnation === incarnation);
  }

  post(worker, message, transfer) {
    worker.handle.post(message, transfer);
  }

  /** Sends `message` to every ready worker. */
  broadcast(message) {
    for (const worker of this.live()) worker.handle.post(message);
  }

  /** Keeps the process alive while `worker` has work (Node). */
  retain(worker) {
    if (worker.refs++ === 0) worker.handle.ref();
  }

  release(worker) {
    if (worker.refs > 0 && --worker.refs === 0 && this.holds === 0) worker.handle.unref();
  }

  /** Keeps the process alive while any worker may have work nobody assigned it (claims). */
  hold() {
    if (this.holds++ === 0) for (const w of this.workers) w.handle?.ref();
  }

  unhold() {
    if (this.holds > 0 && --this.holds === 0) for (const w of this.workers) if (w.refs === 0) w.handle?.unref();
  }

  /** Ends every worker. */
  stop() {
    this.stopping = true;
    for (const worker of this.workers) worker.handle?.end();
  }

  stats() {
    return this.workers.map((w) => ({ ...w.stats, active: w.load > 0 }));
  }
}
