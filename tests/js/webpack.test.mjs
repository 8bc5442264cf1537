// A webpack 5 production build of a small page that imports the installed package, as a new
// user makes it: `webpack --mode production` (webpack-cli) with no configuration file, no
// loaders and no copying of the .wasm or the worker script (webpack follows
// `new URL(..., import.meta.url)` and `new Worker(new URL(...))`), served as static files and
// run in headless Chromium (bundler-app.mjs: seal, open, readAt, the worker pool).
// Environment: NOVUSPACK_PKG (the test project), NOVUSPACK_SERVE (scripts/serve.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { appPage, appSource, runApp } from './bundler-app.mjs';

const { serve } = await import(process.env.NOVUSPACK_SERVE);
const app = join(process.env.NOVUSPACK_PKG, 'webpack-app');
const cli = join(dirname(createRequire(import.meta.url).resolve('webpack-cli/package.json')), 'bin', 'cli.js');

test(
  'a webpack 5 production build loads the package, its wasm and its worker pool in Chromium',
  { timeout: 5 * 60 * 1000 },
  async () => {
    rmSync(app, { recursive: true, force: true });
    mkdirSync(join(app, 'src'), { recursive: true });
    // webpack's defaults: ./src/index.js in, ./dist/main.js out.
    writeFileSync(join(app, 'src', 'index.js'), appSource('webpack'));
    execFileSync(process.execPath, [cli, '--mode', 'production', '--no-color'], { cwd: app, stdio: 'inherit' });
    const dist = join(app, 'dist');
    writeFileSync(join(dist, 'index.html'), appPage('./main.js', { module: false }));
    const files = readdirSync(dist);
    assert.ok(
      files.some((f) => f.endsWith('.wasm')),
      `the .wasm is emitted as an asset: ${files.join(', ')}`,
    );
    const server = await serve({ '/': dist });
    try {
      await runApp(`${server.url}/`, 'webpack');
    } finally {
      await server.close();
    }
  },
);
