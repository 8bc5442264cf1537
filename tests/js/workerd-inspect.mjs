// Measuring a workerd isolate from a test: its process's resident memory (/proc), and through
// the inspector (workerd --inspector-addr, Chrome DevTools Protocol over a WebSocket: Node 20
// needs --experimental-websocket) its JS heap and ArrayBuffers, wasm memory included, which is
// what the 128 MB isolate limit counts.
import { readFileSync } from 'node:fs';

/** KiB of resident memory of a process (0 once it is gone). */
export function rss(pid, field = 'VmRSS') {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** A Chrome DevTools Protocol session with the worker's isolate (workerd --inspector-addr). */
export async function inspect(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let id = 0;
  const pending = new Map();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  };
  return {
    call(method, params = {}) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${method}: no answer from the inspector`)), 5000);
        pending.set(++id, (result) => {
          clearTimeout(timer);
          resolve(result);
        });
        socket.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => socket.close(),
  };
}

/** The isolate's memory: JS heap in use plus ArrayBuffer backing stores (wasm memory included). */
export async function isolateBytes(session) {
  const u = await session.call('Runtime.getHeapUsage');
  return u.usedSize + (u.backingStorageSize ?? 0);
}

/** Samples isolate memory and process RSS while `fn` runs; returns [result, peaks]. */
export async function sampled(session, pid, fn) {
  const peaks = { isolate: await isolateBytes(session), rss: rss(pid) };
  let running = true;
  const sampler = (async () => {
    while (running) {
      peaks.isolate = Math.max(peaks.isolate, await isolateBytes(session));
      peaks.rss = Math.max(peaks.rss, rss(pid));
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    return [await fn(), peaks];
  } finally {
    running = false;
    await sampler;
  }
}
