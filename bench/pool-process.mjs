// The worker pool's groups (bench/pool.mjs) in a Node process of their own, with only the
// package loaded: the calling thread's busy time includes its garbage collection, whose cost
// grows with everything else a process holds (the other libraries and data of bench/node.mjs
// made it several times larger there). Prints the groups as JSON; bench/node.mjs adds them.
//   node --expose-gc bench/pool-process.mjs [--quick] [--only <text>]
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as lib from 'novuspack-stream';
import { benchData } from './corpus.mjs';
import { runPoolCases } from './pool.mjs';

const quick = process.argv.includes('--quick');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const corpus = benchData({ quick }).read('corpus.bin');
await lib.ready();
const groups = await runPoolCases(
  {
    lib,
    corpus,
    quick,
    only,
    // The calling thread's busy time: event-loop utilisation, in ms.
    busy: () => performance.eventLoopUtilization().active,
    settle: async () => {
      globalThis.gc?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
    load: () =>
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' / ')} on ${availableParallelism()} cores`,
  },
  (line) => console.error(line),
);
console.log(JSON.stringify(groups));
