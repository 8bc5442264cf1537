// A Vite production build of a small page that imports the installed package and starts its
// worker pool, with no plugins and no manual copying of the .wasm or the worker script (Vite
// follows `new URL(..., import.meta.url)` and `new Worker(new URL(...))`), served as static
// files and run in headless Chromium (bundler-app.mjs: seal, open, readAt, the worker pool).
// Environment: NOVUSPACK_PKG (the test project), NOVUSPACK_SERVE (scripts/serve.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { appPage, appSource, runApp } from './bundler-app.mjs';

const { serve } = await import(process.env.NOVUSPACK_SERVE);
const app = join(process.env.NOVUSPACK_PKG, 'vite-app');

test(
  'a Vite build loads the package, its wasm and its worker pool in Chromium',
  { timeout: 5 * 60 * 1000 },
  async () => {
    rmSync(app, { recursive: true, force: true });
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'index.html'), appPage('./main.js'));
    writeFileSync(join(app, 'main.js'), appSource('vite'));
    await build({ root: app, logLevel: 'warn', build: { outDir: join(app, 'dist'), target: 'es2022' } });
    const assets = readdirSync(join(app, 'dist', 'assets'));
    assert.ok(
      assets.some((f) => f.endsWith('.wasm')),
      `the .wasm is emitted as an asset: ${assets.join(', ')}`,
    );
    const server = await serve({ '/': join(app, 'dist') });
    try {
      await runApp(`${server.url}/`, 'vite');
    } finally {
      await server.close();
    }
  },
);
