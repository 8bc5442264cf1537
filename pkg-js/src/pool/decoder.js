// PoolDecoder: the chunk decoder the wasm engine drives for pool.open (start / finish / cancel
// tickets, and a read-ahead window per ChunkMode); each chunk is a task on the pool.
import { ChunkMode as MODES } from '../tables.js';

let codecIds = 0;

/** Decodes a sealed random-access source's chunks on the pool's workers (the wasm engine calls it). */
export class PoolDecoder {
  static async forSource(pool, source, options, mode) {
    if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) return null;
    const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : source;
    const head = await readRange(bytes, 0, 48);
    const magic = [0x89, 0x4e, 0x50, 0x4b, 0x53, 0x0d, 0x0a, 0x1a];
    if (head.length < 48 || !magic.every((b, i) => head[i] === b)) return null;
    return new PoolDecoder(pool, bytes, head, options, mode);
  }

  constructor(pool, source, header, options, mode) {
    this.pool = pool;
    this.source = source;
    this.codec = {
      id: `${++codecIds}`,
      header: Array.from(header),
      key: options.key ? Array.from(options.key) : undefined,
    };
    this.priority = options.priority ?? 0;
    this.mode = mode;
    this.tickets = new Map();
    this.next = 0;
    this.adaptive = pool.workerCount;
  }

  start(chunk, offset, length, plainLen, last) {
    const ticket = ++this.next;
    const controller = new AbortController();
    const startedAt = performance.now();
    const promise = readRange(this.source, offset, length).then((record) =>
      this.pool.runChunk(
        { op: 'openChunk', codec: this.codec, chunk, last, plainLen },
        record,
        this.priority,
        controller.signal,
      ),
    );
    promise.catch(() => {});
    this.tickets.set(ticket, { promise, controller, startedAt });
    return ticket;
  }

  async finish(ticket) {
    const entry = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    const asked = performance.now();
    const result = await entry.promise;
    this.#tune(performance.now() - asked, performance.now() - entry.startedAt);
    return { output: result.output, deflated: result.deflated };
  }

  cancel(ticket) {
    this.tickets.get(ticket)?.controller.abort();
    this.tickets.delete(ticket);
  }

  window() {
    const workers = this.pool.workerCount;
    // Inline, chunks run one at a time on this thread: nothing to gain from read-ahead.
    if (this.mode === MODES.Sequential || this.pool.transport === 'inline') return 1;
    if (this.mode === MODES.Parallel) return 2 * workers;
    return this.adaptive;
  }

  /** Adaptive: widen while the reader waits for chunks, narrow while chunks wait for it. */
  #tune(waited, total) {
    if (this.mode !== MODES.Adaptive) return;
    const workers = this.pool.workerCount;
    if (waited > 0.25 * total) this.adaptive = Math.min(this.adaptive + 1, 4 * workers);
    else if (waited < 0.02 * total) this.adaptive = Math.max(this.adaptive - 1, workers);
  }
}

/** Bytes [offset, offset + length) of a Blob or Uint8Array, as a new array. */
async function readRange(source, offset, length) {
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return new Uint8Array(await source.slice(offset, offset + length).arrayBuffer());
  }
  return source.slice(offset, offset + length);
}
