// One test body for StreamingWorkerPool in every runtime: `poolCases(lib, env)` returns named
// async tests. `env` says what differs:
//   env.transport        the transport to ask for ('auto' where the runtime decides)
//   env.expectTransport  what the pool must report
//   env.makeWorker(url)  a Worker for the fault-injection case (absent where there are none)
//   env.workers          worker count to ask for (default 2)
//   env.bigBytes         size of the large parallel unseal case
//   env.fileBlob(bytes)  a file-backed Blob of `bytes`, where the runtime has them
//
// Each feature's cases live in their own module under cases/ (pool-*.mjs), listed here in a
// fixed order.
import { poolParallelCases } from './cases/pool-parallel.mjs';
import { poolJobCases } from './cases/pool-jobs.mjs';
import { poolWorkerCases } from './cases/pool-workers.mjs';
import { poolLoadCases } from './cases/pool-load.mjs';
import { poolConcurrencyCases } from './cases/pool-concurrency.mjs';
import { poolSessionCases } from './cases/pool-sessions.mjs';
import { poolSealCases } from './cases/pool-seal.mjs';
import { poolLargeChunkCases } from './cases/pool-large-chunks.mjs';
import { poolQueueCases } from './cases/pool-queue.mjs';
import { poolConfigCases } from './cases/pool-config.mjs';

export function poolCases(lib, env) {
  return [
    ...poolParallelCases(lib, env),
    ...poolJobCases(lib, env),
    ...poolWorkerCases(lib, env),
    ...poolLoadCases(lib, env),
    ...poolConcurrencyCases(lib, env),
    ...poolSessionCases(lib, env),
    ...poolSealCases(lib, env),
    ...poolLargeChunkCases(lib, env),
    ...poolQueueCases(lib, env),
    ...poolConfigCases(lib, env),
  ];
}
