// Which wasm build loads: the SIMD one where the engine has WebAssembly SIMD, the plain one
// where the runner asks for it (env.expectSimd).
import { assert, caseList } from '../helpers.mjs';

export function wasmBuildCases(lib, env) {
  const { list, test } = caseList();

  test('the SIMD build loads where the engine has WebAssembly SIMD, the plain one where asked', async () => {
    await lib.ready();
    assert.equal(lib.wasmBuild().simd, env.expectSimd ?? true, 'wasmBuild().simd');
  });

  return list;
}
