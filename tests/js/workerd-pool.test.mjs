// The pool suite inside workerd, where there is no Worker: the pool runs 'inline'.
// Environment: NOVUSPACK_PKG (the test project with the installed package).
import { test, after } from 'node:test';
import { copyFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWorkerd } from './workerd.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = process.env.NOVUSPACK_PKG;
let workerd;
after(() => workerd?.stop());

test('the pool suite in workerd (inline)', { timeout: 10 * 60 * 1000 }, async (t) => {
  const entry = join(pkg, 'tests', 'workerd-pool-runner.js');
  copyFileSync(join(here, 'workerd-pool-runner.js'), entry);
  workerd = await startWorkerd({ entry, dir: join(pkg, 'workerd-pool') });
  const results = await (await fetch(`${workerd.base}/`)).json();
  if (results.length === 0) throw new Error('no results');
  for (const r of results) {
    await t.test(r.name, { skip: r.skipped ?? false }, () => {
      if (!r.ok) throw new Error(r.error);
    });
  }
});
