// The `novuspack-stream` command, end to end, as installed from the packed tarball (the bin
// link npm made in the test project). Environment: NOVUSPACK_PKG (the test project).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = join(process.env.NOVUSPACK_PKG, 'node_modules', '.bin', 'novuspack-stream');
const dir = mkdtempSync(join(tmpdir(), 'novuspack-cli-'));
const at = (name) => join(dir, name);

function cli(args, { input, shell } = {}) {
  const r = shell
    ? spawnSync('sh', ['-c', args], { input, maxBuffer: 1 << 30, cwd: dir })
    : spawnSync(bin, args, { input, maxBuffer: 1 << 30, cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function assertCleanError(r, code, pattern) {
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line, no stack trace: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

function content(length) {
  const out = Buffer.alloc(length);
  let x = 1;
  for (let i = 0; i < length; i++) {
    if ((i >> 14) % 3 === 0) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      out[i] = x >>> 24;
    } else out[i] = 97 + ((i * 13) % 26);
  }
  return out;
}

const data = content(6 * 1024 * 1024 + 17);
writeFileSync(at('plain.bin'), data);

test('keygen writes a private hex key and will not overwrite one', () => {
  assert.equal(cli(['keygen', at('key.hex')]).code, 0);
  const key = readFileSync(at('key.hex'), 'utf8');
  assert.match(key, /^[0-9a-f]{64}\n$/);
  assert.equal(statSync(at('key.hex')).mode & 0o777, 0o600);
  assertCleanError(cli(['keygen', at('key.hex')]), 2, /exists/);
  assert.equal(cli(['keygen', at('other.hex')]).code, 0);
  assert.notEqual(readFileSync(at('other.hex'), 'utf8'), key);
});

test('seal then unseal gives back the file, with and without a key', () => {
  for (const [name, extra] of [
    ['keyed', ['--key-file', at('key.hex'), '--level', '6', '--chunk-size', '65536']],
    ['plain', ['--level', '1']],
    ['stored', []],
  ]) {
    const sealed = at(`${name}.sealed`);
    const r = cli(['seal', at('plain.bin'), sealed, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    const keyArgs = extra.includes('--key-file') ? ['--key-file', at('key.hex')] : [];
    assert.equal(cli(['unseal', sealed, at(`${name}.out`), ...keyArgs]).code, 0);
    assert.ok(readFileSync(at(`${name}.out`)).equals(data), name);
  }
  assert.ok(statSync(at('keyed.sealed')).size < data.length * 0.6, 'compressed');
});

test('stdin and stdout with -', () => {
  const r = cli(
    `cat plain.bin | ${bin} seal - - --key-file key.hex --level 1 | ${bin} unseal - - --key-file key.hex > piped.out`,
    {
      shell: true,
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(at('piped.out')).equals(data));
  const k = cli(['keygen', '-']);
  assert.match(k.stdout.toString(), /^[0-9a-f]{64}\n$/);
});

test('cat reads a range without touching the rest of the file', () => {
  const r = cli(['cat', at('keyed.sealed'), '--offset', '1000000', '--length', '5000', '--key-file', at('key.hex')]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.equals(data.subarray(1_000_000, 1_005_000)));
  // Damage a chunk far from the range: cat still works (it never reads it), unseal does not.
  const sealed = readFileSync(at('keyed.sealed'));
  const damaged = Buffer.from(sealed);
  damaged[Math.floor(sealed.length * 0.8)] ^= 1;
  writeFileSync(at('damaged.sealed'), damaged);
  const near = cli(['cat', at('damaged.sealed'), '--offset', '0', '--length', '100', '--key-file', at('key.hex')]);
  assert.equal(near.code, 0, near.stderr);
  assert.ok(near.stdout.equals(data.subarray(0, 100)));
  assertCleanError(
    cli(['unseal', at('damaged.sealed'), at('damaged.out'), '--key-file', at('key.hex')]),
    3,
    /AUTH_FAILED/,
  );
  assert.equal(existsSync(at('damaged.out')), false, 'no partial output is left behind');
  const tail = cli(['cat', at('plain.sealed'), '--offset', String(data.length - 10), '--length', '100']);
  assert.ok(tail.stdout.equals(data.subarray(data.length - 10)));
});

test('info describes a file, verified with the key', () => {
  const without = cli(['info', at('keyed.sealed')]);
  assert.equal(without.code, 0, without.stderr);
  const text = without.stdout.toString();
  assert.match(text, /ChaCha20-Poly1305/);
  assert.match(text, /chunk size +65536 bytes/);
  assert.match(text, /chunks +97/);
  assert.match(text, /not verified without the key/);
  const verified = cli(['info', at('keyed.sealed'), '--key-file', at('key.hex')]).stdout.toString();
  assert.match(verified, new RegExp(`size +${data.length} bytes \\(verified index\\)`));
  assert.match(cli(['info', at('plain.sealed')]).stdout.toString(), /none \(CRC-32 per chunk\)[\s\S]*verified index/);
});

test('errors say what went wrong, with distinct exit codes and no stack trace', () => {
  cli(['keygen', at('wrong.hex')]);
  assertCleanError(
    cli(['unseal', at('keyed.sealed'), at('x.out'), '--key-file', at('wrong.hex')]),
    3,
    /wrong key, or the file was modified/,
  );
  assertCleanError(cli(['unseal', at('keyed.sealed'), at('x.out')]), 2, /encrypted: give --key-file/);
  assertCleanError(cli(['unseal', at('missing.sealed'), at('x.out')]), 5, /no such file/);
  const cut = readFileSync(at('plain.sealed')).subarray(0, 100_000);
  writeFileSync(at('cut.sealed'), cut);
  assertCleanError(cli(['unseal', at('cut.sealed'), at('x.out')]), 4, /damaged/);
  assertCleanError(cli(['info', at('plain.bin')]), 4, /damaged.*BAD_MAGIC/);
  writeFileSync(at('bad.hex'), 'not a key');
  assertCleanError(cli(['seal', at('plain.bin'), at('x.sealed'), '--key-file', at('bad.hex')]), 2, /not a key/);
  assertCleanError(cli(['seal', at('plain.bin'), at('x.sealed'), '--level', '11']), 2, /--level/);
  assertCleanError(cli(['cat', at('plain.sealed'), '--offset', '99999999999', '--length', '1']), 2, /INVALID_OFFSET/);
  assertCleanError(cli(['frobnicate']), 2, /unknown command/);
  assert.equal(cli(['--help']).code, 0);
});

test('a progress bar on stderr when it is a terminal', () => {
  const big = content(20 * 1024 * 1024);
  writeFileSync(at('big.bin'), big);
  // `script` gives the command a pseudo-terminal.
  const r = spawnSync('script', ['-qec', `${bin} seal big.bin big.sealed --level 1`, '/dev/null'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.match(r.stdout.toString(), /\[#+ *\] 100% \d+ MB\/s/);
  const quiet = cli(['seal', at('big.bin'), at('big2.sealed'), '--level', '1']);
  assert.equal(quiet.stderr, '', 'no bar when stderr is not a terminal');
});
