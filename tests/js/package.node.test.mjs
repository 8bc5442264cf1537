// The package suite (package-suite.mjs) on Node, plus what only Node can check: packages from
// writePackage decoded by the zstd, lz4 and xz tools, OpenSSL (node:crypto) and
// @noble/post-quantum, and the fixtures' tool versions.
// Environment: NOVUSPACK_DATA (the folder holding packages.json from nvpk/make-fixtures.mjs).
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lib from 'novuspack-stream';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { packageCases, decodeFixtures, writtenFiles } from './package-suite.mjs';
import { readPackage } from './nvpk/spec-package.mjs';
import { nodeCase } from './suite.mjs';

const raw = JSON.parse(readFileSync(join(process.env.NOVUSPACK_DATA, 'packages.json'), 'utf8'));
const env = { fixtures: async () => raw };

for (const [name, fn] of packageCases(lib, env)) test(name, nodeCase(fn));

function aeadOpen(name, key, framed) {
  const d = createDecipheriv(name, key, framed.subarray(0, 12), { authTagLength: 16 });
  d.setAuthTag(framed.subarray(framed.length - 16));
  return Buffer.concat([d.update(framed.subarray(12, framed.length - 16)), d.final()]);
}

const tools = { 1: ['zstd', ['-d', '-c', '-q']], 2: ['lz4', ['-d', '-c', '-q']], 3: ['xz', ['-d', '-c']] };

test('packages: writePackage output decoded by the zstd, lz4 and xz tools, OpenSSL and @noble/post-quantum', async () => {
  const f = decodeFixtures(raw);
  const files = writtenFiles(f);
  const written = lib.writePackage(files.map(({ original, ...file }) => file));
  const spec = readPackage(new Uint8Array(await new Response(written).arrayBuffer()));
  for (const [i, e] of spec.entries.entries()) {
    let payload = Buffer.from(e.stored);
    if (e.encryption === 1) payload = aeadOpen('aes-256-gcm', f.key, payload);
    if (e.encryption === 3) payload = aeadOpen('chacha20-poly1305', f.key, payload);
    if (e.encryption === 2) {
      const len = payload.readUInt16LE(0);
      const shared = ml_kem768.decapsulate(payload.subarray(2, 2 + len), f.kem['768'].expanded);
      const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), 'novuspack-file-encryption-v1', 32));
      payload = aeadOpen('aes-256-gcm', key, payload.subarray(2 + len));
    }
    if (e.compression !== 0) {
      const [command, args] = tools[e.compression];
      payload = execFileSync(command, args, { input: payload, maxBuffer: 1 << 30 });
    }
    if (Buffer.compare(payload, Buffer.from(files[i].original)) !== 0) {
      throw new Error(`${e.paths[0]}: the independent decoding differs`);
    }
  }
});

test('packages: generateKemKeyPair agrees with @noble/post-quantum on the public key of its seed', async () => {
  const { ml_kem512, ml_kem1024 } = await import('@noble/post-quantum/ml-kem.js');
  for (const [set, kem] of [
    [512, ml_kem512],
    [768, ml_kem768],
    [1024, ml_kem1024],
  ]) {
    const { decapsulationKey, encapsulationKey } = await lib.generateKemKeyPair(set);
    const noble = kem.keygen(decapsulationKey).publicKey;
    if (Buffer.compare(Buffer.from(noble), Buffer.from(encapsulationKey)) !== 0) {
      throw new Error(`ML-KEM-${set}: the public keys differ`);
    }
  }
});

test('packages: the fixtures were made by the real tools', () => {
  const [zstd, lz4, xz] = raw.tools;
  if (!/Zstandard CLI/.test(zstd) || !/LZ4 command line/i.test(lz4) || !/^xz \(XZ Utils\)/.test(xz)) {
    throw new Error(`unexpected tool versions: ${raw.tools.join(' | ')}`);
  }
});

test('packages: 1,000 entries over HTTP open in a handful of requests; one entry costs at most one more', async () => {
  const { startHttpServer } = await import('./http-server.mjs');
  const { buildPackage, crc32 } = await import('./nvpk/spec-package.mjs');
  const server = await startHttpServer();
  try {
    const entries = [];
    for (let i = 0; i < 1000; i++) {
      const bytes = new Uint8Array(4096).map((_, j) => (i * 31 + j * 7) & 255);
      entries.push({
        paths: [`/tiles/${i}.bin`],
        stored: bytes,
        originalSize: bytes.length,
        rawChecksum: crc32(bytes),
      });
    }
    const { bytes } = buildPackage(entries);
    server.put('many.nvpk', bytes);
    const client = (await import('./http-server.mjs')).serverClient(server.url);
    const pkg = await lib.openPackage(lib.httpSource(client.url('many.nvpk')));
    const opened = (await client.log('many.nvpk')).requests.length;
    if (pkg.entries.length !== 1000) throw new Error(`${pkg.entries.length} entries`);
    if (opened > 4) throw new Error(`opening took ${opened} requests`);
    const stream = await pkg.open('/tiles/777.bin');
    const out = new Uint8Array(await new Response(stream.readable()).arrayBuffer());
    if (Buffer.compare(Buffer.from(out), Buffer.from(entries[777].stored)) !== 0) throw new Error('entry 777 differs');
    const after = (await client.log('many.nvpk')).requests.length;
    if (after - opened > 1) throw new Error(`reading one entry took ${after - opened} requests`);
    pkg.close();
  } finally {
    await server.close();
  }
});
