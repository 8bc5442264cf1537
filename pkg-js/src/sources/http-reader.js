// One user's view of an httpSource (a FileStream, a seal, inspect): the byte-source contract
// over the shared RemoteFile. It serves each read from the bytes held or arriving, asking for
// the rest, and it recognises a sequential pass: a read, not alongside another, that starts
// where one of the last few ended (the engine reading chunk records in order, or `next()`).
// A pass is served by read-ahead windows fetched ahead of the reader, growing from 256 KiB to
// maxRangeSize, at most `concurrency` in flight, their unread bytes at most 8 times what the
// pass has read (at least 1 MiB) and within the read-ahead budget (a quarter of the stream's
// memoryLimit; else concurrency x maxRangeSize, at most 64 MiB). Windows the pass has read leave
// the store at once (a pass rarely comes back). A read elsewhere is served on its own and
// leaves the pass's windows alone; a new pass, or close, gives them up (their requests are
// aborted unless another reader needs them).
import { closedError, errorOf } from '../errors.js';
import { Busy } from './yield.js';

const MIN_WINDOW = 256 * 1024;
const DEFAULT_BUDGET = 64 * 1024 * 1024;

export class HttpReader {
  #file;
  #closed = false;
  // Where recent reads ended (the engine reads header, footer and index before chunk 0).
  #ends = [];
  #run = 0;
  // The sequential pass: where its next read starts, and its read-ahead windows in order.
  #passEnd = -1;
  #windows = [];
  #windowSize = MIN_WINDOW;
  #passBytes = 0;
  #passReads = 0;
  #budget;
  #nextAt = 0;
  #active = new Set();
  #reading = 0;
  #busy = new Busy();
  /** The last error a read rejected with (the engine passes errors on as data: see file-stream.js). */
  lastError = null;

  constructor(file) {
    this.#file = file;
    this.#budget = Math.min(DEFAULT_BUDGET, file.concurrency * file.maxRangeSize);
  }

  get size() {
    return this.#file.size;
  }

  get randomAccess() {
    return true;
  }

  /** Learns the size (one suffix request, shared); a quarter of `memoryLimit` bounds this reader's read-ahead. */
  async open({ memoryLimit } = {}) {
    if (memoryLimit > 0) this.#budget = Math.max(MIN_WINDOW, Math.floor(memoryLimit / 4));
    await this.#file.open(this);
  }

  read(offset, length) {
    return this.#read(offset, length, false).then((r) => r.bytes, this.#failed);
  }

  /** Bytes the caller owns (a fresh buffer it may transfer). */
  readOwned(offset, length) {
    return this.#read(offset, length, false).then((r) => (r.fresh ? r.bytes : r.bytes.slice()), this.#failed);
  }

