// The `novuspack-stream` command reading http(s) URLs (the installed bin), against the
// fault-injecting server of http-server.mjs: `cat URL --offset --length` costs the open and the
// chunks it needs, `info URL` and `unseal URL out` work, faults end in one clean line and the
// right exit code. Environment: NOVUSPACK_PKG (the test project).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, keyToHex, seal } from 'novuspack-stream';
import { startHttpServer } from './http-server.mjs';

const bin = join(process.env.NOVUSPACK_PKG, 'node_modules', '.bin', 'novuspack-stream');
const dir = mkdtempSync(join(tmpdir(), 'novuspack-cli-http-'));
const server = await startHttpServer();
after(() => server.close());

/** Runs the CLI without blocking this process (the server answers in it). */
function cli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: dir });
    const out = [];
    let stderr = '';
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

function oneLine(r, code, pattern) {
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
}

const plain = Buffer.alloc(3 * 1024 * 1024 + 5);
for (let i = 0, x = 7; i < plain.length; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  plain[i] = x >>> 24;
}
const key = generateKey();
writeFileSync(join(dir, 'key.hex'), `${keyToHex(key)}\n`);
const sealed = new Uint8Array(await new Response(seal(plain, { key, chunkSize: 64 * 1024 })).arrayBuffer());
server.put('movie.sealed', sealed);
const url = `${server.url}/movie.sealed`;
const log = () => server.files.get('movie.sealed').log;

test('cat URL --offset --length: the open and one chunk', async () => {
  log().length = 0;
  const r = await cli(['cat', url, '--offset', '1000000', '--length', '4096', '--key-file', 'key.hex']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout, plain.subarray(1_000_000, 1_004_096));
  assert.equal(
    log().length,
    3,
    `requests: ${log()
      .map((e) => e.range)
      .join(' ')}`,
  );
});

test('info URL and unseal URL out', async () => {
  const info = await cli(['info', url, '--key-file', 'key.hex']);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout.toString(), /ChaCha20-Poly1305/);
  assert.match(info.stdout.toString(), new RegExp(`size +${plain.length} bytes \\(authenticated index\\)`));
  const r = await cli(['unseal', url, 'out.bin', '--key-file', 'key.hex']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readFileSync(join(dir, 'out.bin')), plain);
});

test('seal URL out reads the remote bytes in order', async () => {
  server.put('plain.bin', new Uint8Array(plain));
  const r = await cli(['seal', `${server.url}/plain.bin`, 'resealed', '--key-file', 'key.hex', '--level', '1']);
  assert.equal(r.code, 0, r.stderr);
  const back = await cli(['cat', join(dir, 'resealed'), '--key-file', 'key.hex']);
  assert.deepEqual(back.stdout, plain);
});

test('faults: 404, a changed file: one line, the exit code; a server without ranges: the file whole', async () => {
  oneLine(await cli(['info', `${server.url}/missing.sealed`]), 5, /404 \(not found\).*READ_FAILED/);
  server.files.get('movie.sealed').faults.push({}, {}, { replace: true });
  oneLine(
    await cli(['cat', url, '--offset', '2000000', '--length', '10', '--key-file', 'key.hex']),
    5,
    /changed while it was read.*RESOURCE_CHANGED/,
  );
  server.put('noranges.sealed', sealed, { ranges: false });
  const whole = await cli(['info', `${server.url}/noranges.sealed`]);
  assert.equal(whole.code, 0, 'a file within maxRangeSize is taken whole from a server without ranges');
  oneLine(await cli(['info', 'http://[bad']), 2, /not a valid URL/);
});
