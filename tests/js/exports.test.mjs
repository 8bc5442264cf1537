// The package's public names are listed once, in pkg-js/src/api.js, and must be exactly what
// index.d.ts declares; every runtime entry re-exports that module and sets its loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'pkg-js');
const read = (file) => readFileSync(join(pkg, file), 'utf8');

test('api.js exports exactly what index.d.ts declares, and every entry re-exports it', () => {
  const api = read('src/api.js');
  const exported = [...api.matchAll(/export \{([^}]*)\} from/g)]
    .flatMap((m) => m[1].split(','))
    .map((n) => n.trim())
    .filter(Boolean)
    .sort();
  const typings = read('index.d.ts');
  const declared = [...typings.matchAll(/^export (?:declare )?(?:function|class|const) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual(exported, [...new Set(declared)].sort());
  const entries = readdirSync(join(pkg, 'src')).filter((f) => f.startsWith('entry-'));
  assert.deepEqual(entries.sort(), ['entry-browser.js', 'entry-deno.js', 'entry-node.js', 'entry-workerd.js']);
  for (const entry of entries) {
    const source = read(`src/${entry}`);
    assert.match(source, /^setLoader\(loader\);$/m, `${entry} sets its loader`);
    assert.match(source, /^export \* from '\.\/api\.js';$/m, `${entry} re-exports api.js`);
  }
  // Bundlers must keep the entries' side effect (setting the loader).
  const sideEffects = JSON.parse(readFileSync(join(pkg, '..', 'package.json'), 'utf8')).sideEffects;
  for (const entry of entries) assert.ok(sideEffects.includes(`./pkg-js/src/${entry}`), `sideEffects lists ${entry}`);
});