  /** The next bytes in order from the start, or null at the end: one sequential pass. */
  async next(max) {
    try {
      if (this.#file.size === null) await this.#file.open(this);
      if (this.#nextAt >= this.#file.size) return null;
      const { bytes } = await this.#read(this.#nextAt, max, true);
      this.#nextAt += bytes.length;
      return bytes;
    } catch (error) {
      return this.#failed(error);
    }
  }

  #failed = (error) => {
    this.lastError = error;
    throw error;
  };

  async #read(offset, length, sequential) {
    // Bytes already here are served without a real wait: let network I/O run now and then.
    if (this.#ready(offset, length)) {
      const turn = this.#busy.turn();
      if (turn) await turn;
    }
    if (this.#closed) throw closedError();
    const file = this.#file;
    file.check();
    if (file.size === null) await file.open(this);
    if (this.#closed) throw closedError();
    const size = file.size;
    const start = Math.min(offset, size);
    const end = Math.min(offset + length, size);
    if (end <= start) return { bytes: new Uint8Array(0), fresh: true };
    // Reads asked together are planned together (coalesced); a pass is reads one after another.
    const continues = this.#ends.includes(start) && this.#reading === 0;
    this.#run = continues ? this.#run + 1 : 0;
    this.#ends.push(end);
    if (this.#ends.length > 4) this.#ends.shift();
    if (start === this.#passEnd) {
      this.#passEnd = end;
      this.#passBytes += end - start;
      this.#passReads += 1;
      this.#readAhead(start, end);
    } else if (sequential || this.#run >= 1) {
      // A new pass: the old one's windows are given up.
      this.#dropWindows();
      this.#windowSize = Math.max(MIN_WINDOW, 2 * (end - start));
      this.#passEnd = end;
      this.#passBytes = end - start;
      this.#passReads = 1;
      this.#readAhead(start, end);
    }
    this.#reading += 1;
    try {
      return await this.#serve(start, end);
    } finally {
      this.#reading -= 1;
    }
  }

  /** True when the bytes [offset, offset + length) have all arrived. */
  #ready(offset, length) {
    const size = this.#file.size;
    if (size === null) return false;
    const end = Math.min(offset + length, size);
    const parts = offset < end ? this.#file.store.cover(offset, end) : [];
    return parts !== null && parts.every((p) => p.start + p.filled >= Math.min(end, p.end));
  }

  /**
   * Keeps read-ahead windows from `start` on, within the source's concurrency and the budget;
   * a pass may run ahead 8 times as far as it has read (at least 1 MiB), so a short one (a
   * <video> range cancelled at the next seek) fetches little it will not use.
   */
  #readAhead(start, end) {
    const file = this.#file;
    while (this.#windows.length && this.#windows[0].end <= start) file.consumed(this.#windows.shift());
    let ahead = 0;
    for (const w of this.#windows) ahead += w.end - Math.max(w.start, start);
    let cursor = this.#windows.length ? this.#windows.at(-1).end : start;
    const maxWindow = Math.min(file.maxRangeSize, Math.max(MIN_WINDOW, Math.floor(this.#budget / 2)));
    // A pass of one read so far (a readAt that happens to follow the header) gets one window,
    // the one holding its read; from its second read on, windows ahead.
    const allowed = this.#passReads < 2 ? 0 : Math.min(this.#budget, Math.max(4 * MIN_WINDOW, 8 * this.#passBytes));
    while (cursor < file.size && cursor - start < this.#budget + maxWindow) {
      const inFlight = this.#windows.filter((w) => !w.done).length;
      if (inFlight >= file.concurrency) return;
      const want = Math.min(this.#windowSize, maxWindow, file.size - cursor);
      // Whole windows only (fewer, larger requests), each within what the pass may hold ahead.
      if (this.#windows.length > 0 && ahead + want > allowed) return;
      const [free] = file.free(cursor, cursor + want);
      if (!free) {
        // Held already (a cache, another reader's request): look further on.
        cursor += want;
        continue;
      }
      const [a, b] = free;
      this.#windows.push(file.window(a, b, a < end));
      ahead += b - a;
      cursor = b;
      this.#windowSize = Math.min(this.#windowSize * 2, maxWindow);
    }
  }

  #dropWindows() {
    for (const w of this.#windows) this.#file.release(w, true);
    this.#windows = [];
    this.#passEnd = -1;
  }

  /** The bytes [start, end): from held extents, asking for the missing ones. */
  async #serve(start, end) {
    const file = this.#file;
    for (let round = 0; ; round++) {
      if (this.#closed) throw closedError();
      file.check();
      let parts = file.store.cover(start, end);
      if (!parts) {
        // What is held already stays while the rest is asked for (the new requests may make
        // the cache evict).
        const held = file.store.overlapping(start, end);
        for (const p of held) p.pins += 1;
        try {
          await file.demand(start, end);
        } finally {
          for (const p of held) file.release(p, false);
        }
        parts = file.store.cover(start, end);
      }
      if (!parts) {
        // A request failed between planning and now: plan again, a little.
        if (round >= 2) throw errorOf('READ_FAILED', `bytes ${start}-${end - 1} could not be fetched`);
        continue;
      }
      await this.#wait(parts, end);
      const first = parts[0];
      const view = parts.length === 1 ? first.view(start - first.start, end - first.start) : null;
      if (view) return { bytes: view, fresh: false };
      const out = new Uint8Array(end - start);
      for (const p of parts) {
        const a = Math.max(start, p.start);
        const b = Math.min(end, p.end);
        p.copyTo(out, a - start, a - p.start, b - p.start);
      }
      return { bytes: out, fresh: true };
    }
  }

  /** Waits until `parts` hold their bytes up to `end`; close() ends the wait. */
  async #wait(parts, end) {
    const file = this.#file;
    const pending = { reject: null };
    for (const p of parts) {
      p.pins += 1;
      file.store.touch(p);
      file.promote(p);
    }
    const ready = parts.every((p) => p.start + p.filled >= Math.min(end, p.end));
    try {
      await new Promise((resolve, reject) => {
        pending.reject = reject;
        this.#active.add(pending);
        Promise.all(parts.map((p) => p.until(Math.min(end, p.end)))).then(resolve, reject);
      });
      // Bytes that had to arrive: the event loop ran meanwhile.
      if (!ready) this.#busy.waited();
    } finally {
      this.#active.delete(pending);
      for (const p of parts) file.release(p, this.#closed);
    }
  }

  /** Ends this reader: its waits reject with CLOSED, requests no other reader needs are aborted. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#active) pending.reject(closedError());
    this.#dropWindows();
    this.#file.giveUpOpen(this);
  }

  shareable() {
    return this.#file.shareable();
  }
}
