// The `novuspack-stream` command, end to end, as installed from the packed tarball (the bin
// link npm made in the test project). Environment: NOVUSPACK_PKG (the test project).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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
  assert.match(verified, new RegExp(`size +${data.length} bytes \\(authenticated index\\)`));
  // A CRC-only file's index is checked, not authenticated: info says so.
  const crcOnly = cli(['info', at('plain.sealed')]).stdout.toString();
  assert.match(crcOnly, /none \(CRC-32 per chunk\)[\s\S]*CRC-checked, not authenticated/);
  assert.doesNotMatch(crcOnly, /authenticated index/);
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
  assertCleanError(cli(['info', at('plain.bin')]), 6, /not a sealed file.*UNKNOWN_FORMAT/);
  writeFileSync(at('bad.hex'), 'not a key');
  assertCleanError(cli(['seal', at('plain.bin'), at('x.sealed'), '--key-file', at('bad.hex')]), 2, /not a key/);
  assertCleanError(cli(['seal', at('plain.bin'), at('x.sealed'), '--level', '11']), 2, /--level/);
  assertCleanError(cli(['cat', at('plain.sealed'), '--offset', '99999999999', '--length', '1']), 2, /INVALID_OFFSET/);
  assertCleanError(cli(['frobnicate']), 2, /unknown command/);
  assertCleanError(cli(['sael', 'a', 'b']), 2, /unknown command "sael" \(did you mean seal\?\)/);
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

// ----- never losing data -----

const sameBytes = (path, bytes) => readFileSync(path).equals(bytes);
const leftovers = () => readdirSync(dir).filter((f) => f.endsWith('.partial'));

test('an output that is the input is refused and both stay intact', () => {
  writeFileSync(at('same.bin'), data);
  assertCleanError(cli(['seal', at('same.bin'), at('same.bin')]), 2, /is the input file/);
  assert.ok(sameBytes(at('same.bin'), data));
  const sealed = readFileSync(at('plain.sealed'));
  writeFileSync(at('same.sealed'), sealed);
  assertCleanError(cli(['unseal', at('same.sealed'), at('same.sealed'), '--force']), 2, /is the input file/);
  assert.ok(sameBytes(at('same.sealed'), sealed));
  // Through a symbolic link and a hard link, even with --force.
  symlinkSync(at('same.bin'), at('same-link.bin'));
  linkSync(at('same.bin'), at('same-hard.bin'));
  for (const alias of ['same-link.bin', 'same-hard.bin']) {
    assertCleanError(cli(['seal', at('same.bin'), at(alias), '--force']), 2, /is the input file/);
  }
  assert.ok(sameBytes(at('same.bin'), data));
  assert.ok(lstatSync(at('same-link.bin')).isSymbolicLink());
  assert.deepEqual(leftovers(), []);
});

test('an existing output is replaced only with --force, and a failed run leaves it untouched', () => {
  const old = Buffer.from('precious\n');
  writeFileSync(at('exists.out'), old);
  assertCleanError(cli(['unseal', at('plain.sealed'), at('exists.out')]), 2, /exists \(add --force/);
  assert.ok(sameBytes(at('exists.out'), old));
  assertCleanError(cli(['seal', at('plain.bin'), at('exists.out')]), 2, /exists/);
  assert.ok(sameBytes(at('exists.out'), old));
  // A failing run with --force: the old file is still there, no temporary file is left.
  assertCleanError(
    cli(['unseal', at('damaged.sealed'), at('exists.out'), '--key-file', at('key.hex'), '--force']),
    3,
    /AUTH_FAILED/,
  );
  assert.ok(sameBytes(at('exists.out'), old), 'the old output survives a failed run');
  assert.deepEqual(leftovers(), []);
  assert.equal(cli(['unseal', at('plain.sealed'), at('exists.out'), '--force']).code, 0);
  assert.ok(sameBytes(at('exists.out'), data));
  // Through a symbolic link: the link stays a link, its target is replaced.
  writeFileSync(at('target.out'), old);
  symlinkSync(at('target.out'), at('link.out'));
  assert.equal(cli(['unseal', at('plain.sealed'), at('link.out'), '--force']).code, 0);
  assert.ok(lstatSync(at('link.out')).isSymbolicLink());
  assert.ok(sameBytes(at('target.out'), data));
});

test('devices are written in place and never removed, even when the run fails', () => {
  // A common way to verify a file.
  const ok = cli(['unseal', at('keyed.sealed'), '/dev/null', '--key-file', at('key.hex')]);
  assert.equal(ok.code, 0, ok.stderr);
  symlinkSync('/dev/null', at('null-link'));
  const r = cli(['unseal', at('damaged.sealed'), at('null-link'), '--key-file', at('key.hex')]);
  assertCleanError(r, 3, /wrong key, or the file was modified \(AUTH_FAILED\)/);
  assert.ok(lstatSync(at('null-link')).isSymbolicLink(), 'the link is still there');
  assert.ok(statSync('/dev/null').isCharacterDevice(), '/dev/null is still a device');
  assert.deepEqual(leftovers(), []);
});

/** Starts the CLI with a piped stdin; resolves once `path`'s temporary file holds `bytes`. */
function interrupted(args, input, signal) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => {});
    // Half of the input, then wait until output has been written before the signal.
    child.stdin.write(input.subarray(0, input.length >> 1));
    const deadline = Date.now() + 30_000;
    const poll = setInterval(() => {
      const partial = leftovers().map((f) => statSync(at(f)).size);
      if (partial.some((n) => n > 0)) {
        clearInterval(poll);
        child.kill(signal);
      } else if (Date.now() > deadline) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error('no partial output appeared'));
      }
    }, 5);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

