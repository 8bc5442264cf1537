// The byte ranges an httpSource holds: each `Extent` is one request's bytes (arriving, or
// complete), and the `RangeStore` keeps them sorted and never overlapping, so a read finds which
// extents cover it and which gaps it must fetch. Extents in use (`pins`: a read waiting on it, a
// read-ahead window not yet consumed) are kept; the others are a cache evicted least recently
// used first, to stay within the store's byte limit. Readers may wait for part of an extent: a
// read is served as soon as its bytes have arrived, not when the whole request has.
//
// An extent's bytes live in segments of at most 1 MiB, allocated as they arrive: a 16 MiB
// request is not one 16 MiB allocation (allocators keep such blocks from the process long after
// they are freed), and a read inside one segment is a view, not a copy.
import { errorOf } from '../errors.js';

const SEGMENT = 1024 * 1024;

/** One request's bytes [start, end): `filled` of them have arrived. */
export class Extent {
  #waiters = [];
  #segments = [];

  constructor(start, end, { readAhead = false } = {}) {
    this.start = start;
    this.end = end;
    this.filled = 0;
    this.done = false;
    this.error = null;
    this.pins = 0;
    this.used = 0;
    this.readAhead = readAhead;
    this.started = false;
    this.controller = new AbortController();
  }

  /** Appends arriving bytes (at most up to `end`). */
  write(bytes) {
    let at = 0;
    while (at < bytes.length && this.filled < this.length) {
      const index = Math.floor(this.filled / SEGMENT);
      const within = this.filled - index * SEGMENT;
      this.#segments[index] ??= new Uint8Array(Math.min(SEGMENT, this.length - index * SEGMENT));
      const segment = this.#segments[index];
      const n = Math.min(bytes.length - at, segment.length - within);
      segment.set(n === bytes.length ? bytes : bytes.subarray(at, at + n), within);
      at += n;
      this.filled += n;
    }
  }

  /** Bytes [a, b) of the extent (offsets from its start): a view inside one segment, else null. */
  view(a, b) {
    const index = Math.floor(a / SEGMENT);
    if (Math.floor((b - 1) / SEGMENT) !== index) return null;
    return this.#segments[index].subarray(a - index * SEGMENT, b - index * SEGMENT);
  }

  /** Copies bytes [a, b) of the extent (offsets from its start) into `out` at `at`. */
  copyTo(out, at, a, b) {
    while (a < b) {
      const index = Math.floor(a / SEGMENT);
      const within = a - index * SEGMENT;
      const n = Math.min(b - a, SEGMENT - within);
      out.set(this.#segments[index].subarray(within, within + n), at);
      at += n;
      a += n;
    }
  }

  get length() {
    return this.end - this.start;
  }

  /** Resolves once bytes up to `offset` (absolute, at most `end`) have arrived. */
  until(offset) {
    if (this.error) return Promise.reject(this.error);
    if (this.start + this.filled >= offset) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ offset, resolve, reject }));
  }

  /** Wakes the readers whose bytes have arrived (called as the body is read). */
  progress() {
    const at = this.start + this.filled;
    if (this.#waiters.length === 0) return;
    const still = [];
    for (const w of this.#waiters) {
      if (at >= w.offset) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  complete() {
    this.done = true;
    this.progress();
  }

  /** Ends the extent with `error`: waiting readers reject; the request (if any) is aborted. */
  fail(error) {
    if (this.done || this.error) return;
    this.error = error;
    this.controller.abort(error);
    for (const w of this.#waiters) w.reject(error);
    this.#waiters = [];
  }
}

/** Sorted, non-overlapping extents within a byte limit (pinned ones excepted). */
export class RangeStore {
  #extents = [];
  #clock = 0;

  constructor(limit) {
    this.limit = limit;
    this.bytes = 0;
  }

  get extents() {
    return this.#extents;
  }

  /** Index of the first extent whose end is after `offset`. */
  #firstAfter(offset) {
    let lo = 0;
    let hi = this.#extents.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#extents[mid].end <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The ranges of [start, end) no extent holds, in order: [[a, b], ...]. */
  gaps(start, end) {
    const out = [];
    let at = start;
    for (let i = this.#firstAfter(start); i < this.#extents.length && at < end; i++) {
      const e = this.#extents[i];
      if (e.start >= end) break;
      if (e.start > at) out.push([at, e.start]);
      at = Math.max(at, e.end);
    }
    if (at < end) out.push([at, end]);
    return out;
  }

  /** The extents that together hold [start, end), in order, or null if a gap remains. */
  cover(start, end) {
    const parts = [];
    let at = start;
    for (let i = this.#firstAfter(start); i < this.#extents.length && at < end; i++) {
      const e = this.#extents[i];
      if (e.start > at) return null;
      parts.push(e);
      at = e.end;
    }
    return at >= end ? parts : null;
  }

  /** The extents holding any of [start, end), in order. */
  overlapping(start, end) {
    const out = [];
    for (let i = this.#firstAfter(start); i < this.#extents.length && this.#extents[i].start < end; i++) {
      out.push(this.#extents[i]);
    }
    return out;
  }

  /** The extent holding `offset`, or undefined. */
  at(offset) {
    const e = this.#extents[this.#firstAfter(offset)];
    return e && e.start <= offset ? e : undefined;
  }

  /** Adds an extent over a gap (the caller checked), then evicts to stay within the limit. */
  add(extent) {
    const i = this.#firstAfter(extent.start);
    const next = this.#extents[i];
    if (next && next.start < extent.end) throw errorOf('INTERNAL_ERROR', 'overlapping ranges in the range store');
    this.#extents.splice(i, 0, extent);
    this.bytes += extent.length;
    this.touch(extent);
    this.evict();
  }

  remove(extent) {
    const i = this.#extents.indexOf(extent);
    if (i < 0) return;
    this.#extents.splice(i, 1);
    this.bytes -= extent.length;
  }

  /** The file ends inside `extent` (at `end`): it holds less. */
  shrink(extent, end) {
    if (end >= extent.end) return;
    this.bytes -= extent.end - end;
    extent.end = end;
  }

  touch(extent) {
    extent.used = ++this.#clock;
  }

  /**
   * Drops complete extents no one uses until within the limit: read-ahead already read first
   * (a pass rarely comes back), then the others, least recently used first.
   */
  evict() {
    if (this.bytes <= this.limit) return;
    const free = this.#extents
      .filter((e) => e.done && e.pins === 0)
      .sort((a, b) => Number(b.readAhead) - Number(a.readAhead) || a.used - b.used);
    for (const e of free) {
      if (this.bytes <= this.limit) break;
      this.remove(e);
    }
  }

  /** Fails and drops every extent (the source is closed, aborted or changed). */
  clear(error) {
    for (const e of this.#extents) e.fail(error);
    this.#extents = [];
    this.bytes = 0;
  }
}
