// Timing and bookkeeping shared by the Node and browser benchmark runners: runs a case a few
// times after a warm-up, keeps median / min / max throughput, and checks every run's output
// length so a fast wrong answer cannot count.

const MB = 1e6;

/** Stops the benchmark with a message naming the case. */
export function check(condition, message) {
  if (!condition) throw new Error(`benchmark check failed: ${message}`);
}

/** Lets the event loop (and the garbage collector, where exposed) catch up between runs. */
async function settle() {
  globalThis.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Runs `fn` (which returns the number of bytes it produced) `warmup + runs` times and returns
 * throughput over `bytes` input bytes in MB/s: { median, min, max, runs }.
 */
export async function measure(bytes, fn, { runs, warmup, expectOut }) {
  const speeds = [];
  for (let i = 0; i < warmup + runs; i++) {
    await settle();
    const start = performance.now();
    const out = await fn();
    const ms = performance.now() - start;
    if (expectOut !== undefined) check(out === expectOut, `produced ${out} bytes, expected ${expectOut}`);
    if (i >= warmup) speeds.push(bytes / MB / (ms / 1000));
  }
  speeds.sort((a, b) => a - b);
  const median =
    speeds.length % 2
      ? speeds[(speeds.length - 1) / 2]
      : (speeds[speeds.length / 2 - 1] + speeds[speeds.length / 2]) / 2;
  return { median, min: speeds[0], max: speeds[speeds.length - 1], runs: speeds.length };
}

/** Percentile (0..100) of a list of numbers. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Adds `ratio` (ours ÷ this row, by median) to every row of a group measured against `ours`. */
export function withRatios(group) {
  const ours = group.rows.find((r) => r.ours && r.speed);
  for (const row of group.rows) {
    if (row.speed && ours && !row.ours) row.ratio = ours.speed.median / row.speed.median;
  }
  return group;
}

/** Counts the bytes of a ReadableStream (or async iterable) of Uint8Array. */
export async function drain(stream) {
  let n = 0;
  for await (const chunk of stream) n += chunk.length;
  return n;
}

/** Reads a FileStream to its end with readChunk and closes it; returns the plaintext byte count. */
export async function readToEnd(stream) {
  let n = 0;
  for (;;) {
    const chunk = await stream.readChunk();
    if (chunk === null) break;
    n += chunk.length;
  }
  stream.close();
  return n;
}

/** Reads a ReadableStream of Uint8Array into one Uint8Array. */
export async function collect(stream) {
  const parts = [];
  let n = 0;
  for await (const chunk of stream) {
    parts.push(chunk);
    n += chunk.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A ReadableStream that hands out `data` in pieces of `size` bytes (copies, as a network would). */
export function piecesOf(data, size) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= data.length) {
        controller.close();
        return;
      }
      controller.enqueue(data.slice(at, at + size));
      at += size;
    },
  });
}

/** True when two byte arrays are equal. */
export function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
