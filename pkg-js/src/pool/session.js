// A session: one sealed file opened (or sealed) across the pool's workers. The calling thread
// says which chunks it wants; the workers get what they need once (session.js sends it:
// header, subkey, record offsets, the source's shareable() data: a Blob, or an httpSource's URL,
// headers and validator) and do the rest:
//   'claim'  (shared transport, a source workers can read): wanted chunks are published in the
//            claim table; workers claim them themselves, read and decode.
//   'assign' (message transport, a source workers can read): chunk numbers go to the least
//            loaded worker by message, a few per message.
//   'feed'   (a source workers cannot read: a file-backed Blob in Node, bytes in memory): the
//            calling thread reads consecutive chunks in one read and transfers that buffer to a
//            worker with the chunks to make of it.
// Results come back as transferred buffers, several per message; each wanted chunk is
// delivered exactly once (a chunk whose worker died is re-issued, a late duplicate is
// dropped). Subclasses say what an item is and what happens with its result.
import { errorOf } from '../errors.js';
import { errorFromData, isErrorData } from '../errors.js';

/** Bytes read and transferred per message in 'feed' and 'assign' modes, about. */
export const BATCH_BYTES = 1024 * 1024;
/**
 * Chunks this large take long to decode and cannot be interrupted inside wasm: when their
 * session ends, a worker still busy with one is replaced rather than waited for.
 */
const UNINTERRUPTIBLE = 16 * 1024 * 1024;

let sessionIds = 0;

export class Session {
  /**
   * `kind`: 'open' or 'seal'; `source`: the byte source; `unit`: bytes per item (to size
   * batches); `shareable`: what workers need to read the source themselves, or null.
   */
  constructor(pool, { kind, source, shareable }) {
    this.pool = pool;
    this.kind = kind;
    this.source = source;
    this.shareable = shareable;
    this.id = ++sessionIds;
    this.mode = shareable ? (pool.claims ? 'claim' : 'assign') : 'feed';
    this.items = new Map(); // chunk -> item
    this.waiting = []; // claim mode: items with no free slot yet
    this.unfed = []; // feed / assign mode: items not yet sent
    this.flushing = false;
    this.ended = false;
    this.unit = 1;
    this.message = null;
    this.outstanding = 0;
  }

