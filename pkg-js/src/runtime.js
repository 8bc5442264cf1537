// The one wasm runtime of the package: each entry (entry-*.js) sets its runtime's loader once,
// and every module calls into wasm through `ready()` / `sync()` here (automerge's UseApi).
// Async calls load the module on first use; synchronous calls load it at once where the
// runtime allows (Node, Deno, workerd) and otherwise need `await ready()` first.
import { errorOf, toStreamError, trappedError } from './errors.js';

let loader = null;
let wasm = null;
let loading = null;

/**
 * Sets how this runtime loads the wasm module: { load(), loadSync?(), module, simd,
 * parallelism?(), workerUrl?(), createWorker?(), createWorkerFromUrl?(url) }.
 */
export function setLoader(value) {
  loader = value;
}

/** The runtime's loader (worker creation, parallelism, the compiled module). */
export function runtime() {
  if (!loader) throw errorOf('NOT_READY', 'novuspack-stream was imported without a runtime entry');
  return loader;
}

/** Converts anything thrown into a StreamError (with the last Rust panic message, if any). */
export function fail(error) {
  return toStreamError(error, () => wasm?.lastPanic());
}

/** Loads the wasm module (once). */
export async function ready() {
  const trapped = trappedError();
  if (trapped) throw trapped;
  if (wasm) return;
  loading ??= runtime()
    .load()
    .then(
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

/** The loaded module, loading it synchronously where the runtime can (else NOT_READY). */
export function loaded() {
  const trapped = trappedError();
  if (trapped) throw trapped;
  if (wasm) return wasm;
  const l = runtime();
  if (l.loadSync) {
    try {
      wasm = l.loadSync();
      return wasm;
    } catch (error) {
      throw fail(error);
    }
  }
  throw errorOf('NOT_READY', 'call `await ready()` before synchronous calls in this runtime');
}

/** Runs a synchronous wasm call, converting what it throws. */
export function sync(fn) {
  const w = loaded();
  try {
    return fn(w);
  } catch (error) {
    throw fail(error);
  }
}

/** Hardware threads of this machine (1 when unknown). */
export function parallelism() {
  return runtime().parallelism?.() ?? globalThis.navigator?.hardwareConcurrency ?? 1;
}

/** Bytes of wasm linear memory (it grows, never shrinks). */
export function memoryUsage() {
  return { wasmMemory: sync((w) => w.wasmMemoryBytes()) };
}

/** Which build of the wasm module runs: the WebAssembly SIMD one, or the plain fallback. */
export function wasmBuild() {
  return { simd: sync((w) => w.simdBuild()) };
}
