// How job tasks (submitStreamingJob: seal, unseal, inflate, deflate, digest over a whole input)
// run: on workers by message, at most two in flight per worker so each has the next one ready
// (WorkerJobs), or on the calling thread one at a time where there is no Worker (InlineJobs).
// Both report to the scheduler (scheduler.js) through `scheduler.taskDone(task, result)` and
// `scheduler.taskFailed(task, error, { retry })`; results carry the attempt, so a late result
// of a retried task is ignored.
import { errorOf } from '../errors.js';
import { Operations, errorData } from './ops.js';

/** Tasks in flight per worker. */
const PER_WORKER = 2;

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

export class WorkerJobs {
  constructor(scheduler, workers) {
    this.scheduler = scheduler;
    this.workers = workers;
    this.tasks = new Map(); // task id -> { task, worker }
  }

  capacity() {
    return this.workers.live().length * PER_WORKER;
  }

  active() {
    return this.tasks.size;
  }

  /** Sends `task` to the least loaded worker with room; false when none has. */
  send(task) {
    let best = null;
    for (const w of this.workers.live()) {
      if (w.jobs >= PER_WORKER) continue;
      if (!best || (w.jobs ?? 0) < (best.jobs ?? 0)) best = w;
    }
    if (!best) return false;
    best.jobs = (best.jobs ?? 0) + 1;
    best.load += 1;
    this.workers.retain(best);
    this.tasks.set(task.id, { task, worker: best });
    // A copy (structured clone): the caller keeps its buffer, the pool keeps it for a retry.
    this.workers.post(best, { type: 'job', task: task.id, attempt: task.attempt, meta: task.meta, input: task.input });
    return true;
  }

  cancel(task) {
    const entry = this.tasks.get(task.id);
    if (entry) this.workers.post(entry.worker, { type: 'cancel-job', task: task.id });
    return Boolean(entry);
  }

  #release(entry) {
    this.tasks.delete(entry.task.id);
    entry.worker.jobs -= 1;
    entry.worker.load -= 1;
    this.workers.release(entry.worker);
  }

  onMessage(worker, message) {
    const entry = this.tasks.get(message.task);
    if (!entry || entry.worker !== worker || entry.task.attempt !== message.attempt) return;
    this.#release(entry);
    const runMs = (message.runUs ?? 0) / 1000;
    worker.stats.busyTime += runMs;
    if (message.type === 'job-result') {
      worker.stats.jobs += 1;
      worker.stats.bytes += entry.task.bytesIn;
      this.scheduler.taskDone(entry.task, { output: message.output, worker: worker.index, runMs });
    } else {
      worker.stats.failed += 1;
      if (message.fatal) this.workers.replace(worker, 'trapped');
      this.scheduler.taskFailed(entry.task, message.error, { retry: false });
    }
  }

  onLost(worker, why) {
    // (a worker's in-flight jobs are retried once elsewhere)
    for (const entry of [...this.tasks.values()]) {
      if (entry.worker !== worker) continue;
      this.#release(entry);
      worker.stats.failed += 1;
      this.scheduler.taskFailed(entry.task, workerFailed(why), { retry: true });
    }
  }
}

/** No Worker: tasks run on the calling thread, one at a time, yielding between pieces. */
export class InlineJobs {
  constructor(scheduler, glue) {
    this.scheduler = scheduler;
    this.ops = new Operations(glue);
    this.running = null;
    this.cancelled = new Set();
    this.counters = { id: 0, jobs: 0, failed: 0, bytes: 0, chunks: 0, busyTime: 0, restarts: 0 };
  }

  capacity() {
    return 1;
  }

  active() {
    return this.running ? 1 : 0;
  }

  send(task) {
    if (this.running) return false;
    this.running = task;
    const between = async () => {
      await macrotask();
      if (this.cancelled.has(task)) throw errorOf('ABORTED', 'the job was aborted');
    };
    (async () => {
      await macrotask();
      const start = performance.now();
      try {
        if (this.cancelled.has(task)) throw errorOf('ABORTED', 'the job was aborted');
        const { output } = await this.ops.run(task.meta, task.input, between);
        const runMs = performance.now() - start;
        this.counters.jobs += 1;
        this.counters.bytes += task.bytesIn;
        this.counters.busyTime += runMs;
        this.running = null;
        this.scheduler.taskDone(task, { output, worker: 0, runMs });
      } catch (error) {
        this.counters.failed += 1;
        this.running = null;
        this.scheduler.taskFailed(task, error, { retry: false });
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

  stats() {
    return [{ ...this.counters, active: Boolean(this.running) }];
  }
}