  /** Items wanted and not yet delivered: while there are some, the workers keep Node alive. */
  #count(delta) {
    const before = this.outstanding;
    this.outstanding += delta;
    if (before === 0 && this.outstanding > 0) this.pool.workers.hold();
    if (before > 0 && this.outstanding === 0) this.pool.workers.unhold();
  }

  /** Sends the session to every worker (after `message` is set by the subclass). */
  announce(message, transfer = () => []) {
    this.message = {
      type: 'session',
      id: this.id,
      kind: this.kind,
      claim: this.mode === 'claim',
      unit: this.unit,
      source: this.mode === 'feed' ? null : this.shareable,
      ...message,
    };
    this.transfer = transfer;
    this.pool.addSession(this);
    for (const worker of this.pool.workers.live()) this.sendTo(worker);
  }

  /** Sends the session to one worker (a new one, or a replacement). */
  sendTo(worker) {
    if (this.ended || !this.message) return;
    const message = { ...this.message };
    if (message.subkey) message.subkey = message.subkey.slice();
    this.pool.workers.post(worker, message, message.subkey ? [message.subkey.buffer] : []);
  }

  /** Records `item` as wanted without scheduling it (the caller sends it itself). */
  track(item) {
    item.state = 'wanted';
    this.#count(1);
    this.items.set(item.chunk, item);
  }

  /** Wants `item` ({ chunk, plainLength, last, ... }) decoded (or sealed). */
  want(item) {
    this.track(item);
    if (this.mode === 'claim') this.#publish(item);
    else {
      this.unfed.push(item);
      this.#scheduleFlush();
    }
  }

  /** The reader waits for `item`: it goes first. */
  urge(item) {
    if (item.urgent) return;
    item.urgent = true;
    if (this.mode === 'claim') {
      if (item.state === 'published') this.pool.claims.urge(item.slot);
    } else if (item.state === 'assigned' && this.mode === 'assign') {
      this.pool.workers.post(item.worker, { type: 'urge', session: this.id, chunk: item.chunk });
    } else if (item.state === 'wanted') {
      this.unfed.sort((a, b) => Number(Boolean(b.urgent)) - Number(Boolean(a.urgent)));
    }
  }

  /** No longer wanted: taken back where nobody has started it. */
  drop(item) {
    if (item.state !== 'done' && item.state !== 'dropped') this.#count(-1);
    this.items.delete(item.chunk);
    if (item.state === 'published' && this.pool.claims.withdraw(item.slot)) this.#freed();
    const at = this.unfed.indexOf(item);
    if (at >= 0) this.unfed.splice(at, 1);
    const waiting = this.waiting.indexOf(item);
    if (waiting >= 0) this.waiting.splice(waiting, 1);
    item.state = 'dropped';
  }

  #publish(item) {
    const slot = this.pool.claims.publish(this.id, item.chunk, item.plainLength, item.last, item.urgent ? 1 : 0);
    if (slot < 0) {
      this.waiting.push(item);
      return;
    }
    item.state = 'published';
    item.slot = slot;
    this.pool.wakeIdle();
  }

  #freed() {
    while (this.waiting.length) {
      const item = this.waiting.shift();
      if (item.state !== 'wanted') continue;
      const slot = this.pool.claims.publish(this.id, item.chunk, item.plainLength, item.last, item.urgent ? 1 : 0);
      if (slot < 0) {
        this.waiting.unshift(item);
        return;
      }
      item.state = 'published';
      item.slot = slot;
      this.pool.wakeIdle();
    }
  }

  #scheduleFlush() {
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(() => {
      this.flushing = false;
      this.#flush().catch((error) => this.failAll(error));
    });
  }

  /** Sends unsent items: consecutive ones together, to the least loaded workers. */
  async #flush() {
    while (this.unfed.length && !this.ended) {
      const batch = [this.unfed.shift()];
      const most = Math.max(1, Math.floor(BATCH_BYTES / this.unit));
      while (batch.length < most && this.unfed.length && this.unfed[0].chunk === batch[batch.length - 1].chunk + 1) {
        batch.push(this.unfed.shift());
      }
      if (!this.pool.leastLoaded()) {
        this.unfed.unshift(...batch);
        return;
      }
      let data = null;
      if (this.mode === 'feed') {
        data = await this.readBatch(batch);
        if (!data) continue;
        if (this.ended) return;
        if (batch.some((item) => item.state !== 'wanted')) {
          // Some were dropped while reading: send what is still wanted.
          for (let i = batch.length - 1; i >= 0; i--) if (batch[i].state !== 'wanted') batch.splice(i, 1);
          if (batch.length === 0) continue;
        }
      }
      if (!this.sendBatch(batch, data)) {
        this.unfed.unshift(...batch);
        return;
      }
    }
  }

  /**
   * Sends `batch` (items, with `data`: the buffer their bytes are in, transferred) to the least
   * loaded worker; false when there is none.
   */
  sendBatch(batch, data) {
    const target = this.pool.leastLoaded();
    if (!target) return false;
    for (const item of batch) {
      item.state = 'assigned';
      item.worker = target;
    }
    target.load += batch.length;
    this.pool.workers.retain(target);
    const items = batch.map((item) => this.describe(item));
    this.pool.workers.post(
      target,
      { type: 'assign', session: this.id, items, data: data?.buffer },
      data ? [data.buffer] : [],
    );
    return true;
  }

  /**
   * Reads a batch of consecutive items' bytes in one read (feed mode); each item gets `at` and
   * `length` within the returned (owned, transferable) buffer.
   */
  async readBatch() {
    throw new Error('subclass');
  }

  /** What a worker gets for an item: with `at` and `length` when its bytes are in the batch's data. */
  describe(item) {
    const { chunk, plainLength, last, urgent, at, length, offset } = item;
    return { chunk, plainLength, last, urgent, at, length, offset };
  }

  // ----- results, from the pool -----

  onChunks(worker, message) {
    worker.stats.busyTime += (message.busyUs ?? 0) / 1000;
    let freed = false;
    for (const result of message.items) {
      if (
        this.mode === 'claim' &&
        result.slot !== undefined &&
        this.pool.claims.owner(result.slot) === worker.incarnation
      ) {
        this.pool.claims.free(result.slot);
        freed = true;
      }
      const item = this.items.get(result.chunk);
      if (item && item.worker === worker && item.state === 'assigned') {
        worker.load -= 1;
        this.pool.workers.release(worker);
      }
      if (!item || item.state === 'done' || item.state === 'dropped') continue;
      item.state = 'done';
      this.#count(-1);
      worker.stats.chunks += 1;
      worker.stats.bytes += result.plainLength ?? 0;
      this.deliver(item, { output: result.output, deflated: result.deflated });
    }
    if (freed) this.#freed();
    if (this.unfed.length) this.#scheduleFlush();
  }

  onChunkError(worker, message) {
    if (
      this.mode === 'claim' &&
      message.slot !== undefined &&
      this.pool.claims.owner(message.slot) === worker.incarnation
    ) {
      this.pool.claims.free(message.slot);
      this.#freed();
    }
    const item = this.items.get(message.chunk);
    if (!item || item.state === 'done' || item.state === 'dropped') return;
    if (item.worker === worker && item.state === 'assigned') {
      worker.load -= 1;
      this.pool.workers.release(worker);
    }
    item.state = 'done';
    this.#count(-1);
    worker.stats.failed += 1;
    this.fail(item, isErrorData(message.error) ? errorFromData(message.error) : message.error);
  }

  /** A worker died: what it held is wanted again, by the others. */
  onWorkerLost(worker) {
    if (this.mode === 'claim') {
      if (this.pool.claims.reissue(worker.incarnation).length) this.pool.wakeIdle();
      return;
    }
    const again = [];
    for (const item of this.items.values()) {
      if (item.state === 'assigned' && item.worker === worker) {
        item.state = 'wanted';
        item.worker = null;
        again.push(item);
      }
    }
    this.unfed.unshift(...again.sort((a, b) => a.chunk - b.chunk));
    if (again.length) this.#scheduleFlush();
  }

  /** Ends the session: workers drop it (and zero their copies of the subkey). */
  end() {
    if (this.ended) return;
    this.ended = true;
    if (this.unit >= UNINTERRUPTIBLE) this.#replaceBusyWorkers();
    for (const item of this.items.values()) {
      if (item.state === 'published') this.pool.claims.free(item.slot);
      if (item.state === 'assigned') {
        item.worker.load -= 1;
        this.pool.workers.release(item.worker);
      }
    }
    if (this.mode === 'claim') {
      // Slots claimed by workers are freed here too: a worker drops results of ended sessions.
      this.pool.claims.freeSession(this.id);
    }
    this.items.clear();
    this.waiting = [];
    this.unfed = [];
    if (this.outstanding > 0) this.#count(-this.outstanding);
    this.message?.subkey?.fill(0);
    this.pool.workers.broadcast({ type: 'end-session', id: this.id });
    this.pool.removeSession(this);
  }

  /** Replaces the workers still decoding (or about to decode) large chunks of this session. */
  #replaceBusyWorkers() {
    const busy = new Set();
    for (const item of this.items.values()) {
      if (item.state === 'assigned') busy.add(item.worker);
      if (item.state === 'published') {
        const owner = this.pool.workers.byIncarnation(this.pool.claims.owner(item.slot));
        if (owner) busy.add(owner);
      }
    }
    for (const worker of busy) this.pool.workers.replace(worker, 'its session ended in the middle of a large chunk');
  }

  /** Fails every item still wanted (a read of the source failed, say). */
  failAll(error) {
    for (const item of [...this.items.values()]) {
      if (item.state !== 'done' && item.state !== 'dropped') {
        item.state = 'done';
        this.#count(-1);
        this.fail(item, error);
      }
    }
  }

  /** Delivers a result (subclass). */
  deliver() {}

  /** Delivers an error (subclass). */
  fail() {}
}

/** READ_FAILED with the cause. */
export function readError(error) {
  return errorOf('READ_FAILED', `reading the source failed: ${error?.message ?? error}`, undefined, { cause: error });
}
