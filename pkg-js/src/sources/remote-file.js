// What every reader of one httpSource shares: the remote record (size, validator, counters),
// the range store (bytes arriving or cached), the request slots, and the planning of requests.
//
//   open       one suffix range for the end of the file (size, validator, footer and index of a
//              sealed file) and, beside it, the first bytes (a header): a sealed file opens in
//              two requests and one round trip (when they overlap, a small file, each byte is
//              kept once).
//   demand     reads asked in the same turn of the event loop are planned together: their gaps
//              (bytes not held nor already asked) are merged when they touch or nearly do, up to
//              maxRangeSize per request, and fetched ahead of read-ahead.
//   window     a reader's read-ahead over a free range (see http-reader.js).
//   release    an extent a reader gave up (a seek, a close) is aborted if no one else needs it.
import { errorOf } from '../errors.js';
import { remoteOf, rangedGet, suffixGet } from './http-fetch.js';
import { Extent, RangeStore } from './range-store.js';
import { RequestSlots } from './request-slots.js';

/** Bytes asked by the suffix range that opens a file (footer + index of a sealed file up to ~16k chunks). */
export const OPEN_GUESS = 64 * 1024;
/** First bytes fetched beside the suffix range (the header of a sealed file, the magic of others). */
const HEAD_GUESS = 4 * 1024;
/** Gaps between reads planned together that are fetched rather than costing another request. */
const MERGE_GAP = 64 * 1024;

export class RemoteFile {
  #opening = null;
  #opened = false;
  #planned = [];
  #flushing = null;
  #failure = null;

  constructor({ url, headers, fetch, custom, maxRetries, maxRangeSize, concurrency, timeout, cacheSize }) {
    this.remote = remoteOf({ url, headers, fetch, maxRetries, timeout, maxWhole: maxRangeSize });
    this.remote.onChanged = (error) => this.fail(error);
    this.customFetch = custom;
    this.maxRangeSize = maxRangeSize;
    this.concurrency = concurrency;
    this.store = new RangeStore(cacheSize);
    this.slots = new RequestSlots(concurrency);
  }

  get size() {
    return this.remote.size;
  }

  get failure() {
    return this.#failure;
  }

  /** Throws what ended the source (closed, aborted, changed), if anything did. */
  check() {
    if (this.#failure) throw this.#failure;
  }

  /**
   * Learns the size with one suffix range, shared by every reader (retried by a later open after
   * a failure). `waiter` is the reader waiting: when every waiter gave up (giveUpOpen), the
   * request is aborted.
   */
  open(waiter) {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#opened) return Promise.resolve();
    if (!this.#opening) {
      const controller = new AbortController();
      const opening = { controller, waiters: new Set(), promise: null };
      opening.promise = new Promise((resolve, reject) => {
        let tail = null;
        const [head] = this.#fetchNow(0, HEAD_GUESS, true);
        const run = async () => {
          const release = await this.slots.acquire({ error: null }, true);
          try {
            return await suffixGet(this.remote, OPEN_GUESS, {
              signal: controller.signal,
              onStart: (start, end) => {
                // The first bytes are asked beside this range: keep each byte once.
                const from = head && !head.error ? Math.max(start, head.end) : start;
                this.#opened = true;
                resolve();
                if (from >= end) return null;
                tail = this.#track(new Extent(from, end));
                tail.started = true;
                return tail;
              },
            });
          } finally {
            release();
          }
        };
        run().then(
          () => {
            this.#opened = true;
            tail?.complete();
            this.store.evict();
            resolve();
          },
          (error) => {
            if (this.#opening === opening) this.#opening = null;
            if (tail) this.#drop(tail, error);
            reject(error);
          },
        );
      });
      this.#opening = opening;
    }
    const opening = this.#opening;
    if (waiter) opening.waiters.add(waiter);
    return opening.promise.finally(() => opening.waiters.delete(waiter));
  }

  /** A reader stopped waiting for the opening request: if no one else waits, it is aborted. */
  giveUpOpen(waiter) {
    const opening = this.#opening;
    if (!opening || !opening.waiters.delete(waiter)) return;
    if (opening.waiters.size === 0 && !this.#opened) {
      this.#opening = null;
      opening.controller.abort(errorOf('ABORTED', 'no reader waits for this file any more'));
    }
  }

  /** Adds an extent to the store, its bytes waking readers as they arrive. */
  #track(extent) {
    extent.onBytes = () => extent.progress();
    this.store.add(extent);
    return extent;
  }

  #drop(extent, error) {
    extent.fail(error);
    this.store.remove(extent);
  }

