// Bad pool configuration (transport, createWorker, maxWorkers, streamBufferSize, a pool that is
// not one) is a typed error.
import { assert, sample, collect, caseList } from '../helpers.mjs';

export function poolConfigCases(lib) {
  const { list, test } = caseList();

  test('bad pool configuration is a typed error', async () => {
    assert.throws(() => new lib.StreamingWorkerPool({ transport: 'carrier-pigeon' }), lib, 'Validation');
    assert.throws(() => new lib.StreamingWorkerPool({ createWorker: 'no' }), lib, 'Validation');
    await assert.rejects(new lib.StreamingWorkerPool({ maxWorkers: 1000 }).start(), lib, 'Validation');
    await assert.rejects(new lib.StreamingWorkerPool({ streamBufferSize: 0 }).start(), lib, 'Validation');
    await assert.rejects(collect(lib.seal(sample(10), { pool: {} })), lib, 'Validation');
  });

  return list;
}
