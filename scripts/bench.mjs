// `npm run bench` / `npm run bench:browser`: installs and builds what is missing (as `npm start`
// does), then runs bench/node.mjs or bench/browser.mjs. Extra arguments (`--quick`) pass through.
import { join } from 'node:path';
import { ensureBrowsers, ensureCodecTools, ensureNodeModules, ensureRustToolchain } from './setup.mjs';
import { root, run } from './lib.mjs';

const browser = process.argv.includes('--browser');
const rest = process.argv.slice(2).filter((a) => a !== '--browser');
await ensureNodeModules();
await ensureRustToolchain();
await ensureCodecTools();
if (browser) await ensureBrowsers();
const { build } = await import('./build.mjs');
await build();
await run(process.execPath, ['--expose-gc', join(root, 'bench', browser ? 'browser.mjs' : 'node.mjs'), ...rest]);
