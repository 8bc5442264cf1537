// Every JavaScript example of the README, extracted from it and run, so a broken example fails
// CI. Each ```js block must follow a marker comment saying where it runs:
//   <!-- test: node -->      an ES module run by Node in a fresh folder
//   <!-- test: browser -->   an ES module run on a cross-origin isolated page in Chromium
//   <!-- test: worker -->    a Worker module (export default { fetch }) whose fetch is called
//                            with a POST of a sealed body, as workerd would
//   <!-- test: excerpt of PATH -->  lines of a file that other tests run (PATH from the README's
//                            folder): each line must be in it, in order (comment lines that
//                            start with `//` are the README's own and skipped)
// A block without a marker fails the test. The examples use a few free names, defined by the
// prelude below as globals: `file` (a File of sample data), `input` (a file input holding it),
// `key` (32 bytes), `sealedFile` (`file` sealed with `key`), `gzBlob` (`file` gzipped), `render`
// (takes chunks), `token`, in Node `origin` (an HTTP server on 127.0.0.1 with Range support
// serving `sealedFile` as /talk.sealed), and in workers `env.SEAL_KEY` (the key in hex).
// Environment: NOVUSPACK_PKG (the test project), NOVUSPACK_README, NOVUSPACK_SERVE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const readme = process.env.NOVUSPACK_README ?? join(here, '..', '..', 'README.md');
const { serve } = await import(process.env.NOVUSPACK_SERVE ?? new URL('../../scripts/serve.mjs', import.meta.url).href);

/** The README's ```js blocks: [{ line, runtime, code }]. */
export function snippets(text) {
  const out = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```js') continue;
    const start = i;
    let marker = null;
    for (let j = i - 1; j >= 0 && j >= i - 3; j--) {
      const m = /^<!-- test: (node|browser|worker|excerpt of (\S+)) -->$/.exec(lines[j].trim());
      if (m) marker = m[2] ? { excerpt: m[2] } : m[1];
      if (lines[j].trim() !== '' && !m) break;
    }
    const body = [];
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) body.push(lines[i]);
    out.push({ line: start + 1, runtime: marker, code: body.join('\n') });
  }
  return out;
}

// The globals the examples use (Node and the page), made before each example runs.
const PRELUDE = `
import { generateKey, keyToHex, seal } from 'novuspack-stream';
const data = new Uint8Array(3 * 1024 * 1024 + 123);
for (let i = 0; i < data.length; i++) data[i] = (i >> 12) % 3 ? 97 + ((i * 7) % 26) : (i * 2654435761) >>> 24;
globalThis.key = generateKey();
globalThis.file = new File([data], 'sample.bin');
globalThis.input = { files: [globalThis.file] };
globalThis.sealedFile = await new Response(seal(globalThis.file, { key: globalThis.key, compress: 6 })).blob();
globalThis.gzBlob = await new Response(new Blob([data]).stream().pipeThrough(new CompressionStream('gzip'))).blob();
globalThis.render = () => {};
globalThis.token = 'example-token';
globalThis.SEAL_KEY_HEX = keyToHex(globalThis.key);
`;

// Node only: a server of sealedFile with Range support (it does not keep the process alive).
const NODE_PRELUDE = `${PRELUDE}
import { createServer } from 'node:http';
const talk = new Uint8Array(await globalThis.sealedFile.arrayBuffer());
const server = createServer((req, res) => {
  const m = /^bytes=(\\d*)-(\\d*)$/.exec(req.headers.range ?? '');
  const size = talk.length;
  let [start, end] = [0, size - 1];
  if (m && m[1] === '') start = Math.max(0, size - Number(m[2]));
  else if (m) [start, end] = [Number(m[1]), m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]))];
  const headers = { etag: '"talk-v1"', 'accept-ranges': 'bytes', 'content-length': end - start + 1 };
  if (m) headers['content-range'] = 'bytes ' + start + '-' + end + '/' + size;
  res.writeHead(m ? 206 : 200, headers).end(talk.subarray(start, end + 1));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
