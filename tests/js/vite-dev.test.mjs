// Vite's dev server (not a build) serving a small page that imports the installed package, as a
// new user runs it: no plugins, no optimizeDeps settings, dependency pre-bundling as Vite
// decides. The page (bundler-app.mjs) seals, opens, reads with readAt and runs the worker pool
// in headless Chromium; the server sends the cross-origin isolation headers, so the pool must
// pick its SharedArrayBuffer ring.
// Environment: NOVUSPACK_PKG (the test project).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'vite';
import { appPage, appSource, runApp } from './bundler-app.mjs';

const app = join(process.env.NOVUSPACK_PKG, 'vite-dev-app');

test(
  'the Vite dev server serves the package, its wasm and its worker pool to Chromium',
  { timeout: 5 * 60 * 1000 },
  async () => {
    rmSync(app, { recursive: true, force: true });
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'index.html'), appPage('./main.js'));
    writeFileSync(join(app, 'main.js'), appSource('vite dev'));
    const server = await createServer({
      root: app,
      configFile: false,
      logLevel: 'warn',
      // Its pre-bundling cache in the app folder, which each run starts afresh.
      cacheDir: join(app, '.vite'),
      server: {
        host: '127.0.0.1',
        port: 0,
        headers: {
          'Cross-Origin-Opener-Policy': 'same-origin',
          'Cross-Origin-Embedder-Policy': 'require-corp',
        },
      },
    });
    try {
      await server.listen();
      const url = server.resolvedUrls.local[0];
      await runApp(url, 'vite dev');
      // What this test is for: the package went through dependency pre-bundling, which moves its
      // code away from its .wasm and worker files.
      const deps = join(app, '.vite', 'deps');
      assert.ok(existsSync(join(deps, 'novuspack-stream.js')), `the package was pre-bundled into ${deps}`);
    } finally {
      await server.close();
    }
  },
);
