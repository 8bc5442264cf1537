// How tasks reach workers. The scheduler (pool.js) decides what runs next; a transport runs
// it and reports back through `pool.taskDone(task, result)` / `pool.taskFailed(task, error,
// { retry })`:
//   SharedTransport  - the SharedArrayBuffer ring (ring.js): workers claim the best READY slot;
//                      the main thread waits with Atomics.waitAsync (or a message nudge) and
//                      never blocks. Payloads too big for a slot go by message.
//   MessageTransport - postMessage with transferred buffers, one task per worker at a time.
//   InlineTransport  - no Worker: the calling thread, one task at a time, yielding between
//                      pieces so the event loop stays responsive.
import { createRing, CTRL, SLOT, STATE } from './ring.js';
import { Operations, errorData } from './ops.js';

/** Marks a slot whose dead claimer may still write to it. */
const QUARANTINED = Symbol('quarantined');

const workerFailed = (why) => errorData('IO', 'WORKER_FAILED', `a worker stopped while running the job (${why})`);

/** A macrotask yield (MessageChannel where it exists, else setTimeout). */
export function macrotask() {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
  });
}

/** How long a terminated Web Worker (which fires no event) may still run, at most. */
const WEB_EXIT_GRACE_MS = 1000;

/**
 * One API over a Web Worker and a Node worker_threads Worker. `onDeath` runs when it stops
 * being usable; `onExit` once it can no longer touch shared memory (Node: its 'exit' event;
 * terminate() there is asynchronous and the thread may run on briefly).
 */
