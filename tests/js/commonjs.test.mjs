// CommonJS projects: the package is ESM only. From CommonJS it loads with `await import()`
// everywhere; `require()` works where Node can require ES modules (20.19+, 22.12+:
// process.features.require_module) and fails with ERR_REQUIRE_ESM before that.
// Environment: NOVUSPACK_PKG (the test project).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const app = join(process.env.NOVUSPACK_PKG, 'cjs-app');
mkdirSync(app, { recursive: true });
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'cjs-app', private: true, type: 'commonjs' }));

function run(file, source) {
  writeFileSync(join(app, file), source);
  return spawnSync(process.execPath, [file], { cwd: app, encoding: 'utf8' });
}

test('a CommonJS module loads the package with import()', () => {
  const r = run(
    'dynamic.cjs',
    `(async () => {
      const { FileStream, seal, generateKey } = await import('novuspack-stream');
      const key = generateKey();
      const data = Buffer.from('commonjs '.repeat(1000));
      const sealed = new Uint8Array(await new Response(seal(data, { key })).arrayBuffer());
      const stream = await FileStream.open(sealed, { key });
      const part = new Uint8Array(8);
      await stream.readAt(part, 9);
      console.log(stream.size, Buffer.from(part).toString());
    })().catch((e) => { console.error(e); process.exit(1); });`,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '9000 commonjs');
});

test('require() follows what this Node can do with ES modules', () => {
  const r = run('require.cjs', `const lib = require('novuspack-stream'); console.log(typeof lib.FileStream);`);
  if (process.features.require_module) {
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'function');
  } else {
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /ERR_REQUIRE_ESM/);
  }
});
