// Load on 127.0.0.1, bounded in time and counts (NOVUSPACK_LOAD_SECONDS each, default 60;
// skipped, visibly, with NOVUSPACK_QUICK=1):
//   1. 200 FileStreams over httpSource (20 sources, 10 streams each) doing random readAt and
//      full reads against one fault-injecting server (a child process) that fails about 3% of
//      requests with 503, 429, a reset or a short body;
//   2. serveRange behind a Node server, then behind Deno.serve (child processes), answering 100
//      concurrent clients asking random ranges of one sealed file, some cancelling mid-body.
// Every byte is checked, every failure must be a typed StreamError (or, for HTTP clients, an
// error status with a code), memory stays within the sum of the memoryLimits (and cacheSizes),
// no unhandled rejection, and no timer or connection is left when it ends. Requests per second
// and peak memory are printed and appended to NOVUSPACK_REPORT.
// Environment: NOVUSPACK_PKG (the test project), NOVUSPACK_DENO (the deno binary), NOVUSPACK_QUICK,
// NOVUSPACK_LOAD_SECONDS, NOVUSPACK_REPORT.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lib from 'novuspack-stream';
import { sample } from './suite.mjs';
import { serverClient } from './http-server-client.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.env.NOVUSPACK_QUICK === '1';
const seconds = Number(process.env.NOVUSPACK_LOAD_SECONDS ?? 60);
const skip = quick ? 'skipped: NOVUSPACK_QUICK=1 (the load test runs about a minute per part)' : false;
const MiB = 1024 * 1024;
const KiB = 1024;

const unhandled = [];
process.on('unhandledRejection', (error) => unhandled.push(error));
const children = [];
after(() => {
  for (const child of children) child.kill();
});

/** Starts a child process that prints its URL on its first line of output. */
function startChild(cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: here,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`${cmd} exited (${code}) before it listened`)));
  });
}

function rssOf(pid) {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Samples `read()` every 100 ms until stopped; resolves to the peak. */
function peakOf(read) {
  let peak = read();
  const timer = setInterval(() => (peak = Math.max(peak, read())), 100);
  // Never what keeps the process alive (a test that failed half-way leaves it running).
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, read());
    },
  };
}

async function until(check, what, limit = 30_000) {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > limit) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

function report(figures) {
  process.stdout.write(`# load: ${JSON.stringify(figures)}\n`);
  if (process.env.NOVUSPACK_REPORT) appendFileSync(process.env.NOVUSPACK_REPORT, `${JSON.stringify(figures)}\n`);
}

/** A deterministic random generator (the runs repeat). */
function random(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

function check(bytes, plain, offset, what) {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== plain[offset + i]) throw new Error(`${what}: byte ${offset + i} differs`);
  }
}

/** Records a failure: it must be a StreamError. */
function typed(error, failures) {
  if (!(error instanceof lib.StreamError)) throw new Error(`an untyped failure: ${error?.stack ?? error}`);
  failures[error.code] = (failures[error.code] ?? 0) + 1;
}

