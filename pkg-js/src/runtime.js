// The wasm runtime of the package: each entry (entry-*.js) sets its runtime's loader once, and
// every module calls into wasm through `ready()` / `sync()` here (automerge's UseApi). Async
// calls load the module on first use; synchronous calls load it at once where the runtime
// allows (Node, Deno, workerd) and otherwise need `await ready()` first.
//
// There are two modules: the main one, and the package module (the main one plus NovusPack
// packages: zstd, LZ4, LZMA, AES-GCM, ML-KEM), loaded only when a package is first opened or
// written, so that pages which never touch a package never download it.
import { errorOf, toStreamError, trappedError } from './errors.js';

let loader = null;

/**
 * Sets how this runtime loads the wasm modules: { load(), loadSync?(), loadPackages(),
 * module, simd, parallelism?(), workerUrl?(), createWorker?(), createWorkerFromUrl?(url) }.
 */
export function setLoader(value) {
  loader = value;
}

/** The runtime's loader (worker creation, parallelism, the compiled module). */
export function runtime() {
  if (!loader) throw errorOf('NOT_READY', 'novuspack-stream was imported without a runtime entry');
  return loader;
}

/** One wasm module: loaded once, its calls converting what they throw into StreamErrors. */
class WasmModule {
  #load;
  #loadSync;
  #exports = null;
  #loading = null;

  constructor(load, loadSync) {
    this.#load = load;
    this.#loadSync = loadSync;
  }

  /** Converts anything thrown into a StreamError (with the module's last Rust panic, if any). */
  fail = (error) => toStreamError(error, () => this.#exports?.lastPanic());

  /** Loads the module (once). */
  ready = async () => {
    const trapped = trappedError();
    if (trapped) throw trapped;
    if (this.#exports) return;
    this.#loading ??= this.#load().then(
      (exports) => {
        this.#exports = exports;
      },
      (error) => {
        this.#loading = null;
        throw this.fail(error);
      },
    );
    await this.#loading;
  };

  /** The loaded module, loading it synchronously where the runtime can (else NOT_READY). */
  loaded = () => {
    const trapped = trappedError();
    if (trapped) throw trapped;
    if (this.#exports) return this.#exports;
    const loadSync = this.#loadSync();
    if (loadSync) {
      try {
        this.#exports = loadSync();
        return this.#exports;
      } catch (error) {
        throw this.fail(error);
      }
    }
    throw errorOf('NOT_READY', 'call `await ready()` before synchronous calls in this runtime');
  };

  /** The module's exports if it is loaded, else null (never loads it). */
  ifLoaded = () => this.#exports;

  /** Runs a synchronous wasm call, converting what it throws. */
  sync = (fn) => {
    const w = this.loaded();
    try {
      return fn(w);
    } catch (error) {
      throw this.fail(error);
    }
  };
}

const main = new WasmModule(
  () => runtime().load(),
  () => runtime().loadSync?.bind(runtime()),
);

/** The package module (NovusPack packages), loaded on first use. */
export const packageModule = new WasmModule(
  () => runtime().loadPackages(),
  () => null,
);

export const { fail, ready, loaded, sync } = main;

/** Hardware threads of this machine (1 when unknown). */
export function parallelism() {
  return runtime().parallelism?.() ?? globalThis.navigator?.hardwareConcurrency ?? 1;
}

/**
 * Bytes of wasm linear memory (it grows, never shrinks): the main module's, and the package
 * module's once a package was opened or written (0 before).
 */
export function memoryUsage() {
  return {
    wasmMemory: sync((w) => w.wasmMemoryBytes()),
    packageWasmMemory: packageModule.ifLoaded()?.wasmMemoryBytes() ?? 0,
  };
}

/** Which build of the wasm module runs: the WebAssembly SIMD one, or the plain fallback. */
export function wasmBuild() {
  return { simd: sync((w) => w.simdBuild()) };
}

// For tests only: makes the main module trap (a Rust panic), to check how a trap reaches the
// caller. Not part of the API.
wasmBuild[Symbol.for('novuspack-stream.trap')] = () => sync((w) => w.deliberateTrap());
