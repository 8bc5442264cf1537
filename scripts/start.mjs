// `npm start`: installs what the build needs (first run only), builds the wasm module if its
// sources changed, and serves the demo page on http://127.0.0.1:8080 (PORT to change) with the
// headers for cross-origin isolation.
import { join } from 'node:path';
import { ensureNodeModules, ensureRustToolchain } from './setup.mjs';
import { root, log } from './lib.mjs';

await ensureNodeModules();
await ensureRustToolchain();
const { build } = await import('./build.mjs');
await build();
const { serve } = await import('./serve.mjs');

export function demoMounts() {
  return { '/': join(root, 'www'), '/pkg-js/': join(root, 'pkg-js') };
}

const port = Number(process.env.PORT ?? 8080);
const server = await serve(demoMounts(), { port });
log(`demo: ${server.url}/  (Ctrl-C to stop)`);
