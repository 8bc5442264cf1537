// Runs the shared suite (suite.mjs) under node:test against the installed package.
// Environment: NOVUSPACK_VECTORS (tests/vectors folder), NOVUSPACK_HEAVY=0 to skip the 1 GiB
// case, NOVUSPACK_REPORT (a file to append measured figures to).
import { test } from 'node:test';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCipheriv, randomBytes } from 'node:crypto';
import * as lib from 'novuspack-stream';
import { cases, parseVector, sample } from './suite.mjs';

const vectorsDir = process.env.NOVUSPACK_VECTORS;

const env = {
  heavy: process.env.NOVUSPACK_HEAVY !== '0',
  async vectors() {
    return readdirSync(vectorsDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => parseVector(readFileSync(join(vectorsDir, f), 'utf8')));
  },
  // NovusPack v1 framing made by OpenSSL through node:crypto.
  async v1Sample() {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const plaintext = sample(200_000, 99, true);
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    const framed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { key: new Uint8Array(key), framed: new Uint8Array(framed), plaintext };
  },
  report(figures) {
    if (process.env.NOVUSPACK_REPORT) appendFileSync(process.env.NOVUSPACK_REPORT, `${JSON.stringify({ runtime: 'node', ...figures })}\n`);
  },
};

for (const [name, fn] of cases(lib, env)) test(name, fn);
