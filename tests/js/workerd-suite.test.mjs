// The shared JS suite inside workerd (Cloudflare Workers' runtime), against the installed
// package bundled as wrangler would (the `workerd` export condition, the .wasm a module).
// Environment: NOVUSPACK_PKG (the test project), NOVUSPACK_DATA (prepare-data.mjs output).
import { test, after } from 'node:test';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWorkerd } from './workerd.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = process.env.NOVUSPACK_PKG;
const data = process.env.NOVUSPACK_DATA;
let workerd;
after(() => workerd?.stop());

test('the shared JS suite in workerd', { timeout: 10 * 60 * 1000 }, async (t) => {
  const dir = join(pkg, 'tests');
  const b64 = (name) => readFileSync(join(data, name)).toString('base64');
  writeFileSync(
    join(dir, 'workerd-data.json'),
    JSON.stringify({
      vectors: JSON.parse(readFileSync(join(data, 'vectors.json'), 'utf8')),
      v1: {
        key: JSON.parse(readFileSync(join(data, 'v1.json'), 'utf8')).key,
        framed: b64('v1.bin'),
        plaintext: b64('v1-plain.bin'),
      },
    }),
  );
  copyFileSync(join(here, 'workerd-suite-runner.js'), join(dir, 'workerd-suite-runner.js'));
  workerd = await startWorkerd({ entry: join(dir, 'workerd-suite-runner.js'), dir: join(pkg, 'workerd-suite') });
  const results = await (await fetch(`${workerd.base}/`)).json();
  if (results.length === 0) throw new Error('no results');
  for (const r of results) {
    await t.test(r.name, { skip: r.skipped ?? false }, () => {
      if (!r.ok) throw new Error(r.error);
    });
  }
});
