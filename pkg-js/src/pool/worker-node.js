// The pool's worker script for Node (worker_threads).
import { parentPort } from 'node:worker_threads';
import { runWorker } from './worker-core.js';

runWorker({
  post: (message, transfer) => parentPort.postMessage(message, transfer ?? []),
  listen: (handler) => parentPort.on('message', handler),
  yieldNow: () => new Promise((resolve) => setImmediate(resolve)),
});
