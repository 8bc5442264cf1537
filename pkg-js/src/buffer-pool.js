// BufferPool and PooledBuffer: buffers in wasm linear memory behind numeric handles. A
// PooledBuffer's bytes are reached by copying (`write`, `read`) or through a view valid only
// inside a synchronous callback (`withView`): memory.grow detaches views.
import { errorOf, invalid } from './errors.js';
import { checkOptions } from './options.js';
import { sync } from './runtime.js';
import { toBytes } from './sources/to-bytes.js';

const INTERNAL = Symbol('novuspack-stream PooledBuffer');
const handles = new WeakMap(); // BufferPool -> WasmBufferPool
const lent = new WeakMap(); // PooledBuffer -> { pool, handle, released }
let shared = null;

/** The wasm pool behind a BufferPool, or undefined for anything else. */
export function poolHandle(pool) {
  return handles.get(pool);
}

/** The pool FileStreams draw from unless given one. */
export function defaultPool() {
  if (!shared || shared.closed) shared = new BufferPool();
  return shared;
}

export class BufferPool {
  #closed = false;

  constructor(config = {}) {
    checkOptions(config, 'buffer', 'the BufferPool config');
    handles.set(
      this,
      sync((w) => new w.WasmBufferPool(config)),
    );
  }

  /** Lends a buffer of at least `size` bytes (a free one of the size class if any). */
  get(size) {
    const w = handles.get(this);
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
    const state = lent.get(buffer);
    if (!state || state.pool !== this) throw invalid('buffer', buffer, 'a PooledBuffer lent by this pool');
    if (state.released) throw errorOf('CLOSED', 'this PooledBuffer was already returned');
    state.released = true;
    // A closed pool already freed every buffer.
    if (!this.#closed) sync(() => handles.get(this).put(state.handle));
  }

  getStats() {
    return sync(() => handles.get(this).stats());
  }

  totalSize() {
    return sync(() => handles.get(this).totalSize());
  }

  setMaxTotalSize(bytes) {
    sync(() => handles.get(this).setMaxTotalSize(bytes));
  }

  /** Releases buffers idle longer than evictionTimeout (policy 'time'); returns how many. */
  evictExpired() {
    return sync(() => handles.get(this).evictExpired());
  }

  get config() {
    return sync(() => handles.get(this).config());
  }

  get closed() {
    return this.#closed;
  }

  /** Releases everything; later get() throws CLOSED. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    sync(() => handles.get(this).close());
  }
}

export class PooledBuffer {
  constructor(token, pool, handle, length) {
    if (token !== INTERNAL) throw new TypeError('PooledBuffer is made by BufferPool.get()');
    lent.set(this, { pool, handle, released: false });
    this.length = length;
    Object.freeze(this);
  }

  #state() {
    const state = lent.get(this);
    if (state.released || state.pool.closed) {
      throw errorOf('CLOSED', 'this PooledBuffer was returned to its pool (or the pool closed)');
    }
    return state;
  }

  get pool() {
    return lent.get(this).pool;
  }

  /** How many times this buffer has been lent (1 on first use). */
  get accessCount() {
    const { pool, handle } = this.#state();
    return sync(() => handles.get(pool).accessCount(handle));
  }

  /** Copies `data` into the buffer at `offset`. */
  write(data, offset = 0) {
    const { pool, handle } = this.#state();
    sync(() => handles.get(pool).write(handle, offset, toBytes(data)));
  }

  /** Copies bytes out of the buffer (a new Uint8Array, independent of wasm memory). */
  read(offset = 0, length = this.length - offset) {
    const { pool, handle } = this.#state();
    return sync(() => handles.get(pool).read(handle, offset, length));
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
    const address = sync(() => handles.get(pool).address(handle));
    const before = memory.buffer;
    const result = fn(new Uint8Array(before, address, this.length));
    if (result && typeof result.then === 'function') {
      throw invalid('fn', 'an async function', 'a synchronous callback (the view dies when it returns)');
    }
    if (memory.buffer !== before) {
      throw errorOf('VIEW_DETACHED', 'wasm memory grew while the view was in use: writes after the growth were lost');
    }
    return result;
  }

  /** The same as pool.put(this). */
  release() {
    this.pool.put(this);
  }
}
