// pool.open's session: the chunk decoder the wasm engine drives (the PoolSession contract of
// src/wasm/decoder.rs). The engine authenticates the header and the index itself, then hands
// over, once, what workers need (`begin`); it asks for chunks (`start`, a ticket each; a
// read-ahead window of them), waits for one (`finish`: the worker's transferred plaintext, not a
// copy), or abandons one (`cancel`). Per chunk the calling thread only publishes a slot (or
// queues an assignment) and receives a message.
import { errorOf } from '../errors.js';
import { ChunkMode } from '../tables.js';
import { BATCH_BYTES, Session, readError } from './session.js';

export class DecodeSession extends Session {
  #tickets = new Map();
  #nextTicket = 0;
  #mode;
  #adaptive = 0;

  /** `mode`: the ChunkMode of the stream. */
  constructor(pool, source, mode) {
    const shareable = source.shareable?.() ?? null;
    super(pool, { kind: 'open', source, shareable });
    this.#mode = mode;
  }

  // ----- the engine's side (src/wasm/decoder.rs) -----

  /** The authenticated session: header, subkey (zeroed when the session ends), record offsets. */
  begin({ header, subkey, offsets, chunkSize }) {
    this.offsets = offsets;
    this.unit = chunkSize;
    this.#adaptive = 2 * this.#perWorker();
    const message = { header, subkey, offsets };
    this.announce(message);
  }

  /** Wants a chunk decoded; returns its ticket (undefined: decode it on the calling thread). */
  start(chunk, recordOffset, recordLength, plainLength, last) {
    if (this.ended || !this.message || !this.pool.running) return undefined;
    const ticket = ++this.#nextTicket;
    const item = { chunk, ticket, recordOffset, recordLength, plainLength, last, result: null, error: null };
    this.#tickets.set(ticket, item);
    this.want(item);
    return ticket;
  }

  /** Resolves to { output, deflated } once the chunk is decoded. */
  finish(ticket) {
    const item = this.#tickets.get(ticket);
    if (!item) return Promise.reject(errorOf('CLOSED', 'the chunk was abandoned (the stream moved on or closed)'));
    if (item.result || item.error) {
      this.#tickets.delete(ticket);
      return item.error ? Promise.reject(item.error) : Promise.resolve(item.result);
    }
    // The reader waits: this chunk goes first, and an adaptive window widens.
    this.urge(item);
    if (this.#mode === ChunkMode.Adaptive)
      this.#adaptive = Math.min(this.#adaptive + this.#perBatch(), 8 * this.#perWorker());
    return new Promise((resolve, reject) => {
      item.waiter = { resolve, reject };
    });
  }

  /** Abandons a chunk (a seek moved away, or the stream closed). */
  cancel(ticket) {
    const item = this.#tickets.get(ticket);
    if (!item) return;
    this.#tickets.delete(ticket);
    this.drop(item);
  }

  /** Chunks kept in flight ahead of a sequential reader. */
  window() {
    if (this.#mode === ChunkMode.Sequential) return 1;
    if (this.#mode === ChunkMode.Parallel) return 4 * this.#perWorker();
    return this.#adaptive;
  }

  /** Chunks per worker batch (consecutive small chunks are read and decoded together). */
  #perBatch() {
    return Math.max(1, Math.floor(BATCH_BYTES / this.unit));
  }

  /** Enough chunks in flight for every worker to decode one batch while reading the next. */
  #perWorker() {
    return 2 * this.pool.workers.live().length * this.#perBatch() + 1;
  }

  // ----- results -----

  deliver(item, result) {
    this.items.delete(item.chunk);
    if (item.waiter) {
      this.#tickets.delete(item.ticket);
      item.waiter.resolve(result);
    } else item.result = result;
  }

  fail(item, error) {
    this.items.delete(item.chunk);
    if (item.waiter) {
      this.#tickets.delete(item.ticket);
      item.waiter.reject(error);
    } else item.error = error;
  }

  /** Feed mode: consecutive records in one read, into a buffer this session owns. */
  async readBatch(batch) {
    const first = batch[0].recordOffset;
    const last = batch[batch.length - 1];
    const length = last.recordOffset + last.recordLength - first;
    let data;
    try {
      // Transferred to a worker: bytes this session owns, not a view of the source's memory.
      data = this.source.readOwned
        ? await this.source.readOwned(first, length)
        : (await this.source.read(first, length)).slice();
    } catch (error) {
      for (const item of batch) this.fail(item, readError(error));
      return null;
    }
    if (data.length !== length) {
      for (const item of batch) this.fail(item, errorOf('TRUNCATED', 'the source ended inside a chunk'));
      return null;
    }
    for (const item of batch) {
      item.at = item.recordOffset - first;
      item.length = item.recordLength;
    }
    return data;
  }

  end() {
    for (const item of this.#tickets.values()) {
      item.waiter?.reject(errorOf('CLOSED', 'the stream closed'));
    }
    this.#tickets.clear();
    super.end();
  }
}
