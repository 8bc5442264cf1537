// The benchmark corpus: 64 MiB of real, mixed data built from files the machine has, in a fixed
// order, plus 64 MiB of incompressible bytes from a seeded generator. Both are written once to
// bench/data/ (ignored by git) with their SHA-256, which RESULTS.md records.
//
// Recipe (deterministic for one package-lock.json on one platform):
//   text   40 MiB: every .js .mjs .cjs .ts .md .json .txt .html .css file under node_modules of the
//          packages named in TEXT_PACKAGES (pinned by package-lock.json), in sorted path order,
//          concatenated and cut at 40 MiB;
//   binary 24 MiB: the ELF executable of the pinned `deno` package from offset 8 MiB (machine
//          code, data and symbol tables), falling back to the running node binary elsewhere;
//   random 64 MiB: the ChaCha20 keystream of an all-zero key and nonce (RFC 8439 block function,
//          from node:crypto), i.e. reproducible incompressible bytes.
import { createCipheriv, createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  statSync,
  writeFileSync,
  closeSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const dataDir = join(root, 'bench', 'data');
const MiB = 1 << 20;
const TEXT_BYTES = 40 * MiB;
const BINARY_BYTES = 24 * MiB;
const RANDOM_BYTES = 64 * MiB;
const TEXT_PACKAGES = [
  'typescript',
  '@typescript',
  'vite',
  'rolldown',
  'prettier',
  'playwright-core',
  'esbuild',
  'deno',
  'workerd',
  'binaryen',
  'pako',
  'fflate',
  '@zip.js',
  '@noble',
  'libsodium-wrappers',
  'smol-toml',
];
const TEXT_EXT = /\.(js|mjs|cjs|ts|mts|cts|md|json|txt|html|css)$/;

function walk(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) walk(path, out);
    else if (st.isFile() && TEXT_EXT.test(name)) out.push(path);
  }
  return out;
}

function textPart() {
  const nm = join(root, 'node_modules');
  const files = [];
  for (const pkg of TEXT_PACKAGES) if (existsSync(join(nm, pkg))) walk(join(nm, pkg), files);
  files.sort((a, b) => (relative(nm, a) < relative(nm, b) ? -1 : 1));
  const out = Buffer.alloc(TEXT_BYTES);
  let n = 0;
  for (const f of files) {
    if (n >= TEXT_BYTES) break;
    n += readFileSync(f).copy(out, n);
  }
  if (n < TEXT_BYTES) throw new Error(`only ${n} bytes of text under node_modules: run npm ci first`);
  return { bytes: out, source: `${files.length} text files of ${TEXT_PACKAGES.length} pinned packages` };
}

function binaryPart() {
  const candidates = [join(root, 'node_modules', '@deno', 'linux-x64-glibc', 'deno'), process.execPath];
  const path = candidates.find((p) => existsSync(p) && statSync(p).size >= 8 * MiB + BINARY_BYTES);
  const out = Buffer.alloc(BINARY_BYTES);
  const fd = openSync(path, 'r');
  readSync(fd, out, 0, BINARY_BYTES, 8 * MiB);
  closeSync(fd);
  return { bytes: out, source: relative(root, path).startsWith('..') ? path : relative(root, path) };
}

export function randomBytes(length) {
  const cipher = createCipheriv('chacha20', Buffer.alloc(32), Buffer.alloc(16));
  return cipher.update(Buffer.alloc(length));
}

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/** Builds (or reuses) bench/data/{corpus,random}.bin and returns their description. */
export function ensureCorpus() {
  mkdirSync(dataDir, { recursive: true });
  const manifest = join(dataDir, 'corpus.json');
  const lock = sha256(readFileSync(join(root, 'package-lock.json')));
  if (existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    if (m.lock === lock && existsSync(join(dataDir, 'corpus.bin')) && existsSync(join(dataDir, 'random.bin'))) return m;
  }
  const text = textPart();
  const binary = binaryPart();
  const corpus = Buffer.concat([text.bytes, binary.bytes]);
  const random = randomBytes(RANDOM_BYTES);
  writeFileSync(join(dataDir, 'corpus.bin'), corpus);
  writeFileSync(join(dataDir, 'random.bin'), random);
  const m = {
    lock,
    corpus: { bytes: corpus.length, sha256: sha256(corpus), text: text.source, binary: binary.source },
    random: { bytes: random.length, sha256: sha256(random) },
  };
  writeFileSync(manifest, JSON.stringify(m, null, 2));
  return m;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(ensureCorpus());

/**
 * The files a benchmark run reads, in one folder: corpus.bin, random.bin and corpus.deflate-raw
 * (node:zlib raw deflate, level 6, of corpus.bin). `quick` (the smoke test) uses a 4 MiB slice
 * that still mixes text (its first 3 MiB) and binary (its last), and 4 MiB of random bytes.
 */
export function benchData({ quick = false } = {}) {
  const manifest = ensureCorpus();
  const dir = quick ? join(dataDir, 'quick') : dataDir;
  mkdirSync(dir, { recursive: true });
  const deflatedPath = join(dir, 'corpus.deflate-raw');
  const stamp = join(dir, 'stamp.json');
  const want = JSON.stringify({ corpus: manifest.corpus.sha256, quick });
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== want || !existsSync(deflatedPath)) {
    let corpus = readFileSync(join(dataDir, 'corpus.bin'));
    if (quick) {
      corpus = Buffer.concat([corpus.subarray(0, 3 * MiB), corpus.subarray(corpus.length - MiB)]);
      writeFileSync(join(dir, 'corpus.bin'), corpus);
      writeFileSync(join(dir, 'random.bin'), readFileSync(join(dataDir, 'random.bin')).subarray(0, 4 * MiB));
    }
    writeFileSync(deflatedPath, deflateRawSync(corpus, { level: 6 }));
    writeFileSync(stamp, want);
  }
  const read = (name) => new Uint8Array(readFileSync(join(dir, name)));
  return { manifest, dir, read };
}
