// The NovusPack benchmark package: the corpus as entries made by the reference tools (zstd -3,
// lz4 -1, xz -6), OpenSSL's AES-256-GCM (node:crypto) and an ML-KEM-768 entry
// (@noble/post-quantum), laid out by the test-only writer (tests/js/nvpk/spec-package.mjs), with
// CRC-32s and no SHA-256 hash entries (the alternatives verify no content hash either). Written
// once to bench/data[/quick]/package.nvpk with package.json (keys, where each entry's stored
// bytes are); Node only (the tools), read by both runners.
import { execFileSync } from 'node:child_process';
import { createCipheriv, hkdfSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { buildPackage, crc32, readPackage } from '../tests/js/nvpk/spec-package.mjs';

/** Deterministic benchmark keys (benchmarks only). */
const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 11 + 3) & 255));
const KEM_SEED = new Uint8Array(Array.from({ length: 64 }, (_, i) => (i * 5 + 1) & 255));

const tool = (command, args, input) =>
  new Uint8Array(execFileSync(command, args, { input, maxBuffer: 2 ** 31, stdio: ['pipe', 'pipe', 'ignore'] }));

function gcm(key, plaintext, nonce) {
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  return Buffer.concat([nonce, c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** bench/data[/quick]/package.nvpk and its description, built when missing or stale. */
export function benchPackage(dir, corpus) {
  const path = join(dir, 'package.nvpk');
  const metaPath = join(dir, 'package.json');
  const stamp = `${corpus.length}:${crc32(corpus.subarray(0, 1 << 20))}`;
  if (existsSync(path) && existsSync(metaPath) && JSON.parse(readFileSync(metaPath, 'utf8')).stamp === stamp) {
    return JSON.parse(readFileSync(metaPath, 'utf8'));
  }
  const { publicKey, secretKey } = ml_kem768.keygen(KEM_SEED);
  const small = corpus.subarray(0, 64);
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey, new Uint8Array(32).fill(9));
  const kemKey = Buffer.from(hkdfSync('sha256', sharedSecret, Buffer.alloc(0), 'novuspack-file-encryption-v1', 32));
  const len = Buffer.alloc(2);
  len.writeUInt16LE(cipherText.length);
  const specs = [
    ['/corpus.zst', 'zstd', tool('zstd', ['-3', '-c', '-q'], corpus)],
    ['/corpus.lz4', 'lz4', tool('lz4', ['-1', '-c', '-q'], corpus)],
    ['/corpus.xz', 'lzma', tool('xz', ['-6', '-c', '-T1'], corpus)],
  ];
  const entries = specs.map(([p, compression, stored]) => ({
    paths: [p],
    stored,
    originalSize: corpus.length,
    rawChecksum: crc32(corpus),
    compression,
  }));
  entries.push({
    paths: ['/corpus.gcm'],
    stored: gcm(KEY, corpus, Buffer.alloc(12, 7)),
    originalSize: corpus.length,
    rawChecksum: crc32(corpus),
    encryption: 'aes-256-gcm',
  });
  entries.push({
    paths: ['/small.kem'],
    stored: Buffer.concat([len, cipherText, gcm(kemKey, small, Buffer.alloc(12, 8))]),
    originalSize: small.length,
    rawChecksum: crc32(small),
    encryption: 'ml-kem',
  });
  const { bytes } = buildPackage(entries);
  writeFileSync(path, bytes);
  const read = readPackage(bytes);
  const meta = {
    stamp,
    key: KEY.toString('hex'),
    kem: { seed: Buffer.from(KEM_SEED).toString('hex'), expanded: Buffer.from(secretKey).toString('hex') },
    entries: Object.fromEntries(
      read.entries.map((e) => [e.paths[0], { dataOffset: e.dataOffset, storedSize: e.storedSize }]),
    ),
    tools: ['zstd -3', 'lz4 -1', 'xz -6'],
  };
  writeFileSync(metaPath, JSON.stringify(meta));
  return meta;
}
