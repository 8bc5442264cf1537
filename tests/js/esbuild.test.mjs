// An esbuild browser bundle (format esm, platform browser) of a small page that imports the
// installed package, run in headless Chromium (bundler-app.mjs: seal, open, readAt, the worker
// pool). esbuild does not follow `new URL(..., import.meta.url)`: it keeps those URLs, which are
// then relative to the bundle. So one esbuild call places what they name where they point,
// mirroring the package's layout: the app at app/main.js, the pool's worker script bundled as a
// second entry at app/pool/worker-web.js, and the .wasm files (copy loader) at dist/wasm/ and
// dist/wasm-nvpk/ (the README's recipe).
// Environment: NOVUSPACK_PKG (the test project), NOVUSPACK_SERVE (scripts/serve.mjs).
import { test } from 'node:test';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { appPage, appSource, runApp } from './bundler-app.mjs';

const { serve } = await import(process.env.NOVUSPACK_SERVE);
const app = join(process.env.NOVUSPACK_PKG, 'esbuild-app');
const pkg = join(process.env.NOVUSPACK_PKG, 'node_modules', 'novuspack-stream', 'pkg-js');

test(
  'an esbuild browser bundle loads the package, its wasm and its worker pool in Chromium',
  { timeout: 5 * 60 * 1000 },
  async () => {
    rmSync(app, { recursive: true, force: true });
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'main.js'), appSource('esbuild'));
    const out = join(app, 'out');
    const wasm = (dir, name) => [`dist/${dir}/${name}`, join(pkg, 'dist', dir, `${name}.wasm`)];
    await esbuild.build({
      entryPoints: Object.fromEntries([
        ['app/main', join(app, 'main.js')],
        ['app/pool/worker-web', join(pkg, 'src', 'pool', 'worker-web.js')],
        wasm('wasm', 'novuspack_stream_bg'),
        wasm('wasm', 'novuspack_stream_plain_bg'),
        wasm('wasm-nvpk', 'novuspack_stream_nvpk_bg'),
        wasm('wasm-nvpk', 'novuspack_stream_nvpk_plain_bg'),
      ]),
      loader: { '.wasm': 'copy' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      outdir: out,
      logLevel: 'warning',
    });
    writeFileSync(join(out, 'app', 'index.html'), appPage('./main.js'));
    const server = await serve({ '/': out });
    try {
      await runApp(`${server.url}/app/`, 'esbuild');
    } finally {
      await server.close();
    }
  },
);
