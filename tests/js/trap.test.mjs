// A trap inside the wasm module (a Rust panic, made on purpose through a test-only hook) reaches
// the caller as a StreamError INTERNAL_ERROR carrying the panic message, never as a bare
// `RuntimeError: unreachable`; after it, every call fails the same way (the instance may be
// inconsistent) instead of returning wrong bytes. Each case in a fresh process.
// Environment: NOVUSPACK_PKG (the test project).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(process.env.NOVUSPACK_PKG, 'tests');

test('a trap is INTERNAL_ERROR with the panic message, and every later call fails the same way', () => {
  const script = join(dir, 'trap-run.mjs');
  writeFileSync(
    script,
    `import * as lib from 'novuspack-stream';
const sealed = await new Response(lib.seal(new Uint8Array(1000), { compress: true })).blob();
const before = await lib.FileStream.open(sealed);
const out = {};
try { lib.wasmBuild[Symbol.for('novuspack-stream.trap')](); } catch (e) {
  out.trap = { isStreamError: e instanceof lib.StreamError, type: e.type, code: e.code, message: e.message, name: e.name };
}
for (const [what, call] of [
  ['open', () => lib.FileStream.open(sealed)],
  ['readChunk of a stream opened before', () => before.readChunk()],
  ['seal', () => new Response(lib.seal(new Uint8Array(10))).arrayBuffer()],
]) {
  try { await call(); out[what] = 'resolved'; } catch (e) { out[what] = e instanceof lib.StreamError ? e.code : String(e); }
}
console.log(JSON.stringify(out));
`,
  );
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(out.trap.isStreamError, true);
  assert.equal(out.trap.name, 'StreamError');
  assert.equal(out.trap.type, 'Unsupported');
  assert.equal(out.trap.code, 'INTERNAL_ERROR');
  assert.match(out.trap.message, /a deliberate trap, asked for by a test/);
  assert.doesNotMatch(out.trap.message, /^RuntimeError|unreachable$/);
  assert.equal(out.open, 'INTERNAL_ERROR');
  assert.equal(out['readChunk of a stream opened before'], 'INTERNAL_ERROR');
  assert.equal(out.seal, 'INTERNAL_ERROR');
});