server.unref();
globalThis.origin = 'http://127.0.0.1:' + server.address().port;
`;

const all = snippets(readFileSync(readme, 'utf8'));
const testsDir = join(process.env.NOVUSPACK_PKG, 'tests');
writeFileSync(join(testsDir, 'readme-prelude.mjs'), PRELUDE);
writeFileSync(join(testsDir, 'readme-prelude-node.mjs'), NODE_PRELUDE);

test('every JS example of the README says where it runs', () => {
  assert.ok(all.length >= 5, `only ${all.length} examples found`);
  const unmarked = all.filter((s) => !s.runtime).map((s) => `README.md:${s.line}`);
  assert.deepEqual(unmarked, [], 'examples without a <!-- test: ... --> marker');
});

for (const s of all.filter((x) => x.runtime === 'node')) {
  test(`README.md:${s.line} runs in Node`, { timeout: 120_000 }, () => {
    const path = join(testsDir, `readme-${s.line}.mjs`);
    writeFileSync(path, `import './readme-prelude-node.mjs';\n${s.code}\n`);
    const cwd = mkdtempSync(join(testsDir, 'readme-run-'));
    const r = spawnSync(process.execPath, [path], { cwd, encoding: 'utf8', timeout: 110_000 });
    assert.equal(r.status, 0, `README.md:${s.line} failed:\n${r.stderr}`);
  });
}

for (const s of all.filter((x) => x.runtime === 'worker')) {
  test(`README.md:${s.line} answers as a Worker`, { timeout: 120_000 }, async () => {
    const path = join(testsDir, `readme-${s.line}.mjs`);
    writeFileSync(path, `import './readme-prelude.mjs';\n${s.code}\n`);
    await import(join(testsDir, 'readme-prelude.mjs'));
    const worker = (await import(path)).default;
    const { seal } = await import('novuspack-stream');
    const plain = new TextEncoder().encode('a request body sealed by the client '.repeat(5000));
    const body = await new Response(seal(plain, { key: globalThis.key })).arrayBuffer();
    const request = new Request('http://worker.test/', { method: 'POST', body });
    const response = await worker.fetch(request, { SEAL_KEY: globalThis.SEAL_KEY_HEX }, {});
    assert.equal(response.status, 200);
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), plain);
  });
}

for (const s of all.filter((x) => x.runtime?.excerpt)) {
  test(`README.md:${s.line} is an excerpt of ${s.runtime.excerpt}`, () => {
    const source = readFileSync(join(dirname(readme), s.runtime.excerpt), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    let at = 0;
    for (const line of s.code
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('//'))) {
      const found = source.indexOf(line, at);
      assert.ok(found >= 0, `README.md:${s.line}: not in ${s.runtime.excerpt} (in this order): ${line}`);
      at = found + 1;
    }
  });
}

const browserSnippets = all.filter((x) => x.runtime === 'browser');
if (browserSnippets.length) {
  test('the README examples for browsers run on a page in Chromium', { timeout: 300_000 }, async (t) => {
    const pages = mkdtempSync(join(testsDir, 'readme-pages-'));
    for (const s of browserSnippets) {
      writeFileSync(join(pages, `readme-${s.line}.mjs`), `import '../readme-prelude.mjs';\n${s.code}\n`);
      writeFileSync(
        join(pages, `readme-${s.line}.html`),
        `<!doctype html><meta charset="utf-8"><script type="importmap">{ "imports": { "novuspack-stream": "/pkg/node_modules/novuspack-stream/pkg-js/src/entry-browser.js" } }</script>
<script type="module">
try { await import('./readme-${s.line}.mjs'); window.__done = { ok: true }; }
catch (e) { window.__done = { ok: false, error: String(e?.stack ?? e) + ' ' + (e?.code ?? '') }; }
</script>`,
      );
    }
    const server = await serve({ '/pkg/': process.env.NOVUSPACK_PKG, '/tests/': testsDir });
    const browser = await launchChromium();
    try {
      for (const s of browserSnippets) {
        await t.test(`README.md:${s.line} runs in Chromium`, async () => {
          const page = await browser.newPage();
          await page.goto(`${server.url}/tests/${pages.split('/').pop()}/readme-${s.line}.html`);
          await page.waitForFunction(() => window.__done, null, { timeout: 60_000 });
          const done = await page.evaluate(() => window.__done);
          assert.ok(done.ok, `README.md:${s.line}: ${done.error}`);
          await page.close();
        });
      }
    } finally {
      await browser.close();
      await server.close();
    }
  });
}