test(
  'load: 200 FileStreams over httpSource, random readAt and full reads, faults injected',
  { skip, timeout: (seconds + 600) * 1000 },
  async () => {
    const { child, url } = await startChild(process.execPath, [join(here, 'http-server.mjs')]);
    const server = serverClient(url);
    const key = lib.generateKey();
    const plain = sample(2 * MiB, 5);
    const sealed = new Uint8Array(await new Response(lib.seal(plain, { key, chunkSize: 64 * KiB })).arrayBuffer());
    await server.put('load.sealed', sealed, { chaos: 0.03 });
    const baselineTimers = timers();
    const idle = process.memoryUsage().rss;
    const peak = peakOf(() => process.memoryUsage().rss);
    const memoryLimit = 2 * MiB;
    const cacheSize = 2 * MiB;
    const sources = Array.from({ length: 20 }, () => lib.httpSource(server.url('load.sealed'), { cacheSize }));
    const failures = {};
    let ops = 0;
    let bytes = 0;
    const deadline = Date.now() + seconds * 1000;
    const start = Date.now();
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const next = random(i + 1);
        const source = sources[i % sources.length];
        while (Date.now() < deadline) {
          let stream = null;
          try {
            // A per-operation timeout: an operation that never ends would be a TIMEOUT, counted.
            stream = await lib.FileStream.open(source, { key, memoryLimit, timeout: 60_000 });
            if (next(20) === 0) {
              let at = 0;
              for (;;) {
                const chunk = await stream.readChunk();
                if (chunk === null) break;
                check(chunk, plain, at, 'full read');
                at += chunk.length;
              }
              assert.equal(at, plain.length);
              bytes += at;
            } else {
              for (let k = 0; k < 5; k++) {
                const length = 1 + next(256 * KiB);
                const offset = next(plain.length - length);
                const into = new Uint8Array(length);
                assert.equal(await stream.readAt(into, offset), length);
                check(into, plain, offset, 'readAt');
                bytes += length;
              }
            }
            ops += 1;
          } catch (error) {
            typed(error, failures);
          } finally {
            stream?.close();
          }
        }
      }),
    );
    const elapsed = (Date.now() - start) / 1000;
    const peakRss = peak.stop();
    await until(async () => (await server.stats()).connections === 0, 'the server to see every connection closed');
    const summary = await server.summary('load.sealed');
    const stats = sources.reduce(
      (s, src) => {
        const x = src.stats();
        return { requests: s.requests + x.requests, retries: s.retries + x.retries };
      },
      { requests: 0, retries: 0 },
    );
    report({
      runtime: 'node',
      load: 'httpSource readers',
      readers: 200,
      seconds: elapsed,
      operations: ops,
      verifiedMB: bytes / 1e6,
      requestsPerSecond: Math.round(summary.requests / elapsed),
      requests: summary.requests,
      faultsInjected: summary.faultsInjected,
      retries: stats.retries,
      failures,
      peakRssMiB: +(peakRss / MiB).toFixed(1),
      rssGrowthMiB: +((peakRss - idle) / MiB).toFixed(1),
    });
    assert.ok(ops > 0, 'operations completed');
    // Requests aborted before they reached the server (read-ahead given up) count on the client only.
    assert.ok(summary.requests <= stats.requests, 'the clients counted every request the server saw');
    assert.ok(stats.retries <= summary.faultsInjected, 'a retry only for an injected fault');
    assert.ok(summary.requests <= 2 * 20 + ops * 12 + summary.faultsInjected, 'requests bounded by the work done');
    const bound = 200 * memoryLimit + sources.length * cacheSize + 128 * MiB;
    assert.ok(
      peakRss - idle <= bound,
      `memory grew ${((peakRss - idle) / MiB).toFixed(0)} MiB (bound ${bound / MiB} MiB)`,
    );
    await until(() => timers() <= baselineTimers, 'timers to end');
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
    child.kill();
  },
);

/**
 * fetch(), asked again once after a network error before any answer (a connection the client
 * reused as the overloaded machine's server closed it): counted, not a failure of the server.
 */
async function fetchOnce(url, init, errors) {
  try {
    return await fetch(url, init);
  } catch {
    errors.count += 1;
    return fetch(url, init);
  }
}

