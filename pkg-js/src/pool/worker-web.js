// The pool's worker script for browsers and Deno (a module Worker).
import { runWorker } from './worker-core.js';

const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();

runWorker({
  post: (message, transfer) => self.postMessage(message, transfer ?? []),
  listen: (handler) => self.addEventListener('message', (event) => handler(event.data)),
  // A macrotask without setTimeout's clamping.
  yieldNow: () =>
    new Promise((resolve) => {
      waiting.push(resolve);
      channel.port2.postMessage(0);
    }),
});
