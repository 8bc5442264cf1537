// What a change costs: `node bench/versus.mjs <commit>` measures the same cases on this checkout
// and on <commit> (a git worktree in build/versus/<commit>, built once with that commit's own
// scripts/build.mjs), both loaded in one Node process and run in interleaved rounds, and prints
// new ÷ old per case. Each version reads what it writes itself (a sealed file of its own format
// version) and the same NovusPack v1 framing (made here with node:crypto). Cases:
//   unseal     a compressed + encrypted file of the corpus read to the end (MB/s)
//   open       FileStream.open of a 1 MiB encrypted file + one 4 KiB readAt + close (µs; the key
//              commitment of format version 2 is checked here, once per file)
//   v1 open    v1 framing of the corpus opened (the verification pass, µs)
//   v1 readAt  4 KiB readAt at random offsets of the opened v1 framing (µs; each re-read is
//              checked against the keyed tags of the verification pass since c35ed07)
//   node --expose-gc bench/versus.mjs <commit> [--rounds N]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import crypto from 'node:crypto';
import * as current from 'novuspack-stream';
import { benchData } from './corpus.mjs';
import { check, readToEnd } from './harness.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const commit = process.argv[2];
if (!commit) throw new Error('usage: node bench/versus.mjs <commit> [--rounds N]');
const rounds = process.argv.includes('--rounds') ? Number(process.argv[process.argv.indexOf('--rounds') + 1]) : 5;
const log = (line) => console.error(line);

/** The package at `commit`, built once into its own worktree. */
async function packageAt(rev) {
  const hash = execFileSync('git', ['rev-parse', '--short', rev], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(root, 'build', 'versus', hash);
  if (!existsSync(join(dir, 'pkg-js', 'dist', 'wasm', 'novuspack_stream_bg.wasm'))) {
    mkdirSync(join(root, 'build', 'versus'), { recursive: true });
    if (!existsSync(dir))
      execFileSync('git', ['worktree', 'add', '--detach', dir, hash], { cwd: root, stdio: 'inherit' });
    if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    log(`building ${hash} (its scripts/build.mjs)`);
    execFileSync(process.execPath, ['scripts/build.mjs'], {
      cwd: dir,
      stdio: 'inherit',
      env: { ...process.env, CARGO_TARGET_DIR: join(root, 'build', 'versus', 'target') },
    });
  }
  return { hash, lib: await import(pathToFileURL(join(dir, 'pkg-js', 'src', 'entry-node.js')).href) };
}

const old = await packageAt(commit);
await current.ready();
await old.lib.ready();
const versions = [
  { name: 'this checkout', lib: current },
  { name: old.hash, lib: old.lib },
];

const { read } = benchData({ quick: false });
const corpus = read('corpus.bin');
const key = new Uint8Array(32).fill(0x42);

const sealed = async (lib, data, options) =>
  new Uint8Array(await new Response(lib.seal(data, { key, ...options })).arrayBuffer());

/** NovusPack v1 framing: a 12-byte nonce, the ChaCha20-Poly1305 ciphertext, its 16-byte tag. */
function v1Framing(plain) {
  const nonce = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return new Uint8Array(Buffer.concat([nonce, body, cipher.getAuthTag()]));
}

const framed = v1Framing(corpus);
const offsets = Array.from({ length: 400 }, (_, i) => (i * 2_654_435_761) % (corpus.length - 4096));
for (const v of versions) {
  v.whole = await sealed(v.lib, corpus, { compress: 6, chunkSize: 256 * 1024 });
  v.small = await sealed(v.lib, corpus.subarray(0, 1024 * 1024), { compress: 6, chunkSize: 256 * 1024 });
}

const cases = {
  /** MB/s. */
  async unseal(lib, v) {
    const start = performance.now();
    const n = await readToEnd(await lib.FileStream.open(v.whole, { key }));
    check(n === corpus.length, `unseal read ${n} bytes`);
    return corpus.length / 1e6 / ((performance.now() - start) / 1000);
  },
  /** µs per open + readAt + close. */
  async open(lib, v) {
    const into = new Uint8Array(4096);
    const start = performance.now();
    for (let i = 0; i < 50; i++) {
      const stream = await lib.FileStream.open(v.small, { key });
      await stream.readAt(into, 300_000);
      stream.close();
    }
    check(into[0] === corpus[300_000], 'open: the bytes read');
    return ((performance.now() - start) * 1000) / 50;
  },
  /** µs per open (the verification pass of the whole framing). */
  async 'v1 open'(lib) {
    const start = performance.now();
    const stream = await lib.FileStream.open(framed, { key, isEncrypted: true });
    const us = (performance.now() - start) * 1000;
    check(stream.size === corpus.length, 'v1 open: size');
    stream.close();
    return us;
  },
  /** µs per 4 KiB readAt. */
  async 'v1 readAt'(lib) {
    const stream = await lib.FileStream.open(framed, { key, isEncrypted: true });
    const into = new Uint8Array(4096);
    const start = performance.now();
    for (const at of offsets) await stream.readAt(into, at);
    const us = ((performance.now() - start) * 1000) / offsets.length;
    check(into[7] === corpus[offsets[offsets.length - 1] + 7], 'v1 readAt: the bytes read');
    stream.close();
    return us;
  },
};
const units = { unseal: 'MB/s', open: 'µs', 'v1 open': 'µs', 'v1 readAt': 'µs' };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
for (const name of Object.keys(cases)) {
  const values = versions.map(() => []);
  await cases[name](current, versions[0]); // warm-up
  await cases[name](old.lib, versions[1]);
  for (let round = 0; round < rounds; round++) {
    // The order alternates from round to round: neither version always runs second.
    const order = round % 2 ? [1, 0] : [0, 1];
    for (const i of order) {
      globalThis.gc?.();
      values[i].push(await cases[name](versions[i].lib, versions[i]));
    }
  }
  const [now, then] = values.map(median);
  results[name] = { unit: units[name], [versions[0].name]: now, [old.hash]: then, 'new ÷ old': now / then };
  log(`${name}: ${now.toFixed(1)} vs ${then.toFixed(1)} ${units[name]} (new ÷ old ${(now / then).toFixed(3)})`);
}
console.log(
  JSON.stringify({ node: process.version, commit: old.hash, rounds, corpusBytes: corpus.length, results }, null, 2),
);
