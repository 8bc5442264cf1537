// Writes the data every JS runner reads into one folder: the test vectors as one JSON file,
// a NovusPack v1 sample made by an independent implementation (OpenSSL, through node:crypto)
// and the NovusPack packages of nvpk/make-fixtures.mjs (packages.json).
// Usage: node prepare-data.mjs <vectors folder> <output folder>
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCipheriv, randomBytes } from 'node:crypto';
import { sample } from './suite.mjs';
import { makeFixtures } from './nvpk/make-fixtures.mjs';

export async function prepareData(vectorsDir, out) {
  mkdirSync(out, { recursive: true });
  const vectors = readdirSync(vectorsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(vectorsDir, f), 'utf8')));
  writeFileSync(join(out, 'vectors.json'), JSON.stringify(vectors));
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const plaintext = sample(200_000, 99, true);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  writeFileSync(
    join(out, 'v1.bin'),
    Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]),
  );
  writeFileSync(join(out, 'v1-plain.bin'), plaintext);
  writeFileSync(join(out, 'v1.json'), JSON.stringify({ key: key.toString('hex') }));
  await makeFixtures(join(out, 'packages.json'));
}

if (import.meta.url === `file://${process.argv[1]}`) await prepareData(process.argv[2], process.argv[3]);