function adaptWorker(raw, onMessage, onDeath, onExit) {
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

/** Workers, their lifecycle and per-worker statistics, shared by both worker transports. */
class WorkerTransport {
  constructor(pool, { count, createWorker, module, startTimeout }) {
    this.pool = pool;
    this.count = count;
    this.createWorker = createWorker;
    this.module = module;
    this.startTimeout = startTimeout;
    this.workers = [];
    this.stopping = false;
    this.incarnations = 0;
    this.messageTasks = new Map(); // task id -> { task, worker }
  }

  initMessage(worker) {
    return { type: 'init', module: this.module, id: worker.incarnation, mail: worker.index };
  }

  async start() {
    await Promise.all(Array.from({ length: this.count }, (_, i) => this.spawn(i)));
  }

  /** Starts worker `index` (again, after a failure) and resolves once it is ready. */
  spawn(index) {
    const stats = this.workers[index]?.stats ?? { id: index, jobs: 0, failed: 0, bytes: 0, busyTime: 0, restarts: -1 };
    stats.restarts += 1;
    // A new identity per start: a replacement never shares one with a worker still exiting.
    const worker = { index, incarnation: ++this.incarnations, stats, ready: false, handle: null };
    this.workers[index] = worker;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker ${index} did not start within ${this.startTimeout} ms`)),
        this.startTimeout,
      );
      worker.handle = adaptWorker(
        this.createWorker(),
        (message) => {
          if (message?.type === 'ready') {
            clearTimeout(timer);
            worker.ready = true;
            worker.handle.unref();
            resolve();
            this.pool.wakeDispatch();
            return;
          }
          this.onMessage(worker, message);
        },
        (why) => {
          clearTimeout(timer);
          if (!worker.ready) reject(new Error(`worker ${index} failed to start: ${why}`));
          this.onDeath(worker, why);
        },
        () => this.onExit?.(worker),
      );
      worker.handle.post(this.initMessage(worker));
    });
  }

  onDeath(worker, why) {
    worker.ready = false;
    for (const [id, entry] of this.messageTasks) {
      if (entry.worker === worker) {
        this.messageTasks.delete(id);
        worker.stats.failed += 1;
        this.pool.taskFailed(entry.task, workerFailed(why), { retry: true });
      }
    }
    this.failClaimed?.(worker, why);
    if (!this.stopping && this.workers[worker.index] === worker) {
      this.spawn(worker.index).catch((error) => this.pool.workerLost(worker.index, error));
    }
  }

  /** Sends a task by message to `worker`. The input is copied, not transferred: the caller
   * keeps its buffer, and the pool keeps the input for a retry. */
  postTask(worker, task) {
    this.messageTasks.set(task.id, { task, worker });
    worker.handle.ref();
    worker.handle.post({ type: 'task', task: task.id, attempt: task.attempt, meta: task.meta, input: task.input });
  }

  onMessage(worker, message) {
    if (message.type === 'result' || message.type === 'error') {
      const entry = this.messageTasks.get(message.task);
      if (!entry || entry.task.attempt !== message.attempt) {
        this.deliverLate?.(message);
        return;
      }
      this.messageTasks.delete(message.task);
      this.settleMessage(worker, entry.task, message);
    } else if (message.type === 'crashed') {
      worker.handle.end();
      this.onDeath(worker, message.error?.message ?? 'crashed');
    } else {
      this.onOther?.(worker, message);
    }
  }

  settleMessage(worker, task, message) {
    const runMs = (message.runUs ?? 0) / 1000;
    worker.stats.busyTime += runMs;
    if (this.idle(worker)) worker.handle.unref();
    if (message.type === 'result') {
      worker.stats.jobs += 1;
      worker.stats.bytes += task.bytesIn;
      this.pool.taskDone(task, { output: message.output, deflated: message.deflated, worker: worker.index, runMs });
    } else {
      worker.stats.failed += 1;
      if (message.fatal) {
        worker.handle.end();
        this.onDeath(worker, 'trapped');
      }
      this.pool.taskFailed(task, message.error, { retry: false });
    }
  }

  idle(worker) {
    for (const entry of this.messageTasks.values()) if (entry.worker === worker) return false;
    return true;
  }

  cancelMessage(task) {
    const entry = this.messageTasks.get(task.id);
    if (entry) entry.worker.handle.post({ type: 'cancel', task: task.id });
    return Boolean(entry);
  }

  liveWorkers() {
    return this.workers.filter((w) => w.ready).length;
  }

  async stop(graceMs) {
    const deadline = Date.now() + graceMs;
    while (this.active() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.stopping = true;
    this.beforeEnd?.();
    for (const worker of this.workers) worker.handle?.end();
    return this.active();
  }

  workerStats() {
    return this.workers.map((w) => ({ ...w.stats, active: !this.idleFor(w) }));
  }
}

/** postMessage with transferred buffers; one task per worker at a time. */
export class MessageTransport extends WorkerTransport {
  name = 'message';

  capacity() {
    return this.liveWorkers();
  }

  active() {
    return this.messageTasks.size;
  }

  idleFor(worker) {
    return this.idle(worker);
  }

  send(task) {
    const worker = this.workers.find((w) => w.ready && this.idle(w));
    if (!worker) return false;
    this.postTask(worker, task);
    return true;
  }

  cancel(task) {
    return this.cancelMessage(task);
  }
}

/** The SharedArrayBuffer ring; payloads that do not fit a slot go by message. */
export class SharedTransport extends WorkerTransport {
  name = 'shared';

  constructor(pool, options) {
    super(pool, options);
    this.ring = createRing(Math.max(2, options.count * 2), options.slotBytes);
    this.slotTasks = new Array(this.ring.slots).fill(null);
    this.hasWaitAsync = typeof Atomics.waitAsync === 'function';
    this.doneSeen = 0;
    this.watching = false;
    this.lateResults = new Map();
  }

  initMessage(worker) {
    // Mail counted for a predecessor at this index is not this worker's to wait for.
    const mailSeen = Atomics.load(this.ring.words, CTRL.MAIL + worker.index);
    return { ...super.initMessage(worker), ring: this.ring.buffer, nudge: !this.hasWaitAsync, mailSeen };
  }

  /** The live worker with this incarnation id. */
  byIncarnation(id) {
    return this.workers.find((w) => w.incarnation === id);
  }

  capacity() {
    return this.liveWorkers() === 0 ? 0 : this.ring.slots;
  }

  active() {
    return this.slotTasks.filter((t) => t && t !== QUARANTINED).length + this.messageTasks.size;
  }

  idleFor(worker) {
    if (!this.idle(worker)) return false;
    for (let i = 0; i < this.ring.slots; i++) {
      if (this.ring.get(i, SLOT.STATE) === STATE.CLAIMED && this.ring.get(i, SLOT.WORKER) === worker.incarnation)
        return false;
    }
    return true;
  }

  send(task) {
    const slot = this.slotTasks.indexOf(null);
    if (slot < 0) return false;
    const meta = { ...task.meta, task: task.id, attempt: task.attempt };
    if (!this.ring.writePayload(slot, meta, task.input)) {
      // Too big for a slot: by message, to a worker with no message task (woken by MAIL).
      const worker = this.workers.find((w) => w.ready && this.idle(w)) ?? this.workers.find((w) => w.ready);
      if (!worker) return false;
      this.postTask(worker, task);
      Atomics.add(this.ring.words, CTRL.MAIL + worker.index, 1);
      this.ring.wake(true);
      this.watch();
      return true;
    }
    this.slotTasks[slot] = task;
    const r = this.ring;
    r.set(slot, SLOT.PRIORITY, task.priority | 0);
    r.set(slot, SLOT.SEQ, task.seq % 0x7fffffff);
    r.set(slot, SLOT.TASK, task.id % 0x7fffffff);
    r.set(slot, SLOT.CANCEL, 0);
    r.set(slot, SLOT.RUN_US, 0);
    r.set(slot, SLOT.STATE, STATE.READY);
    for (const w of this.workers) if (w.ready) w.handle.ref();
    r.wake();
    this.watch();
    return true;
  }

  cancel(task) {
    const slot = this.slotTasks.indexOf(task);
    if (slot < 0) return this.cancelMessage(task);
    // Not claimed yet: take it back. Claimed: the worker stops at its next piece.
    if (
      Atomics.compareExchange(this.ring.slotWords, this.ring.word(slot, SLOT.STATE), STATE.READY, STATE.FREE) ===
      STATE.READY
    ) {
      this.slotTasks[slot] = null;
      this.pool.taskFailed(task, errorData('Context', 'ABORTED', 'the job was aborted'), { retry: false });
    } else {
      this.ring.set(slot, SLOT.CANCEL, 1);
    }
    return true;
  }

  /** Waits for completions without blocking: Atomics.waitAsync, or worker nudges. */
  watch() {
    if (this.watching || !this.hasWaitAsync || this.stopping) {
      this.collect();
      return;
    }
    this.watching = true;
    const loop = () => {
      // Read the counter before collecting: a completion after this read changes it, so the
      // wait below returns at once instead of missing it.
      const seen = Atomics.load(this.ring.words, CTRL.DONE);
      this.collect();
      if (this.stopping || this.active() === 0) {
        this.watching = false;
        return;
      }
      // Counted as waiting before the wait: a completion after this is notified, and one
      // before it changed DONE, so the wait returns at once.
      Atomics.add(this.ring.words, CTRL.MAIN_WAITING, 1);
      const wait = Atomics.waitAsync(this.ring.words, CTRL.DONE, seen);
      const woken = () => {
        Atomics.sub(this.ring.words, CTRL.MAIN_WAITING, 1);
        loop();
      };
      if (wait.async) wait.value.then(woken);
      else woken();
    };
    loop();
  }

  onOther(worker, message) {
    if (message.type === 'nudge') this.collect();
  }

  /** Message-borne outputs of slot tasks may arrive before or after the slot completes. */
  deliverLate(message) {
    this.lateResults.set(message.task, message);
    this.collect();
  }

  /** Reads every completed slot. */
  collect() {
    const r = this.ring;
    for (let slot = 0; slot < r.slots; slot++) {
      const state = r.get(slot, SLOT.STATE);
      const task = this.slotTasks[slot];
      if (!task || task === QUARANTINED || (state !== STATE.DONE && state !== STATE.FAILED)) continue;
      const { meta, bytes } = r.readPayload(slot);
      const worker = this.byIncarnation(r.get(slot, SLOT.WORKER));
      const runMs = r.get(slot, SLOT.RUN_US) / 1000;
      if (state === STATE.DONE && meta.viaMessage) {
        const late = this.lateResults.get(task.id);
        if (!late) continue; // its message is on the way
        this.lateResults.delete(task.id);
        meta.output = late.output;
      }
      this.slotTasks[slot] = null;
      r.set(slot, SLOT.STATE, STATE.FREE);
      if (worker) worker.stats.busyTime += runMs;
      if (state === STATE.DONE) {
        if (worker) {
          worker.stats.jobs += 1;
          worker.stats.bytes += task.bytesIn;
        }
        this.pool.taskDone(task, {
          output: meta.output ?? bytes,
          deflated: meta.deflated,
          worker: worker?.index ?? -1,
          runMs,
        });
      } else {
        if (worker) worker.stats.failed += 1;
        if (meta.fatal && worker) {
          worker.handle.end();
          this.onDeath(worker, 'trapped');
        }
        this.pool.taskFailed(task, meta.error, { retry: false });
      }
    }
    if (this.active() === 0) for (const w of this.workers) if (w.ready) w.handle.unref();
  }

  /**
   * A dead worker's claimed slots: their tasks fail (and are retried elsewhere), and the slots
   * stay out of use until the worker has exited, since it may still write to them.
   */
  failClaimed(worker, why) {
    const r = this.ring;
    for (let slot = 0; slot < r.slots; slot++) {
      const task = this.slotTasks[slot];
      if (!task || task === QUARANTINED) continue;
      if (r.get(slot, SLOT.WORKER) !== worker.incarnation || r.get(slot, SLOT.STATE) !== STATE.CLAIMED) continue;
      this.slotTasks[slot] = QUARANTINED;
      worker.stats.failed += 1;
      this.pool.taskFailed(task, workerFailed(why), { retry: true });
    }
  }

  /** The worker can no longer write: slots it still holds are failed or released. */
  onExit(worker) {
    const r = this.ring;
    this.collect();
    for (let slot = 0; slot < r.slots; slot++) {
      if (r.get(slot, SLOT.WORKER) !== worker.incarnation) continue;
      const task = this.slotTasks[slot];
      if (task === QUARANTINED) {
        this.slotTasks[slot] = null;
        r.set(slot, SLOT.STATE, STATE.FREE);
      } else if (task && r.get(slot, SLOT.STATE) === STATE.CLAIMED) {
        // Claimed after it was declared dead, never finished.
        this.slotTasks[slot] = null;
        r.set(slot, SLOT.STATE, STATE.FREE);
        worker.stats.failed += 1;
        this.pool.taskFailed(task, workerFailed('exited'), { retry: true });
      }
    }
    this.pool.wakeDispatch();
  }

  beforeEnd() {
    Atomics.store(this.ring.words, CTRL.STOP, 1);
    this.ring.wake(true);
    Atomics.notify(this.ring.words, CTRL.DONE);
  }
}

/** No Worker: tasks run on the calling thread, one at a time, yielding between pieces. */
export class InlineTransport {
  name = 'inline';

  constructor(pool, { glue }) {
    this.pool = pool;
    this.ops = new Operations(glue);
    this.running = null;
    this.cancelled = new Set();
    this.stats = { id: 0, jobs: 0, failed: 0, bytes: 0, busyTime: 0, restarts: 0 };
  }

  async start() {}

  capacity() {
    return 1;
  }

  active() {
    return this.running ? 1 : 0;
  }

  send(task) {
    if (this.running) return false;
    this.running = task;
    const input = task.input;
    const between = async () => {
      await macrotask();
      if (this.cancelled.has(task)) throw errorData('Context', 'ABORTED', 'the job was aborted');
    };
    (async () => {
      await macrotask();
      const start = performance.now();
      try {
        if (this.cancelled.has(task)) throw errorData('Context', 'ABORTED', 'the job was aborted');
        const { output, deflated } = await this.ops.run(task.meta, input, between);
        const runMs = performance.now() - start;
        this.stats.jobs += 1;
        this.stats.bytes += task.bytesIn;
        this.stats.busyTime += runMs;
        this.running = null;
        this.pool.taskDone(task, { output, deflated, worker: 0, runMs });
      } catch (error) {
        this.stats.failed += 1;
        this.running = null;
        this.pool.taskFailed(task, error, { retry: false });
      } finally {
        this.cancelled.delete(task);
      }
    })();
    return true;
  }

  cancel(task) {
    if (this.running !== task) return false;
    this.cancelled.add(task);
    return true;
  }

  liveWorkers() {
    return 1;
  }

  async stop(graceMs) {
    const deadline = Date.now() + graceMs;
    while (this.running && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.active();
  }

  workerStats() {
    return [{ ...this.stats, active: Boolean(this.running) }];
  }
}
