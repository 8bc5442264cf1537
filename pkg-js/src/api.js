// The public API, bound to one wasm loader (each entry-*.js calls makeApi with its runtime's
// loader). Async calls load the wasm module on first use; synchronous calls load it at once
// where the runtime allows (Node, Deno, workerd) and otherwise need `await ready()` first.
//
// Every rejection is a StreamError: errors from wasm arrive as plain data and are rebuilt by
// toStreamError; AbortSignal and timeout races live in `guard`, which closes the stream.

import { StreamError, toStreamError, trappedError, aborted, timedOut, closedError, invalid } from './errors.js';
import { checkOptions } from './options.js';
import { ChunkMode } from './tables.js';
import { sourceReader, checkSource, isBlob, isReadableStream, toBytes } from './sources.js';
import { makePool } from './pool/pool.js';

const INTERNAL = Symbol('novuspack-stream internal');
/** Bytes fed to a sequential opener per call: bounds the input copied into wasm at once. */
const OPEN_PIECE = 64 * 1024;

/**
 * Races `promise` against AbortSignals and a timeout. On abort or timeout, `onCancel` runs
 * (closing what the operation used) and the result rejects with ABORTED or TIMEOUT.
 */
function guard(promise, { signals = [], timeout, onCancel } = {}) {
  const active = signals.filter(Boolean);
  for (const s of active) {
    if (s.aborted) {
      promise.catch(() => {});
      onCancel?.();
      return Promise.reject(aborted(s.reason));
    }
  }
  if (active.length === 0 && !timeout) return promise;
  return new Promise((resolve, reject) => {
    let timer;
    const settle = (fn, value) => {
      clearTimeout(timer);
      for (const s of active) s.removeEventListener('abort', onAbort);
      fn(value);
    };
    const onAbort = (event) => {
      onCancel?.();
      settle(reject, aborted(event.target.reason));
    };
    for (const s of active) s.addEventListener('abort', onAbort, { once: true });
    if (timeout) {
      timer = setTimeout(() => {
        onCancel?.();
        settle(reject, timedOut(timeout));
      }, timeout);
    }
    promise.then(
      (value) => settle(resolve, value),
      (error) => settle(reject, error),
    );
  });
}

function checkSignal(signal, field = 'signal') {
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalid(field, signal, 'an AbortSignal');
  return signal;
}

