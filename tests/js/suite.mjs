// One test body for every JavaScript runtime (Node, Chromium, Deno, ...): `cases(lib, env)`
// returns named async test functions over the public API of the package, `lib`. Each runner
// registers them with its own test framework. `env` supplies what differs per runtime:
//   env.vectors()   -> [{ name, key, sealed, plaintext, error }] from tests/vectors
//   env.v1Sample()  -> { key, framed, plaintext } made by an independent implementation
//   env.heavy       -> run the 1 GiB case
//   env.expectSimd  -> which wasm build should be loaded (default: the SIMD one)
//
// Each feature's cases live in their own module under cases/ (one body for every runtime);
// cases() lists them in a fixed order. The helpers (assert, sample, skip, nodeCase, ...) are in
// helpers.mjs and re-exported here, so runners and the other suites import them from here.
import { memoryCases } from './cases/memory.mjs';
import { wasmBuildCases } from './cases/wasm-build.mjs';
import { fileStreamCases } from './cases/file-stream.mjs';
import { errorCases } from './cases/errors.mjs';
import { statsCases } from './cases/stats.mjs';
import { v1FramingCases } from './cases/v1-framing.mjs';
import { cancelCases } from './cases/cancel.mjs';
import { inspectCases } from './cases/inspect.mjs';
import { sealCases } from './cases/seal.mjs';
import { bufferPoolCases } from './cases/buffer-pool.mjs';
import { configCases } from './cases/config.mjs';

export * from './helpers.mjs';

/** The test cases: [name, async () => {...}, options]. */
export function cases(lib, env) {
  return [
    // First, so the wasm memory it measures is its own (memory never shrinks).
    ...memoryCases(lib, env),
    ...wasmBuildCases(lib, env),
    ...fileStreamCases(lib, env),
    ...errorCases(lib, env),
    ...statsCases(lib, env),
    ...v1FramingCases(lib, env),
    ...cancelCases(lib, env),
    ...inspectCases(lib, env),
    ...sealCases(lib, env),
    ...bufferPoolCases(lib, env),
    ...configCases(lib, env),
  ];
}
