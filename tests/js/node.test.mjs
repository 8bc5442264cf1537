// Runs the shared suite (suite.mjs) under node:test against the installed package.
// Environment: NOVUSPACK_DATA (the folder prepare-data.mjs wrote), NOVUSPACK_HEAVY=0 to skip
// the 1 GiB case, NOVUSPACK_REPORT (a file to append measured figures to), NOVUSPACK_SIMD=0 to
// run on the plain wasm build.
import { test } from 'node:test';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lib from 'novuspack-stream';
import { cases, fromHex, nodeCase, parseVector } from './suite.mjs';

const data = process.env.NOVUSPACK_DATA;
const read = (name) => new Uint8Array(readFileSync(join(data, name)));

const env = {
  heavy: process.env.NOVUSPACK_HEAVY !== '0',
  // NOVUSPACK_SIMD=0 makes the package load its plain (no SIMD) build.
  expectSimd: process.env.NOVUSPACK_SIMD !== '0',
  async vectors() {
    return JSON.parse(readFileSync(join(data, 'vectors.json'), 'utf8')).map(parseVector);
  },
  async v1Sample() {
    const { key } = JSON.parse(readFileSync(join(data, 'v1.json'), 'utf8'));
    return { key: fromHex(key), framed: read('v1.bin'), plaintext: read('v1-plain.bin') };
  },
  report(figures) {
    if (process.env.NOVUSPACK_REPORT)
      appendFileSync(process.env.NOVUSPACK_REPORT, `${JSON.stringify({ runtime: 'node', ...figures })}\n`);
  },
};

for (const [name, fn] of cases(lib, env)) test(name, nodeCase(fn));
