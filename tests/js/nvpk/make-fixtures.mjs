// Makes the NovusPack packages the package suites read (in every runtime), with entry data from
// independent implementations: Debian's zstd, lz4 and xz tools, OpenSSL through node:crypto
// (AES-256-GCM, ChaCha20-Poly1305, HKDF-SHA256) and @noble/post-quantum (ML-KEM), laid out by
// the test-only writer of spec-package.mjs (not the package's writer). Writes one JSON file:
// { packages: { name: base64 }, originals: { name: base64 }, keys, tools }.
import { execFileSync } from 'node:child_process';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { buildPackage, crc32 } from './spec-package.mjs';

/** Words in a seeded random order: text that compresses like text. */
export function text(length, seed = 1) {
  const words = 'package entry stream frame header index zstd lz4 lzma nonce tag cipher seek offset window '.split(' ');
  const out = [];
  let x = seed | 1;
  let n = 0;
  while (n < length) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const w = `${words[(x >>> 0) % (words.length - 1)]}${(x >>> 0) % 7 === 0 ? '\n' : ' '}`;
    out.push(w);
    n += w.length;
  }
  return new TextEncoder().encode(out.join('')).subarray(0, length);
}

/** `bytes` through a tool's filter (stdin to stdout). */
function tool(command, args, bytes) {
  return new Uint8Array(
    execFileSync(command, args, { input: bytes, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'ignore'] }),
  );
}

function version(command, args) {
  return execFileSync(command, args, { encoding: 'utf8' }).split('\n')[0].trim();
}

/** A zstd skippable frame (RFC 8878 §3.1.2) around `payload`. */
function skippable(payload) {
  const out = new Uint8Array(8 + payload.length);
  const d = new DataView(out.buffer);
  d.setUint32(0, 0x184d2a50 + 3, true);
  d.setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function concat(parts) {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

/** nonce || ciphertext || tag under an AEAD of node:crypto (OpenSSL), empty AAD. */
function aead(name, key, plaintext) {
  const nonce = randomBytes(12);
  const c = createCipheriv(name, key, nonce, { authTagLength: 16 });
  return concat([nonce, c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** ML-KEM framing: KEMCiphertextLen || KEMCiphertext || AES-256-GCM under the HKDF key. */
function kemEncrypt(kem, publicKey, plaintext) {
  const { cipherText, sharedSecret } = kem.encapsulate(publicKey);
  const key = Buffer.from(hkdfSync('sha256', sharedSecret, Buffer.alloc(0), 'novuspack-file-encryption-v1', 32));
  const len = new Uint8Array(2);
  new DataView(len.buffer).setUint16(0, cipherText.length, true);
  return concat([len, cipherText, aead('aes-256-gcm', key, plaintext)]);
}

const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));

export async function makeFixtures(out) {
  const originals = {
    text: text(400_000, 7),
    binary: new Uint8Array(randomBytes(150_000)),
    big: text(1_200_000, 11),
    small: new TextEncoder().encode('a: 1\nb: [2, 3]\n'),
    empty: new Uint8Array(0),
  };
  const key = new Uint8Array(randomBytes(32));
  const kems = { 512: ml_kem512, 768: ml_kem768, 1024: ml_kem1024 };
  const kemKeys = {};
  for (const [set, kem] of Object.entries(kems)) {
    const seed = new Uint8Array(randomBytes(64));
    kemKeys[set] = { seed, ...kem.keygen(seed) };
  }
  const third = Math.ceil(originals.big.length / 3);
  const frames = [0, 1, 2].map((i) =>
    tool('zstd', ['-3', '-c', '-q'], originals.big.subarray(i * third, (i + 1) * third)),
  );
  const zstdText = tool('zstd', ['-19', '-c', '-q'], originals.text);

  // [path(s), original, stored, compression, encryption, extra]
  const specs = [
    [['/plain.txt'], 'text', originals.text, 'none', 'none'],
    [['/docs/zstd.txt'], 'text', zstdText, 'zstd', 'none', { compressionLevel: 19 }],
    // Three frames with a skippable frame between the first two (random access by frame).
    [
      ['/docs/zstd-frames.txt'],
      'big',
      concat([frames[0], skippable(new Uint8Array(100)), frames[1], frames[2]]),
      'zstd',
      'none',
    ],
    [['/lz4.txt'], 'text', tool('lz4', ['-9', '-c', '-q'], originals.text), 'lz4', 'none'],
    // Linked blocks, block checksums, the content size, 64 KiB blocks.
    [
      ['/lz4-linked.txt'],
      'big',
      tool('lz4', ['-BD', '-BX', '-B4', '--content-size', '-c', '-q'], originals.big),
      'lz4',
      'none',
    ],
    [['/xz.txt'], 'text', tool('xz', ['-6', '-c'], originals.text), 'lzma', 'none', { compressionLevel: 6 }],
    [['/lzma.txt'], 'text', tool('xz', ['--format=lzma', '-c'], originals.text), 'lzma', 'none'],
    [['/aes.bin'], 'binary', aead('aes-256-gcm', key, originals.binary), 'none', 'aes-256-gcm'],
    [['/chacha.txt'], 'text', aead('chacha20-poly1305', key, zstdText), 'zstd', 'chacha20-poly1305'],
    [['/aes-lz4.txt'], 'big', aead('aes-256-gcm', key, tool('lz4', ['-c', '-q'], originals.big)), 'lz4', 'aes-256-gcm'],
    [['/kem512.txt'], 'text', kemEncrypt(kems[512], kemKeys[512].publicKey, originals.text), 'none', 'ml-kem'],
    [['/kem768.bin'], 'binary', kemEncrypt(kems[768], kemKeys[768].publicKey, originals.binary), 'none', 'ml-kem'],
    [
      ['/kem1024.txt'],
      'text',
      kemEncrypt(kems[1024], kemKeys[1024].publicKey, tool('xz', ['-c'], originals.text)),
      'lzma',
      'ml-kem',
    ],
    [['/empty'], 'empty', originals.empty, 'none', 'none'],
    [['/alias/one.yaml', '/alias/two.yaml'], 'small', originals.small, 'none', 'none'],
    [['/meta.yaml'], 'small', originals.small, 'none', 'none', { type: 65001 }],
  ];
  const entries = [];
  for (const [paths, original, stored, compression, encryption, extra = {}] of specs) {
    const o = originals[original];
    entries.push({
      paths,
      original,
      stored,
      originalSize: o.length,
      rawChecksum: crc32(o),
      compression,
      encryption,
      hashes: [{ type: 0, purpose: 0, value: await sha256(o) }],
      ...extra,
    });
  }
  const main = buildPackage(entries, { comment: 'made by the test-only writer' });
  const b64 = (bytes) => Buffer.from(bytes).toString('base64');
  const hex = (bytes) => Buffer.from(bytes).toString('hex');
  const fixtures = {
    packages: { main: b64(main.bytes) },
    entries: entries.map((e) => ({ path: e.paths[0], original: e.original })),
    originals: Object.fromEntries(Object.entries(originals).map(([k, v]) => [k, b64(v)])),
    keys: {
      key: hex(key),
      kem: Object.fromEntries(
        Object.entries(kemKeys).map(([set, k]) => [
          set,
          { seed: hex(k.seed), expanded: hex(k.secretKey), public: hex(k.publicKey) },
        ]),
      ),
    },
    tools: [version('zstd', ['--version']), version('lz4', ['--version']), version('xz', ['--version'])],
  };
  writeFileSync(out, JSON.stringify(fixtures));
  return fixtures;
}

if (import.meta.url === `file://${process.argv[1]}`) await makeFixtures(process.argv[2]);
