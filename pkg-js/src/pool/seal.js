// seal({ pool }): chunks sealed by the pool's workers, written in order. The Rust
// ParallelSealer (WasmParallelSealer) makes the header and the per-file subkey the workers
// seal with, checks every record it gets back (number, last flag, lengths, the declared size:
// SIZE_MISMATCH when the source is shorter or longer) and writes the index and footer; this
// file only schedules and moves bytes. A Blob of known size is read by the workers themselves
// (claim / assign modes); any other source is read here, a batch of chunks per read, and each
// batch's buffer is transferred to a worker.
import { aborted, errorOf } from '../errors.js';
import { fail, ready, sync } from '../runtime.js';
import { openByteSource } from '../sources/index.js';
import { BATCH_BYTES, Session, readError } from './session.js';

export function sealWithPool(source, options, pool) {
  let session = null;
  let started = null;
  return new ReadableStream(
    {
      // Some runtimes (workerd) pull before an async start() settles: pull waits for it.
      start() {
        started = begin();
        return started;
      },
      async pull(controller) {
        await started;
        try {
          await session.pull(controller);
        } catch (error) {
          session.stop();
          throw fail(error);
        }
      },
      cancel(reason) {
        session?.stop(reason);
      },
    },
    { highWaterMark: 0 },
  );

  async function begin() {
    let bytes = null;
    try {
      await pool.start();
      await ready();
      if (options.signal?.aborted) throw aborted(options.signal.reason);
      bytes = await openByteSource(source, { signal: options.signal });
      if (options.size !== undefined && bytes.size !== null && options.size !== bytes.size) {
        throw errorOf('SIZE_MISMATCH', `the declared size is ${options.size} bytes but the source has ${bytes.size}`, {
          field: 'size',
          expected: String(options.size),
        });
      }
      const sealer = sync((w) => new w.WasmParallelSealer(options, options.key, bytes.size ?? undefined));
      session = new SealSession(pool, bytes, sealer, options);
    } catch (error) {
      bytes?.close();
      throw fail(error);
    }
  }
}

class SealSession extends Session {
  #sealer;
  #records = new Map(); // chunk -> { record, plainLength, last }
  #waiter = null;
  #error = null;
  #next = 0;
  #wanted = 0;
  #headerSent = false;
  #count;
  #size;
  #reading = false;
  #carry = null;
  #eof = false;
  #unlisten = () => {};

  constructor(pool, source, sealer, options) {
    // Workers read a Blob of known size or an httpSource themselves; every other source is read here.
    const shareable = source.size !== null ? (source.shareable?.() ?? null) : null;
    super(pool, { kind: 'seal', source, shareable });
    this.#sealer = sealer;
    this.#size = source.size;
    this.#count = sealer.chunkCount ?? null;
    this.unit = sealer.chunkSize;
    const message = { header: sealer.headerBytes(), subkey: sealer.subkey(), level: sealer.level };
    this.announce(message);
    const signal = options.signal;
    if (signal) {
      const onAbort = () => this.#failed(aborted(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      this.#unlisten = () => signal.removeEventListener('abort', onAbort);
    }
  }

  /** Chunks kept in flight: every worker sealing one batch and holding the next. */
  #window() {
    return 2 * Math.max(1, this.pool.workers.live().length) * Math.max(1, Math.floor(BATCH_BYTES / this.unit)) + 1;
  }

  /** Enqueues the header, then each record in order, then the index and footer. */
  async pull(controller) {
    if (this.#error) throw this.#error;
    if (!this.#headerSent) {
      this.#headerSent = true;
      controller.enqueue(this.#sealer.headerBytes());
      return;
    }
    this.#fill();
    const next = await this.#result(this.#next);
    this.#sealer.accept(this.#next, next.plainLength, next.record);
    controller.enqueue(next.record);
    this.#next += 1;
    if (next.last) {
      controller.enqueue(this.#sealer.finish());
      controller.close();
      this.stop();
    }
  }

  #result(chunk) {
    const ready = this.#records.get(chunk);
    if (ready) {
      this.#records.delete(chunk);
      return Promise.resolve(ready);
    }
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#waiter = { chunk, resolve, reject };
    });
  }

  /** Wants the chunks up to the window: by number (workers read the Blob), or by reading here. */
  #fill() {
    const until = this.#next + this.#window();
    if (this.mode === 'feed') {
      if (!this.#reading) this.#readAhead(until).catch((error) => this.#failed(readError(error)));
      return;
    }
    const size = this.#size;
    while (this.#wanted < Math.min(until, this.#count)) {
      const chunk = this.#wanted++;
      const offset = chunk * this.unit;
      this.want({ chunk, offset, plainLength: Math.min(this.unit, size - offset), last: chunk === this.#count - 1 });
    }
  }

  /** Reads batches of chunks from the source and sends each batch's buffer to a worker. */
  async #readAhead(until) {
    this.#reading = true;
    try {
      while (!this.#eof && this.#wanted < until && !this.ended) {
        const perBatch = Math.max(1, Math.floor(BATCH_BYTES / this.unit));
        const want = perBatch * this.unit;
        const data = new Uint8Array(want);
        let filled = 0;
        if (this.#carry) {
          data.set(this.#carry);
          filled = this.#carry.length;
          this.#carry = null;
        }
        while (filled < want) {
          const piece = await this.source.next(want - filled);
          if (piece === null) break;
          data.set(piece, filled);
          filled += piece.length;
        }
        // One byte more tells whether this batch holds the last chunk (kept for the next batch).
        const more = filled === want ? await this.source.next(1) : null;
        if (more) this.#carry = more.slice();
        else this.#eof = true;
        if (this.ended) return;
        const items = [];
        for (let at = 0; at < filled || (items.length === 0 && this.#wanted === 0); at += this.unit) {
          const plainLength = Math.min(this.unit, filled - at);
          const last = this.#eof && at + this.unit >= filled;
          items.push({ chunk: this.#wanted++, at, length: plainLength, plainLength, last });
          if (last) break;
        }
        if (items.length === 0) break;
        if (this.#count !== null && items[items.length - 1].chunk >= this.#count && !items[items.length - 1].last) {
          throw errorOf('SIZE_MISMATCH', 'the source is longer than its declared size', { field: 'size' });
        }
        for (const item of items) this.track(item);
        while (!this.sendBatch(items, data)) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      this.#reading = false;
    }
  }

  deliver(item, { output }) {
    this.items.delete(item.chunk);
    const result = { record: output, plainLength: item.plainLength, last: item.last };
    if (this.#waiter?.chunk === item.chunk) {
      const { resolve } = this.#waiter;
      this.#waiter = null;
      resolve(result);
    } else this.#records.set(item.chunk, result);
    // Room in the window: read or want more.
    if (!this.ended) this.#fill();
  }

  fail(item, error) {
    this.#failed(error);
  }

  #failed(error) {
    if (this.#error) return;
    this.#error = error;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(error);
    this.stop(error);
  }

  /** Ends the session (done, failed or cancelled): workers drop it, the source is released. */
  stop(reason) {
    this.#unlisten();
    if (!this.ended) {
      this.end();
      this.#sealer.free();
      this.source.close(reason);
    }
  }
}