function checkKey(key) {
  if (key === undefined || key === null) return undefined;
  if (!(key instanceof Uint8Array)) throw invalid('key', key, 'a Uint8Array of 32 bytes', 'INVALID_KEY');
  return key;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the readable side of a transform has room (its queue is below 1 chunk). */
async function waitForDemand(controller) {
  let delay = 1;
  while (controller.desiredSize !== null && controller.desiredSize <= 0) {
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

export function makeApi(loader) {
  let wasm = null;
  let loading = null;
  let sharedPool = null;

  const lastPanic = () => wasm?.lastPanic();
  const fail = (error) => toStreamError(error, lastPanic);

  /** Loads the wasm module (once). */
  async function ready() {
    const trapped = trappedError();
    if (trapped) throw trapped;
    if (wasm) return;
    loading ??= loader.load().then(
      (exports) => {
        wasm = exports;
      },
      (error) => {
        loading = null;
        throw fail(error);
      },
    );
    await loading;
  }

  function loaded() {
    const trapped = trappedError();
    if (trapped) throw trapped;
    if (wasm) return wasm;
    if (loader.loadSync) {
      try {
        wasm = loader.loadSync();
        return wasm;
      } catch (error) {
        throw fail(error);
      }
    }
    throw new StreamError('Context', 'NOT_READY', 'call `await ready()` before synchronous calls in this runtime');
  }

  /** Runs a synchronous wasm call, converting what it throws. */
  function sync(fn) {
    const w = loaded();
    try {
      return fn(w);
    } catch (error) {
      throw fail(error);
    }
  }

  function defaultPool() {
    if (!sharedPool || sharedPool.closed) sharedPool = new BufferPool();
    return sharedPool;
  }

  // ----- BufferPool -----

  const poolHandles = new WeakMap(); // BufferPool -> WasmBufferPool
  const bufferState = new WeakMap(); // PooledBuffer -> { pool, handle, released }

  class BufferPool {
    constructor(config = {}) {
      checkOptions(config, 'buffer', 'the BufferPool config');
      poolHandles.set(
        this,
        sync((w) => new w.WasmBufferPool(config)),
      );
    }

    /** Lends a buffer of at least `size` bytes (a free one of the size class if any). */
    get(size) {
      const w = poolHandles.get(this);
      const handle = sync(() => w.get(size));
      return new PooledBuffer(
        INTERNAL,
        this,
        handle,
        sync(() => w.length(handle)),
      );
    }

    /** Returns a buffer to the pool; its views and handle become invalid. */
    put(buffer) {
      const state = bufferState.get(buffer);
      if (!state || state.pool !== this) throw invalid('buffer', buffer, 'a PooledBuffer lent by this pool');
      if (state.released) throw new StreamError('Context', 'CLOSED', 'this PooledBuffer was already returned');
      state.released = true;
      // A closed pool already freed every buffer.
      if (!this.#closed) sync(() => poolHandles.get(this).put(state.handle));
    }

    getStats() {
      return sync(() => poolHandles.get(this).stats());
    }

    totalSize() {
      return sync(() => poolHandles.get(this).totalSize());
    }

    setMaxTotalSize(bytes) {
      sync(() => poolHandles.get(this).setMaxTotalSize(bytes));
    }

    /** Releases buffers idle longer than evictionTimeout (policy 'time'); returns how many. */
    evictExpired() {
      return sync(() => poolHandles.get(this).evictExpired());
    }

    get config() {
      return sync(() => poolHandles.get(this).config());
    }

    get closed() {
      return this.#closed;
    }

    #closed = false;

    /** Releases everything; later get() throws CLOSED. */
    close() {
      if (this.#closed) return;
      this.#closed = true;
      sync(() => poolHandles.get(this).close());
    }
  }

  class PooledBuffer {
    constructor(token, pool, handle, length) {
      if (token !== INTERNAL) throw new TypeError('PooledBuffer is made by BufferPool.get()');
      bufferState.set(this, { pool, handle, released: false });
      this.length = length;
      Object.freeze(this);
    }

    #state() {
      const state = bufferState.get(this);
      if (state.released || state.pool.closed) {
        throw new StreamError('Context', 'CLOSED', 'this PooledBuffer was returned to its pool (or the pool closed)');
      }
      return state;
    }

    get pool() {
      return bufferState.get(this).pool;
    }

    /** How many times this buffer has been lent (1 on first use). */
    get accessCount() {
      const { pool, handle } = this.#state();
      return sync(() => poolHandles.get(pool).accessCount(handle));
    }

    /** Copies `data` into the buffer at `offset`. */
    write(data, offset = 0) {
      const { pool, handle } = this.#state();
      sync(() => poolHandles.get(pool).write(handle, offset, toBytes(data)));
    }

    /** Copies bytes out of the buffer (a new Uint8Array, independent of wasm memory). */
    read(offset = 0, length = this.length - offset) {
      const { pool, handle } = this.#state();
      return sync(() => poolHandles.get(pool).read(handle, offset, length));
    }

    /**
     * Calls `fn(view)` with a Uint8Array that views the buffer in wasm memory, and returns
     * what it returns. The view is valid only during this synchronous call: do not keep it,
     * and do not call into novuspack-stream inside `fn` (wasm memory may grow, which detaches
     * views). If memory grew anyway, VIEW_DETACHED is thrown after `fn` returns.
     */
    withView(fn) {
      const { pool, handle } = this.#state();
      const memory = sync((w) => w.wasmMemory());
      const address = sync(() => poolHandles.get(pool).address(handle));
      const before = memory.buffer;
      const result = fn(new Uint8Array(before, address, this.length));
      if (result && typeof result.then === 'function') {
        throw invalid('fn', 'an async function', 'a synchronous callback (the view dies when it returns)');
      }
      if (memory.buffer !== before) {
        throw new StreamError(
          'Validation',
          'VIEW_DETACHED',
          'wasm memory grew while the view was in use: writes after the growth were lost',
        );
      }
      return result;
    }

    /** The same as pool.put(this). */
    release() {
      this.pool.put(this);
    }
  }

  // ----- FileStream -----

  class FileStream {
    #w;
    #closed = false;
    #signal;
    #timeout;
    #final = null;
    #onAbort = null;
    #onClose;

    constructor(token, handle, signal, timeout, onClose) {
      if (token !== INTERNAL) throw new TypeError('use FileStream.open()');
      this.#w = handle;
      this.#signal = signal;
      this.#timeout = timeout;
      this.#onClose = onClose;
      if (signal) {
        this.#onAbort = () => this.close();
        signal.addEventListener('abort', this.#onAbort, { once: true });
      }
    }

    /** Opens a stream over a Blob, ReadableStream, Uint8Array or ArrayBuffer. */
    static open(source, config = {}) {
      return openFileStream(source, config, null, undefined);
    }

    static async [INTERNAL](source, config, decoder, onClose) {
      const options = decoder
        ? checkOptions(config, 'poolStream', 'the pool.open options')
        : checkOptions(config, 'stream', 'the FileStream.open options');
      await ready();
      const { key, signal, pool, timeout, chunkProcessingMode, priority, ...rest } = options;
      checkSignal(signal);
      checkSource(source);
      if (pool !== undefined && !poolHandles.has(pool)) throw invalid('pool', pool, 'a BufferPool');
      const poolHandle = poolHandles.get(pool ?? defaultPool());
      const opening = sync((w) =>
        w.WasmFileStream.prepare(source, { ...rest, timeout }, checkKey(key), poolHandle, decoder ?? undefined),
      );
      const pending = opening.open();
      let cancelled = false;
      try {
        const handle = await guard(
          pending.catch((e) => {
            throw fail(e);
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
        return new FileStream(INTERNAL, handle, signal, timeout, onClose);
      } finally {
        if (!cancelled) opening.free();
      }
    }

    #op(call, options) {
      if (this.#closed) {
        return Promise.reject(this.#signal?.aborted ? aborted(this.#signal.reason) : closedError());
      }
      let signal;
      let pending;
      try {
        signal = checkSignal(options?.signal, 'options.signal');
        pending = call(this.#w);
      } catch (error) {
        return Promise.reject(fail(error));
      }
      return guard(
        pending.catch((e) => {
          throw fail(e);
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

    /** The rest of the stream as a byte ReadableStream (BYOB-capable, pull-based). */
    readable() {
      const stream = this;
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
        cancel() {
          stream.close();
        },
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

  /** FileStream.open, optionally with a chunk decoder (the pool's) and an on-close hook. */
  async function openFileStream(source, config, decoder, onClose) {
    try {
      return await FileStream[INTERNAL](source, config, decoder, onClose);
    } catch (error) {
      onClose?.();
      throw error;
    }
  }

  // ----- sealing -----

  function sealOptions(options) {
    const o = checkOptions(options, 'seal', 'the seal options');
    checkSignal(o.signal);
    return {
      key: checkKey(o.key),
      signal: o.signal,
      size: o.size,
      plain: { compress: o.compress, chunkSize: o.chunkSize },
    };
  }

  /** Calls `onAbort` when `signal` aborts; returns a function that stops listening. */
  function listen(signal, onAbort) {
    if (!signal) return () => {};
    const handler = () => onAbort(aborted(signal.reason));
    signal.addEventListener('abort', handler, { once: true });
    return () => signal.removeEventListener('abort', handler);
  }

  /** Seals `source` into the sealed format, as a byte stream (by the pool's workers with `pool`). */
  function seal(source, options = {}) {
    if (options?.pool !== undefined) {
      try {
        checkOptions(options, 'seal', 'the seal options');
        if (!(options.pool instanceof StreamingWorkerPool))
          throw invalid('pool', options.pool, 'a StreamingWorkerPool');
        checkKey(options.key);
        checkSignal(options.signal);
      } catch (error) {
        // A throw inside start() would escape the constructor: reject instead.
        return new ReadableStream({ start: () => Promise.reject(error) });
      }
      if (options.pool.transport !== 'inline') return sealWithPool(source, options, options.pool);
    }
    let sealer = null;
    let reader = null;
    let chunkSize = 0;
    let unlisten = () => {};
    let started = null;
    const done = () => {
      unlisten();
      sealer?.free();
      sealer = null;
    };
    return new ReadableStream(
      {
        // Some runtimes (workerd) pull before an async start() settles: pull waits for it.
        start(controller) {
          started = begin(controller);
          return started;
        },
        async pull(controller) {
          await started;
          return pullSealed(controller);
        },
        cancel(reason) {
          reader?.cancel(reason);
          done();
        },
      },
      { highWaterMark: 0 },
    );

    async function begin(controller) {
      try {
        const o = sealOptions(options);
        await ready();
        reader = sourceReader(source);
        if (o.signal?.aborted) throw aborted(o.signal.reason);
        sealer = sync((w) => new w.WasmSealer({ ...o.plain, size: o.size ?? reader.size }, o.key));
        chunkSize = sealer.chunkSize;
        unlisten = listen(o.signal, (error) => {
          controller.error(error);
          reader.cancel(error);
          done();
        });
      } catch (error) {
        reader?.cancel();
        throw fail(error);
      }
    }

    async function pullSealed(controller) {
      try {
        // A pull that enqueues nothing is never called again (Streams spec): read on until
        // a chunk is sealed or the input ends.
        for (;;) {
          const piece = await reader.read(chunkSize);
          if (!sealer) return;
          if (piece === null) {
            controller.enqueue(sealer.finish());
            controller.close();
            done();
            return;
          }
          const out = sealer.update(piece);
          if (out.length) {
            controller.enqueue(out);
            return;
          }
        }
      } catch (error) {
        reader.cancel(error);
        done();
        throw fail(error);
      }
    }
  }

  /**
   * A TransformStream around one wasm codec object (WasmSealer, WasmOpener). `setup()` checks
   * the options and returns { signal, create }; `create()` makes the codec once the module is
   * ready. An abort of `signal` errors the stream, and the codec is freed at the end whichever
   * way it comes. `transform(bytes, controller, live)` gets `live()`, the codec or null once
   * freed (it may await between pieces); `flush(codec, controller)` ends it.
   */
  function codecTransform(setup, { transform, flush }, readableStrategy) {
    let codec = null;
    let unlisten = () => {};
    let started = null;
    const done = () => {
      unlisten();
      codec?.free();
      codec = null;
    };
    // Options are checked now: a bad one throws at the call, not later inside a pipe.
    const { signal, create } = setup();
    const begin = async (controller) => {
      try {
        await ready();
        if (signal?.aborted) throw aborted(signal.reason);
        codec = create();
        unlisten = listen(signal, (error) => {
          controller.error(error);
          done();
        });
      } catch (error) {
        throw fail(error);
      }
    };
    return new TransformStream(
      {
        start(controller) {
          started = begin(controller);
          return started;
        },
        async transform(chunk, controller) {
          await started;
          try {
            await transform(toBytes(chunk), controller, () => codec);
          } catch (error) {
            done();
            throw fail(error);
          }
        },
        async flush(controller) {
          await started;
          try {
            flush(codec, controller);
          } catch (error) {
            throw fail(error);
          } finally {
            done();
          }
        },
      },
      undefined,
      readableStrategy,
    );
  }

  /** A TransformStream from plaintext to the sealed format. */
  function sealTransform(options = {}) {
    const setup = () => {
      const o = sealOptions(options);
      return { signal: o.signal, create: () => sync((w) => new w.WasmSealer({ ...o.plain, size: o.size }, o.key)) };
    };
    return codecTransform(setup, {
      transform(bytes, controller, live) {
        const sealer = live();
        const step = sealer.chunkSize;
        for (let at = 0; at < bytes.length; at += step) {
          const out = sealer.update(bytes.subarray(at, at + step));
          if (out.length) controller.enqueue(out);
        }
      },
      flush: (sealer, controller) => controller.enqueue(sealer.finish()),
    });
  }

  /** A TransformStream from the sealed format to plaintext (verified before release). */
  function unsealTransform(options = {}) {
    const setup = () => {
      const o = checkOptions(options, 'unseal', 'the unsealTransform options');
      checkSignal(o.signal);
      const key = checkKey(o.key);
      return { signal: o.signal, create: () => sync((w) => new w.WasmOpener(key, false)) };
    };
    return codecTransform(
      setup,
      {
        async transform(bytes, controller, live) {
          let rest = bytes;
          while (rest.length > 0 && live()) {
            const opener = live();
            const out = opener.update(rest.subarray(0, OPEN_PIECE));
            rest = rest.subarray(opener.consumed);
            if (out.length) {
              controller.enqueue(out);
              // A small sealed input can expand a thousandfold: wait for the reader.
              await waitForDemand(controller);
            }
          }
        },
        flush: (opener) => opener.finish(),
      },
      { highWaterMark: 1 },
    );
  }

  /**
   * What a sealed file's header and footer say, without a key: format version, compression,
   * encryption, chunk size and count, sizes. Unauthenticated: a description, not a proof.
   */
  async function inspect(source) {
    checkSource(source);
    if (isReadableStream(source)) throw invalid('source', source, 'a Blob, Uint8Array or ArrayBuffer (random access)');
    await ready();
    const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : source;
    const size = isBlob(bytes) ? bytes.size : bytes.length;
    const part = async (start, end) =>
      isBlob(bytes) ? new Uint8Array(await bytes.slice(start, end).arrayBuffer()) : bytes.subarray(start, end);
    const head = await part(0, 48);
    const foot = await part(Math.max(0, size - 24), size);
    return sync((w) => w.inspectSealed(head, foot, size));
  }

  /** 32 random bytes from crypto.getRandomValues. */
  function generateKey() {
    return crypto.getRandomValues(new Uint8Array(32));
  }

  // ----- configuration -----

  function defaultBufferConfig() {
    return sync((w) => w.defaultBufferConfig());
  }

  class StreamingConfigBuilder {
    #config = {};

    withStreamBufferSize(bytes) {
      this.#config.streamBufferSize = bytes;
      return this;
    }

    withChunkProcessingMode(mode) {
      this.#config.chunkProcessingMode = mode;
      return this;
    }

    withMaxStreamsPerWorker(max) {
      this.#config.maxStreamsPerWorker = max;
      return this;
    }

    withStreamTimeout(ms) {
      this.#config.streamTimeout = ms;
      return this;
    }

    /** Validates; options never set stay unset. */
    build() {
      return sync((w) => w.buildStreamingConfig({ ...this.#config }));
    }
  }

  function createStreamingConfig() {
    const parallelism = loader.parallelism?.() ?? globalThis.navigator?.hardwareConcurrency ?? 1;
    return sync((w) => w.createStreamingConfig(parallelism));
  }

  function validateStreamingConfig(config) {
    sync((w) => w.validateStreamingConfig(checkOptions(config, 'streaming', 'the streaming config')));
  }

  function getStreamingConfigDefaults() {
    return sync((w) => w.getStreamingConfigDefaults());
  }

  const { StreamingWorkerPool, processStreamsConcurrently, sealWithPool } = makePool({
    ready,
    loaded,
    loader,
    fail,
    errors: { StreamError, aborted, closedError, invalid },
    openFileStream,
    sourceReader,
    toBytes,
  });

  /** Bytes of wasm linear memory (it grows, never shrinks). */
  function memoryUsage() {
    return { wasmMemory: sync((w) => w.wasmMemoryBytes()) };
  }

  /** Which build of the wasm module runs: the WebAssembly SIMD one, or the plain fallback. */
  function wasmBuild() {
    return { simd: sync((w) => w.simdBuild()) };
  }

  return {
    ready,
    FileStream,
    seal,
    sealTransform,
    unsealTransform,
    generateKey,
    inspect,
    BufferPool,
    defaultBufferConfig,
    ChunkMode,
    StreamingConfigBuilder,
    createStreamingConfig,
    validateStreamingConfig,
    getStreamingConfigDefaults,
    memoryUsage,
    wasmBuild,
    StreamingWorkerPool,
    processStreamsConcurrently,
  };
}
