// The job scheduler of a StreamingWorkerPool (pool.js): jobs (submitStreamingJob) wait in a
// priority queue (higher first, submission order among equals) of bounded size (queueCapacity):
// submitters wait for room, in priority order (or, with `wait: false`, fail with QUEUE_FULL).
// Queued jobs are handed to the job runner (jobs.js: WorkerJobs or InlineJobs) while it has room
// and maxConcurrentOps allows; the runner reports back through taskDone / taskFailed. A job
// whose worker died is retried once, then fails. Aborting removes a queued job or cancels a
// running one. The scheduler also keeps the job counts and latencies getStreamingStats reports.
import { Latency, PriorityQueue } from './queue.js';
import { aborted, errorOf, invalid } from '../errors.js';
import { whenAborted } from '../cancel.js';
import { checkKey } from '../keys.js';
import { checkOptions } from '../options.js';
import { fail } from '../runtime.js';
import { concatBytes } from '../sources/index.js';
import { toBytes } from '../sources/to-bytes.js';

const OPS = ['seal', 'unseal', 'inflate', 'deflate', 'digest'];

let taskIds = 0;

/** A job's input as bytes: a Uint8Array as is, a Blob or ReadableStream read whole. */
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

export class JobScheduler {
  #queue = new PriorityQueue();
  #waiting = new PriorityQueue(); // submitters waiting for room
  #reserved = 0;
  #running = new Set();
  #seq = 0;
  #stats = { processed: 0, failed: 0, bytes: 0, retried: 0 };
  #queueWait = new Latency();
  #runTime = new Latency();
  #isRunning;
  #settings;
  #runner;

  /**
   * `isRunning()`: whether the pool runs (jobs are dispatched only then); `settings()`: the
   * pool's resolved settings (queueCapacity, maxConcurrentOps); `runner()`: the job runner.
   */
  constructor({ isRunning, settings, runner }) {
    this.#isRunning = isRunning;
    this.#settings = settings;
    this.#runner = runner;
  }

  /** Validates `job`, waits for room, reads its input and runs it; resolves to its result. */
  async submit(job, ensureRunning) {
    if (job === null || typeof job !== 'object') throw invalid('job', job, 'an object');
    if (!OPS.includes(job.op)) throw invalid('job.op', job.op, OPS.map((o) => `'${o}'`).join(', '));
    const priority = job.priority ?? 0;
    if (typeof priority !== 'number' || !Number.isFinite(priority))
      throw invalid('job.priority', priority, 'a finite number');
    if (job.signal !== undefined && !(job.signal instanceof AbortSignal))
      throw invalid('job.signal', job.signal, 'an AbortSignal');
    if (job.wait !== undefined && typeof job.wait !== 'boolean') throw invalid('job.wait', job.wait, 'a boolean');
    const options = checkOptions(job.options, 'job', 'the job options');
    const key = checkKey(options.key, 'options.key');
    if (job.signal?.aborted) throw aborted(job.signal.reason);
    await ensureRunning();
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

  /** Waits for room in the queue, in priority order (`wait: false`: QUEUE_FULL instead). */
  #admit(priority, signal, wait) {
    const capacity = this.#settings().queueCapacity;
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
    const capacity = this.#settings().queueCapacity;
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
      this.dispatch();
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
    this.#runner().cancel(task);
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

  /** Dispatches queued tasks while the runner has room and maxConcurrentOps allows. */
  dispatch() {
    if (!this.#isRunning()) return;
    const runner = this.#runner();
    const limit = this.#settings().maxConcurrentOps || Infinity;
    while (this.#queue.size > 0 && this.#running.size < Math.min(limit, runner.capacity())) {
      const task = this.#queue.pop();
      task.startedAt = performance.now();
      this.#running.add(task);
      if (!runner.send(task)) {
        this.#running.delete(task);
        this.#queue.push(task);
        break;
      }
    }
    this.#admitWaiting();
  }

  /** Fails every queued job with `error()`. */
  rejectQueued(error) {
    for (const task of this.#queue.drain()) this.#settle(task, error());
  }

  /** Fails every submitter still waiting for room with `error()`. */
  rejectWaiting(error) {
    for (const waiter of this.#waiting.drain()) waiter.reject(error());
  }

  /** Fails every running job with `error()`. */
  rejectRunning(error) {
    for (const task of [...this.#running]) this.#settle(task, error());
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
    this.dispatch();
  }

  taskFailed(task, error, { retry }) {
    this.#running.delete(task);
    if (!task.settled) {
      if (retry && task.attempt === 0 && !task.cancelled && this.#isRunning()) {
        // Once more, on another (or a fresh) worker.
        task.attempt += 1;
        this.#stats.retried += 1;
        this.#queue.push(task);
      } else {
        this.#stats.failed += 1;
        this.#settle(task, error);
      }
    }
    this.dispatch();
  }

  /** Job counts and latencies, for getStreamingStats. */
  stats() {
    return {
      ...this.#stats,
      queued: this.#queue.size,
      running: this.#running.size,
      waiting: this.#waiting.size,
      queueWait: this.#queueWait.summary(),
      runTime: this.#runTime.summary(),
    };
  }
}
