// FileStream: the public stream object over a wasm WasmFileStream. Every operation races the
// stream's AbortSignal and timeout (cancel.js); errors from wasm arrive as plain data and are
// rebuilt as StreamError. `openFileStream` is also how the worker pool opens a stream with its
// chunk decoder.
import { aborted, closedError, invalid, trappedError } from './errors.js';
import { checkSignal, guard } from './cancel.js';
import { checkKey } from './keys.js';
import { checkOptions } from './options.js';
import { openByteSource, sourceError } from './sources/index.js';
import { fail, packageModule, ready, sync } from './runtime.js';
import { defaultPool, poolHandle } from './buffer-pool.js';

const INTERNAL = Symbol('novuspack-stream FileStream');

/** Whether the engine supports byte ReadableStreams (WebKit does not: no BYOB readers). */
function byteStreamsSupported() {
  try {
    new ReadableStream({ type: 'bytes' });
    return true;
  } catch {
    return false;
  }
}

export class FileStream {
  #w;
  #closed = false;
  #signal;
  #timeout;
  #final = null;
  #onAbort = null;
  #onClose;
  #entry;
  #bytes;
  #fail;

  constructor(token, handle, { signal, timeout, onClose, entry, bytes, fail: failOf = fail }) {
    if (token !== INTERNAL) throw new TypeError('use FileStream.open()');
    this.#w = handle;
    this.#signal = signal;
    this.#timeout = timeout;
    this.#onClose = onClose;
    this.#entry = entry ?? null;
    this.#fail = failOf;
    this.#bytes = bytes;
    if (signal) {
      this.#onAbort = () => this.close();
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** Opens a stream over a Blob, ReadableStream, Uint8Array, ArrayBuffer or httpSource. */
  static open(source, config = {}) {
    return openFileStream(source, config);
  }

  /** The package entry this stream reads, or null. */
  get entry() {
    return this.#entry;
  }

  #op(call, options) {
    // After a trap the instance may be inconsistent: nothing more comes out of it.
    const trapped = trappedError();
    if (trapped) return Promise.reject(trapped);
    if (this.#closed) {
      return Promise.reject(this.#signal?.aborted ? aborted(this.#signal.reason) : closedError());
    }
    let signal;
    let pending;
    try {
      signal = checkSignal(options?.signal, 'options.signal');
      pending = call(this.#w);
    } catch (error) {
      return Promise.reject(this.#fail(error));
    }
    return guard(
      pending.catch((e) => {
        throw sourceError(this.#fail(e), this.#bytes);
      }),
      { signals: [this.#signal, signal], timeout: this.#timeout, onCancel: () => this.close() },
    );
  }

  /** The next chunk, or null at the end. */
  readChunk(options) {
    return this.#op((w) => w.readChunk(), options);
  }

  /** Reads into `into` from the position (io.Reader): bytes read, 0 only at the end. */
  read(into, options) {
    if (!(into instanceof Uint8Array)) return Promise.reject(invalid('into', into, 'a Uint8Array'));
    return this.#op((w) => w.readInto(into), options);
  }

  /** Reads at `offset` without moving the position (io.ReaderAt); safe to call concurrently. */
  readAt(into, offset, options) {
    if (!(into instanceof Uint8Array)) return Promise.reject(invalid('into', into, 'a Uint8Array'));
    if (typeof offset !== 'number') return Promise.reject(invalid('offset', offset, 'a number', 'INVALID_OFFSET'));
    return this.#op((w) => w.readAt(into, offset), options);
  }

  /** Moves the position to `offset` (0..size). */
  async seek(offset, options) {
    if (typeof offset !== 'number') throw invalid('offset', offset, 'a number', 'INVALID_OFFSET');
    await this.#op((w) => w.seek(offset), options);
  }

  /** Closes the stream (idempotent) and returns its buffers to the pool. */
  close() {
    if (this.#closed) return;
    const w = this.#w;
    this.#final = {
      stats: w.stats(),
      progress: w.progress(),
      size: w.size ?? null,
      position: w.position,
      format: w.format(),
    };
    this.#closed = true;
    w.close();
    w.free();
    if (this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    this.#onClose?.();
  }

  get closed() {
    return this.#closed;
  }

  /** Logical size; null while unknown. */
  get size() {
    return this.#closed ? this.#final.size : (this.#w.size ?? null);
  }

  /** Logical read position. */
  get position() {
    return this.#closed ? this.#final.position : this.#w.position;
  }

  /** What was found in the source: { kind, compressed, encrypted, chunkSize, chunkCount, storedSize }. */
  get format() {
    return this.#closed ? this.#final.format : this.#w.format();
  }

  getStats() {
    return this.#closed ? this.#final.stats : this.#w.stats();
  }

  progress() {
    const p = this.#closed ? this.#final.progress : this.#w.progress();
    return { bytesRead: p.bytesRead, totalBytes: p.totalBytes ?? null, readSpeed: p.readSpeed, elapsed: p.elapsed };
  }

  /** Milliseconds left: (totalBytes - bytesRead) / readSpeed; 0 when done; null if unknown. */
  estimatedTimeRemaining() {
    if (this.#closed) {
      const p = this.#final.progress;
      if (p.totalBytes === undefined || p.totalBytes === null) return null;
      if (p.bytesRead >= p.totalBytes) return 0;
      return p.readSpeed > 0 ? ((p.totalBytes - p.bytesRead) / p.readSpeed) * 1000 : null;
    }
    return this.#w.estimatedTimeRemaining() ?? null;
  }

  /**
   * The rest of the stream as a ReadableStream, pull-based: a byte stream (BYOB-capable) where
   * the engine has them, a default one elsewhere (WebKit).
   */
  readable() {
    const stream = this;
    const cancel = () => stream.close();
    if (!byteStreamsSupported()) {
      // highWaterMark 0: nothing is read (and the position does not move) before the reader asks.
      return new ReadableStream(
        {
          async pull(controller) {
            const chunk = await stream.readChunk();
            if (chunk === null) controller.close();
            else controller.enqueue(chunk);
          },
          cancel,
        },
        { highWaterMark: 0 },
      );
    }
    return new ReadableStream({
      type: 'bytes',
      async pull(controller) {
        const request = controller.byobRequest;
        if (request) {
          const n = await stream.read(request.view);
          if (n === 0) {
            controller.close();
            request.respond(0);
          } else {
            request.respond(n);
          }
          return;
        }
        const chunk = await stream.readChunk();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel,
    });
  }

  /** Iterates the rest of the stream chunk by chunk; the stream is closed afterwards. */
  async *[Symbol.asyncIterator]() {
    try {
      for (;;) {
        const chunk = await this.readChunk();
        if (chunk === null) return;
        yield chunk;
      }
    } finally {
      this.close();
    }
  }
}

/**
 * Opens a FileStream. `internal` (the pool and packages): { decoder (a chunk decoder the engine
 * drives), onClose, kind (the options' name list), what, entry, open (how a package entry is
 * prepared: (byteSource, options, key) => WasmOpening, in the package module) }.
 */
export async function openFileStream(source, config, internal = {}) {
  const { decoder, onClose, kind = 'stream', what = 'the FileStream.open options', entry, open } = internal;
  const module = open ? packageModule : { fail, ready, sync };
  try {
    const options = checkOptions(config, kind, what);
    const { key, signal, pool, timeout, size } = options;
    checkSignal(signal);
    checkKey(key);
    const bytes = await openByteSource(source, { size, memoryLimit: options.memoryLimit, signal, timeout });
    await module.ready();
    let opening;
    if (open) {
      opening = module.sync(() => open(bytes, options, key));
    } else {
      if (pool !== undefined && !poolHandle(pool)) throw invalid('pool', pool, 'a BufferPool');
      const handle = poolHandle(pool ?? defaultPool());
      opening = sync((w) => w.WasmFileStream.prepare(bytes, options, key, handle, decoder));
    }
    const pending = opening.open();
    let cancelled = false;
    try {
      const w = await guard(
        pending.catch((e) => {
          throw sourceError(module.fail(e), bytes);
        }),
        {
          signals: [signal],
          timeout,
          onCancel: () => {
            cancelled = true;
            opening.cancel();
            pending.then(
              (h) => {
                h.close();
                h.free();
              },
              () => {},
            );
          },
        },
      );
      return new FileStream(INTERNAL, w, { signal, timeout, onClose, entry, bytes, fail: module.fail });
    } finally {
      if (!cancelled) opening.free();
    }
  } catch (error) {
    onClose?.();
    throw module.fail(error);
  }
}
