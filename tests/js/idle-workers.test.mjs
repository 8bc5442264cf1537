// Idle pool workers never keep the process alive: a Node script whose pool has finished its
// work exits by itself, with or without `stop()`, and so does a Deno script after `stop()`
// (Deno's Web Workers cannot be unreferenced). Each script runs in a fresh process and must
// exit on its own well before the timeout.
// Environment: NOVUSPACK_PKG (the test project).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const pkg = process.env.NOVUSPACK_PKG;
const dir = join(pkg, 'tests');

const body = (stop, makeWorker) => `import * as lib from 'novuspack-stream';
const key = lib.generateKey();
const plain = new Uint8Array(3 << 20).map((_, i) => i % 251);
const sealed = await new Response(lib.seal(plain, { key, compress: 1, chunkSize: 256 << 10 })).blob();
const pool = new lib.StreamingWorkerPool({ maxWorkers: 2${makeWorker} });
await pool.start();
const stream = await pool.open(sealed, { key });
let n = 0;
for await (const chunk of stream) n += chunk.length;
if (n !== plain.length) throw new Error('read ' + n);
const job = await pool.submitStreamingJob({ op: 'digest', input: plain });
if (job.bytesIn !== plain.length) throw new Error('digest');
${stop ? 'await pool.stop();' : ''}
console.log('done, workers ' + pool.getStreamingStats().totalWorkers);
`;

function run(command, args, name, source) {
  const path = join(dir, name);
  writeFileSync(path, source);
  const start = Date.now();
  const r = spawnSync(command, [...args, path], { encoding: 'utf8', timeout: 30_000, cwd: dir });
  return { ...r, seconds: (Date.now() - start) / 1000 };
}

for (const stop of [false, true]) {
  test(`Node exits by itself once its pool is idle (${stop ? 'after stop()' : 'without stop()'})`, () => {
    const r = run(process.execPath, [], `idle-node-${stop}.mjs`, body(stop, ''));
    assert.notEqual(r.signal, 'SIGTERM', `still running after ${r.seconds} s: the workers kept it alive`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^done/);
  });
}

test('Deno exits by itself after stop()', () => {
  const deno = join(dirname(createRequire(import.meta.url).resolve('deno/package.json')), 'deno');
  const pkgDir = realpathSync(join(pkg, 'node_modules', 'novuspack-stream'));
  const r = run(deno, ['run', '--node-modules-dir=manual', `--allow-read=${pkgDir}`], 'idle-deno.mjs', body(true, ''));
  assert.notEqual(r.signal, 'SIGTERM', `still running after ${r.seconds} s`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^done/);
});
