// A Worker that runs the pool suite inside workerd (no Worker there: the pool must be
// 'inline') and answers with the results as JSON. Bundled by workerd-pool.test.mjs.
import * as lib from 'novuspack-stream';
import { poolCases } from './pool-suite.mjs';
import { casesResponse } from './workerd-cases.js';

export default {
  fetch() {
    const env = { transport: 'auto', expectTransport: 'inline', bigBytes: 8 * 1024 * 1024, workers: 1 };
    return casesResponse(poolCases(lib, env));
  },
};
