// Every runtime entry must export the same names, and exactly the values index.d.ts declares:
// ESM named exports are static, so each entry lists them, and this test keeps the lists equal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'pkg-js');

function entryNames(file) {
  const source = readFileSync(join(pkg, 'src', file), 'utf8');
  const listed = source.match(/export const \{([^}]*)\} = makeApi\(loader\);/);
  assert.ok(listed, `${file} exports makeApi(loader)`);
  const names = listed[1]
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  for (const m of source.matchAll(/export \{ (\w+) \} from/g)) names.push(m[1]);
  return names.sort();
}

test('every entry exports the same names as index.d.ts declares', () => {
  const entries = readdirSync(join(pkg, 'src')).filter((f) => f.startsWith('entry-'));
  assert.deepEqual(entries.sort(), ['entry-browser.js', 'entry-deno.js', 'entry-node.js', 'entry-workerd.js']);
  const typings = readFileSync(join(pkg, 'index.d.ts'), 'utf8');
  const declared = [...typings.matchAll(/^export (?:declare )?(?:function|class|const) (\w+)/gm)].map((m) => m[1]);
  const expected = [...new Set(declared)].sort();
  for (const entry of entries) assert.deepEqual(entryNames(entry), expected, entry);
  const api = readFileSync(join(pkg, 'src', 'api.js'), 'utf8');
  const returned = api
    .match(/return \{([^}]*)\};\n\}\n$/)[1]
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  assert.deepEqual([...returned, 'StreamError'].sort(), expected, 'makeApi returns what the entries export');
});