test('SIGINT and SIGTERM remove the partial output and exit 130 / 143', async () => {
  const sealed = readFileSync(at('stored.sealed'));
  const unseal = await interrupted(['unseal', '-', at('interrupted.out')], sealed, 'SIGINT');
  assert.equal(unseal.code, 130, unseal.stderr);
  assert.match(unseal.stderr, /interrupted \(SIGINT\); the partial output was removed/);
  assert.equal(existsSync(at('interrupted.out')), false);
  const sealRun = await interrupted(['seal', '-', at('interrupted.sealed'), '--level', '1'], data, 'SIGTERM');
  assert.equal(sealRun.code, 143, sealRun.stderr);
  assert.equal(existsSync(at('interrupted.sealed')), false);
  assert.deepEqual(leftovers(), []);
});

test('keygen --force replaces a key and the new file is private', () => {
  writeFileSync(at('open.hex'), 'x', { mode: 0o644 });
  chmodSync(at('open.hex'), 0o644);
  assertCleanError(cli(['keygen', at('open.hex')]), 2, /exists/);
  assert.equal(cli(['keygen', at('open.hex'), '--force']).code, 0);
  assert.equal(statSync(at('open.hex')).mode & 0o777, 0o600);
  assert.match(readFileSync(at('open.hex'), 'utf8'), /^[0-9a-f]{64}\n$/);
});

// ----- first use -----

test('--version, help and help <command>', () => {
  const pkgVersion = JSON.parse(
    readFileSync(join(process.env.NOVUSPACK_PKG, 'node_modules', 'novuspack-stream', 'package.json'), 'utf8'),
  ).version;
  assert.equal(cli(['--version']).stdout.toString(), `novuspack-stream ${pkgVersion}\n`);
  const help = cli(['help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout.toString(), /Exit codes: 0 ok.*130 interrupted \(SIGINT\)/s);
  for (const args of [
    ['help', 'seal'],
    ['seal', '--help'],
  ]) {
    const r = cli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), /^usage: novuspack-stream seal <in> <out>/);
    assert.doesNotMatch(r.stdout.toString(), /unseal/);
  }
  assertCleanError(cli(['help', 'frob']), 2, /unknown command/);
});

test('sizes take suffixes, cat reads to the end without --length', () => {
  const r = cli(['seal', at('plain.bin'), at('mib.sealed'), '--chunk-size', '1M', '--level', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(cli(['info', at('mib.sealed')]).stdout.toString(), /chunk size +1048576 bytes/);
  assert.equal(cli(['seal', at('plain.bin'), at('k.sealed'), '--chunk-size=256K']).code, 0);
  assert.match(cli(['info', at('k.sealed')]).stdout.toString(), /chunk size +262144 bytes/);
  assertCleanError(cli(['seal', at('plain.bin'), at('x.sealed'), '--chunk-size', '1Q']), 2, /--chunk-size must be/);
  const tail = cli(['cat', at('mib.sealed'), '--offset', '6M']);
  assert.equal(tail.code, 0, tail.stderr);
  assert.ok(tail.stdout.equals(data.subarray(6 * 1024 * 1024)));
  assert.ok(cli(['cat', at('mib.sealed')]).stdout.equals(data));
});

test('misspelt options get a suggestion, negative numbers a clear message', () => {
  assertCleanError(
    cli(['unseal', at('keyed.sealed'), at('x.out'), '--key', at('key.hex')]),
    2,
    /unknown option --key \(did you mean --key-file\?\)/,
  );
  assertCleanError(cli(['cat', at('plain.sealed'), '--offset', '-5']), 2, /--offset must be a whole number/);
  assertCleanError(cli(['cat', at('plain.sealed'), '--lenght', '5']), 2, /did you mean --length/);
  assertCleanError(cli(['seal', at('plain.bin')]), 2, /seal needs seal <in> <out>/);
});

test('binary output goes to a terminal only with --force', () => {
  const tty = (command) => spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir });
  const refused = tty(`${bin} cat plain.sealed --length 16`);
  assert.equal(refused.status, 2);
  assert.match(refused.stdout.toString(), /refusing to write binary data to a terminal/);
  const forced = tty(`${bin} cat plain.sealed --length 16 --force`);
  assert.equal(forced.status, 0, forced.stdout.toString());
  // Text is fine.
  assert.equal(tty(`${bin} keygen -`).status, 0);
});

test('data that is not sealed, gzip or zlib is said to be so, not damaged', () => {
  writeFileSync(at('text.txt'), 'just some text, neither sealed nor compressed\n'.repeat(100));
  writeFileSync(at('empty.bin'), '');
  for (const file of ['text.txt', 'empty.bin']) {
    for (const args of [
      ['unseal', at(file), at('never.out')],
      ['cat', at(file)],
      ['info', at(file)],
    ]) {
      assertCleanError(cli(args), 6, /UNKNOWN_FORMAT/);
    }
  }
  assert.equal(existsSync(at('never.out')), false);
});
