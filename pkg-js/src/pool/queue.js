// A priority queue (higher priority first, submission order among equals) and a latency
// recorder that reports percentiles over the most recent samples.

export class PriorityQueue {
  #heap = [];

  get size() {
    return this.#heap.length;
  }

  #before(a, b) {
    return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
  }

  push(item) {
    const heap = this.#heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  pop() {
    const heap = this.#heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < heap.length && this.#before(heap[l], heap[best])) best = l;
        if (r < heap.length && this.#before(heap[r], heap[best])) best = r;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best], heap[i]];
        i = best;
      }
    }
    return top;
  }

  /** Removes `item` (by identity); true if it was queued. */
  remove(item) {
    const heap = this.#heap;
    const at = heap.indexOf(item);
    if (at < 0) return false;
    const rest = heap.filter((_, i) => i !== at);
    this.#heap = [];
    for (const x of rest) this.push(x);
    return true;
  }

  /** Removes and returns everything. */
  drain() {
    const all = this.#heap;
    this.#heap = [];
    return all;
  }
}

/** Milliseconds samples, the latest `capacity` kept, reported as p50 / p99. */
export class Latency {
  #samples = [];
  #next = 0;

  constructor(capacity = 2048) {
    this.capacity = capacity;
  }

  add(ms) {
    if (this.#samples.length < this.capacity) this.#samples.push(ms);
    else this.#samples[this.#next++ % this.capacity] = ms;
  }

  summary() {
    const sorted = [...this.#samples].sort((a, b) => a - b);
    const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0);
    return { p50: at(0.5), p99: at(0.99), count: sorted.length };
  }
}
