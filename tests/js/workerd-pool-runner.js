// A Worker that runs the pool suite inside workerd (no Worker there: the pool must be
// 'inline') and answers with the results as JSON. Bundled by workerd-pool.test.mjs.
import * as lib from 'novuspack-stream';
import { poolCases } from './pool-suite.mjs';

export default {
  async fetch() {
    const results = [];
    const env = { transport: 'auto', expectTransport: 'inline', bigBytes: 8 * 1024 * 1024, workers: 1 };
    for (const [name, fn] of poolCases(lib, env)) {
      try {
        await fn();
        results.push({ name, ok: true });
      } catch (error) {
        results.push({ name, ok: false, error: String(error?.stack ?? error) });
      }
    }
    return Response.json(results);
  },
};
