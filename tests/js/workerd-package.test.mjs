// The package suite inside workerd: the package module is a second wasm module of the bundle,
// imported when a package is first opened.
// Environment: NOVUSPACK_PKG (the test project with the installed package), NOVUSPACK_DATA.
import { test, after } from 'node:test';
import { copyFileSync, cpSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWorkerd } from './workerd.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = process.env.NOVUSPACK_PKG;
let workerd;
after(() => workerd?.stop());

test('the package suite in workerd', { timeout: 10 * 60 * 1000 }, async (t) => {
  const dir = join(pkg, 'tests');
  copyFileSync(join(here, 'workerd-package-runner.js'), join(dir, 'workerd-package-runner.js'));
  copyFileSync(join(process.env.NOVUSPACK_DATA, 'packages.json'), join(dir, 'packages.json'));
  workerd = await startWorkerd({ entry: join(dir, 'workerd-package-runner.js'), dir: join(pkg, 'workerd-package') });
  await t.test('the bundle holds the package module as a second wasm module', () => {
    const wasm = readdirSync(join(pkg, 'workerd-package')).filter((f) => f.endsWith('.wasm'));
    if (wasm.length !== 2) throw new Error(`wasm modules: ${wasm.join(', ')}`);
  });
  const results = await (await fetch(`${workerd.base}/`)).json();
  if (results.length === 0) throw new Error('no results');
  for (const r of results) {
    await t.test(r.name, { skip: r.skipped ?? false }, () => {
      if (!r.ok) throw new Error(r.error);
    });
  }
});