  /**
   * Fetches the extent when a slot is free (`urgent`: a reader waits for it). `clamp`: the file
   * may end inside it (its size is not known yet); the extent then shrinks to the file's end.
   */
  #launch(extent, urgent, clamp = false) {
    this.#track(extent);
    this.slots.acquire(extent, urgent).then((release) => {
      if (extent.error) {
        release();
        return;
      }
      extent.started = true;
      rangedGet(this.remote, extent.start, extent.end, extent, {
        signal: extent.controller.signal,
        onBytes: extent.onBytes,
        clamp,
        onShort: (end) => this.store.shrink(extent, end),
      }).then(
        () => {
          extent.complete();
          release();
          this.store.evict();
        },
        (error) => {
          release();
          this.#drop(extent, error);
        },
      );
    });
    return extent;
  }

  /** Asks for the free parts of [start, end) now; returns their extents. */
  #fetchNow(start, end, clamp = false) {
    return this.free(start, end).map(([a, b]) => this.#launch(new Extent(a, b), true, clamp));
  }

  /** The parts of [start, end) neither held nor planned. */
  free(start, end) {
    let ranges = this.store.gaps(start, end);
    for (const [pa, pb] of this.#planned) {
      if (pb <= start || pa >= end) continue;
      ranges = ranges.flatMap(([a, b]) => {
        if (pb <= a || pa >= b) return [[a, b]];
        const out = [];
        if (a < pa) out.push([a, pa]);
        if (pb < b) out.push([pb, b]);
        return out;
      });
    }
    return ranges;
  }

  /**
   * Plans the bytes of [start, end) not held yet; resolves once they are asked for (the extents
   * are in the store), with the other reads planned in the same turn.
   */
  demand(start, end) {
    for (const range of this.free(start, end)) this.#planned.push(range);
    if (this.#planned.length === 0) return Promise.resolve();
    // Two microtask hops: reads started together by the engine arrive within them.
    this.#flushing ??= Promise.resolve()
      .then(() => undefined)
      .then(() => this.#flush());
    return this.#flushing;
  }

  #flush() {
    const planned = this.#planned.sort((a, b) => a[0] - b[0]);
    this.#planned = [];
    this.#flushing = null;
    if (this.#failure) return;
    // Extents added since planning (read-ahead) may now hold some of it.
    const gaps = planned.flatMap(([a, b]) => this.store.gaps(a, b));
    const merged = [];
    for (const [a, b] of gaps) {
      const last = merged.at(-1);
      if (last && a - last[1] <= MERGE_GAP && b - last[0] <= this.maxRangeSize && this.#isFree(last[1], a)) {
        last[1] = b;
      } else {
        merged.push([a, b]);
      }
    }
    for (const [a, b] of merged) {
      for (let at = a; at < b; at += this.maxRangeSize) {
        this.#launch(new Extent(at, Math.min(b, at + this.maxRangeSize)), true);
      }
    }
  }

  /** True when no extent holds any of [start, end). */
  #isFree(start, end) {
    if (start >= end) return true;
    const gaps = this.store.gaps(start, end);
    return gaps.length === 1 && gaps[0][0] === start && gaps[0][1] === end;
  }

  /** A read-ahead extent over [start, end) (a free range the caller found); pinned by the caller. */
  window(start, end, urgent) {
    const extent = new Extent(start, end, { readAhead: !urgent });
    extent.pins = 1;
    return this.#launch(extent, urgent);
  }

  /** A reader waits for `extent`: if it was queued as read-ahead, it goes first. */
  promote(extent) {
    if (!extent.started) this.slots.promote(extent);
  }

  /** A reader no longer needs `extent`; if it gave it up (`abandon`) and no one else needs it, it stops. */
  release(extent, abandon) {
    extent.pins -= 1;
    if (abandon && extent.pins === 0 && !extent.done && !extent.error) {
      this.#drop(extent, errorOf('ABORTED', 'no reader needs these bytes any more'));
    }
  }

  /**
   * A pass has read past its read-ahead `extent`: a pass rarely comes back, so unless another
   * reader holds it, it leaves the store now (its memory is free) rather than filling the cache.
   */
  consumed(extent) {
    extent.pins -= 1;
    if (extent.pins === 0 && extent.done) this.store.remove(extent);
  }

  /** Ends the source: every pending and later read fails with `error`. */
  fail(error) {
    if (this.#failure) return;
    this.#failure = error;
    this.store.clear(error);
  }

  /** What a worker needs to fetch ranges itself (null with a custom fetch, or before the size is known). */
  shareable() {
    const { remote } = this;
    if (this.customFetch || remote.size === null || this.#failure) return null;
    return {
      kind: 'http',
      url: remote.url,
      headers: remote.headers.map(([name, value]) => [name, value]),
      validator: remote.validator?.value ?? null,
      validatorHeader: remote.validator?.header ?? null,
      size: remote.size,
      maxRetries: remote.maxRetries,
      timeout: remote.timeout,
      maxRangeSize: this.maxRangeSize,
    };
  }
}
