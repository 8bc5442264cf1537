// The `novuspack-stream` package commands (ls, cat <package> <entry>, extract, pack, keygen
// --ml-kem), end to end, as installed from the packed tarball. Packages it writes are read by
// the test-only reader (nvpk/spec-package.mjs); packages it reads come from that test-only
// writer. Environment: NOVUSPACK_PKG (the test project).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPackage, crc32, readPackage } from './nvpk/spec-package.mjs';

const bin = join(process.env.NOVUSPACK_PKG, 'node_modules', '.bin', 'novuspack-stream');
const dir = mkdtempSync(join(tmpdir(), 'novuspack-cli-package-'));
const at = (name) => join(dir, name);

function cli(args) {
  const r = spawnSync(bin, args, { maxBuffer: 1 << 30, cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function assertCleanError(r, code, pattern) {
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line, no stack trace: ${r.stderr}`);
}

const text = Buffer.from('a line of text for the package commands\n'.repeat(40000));
const binary = Buffer.from(Array.from({ length: 300000 }, (_, i) => (i * 2654435761) >>> 24));
mkdirSync(at('in/sub'), { recursive: true });
writeFileSync(at('in/a.txt'), text);
writeFileSync(at('in/sub/b.bin'), binary);
writeFileSync(at('in/empty'), '');
const files = { 'in/a.txt': text, 'in/sub/b.bin': binary, 'in/empty': Buffer.alloc(0) };

test('pack, ls, cat and extract with every codec, unencrypted', () => {
  for (const codec of ['', '--zstd', '--lz4', '--xz']) {
    const name = `plain${codec}.nvpk`;
    const args = ['pack', name, 'in', '--comment', 'cli test'];
    if (codec) args.push(codec);
    assert.equal(cli(args).code, 0, codec);
    const spec = readPackage(new Uint8Array(readFileSync(at(name))));
    assert.deepEqual(spec.entries.map((e) => e.paths[0]).sort(), ['/in/a.txt', '/in/empty', '/in/sub/b.bin']);
    assert.equal(spec.comment, 'cli test');
    const ls = cli(['ls', name]);
    assert.equal(ls.code, 0);
    assert.match(ls.stdout.toString(), /3 entries/);
    assert.match(
      ls.stdout.toString(),
      new RegExp(
        `${text.length}\\s+\\d+\\s+${codec ? { '--zstd': 'zstd', '--lz4': 'lz4', '--xz': 'lzma' }[codec] : 'none'}`,
      ),
    );
    const cat = cli(['cat', name, '/in/a.txt', '--offset', '1000', '--length', '5000']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.deepEqual(cat.stdout, text.subarray(1000, 6000));
    const out = `out${codec}`;
    assert.equal(cli(['extract', name, '-C', out]).code, 0);
    for (const [path, bytes] of Object.entries(files)) assert.deepEqual(readFileSync(join(dir, out, path)), bytes);
  }
});

test('extract refuses existing files without --force, and only the entries named', () => {
  assert.equal(cli(['pack', 'some.nvpk', 'in/a.txt', 'in/sub/b.bin', '--zstd']).code, 0);
  assert.equal(cli(['extract', 'some.nvpk', 'in/sub/b.bin', '-C', 'only']).code, 0);
  assert.ok(existsSync(at('only/in/sub/b.bin')));
  assert.ok(!existsSync(at('only/in/a.txt')));
  assertCleanError(cli(['extract', 'some.nvpk', '-C', 'only']), 2, /exists/);
  assert.ok(!existsSync(at('only/in/a.txt')), 'nothing written when one output is refused');
  assert.equal(cli(['extract', 'some.nvpk', '-C', 'only', '--force']).code, 0);
  assertCleanError(cli(['extract', 'some.nvpk', '/nope', '-C', 'x']), 2, /no entry/);
  assertCleanError(cli(['pack', 'some.nvpk', 'in']), 2, /exists/);
});

test('encrypted packages: aes and chacha with a key file, ml-kem with keygen --ml-kem', () => {
  assert.equal(cli(['keygen', 'key.hex']).code, 0);
  assert.equal(cli(['keygen', 'kem', '--ml-kem', '768']).code, 0);
  assert.equal(statSync(at('kem')).mode & 0o777, 0o600, 'the decapsulation key is private');
  assert.match(readFileSync(at('kem.pub'), 'utf8'), /^[0-9a-f]{2368}\n$/, 'a 1184-byte public key');
  for (const [cipher, keyArgs, readKey, name] of [
    ['aes', ['--key-file', 'key.hex'], 'key.hex', 'aes-256-gcm'],
    ['chacha', ['--key-file', 'key.hex'], 'key.hex', 'chacha20-poly1305'],
    ['ml-kem', ['--recipient-key', 'kem.pub'], 'kem', 'ml-kem'],
  ]) {
    const pkg = `${cipher}.nvpk`;
    assert.equal(cli(['pack', pkg, 'in', '--lz4', '--encrypt', cipher, ...keyArgs]).code, 0, cipher);
    assert.match(cli(['ls', pkg]).stdout.toString(), new RegExp(name));
    assert.deepEqual(cli(['cat', pkg, 'in/sub/b.bin', '--key-file', readKey]).stdout, binary, cipher);
    assertCleanError(cli(['cat', pkg, 'in/sub/b.bin']), 2, /KEY_REQUIRED|key/);
    assert.equal(cli(['extract', pkg, '-C', `x-${cipher}`, '--key-file', readKey]).code, 0);
    assert.deepEqual(readFileSync(at(`x-${cipher}/in/a.txt`)), text);
  }
  assert.equal(cli(['keygen', 'other.hex']).code, 0);
  assertCleanError(cli(['cat', 'aes.nvpk', 'in/a.txt', '--key-file', 'other.hex']), 3, /AUTH_FAILED/);
  assertCleanError(cli(['pack', 'x.nvpk', 'in', '--encrypt', 'ml-kem']), 2, /recipient-key/);
  assertCleanError(cli(['pack', 'x.nvpk', 'in', '--encrypt', 'rot13']), 2, /aes, chacha or ml-kem/);
  assertCleanError(cli(['pack', 'x.nvpk', 'in', '--zstd', '--lz4']), 2, /one of/);
});

test('reading hostile or damaged packages: paths leaving the folder, bad magic, a tampered entry', () => {
  const evil = buildPackage([
    { paths: ['/../escaped.txt'], stored: text, originalSize: text.length, rawChecksum: crc32(text) },
  ]);
  writeFileSync(at('evil.nvpk'), evil.bytes);
  assertCleanError(cli(['extract', 'evil.nvpk', '-C', 'safe']), 2, /leaves/);
  assert.ok(!existsSync(at('escaped.txt')));
  writeFileSync(at('bad.nvpk'), Buffer.from('not a package at all, not even close to one; '.repeat(5)));
  assertCleanError(cli(['ls', 'bad.nvpk']), 4, /BAD_MAGIC/);
  const good = new Uint8Array(readFileSync(at('aes.nvpk')));
  const entry = readPackage(good).entries[0];
  good[entry.dataOffset + 20] ^= 1;
  writeFileSync(at('tampered.nvpk'), good);
  assertCleanError(cli(['cat', 'tampered.nvpk', entry.paths[0], '--key-file', 'key.hex']), 3, /AUTH_FAILED/);
  assertCleanError(cli(['ls', '-']), 2, /offset/);
});

test('ls, cat and extract read a package from a URL (HTTP Range requests)', async () => {
  const { serve } = await import(
    process.env.NOVUSPACK_SERVE ?? new URL('../../scripts/serve.mjs', import.meta.url).href
  );
  const server = await serve({ '/files/': dir }, { isolate: false });
  try {
    const url = `${server.url}/files/plain--zstd.nvpk`;
    const run = (args) =>
      new Promise((resolve) => {
        // Asynchronous: the server runs in this process.
        const child = spawn(bin, args, { cwd: dir });
        const out = [];
        let err = '';
        child.stdout.on('data', (d) => out.push(d));
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
      });
    const ls = await run(['ls', url]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout.toString(), /3 entries/);
    const cat = await run(['cat', url, '/in/sub/b.bin', '--offset', '100', '--length', '1000']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.deepEqual(cat.stdout, binary.subarray(100, 1100));
    const extract = await run(['extract', url, 'in/a.txt', '-C', 'from-url']);
    assert.equal(extract.code, 0, extract.stderr);
    assert.deepEqual(readFileSync(at('from-url/in/a.txt')), text);
  } finally {
    await server.close();
  }
});
