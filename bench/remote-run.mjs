// Runs the remote benchmark groups (bench/remote.mjs) in a process of their own: in Node, and
// with `--browser` in headless Chromium too (`--no-node`: Chromium only), against the files of
// remote-data.mjs served by a local server in another process. Prints { node?, chromium? }
// groups as JSON; bench/node.mjs and bench/browser.mjs run it and add the groups to theirs.
// `--quick`: small data, one run, every check (the smoke test).
//   node --expose-gc bench/remote-run.mjs [--quick] [--browser] [--no-node]
import { execFileSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zip from '@zip.js/zip.js';
import * as lib from 'novuspack-stream';
import { serve } from '../scripts/serve.mjs';
import { launchChromium } from '../tests/js/chromium.mjs';
import { serverClient } from '../tests/js/http-server-client.mjs';
import { KEY, PASSWORD, remoteData, startRemoteServer } from './remote-data.mjs';
import { runRemoteCases } from './remote.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const browser = process.argv.includes('--browser');
const inNode = !process.argv.includes('--no-node');
const log = (line) => console.error(line);

const { files } = await remoteData({ quick });
const server = await startRemoteServer(files);
const results = {};
try {
  zip.configure({ useWebWorkers: false });
  if (inNode) {
    log('remote benchmark: Node');
    results.node = await runRemoteCases(
      {
        lib,
        zip,
        quick,
        key: KEY,
        password: PASSWORD,
        remote: serverClient(server.url),
        files,
        blobOf: (name) => openAsBlob(Object.values(files).find((f) => f.name === name).path),
        memory: async () => {
          const out = execFileSync(
            process.execPath,
            ['--expose-gc', join(root, 'bench', 'memory.mjs'), `${server.url}/${files.big.name}`, lib.keyToHex(KEY)],
            { encoding: 'utf8' },
          );
          return JSON.parse(out.trim().split('\n').pop());
        },
      },
      log,
    );
  }
  if (browser) {
    log('remote benchmark: Chromium');
    const site = await serve({
      '/pkg-js/': join(root, 'pkg-js'),
      '/bench/': join(root, 'bench'),
      '/tests/': join(root, 'tests', 'js'),
      '/node_modules/@zip.js/': join(root, 'node_modules', '@zip.js'),
    });
    const chromium = await launchChromium();
    try {
      const page = await chromium.newPage();
      page.on('console', (m) => log(m.text()));
      page.on('pageerror', (e) => log(`page error: ${e.message}`));
      await page.goto(`${site.url}/bench/browser/remote.html`);
      await page.waitForFunction(() => typeof window.remoteBenchmark === 'function');
      const info = { quick, server: server.url, files, key: lib.keyToHex(KEY), password: PASSWORD };
      results.chromium = await page.evaluate((i) => window.remoteBenchmark(i), info);
    } finally {
      await chromium.close();
      await site.close();
    }
  }
} finally {
  server.stop();
}
console.log(JSON.stringify(results, null, 2));
const groups = Object.values(results).reduce((n, g) => n + g.length, 0);
log(`remote benchmark ${quick ? 'smoke test' : 'run'}: ${groups} groups`);
