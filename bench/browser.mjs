// `npm run bench:browser`: the benchmark in headless Chromium (Debian's, through playwright-core)
// on a cross-origin-isolated page, so the worker pool uses its SharedArrayBuffer transport. The
// package is imported unbundled as native ESM; the alternatives are bundled with esbuild.
// Writes bench/results-chromium.json and regenerates bench/RESULTS.md. `--quick`: smoke test.
import { mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { serve } from '../scripts/serve.mjs';
import { launchChromium } from '../tests/js/chromium.mjs';
import { benchData } from './corpus.mjs';
import { benchPackage } from './package-data.mjs';
import { finishRun } from './report.mjs';
import { remoteGroups } from './remote-groups.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
// `--only <text>`: run just the groups whose title contains it, print them, write nothing.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const { manifest, dir, read } = benchData({ quick });
benchPackage(dir, read('corpus.bin'));

const out = join(root, 'build', 'bench');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'bench', 'browser', 'alternatives.mjs')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  outfile: join(out, 'alternatives.js'),
  logLevel: 'error',
  // libsodium's loader names Node modules on a path the browser never takes.
  external: ['fs', 'path', 'crypto', 'url', 'module', 'worker_threads'],
});

const server = await serve({
  '/pkg-js/': join(root, 'pkg-js'),
  '/bench/': join(root, 'bench'),
  '/build/bench/': out,
  '/node_modules/@zip.js/': join(root, 'node_modules', '@zip.js'),
  '/data/': dir,
});
const browser = await launchChromium();
const started = Date.now();
try {
  const page = await browser.newPage();
  // The pool groups measure the page's main thread through DevTools, and note the machine's load.
  const devtools = await page.context().newCDPSession(page);
  await devtools.send('Performance.enable');
  await page.exposeFunction('rendererTaskMs', async () => {
    const { metrics } = await devtools.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'TaskDuration').value * 1000;
  });
  await page.exposeFunction(
    'hostLoad',
    () =>
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' / ')} on ${availableParallelism()} cores`,
  );
  page.on('console', (m) => console.error(m.text()));
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  page.on('response', (r) => r.status() >= 400 && console.error(`${r.status()} ${r.url()}`));
  await page.goto(`${server.url}/bench/browser/index.html`);
  await page.waitForFunction(() => typeof window.benchmark === 'function' && crossOriginIsolated);
  const groups = await page.evaluate((options) => window.benchmark(options), { quick, only });
  // The remote groups run in a Chromium of their own (remote-run.mjs), after this page's.
  groups.push(...remoteGroups('chromium', { quick, only }));
  const version = browser.version();
  const hardware = await page.evaluate(() => navigator.hardwareConcurrency);
  const result = {
    runtime: `Chromium ${version} (headless, cross-origin isolated)`,
    machine: `${hardware} cores`,
    date: new Date().toISOString(),
    quick,
    seconds: Math.round((Date.now() - started) / 1000),
    corpus: manifest,
    groups,
  };
  finishRun(result, { name: 'chromium', runtime: 'Chromium', only, quick });
} finally {
  await browser.close();
  await server.close();
}
