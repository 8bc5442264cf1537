// Helpers of the pool case modules (pool-*.mjs): digests, waiting a macrotask at a time, and
// the pool each case makes from `env` (see pool-suite.mjs for what `env` holds).

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

/** One macrotask (workerd's clock stands still during CPU work: no timers here). */
export function tick() {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
  });
}

/** Waits, a macrotask at a time, until `condition()` holds. */
export async function until(condition, what) {
  for (let i = 0; i < 200_000; i++) {
    if (condition()) return;
    await tick();
  }
  throw new Error(`gave up waiting until ${what}`);
}

export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** The worker count, a pool maker and the pool's job capacity, from `env`. */
export function poolKit(lib, env) {
  const workers = env.workers ?? 2;
  const make = (config = {}) =>
    new lib.StreamingWorkerPool({ maxWorkers: workers, transport: env.transport ?? 'auto', ...config });
  // Jobs in flight at once: two per worker (each has the next one ready), one inline.
  const capacity = (pool) => ({ shared: 2 * workers, message: 2 * workers, inline: 1 })[pool.transport];
  return { workers, make, capacity };
}
