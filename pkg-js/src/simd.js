// Which build of the wasm module this engine can run: the SIMD one (ChaCha20 four blocks per
// v128, vectorised loops) wherever WebAssembly SIMD exists, else the plain one.

// A module with one function that uses two SIMD instructions (i8x16.splat, i8x16.popcnt):
// it validates exactly where WebAssembly SIMD is supported.
const PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

export function simdSupported() {
  try {
    return WebAssembly.validate(PROBE);
  } catch {
    return false;
  }
}