/** 100 clients asking random ranges of `url`/media for `seconds`; every byte checked. */
async function rangeClients(url, plain, pid) {
  const idle = rssOf(pid);
  const peak = peakOf(() => rssOf(pid));
  const failures = {};
  let requests = 0;
  let bytes = 0;
  let cancelled = 0;
  const clientErrors = { count: 0 };
  const deadline = Date.now() + seconds * 1000;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const next = random(1000 + i);
      while (Date.now() < deadline) {
        const kind = next(20);
        let start = 0;
        let end = plain.length;
        const headers = {};
        if (kind === 0) {
          // the whole file
        } else if (kind === 1) {
          start = next(plain.length);
          headers.range = `bytes=${start}-`;
        } else if (kind === 2) {
          const n = 1 + next(512 * KiB);
          start = plain.length - n;
          headers.range = `bytes=-${n}`;
        } else {
          start = next(plain.length);
          end = Math.min(plain.length, start + 1 + next(1 * MiB));
          headers.range = `bytes=${start}-${end - 1}`;
        }
        requests += 1;
        const response = await fetchOnce(`${url}/media`, { headers }, clientErrors);
        if (response.status >= 500) {
          const code = await response.text();
          failures[code] = (failures[code] ?? 0) + 1;
          if (!/^[A-Z_]+$/.test(code)) throw new Error(`an untyped failure: ${code}`);
          continue;
        }
        assert.equal(response.status, kind === 0 ? 200 : 206);
        const reader = response.body.getReader();
        const stopAt = next(10) === 0 ? start + 1 : Infinity;
        let at = start;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          check(value, plain, at, `range ${headers.range}`);
          at += value.length;
          bytes += value.length;
          if (at >= stopAt) {
            await reader.cancel();
            cancelled += 1;
            break;
          }
        }
        if (stopAt === Infinity) assert.equal(at, end, `range ${headers.range ?? 'none'}: the whole range`);
      }
    }),
  );
  const elapsed = (Date.now() - start) / 1000;
  return { elapsed, requests, bytes, cancelled, failures, clientErrors: clientErrors.count, idle, peak: peak.stop() };
}

async function serveRangeLoad(runtime, start) {
  const key = lib.generateKey();
  const plain = sample(8 * MiB, 9);
  const sealed = new Uint8Array(await new Response(lib.seal(plain, { key, chunkSize: 64 * KiB })).arrayBuffer());
  const file = join(mkdtempSync(join(tmpdir(), 'novuspack-load-')), 'media.sealed');
  writeFileSync(file, sealed);
  const memoryLimit = 4 * MiB;
  const env = { NOVUSPACK_KEY: lib.keyToHex(key), NOVUSPACK_MEMORY_LIMIT: String(memoryLimit) };
  const { child, url } = await start(file, env);
  const r = await rangeClients(url, plain, child.pid);
  const server = await (await fetch(`${url}/stats`)).json();
  report({
    runtime,
    load: 'serveRange',
    clients: 100,
    seconds: r.elapsed,
    requestsPerSecond: Math.round(r.requests / r.elapsed),
    verifiedMB: r.bytes / 1e6,
    cancelled: r.cancelled,
    failures: r.failures,
    clientConnectionRetries: r.clientErrors,
    serverPeakRssMiB: +(r.peak / MiB).toFixed(1),
    serverRssGrowthMiB: +((r.peak - r.idle) / MiB).toFixed(1),
    serverWasmMemoryMiB: +(server.wasmMemory / MiB).toFixed(1),
  });
  assert.ok(r.requests > 100, 'requests answered');
  assert.deepEqual(r.failures, {}, 'no failure on an intact file');
  const bound = 100 * memoryLimit + 128 * MiB;
  assert.ok(
    r.peak - r.idle <= bound,
    `server memory grew ${((r.peak - r.idle) / MiB).toFixed(0)} MiB (bound ${bound / MiB})`,
  );
  if (server.open !== undefined)
    await until(async () => (await (await fetch(`${url}/stats`)).json()).open === 0, 'every response to end');
  child.kill();
  assert.deepEqual(unhandled, [], 'no unhandled rejection');
}

test(
  'load: serveRange behind a Node server, 100 clients asking random ranges',
  { skip, timeout: (seconds + 600) * 1000 },
  () =>
    serveRangeLoad('node', (file, env) =>
      startChild(process.execPath, [join(here, 'serve-range-node.mjs'), file], env),
    ),
);

test(
  'load: serveRange behind Deno.serve, 100 clients asking random ranges',
  { skip, timeout: (seconds + 600) * 1000 },
  () =>
    serveRangeLoad('deno', (file, env) => {
      const pkg = process.env.NOVUSPACK_PKG ?? join(here, '..', '..');
      return startChild(
        process.env.NOVUSPACK_DENO ?? 'deno',
        [
          'run',
          '--node-modules-dir=manual',
          `--allow-read=${pkg},${file}`,
          '--allow-net=127.0.0.1',
          '--allow-env=NOVUSPACK_KEY,NOVUSPACK_MEMORY_LIMIT',
          join(here, 'serve-range-deno.mjs'),
          file,
        ],
        env,
      );
    }),
);
