// The remote benchmark groups for bench/node.mjs and bench/browser.mjs: bench/remote-run.mjs
// in a process of its own (its server, files and 1 GiB memory run stay out of the caller's
// measurements), its JSON result read back. `only` keeps the groups whose title contains it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** `runtime`: 'node' or 'chromium'. */
export function remoteGroups(runtime, { quick, only }) {
  if (only && !only.startsWith('remote')) return [];
  const args = ['--expose-gc', join(root, 'bench', 'remote-run.mjs')];
  if (quick) args.push('--quick');
  if (runtime === 'chromium') args.push('--browser', '--no-node');
  const out = execFileSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const groups = JSON.parse(out)[runtime] ?? [];
  return only ? groups.filter((g) => g.title.includes(only)) : groups;
}
