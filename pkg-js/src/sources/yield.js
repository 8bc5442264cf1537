// Giving the event loop a turn. Work that only ever awaits settled promises (a decoder reading
// bytes that have already arrived) runs as one long chain of microtasks, and network I/O, timers
// and stream deliveries wait until it ends: read-ahead would then arrive in bursts between
// decodes instead of beside them. A reader that has not waited for `MAX_BUSY_MS` lets one
// macrotask run (setImmediate where it exists, else a MessageChannel message, else a timer).
const MAX_BUSY_MS = 2;

const now = () => (globalThis.performance ? performance.now() : Date.now());

function macrotask() {
  if (typeof globalThis.setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Tracks how long its owner has run without giving the event loop a turn. */
export class Busy {
  #since = now();

  /** Resolves at once, or after one macrotask when the owner has been busy too long. */
  turn() {
    if (now() - this.#since < MAX_BUSY_MS) return null;
    return macrotask().then(() => {
      this.#since = now();
    });
  }

  /** The owner waited (the event loop ran meanwhile). */
  waited() {
    this.#since = now();
  }
}
