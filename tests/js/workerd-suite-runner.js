// A Worker that runs the shared JS suite (suite.mjs) inside workerd and answers with the results
// as JSON. Bundled by workerd-suite.test.mjs with the test data bundled in (workerd-data.json:
// the vectors and the v1 sample, base64). The 1 GiB case is skipped (workerd's 128 MB isolate).
import * as lib from 'novuspack-stream';
import data from './workerd-data.json';
import { cases, fromHex, parseVector } from './suite.mjs';
import { casesResponse } from './workerd-cases.js';

const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const env = {
  heavy: false,
  expectSimd: true,
  vectors: async () => data.vectors.map(parseVector),
  v1Sample: async () => ({
    key: fromHex(data.v1.key),
    framed: bytes(data.v1.framed),
    plaintext: bytes(data.v1.plaintext),
  }),
  report() {},
};

export default {
  fetch: () => casesResponse(cases(lib, env)),
};
