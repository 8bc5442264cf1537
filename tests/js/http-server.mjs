// A file server on 127.0.0.1 for the remote-file tests, the load test and the benchmark: serves
// files with Range support (206, 416, suffix ranges; several ranges get the whole file, as S3
// does) and injects faults that the test asks for, one per request, in order: an HTTP status
// (with or without Retry-After), a connection reset mid-body, a short body, a wrong
// Content-Range, a 200 instead of a 206, a slow or stalled answer, the object replaced. It logs
// every request (range, status, whether the body was sent to its end), so tests count requests
// and retries. CORS headers let a page on another origin read it (unless a file says no).
//
// Control, over HTTP so every runtime's test body can drive it (see serverClient):
//   PUT  /_control/files/<name>?etag=1&lastModified=1&ranges=1&cors=1&latency=ms&rate=B/s&chaos=p
//        body: the bytes; chaos: the probability that a request gets a random recoverable fault;
//        with &path=/abs/file and no body, the file is served from disk (large benchmark files)
//   POST /_control/faults/<name>   JSON [fault, ...] appended to the file's queue
//   GET  /_control/log/<name>      JSON { requests: [{ range, status, complete, closed }], maxActive }
//                                  (DELETE clears log and faults)
// Faults: { status, retryAfter? } | { reset: bytesSent } | { short: bytesSent } |
//   { shiftRange: n } | { whole: true } | { delay: ms } | { stall: true } | { replace: true },
//   each optionally { when: 'suffix' | 'ranges' } (only suffix ranges, or only the others)
//   ({ replace } swaps in the same bytes with each 32nd byte flipped and a new ETag first).
// Files may also be added from Node with `put(name, bytes, options)` (no copy over HTTP).
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';

export { serverClient } from './http-server-client.mjs';

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'range, if-range, authorization, x-test',
  'access-control-expose-headers': 'content-range, content-length, etag, last-modified, accept-ranges',
  'access-control-allow-methods': 'GET, HEAD, PUT, POST, DELETE, OPTIONS',
  'cross-origin-resource-policy': 'cross-origin',
};

/** The one range of a Range header, as [start, end) within `size`, 'whole', or 'unsatisfiable'. */
function rangeOf(header, size) {
  if (!header) return 'whole';
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'whole';
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 || size === 0 ? 'unsatisfiable' : [Math.max(0, size - n), size];
  }
  const start = Number(m[1]);
  if (start >= size) return 'unsatisfiable';
  return [start, m[2] === '' ? size : Math.min(size, Number(m[2]) + 1)];
}

let version = 0;

/**
 * The first queued fault for a request with this Range header: a fault's `when` may restrict it
 * to 'suffix' ranges (bytes=-n, how a file is opened) or to 'ranges' (any other); else any.
 */
function takeFault(file, range) {
  const suffix = /^bytes=-/.test(range ?? '');
  const i = file.faults.findIndex((f) => !f.when || (f.when === 'suffix') === suffix);
  return i < 0 ? undefined : file.faults.splice(i, 1)[0];
}

/** A random recoverable fault with probability `file.chaos` (a seeded generator: runs repeat). */
function chaosFault(file) {
  if (!file.chaos) return {};
  file.seed = (Math.imul(file.seed ?? 12345, 1103515245) + 12345) >>> 0;
  const r = file.seed / 2 ** 32;
  if (r >= file.chaos) return {};
  const pick = Math.floor((r / file.chaos) * 4);
  file.faultsInjected = (file.faultsInjected ?? 0) + 1;
  return [{ status: 503 }, { status: 429, retryAfter: 0 }, { reset: 1000 }, { short: 2000 }][pick];
}

/** Starts the server; resolves to { url, port, put, close, stats }. */
export function startHttpServer() {
  const files = new Map();
  const sockets = new Set();
  const totals = { requests: 0 };

  function put(
    name,
    bytes,
    { etag = true, lastModified = true, ranges = true, cors = true, latency = 0, rate = 0, chaos = 0 } = {},
  ) {
    version += 1;
    files.set(name, {
      bytes,
      path: null,
      etag: etag ? `"v${version}-${bytes.length}"` : null,
      lastModified: lastModified ? new Date(Date.UTC(2026, 0, 1, 0, 0, version % 60)).toUTCString() : null,
      ranges,
      cors,
      latency,
      rate,
      chaos,
      faults: [],
      log: [],
      active: 0,
      maxActive: 0,
    });
  }

  async function control(req, res, path) {
    const [, kind, ...rest] = path.split('/').filter(Boolean);
    const name = decodeURIComponent(rest.join('/'));
    const query = new URL(req.url, 'http://x').searchParams;
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const json = (value) =>
      res.writeHead(200, { ...CORS, 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (kind === 'files' && req.method === 'PUT') {
      const flag = (n, d) => (query.has(n) ? query.get(n) === '1' : d);
      const path = query.get('path');
      put(name, path ? { length: statSync(path).size } : new Uint8Array(body), {
        etag: flag('etag', true),
        lastModified: flag('lastModified', true),
        ranges: flag('ranges', true),
        cors: flag('cors', true),
        latency: Number(query.get('latency') ?? 0),
        rate: Number(query.get('rate') ?? 0),
        chaos: Number(query.get('chaos') ?? 0),
      });
      if (path) files.get(name).path = path;
      return json({ ok: true, size: files.get(name).bytes.length });
    }
    const file = files.get(name);
    if (!file) return res.writeHead(404, CORS).end('no such file');
    if (kind === 'faults' && req.method === 'POST') {
      file.faults.push(...JSON.parse(body.toString('utf8')));
      return json({ ok: true });
    }
    if (kind === 'log' && req.method === 'GET') {
      const summary = query.get('summary') === '1';
      return json({
        requests: summary ? file.log.length : file.log,
        maxActive: file.maxActive,
        faultsInjected: file.faultsInjected ?? 0,
      });
    }
    if (kind === 'log' && req.method === 'DELETE') {
      file.log = [];
      file.faults = [];
      file.maxActive = file.active;
      return json({ ok: true });
    }
    res.writeHead(400, CORS).end('bad control request');
  }

  async function serveFile(req, res, file) {
    const fault = takeFault(file, req.headers.range) ?? chaosFault(file);
    if (fault.replace) {
      version += 1;
      const bytes = file.bytes.slice();
      for (let i = 0; i < bytes.length; i += 32) bytes[i] ^= 0xff;
      file.bytes = bytes;
      if (file.etag) file.etag = `"v${version}-${bytes.length}"`;
      if (file.lastModified) file.lastModified = new Date(Date.UTC(2026, 1, 1, 0, 0, version % 60)).toUTCString();
    }
    const entry = { range: req.headers.range ?? null, status: 0, complete: false, closed: false };
    file.log.push(entry);
    file.active += 1;
    file.maxActive = Math.max(file.maxActive, file.active);
    res.on('close', () => {
      file.active -= 1;
      entry.closed = true;
    });
    const headers = {
      'content-type': 'application/octet-stream',
      'accept-ranges': file.ranges ? 'bytes' : 'none',
      'cache-control': 'no-store',
      ...(file.cors ? CORS : {}),
    };
    if (file.etag) headers.etag = file.etag;
    if (file.lastModified) headers['last-modified'] = file.lastModified;
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    if (file.latency) await wait(file.latency);
    if (fault.delay) await wait(fault.delay);
    if (fault.stall) {
      // No answer at all: the client's timeout or signal must end it.
      return;
    }
    if (fault.status) {
      entry.status = fault.status;
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      res.writeHead(fault.status, headers).end(`injected ${fault.status}`);
      entry.complete = true;
      return;
    }
    const size = file.bytes.length;
    let range = file.ranges ? rangeOf(req.headers.range, size) : 'whole';
    if (fault.whole) range = 'whole';
    if (range === 'unsatisfiable') {
      entry.status = 416;
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
      entry.complete = true;
      return;
    }
    let status = 200;
    let [start, end] = range === 'whole' ? [0, size] : range;
    if (range !== 'whole') {
      status = 206;
      const shift = fault.shiftRange ?? 0;
      if (shift) [start, end] = [Math.max(0, start + shift), Math.min(size, end + shift)];
      headers['content-range'] = `bytes ${start}-${end - 1}/${size}`;
    }
    entry.status = status;
    let body = file.path ? null : file.bytes.subarray(start, end);
    if (body && (fault.short !== undefined || fault.reset !== undefined)) {
      body = body.subarray(0, fault.short ?? fault.reset);
      if (fault.reset !== undefined) headers['content-length'] = String(end - start);
    } else {
      headers['content-length'] = String(end - start);
    }
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      entry.complete = true;
      return;
    }
    if (file.path) {
      // From disk: no body faults, no throttle.
      res.on('finish', () => (entry.complete = true));
      if (end > start) createReadStream(file.path, { start, end: end - 1, highWaterMark: 256 * 1024 }).pipe(res);
      else res.end();
      return;
    }
    res.on('finish', () => {
      entry.complete = fault.reset === undefined;
    });
    if (fault.reset !== undefined) {
      res.write(body, () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    // Large bodies in pieces, so a client that cancels stops the transfer; `rate` throttles.
    const PIECE = file.rate ? Math.max(1024, Math.floor(file.rate / 100)) : 256 * 1024;
    let at = 0;
    const pump = () => {
      while (at < body.length && !res.destroyed) {
        const piece = body.subarray(at, at + PIECE);
        at += piece.length;
        const room = res.write(piece);
        if (file.rate) {
          setTimeout(pump, 10);
          return;
        }
        if (!room) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  }

  const server = createServer((req, res) => {
    totals.requests += 1;
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS).end();
      return;
    }
    if (path === '/_control/stats') {
      // Connections other than the one asking.
      res.writeHead(200, { ...CORS, 'content-type': 'application/json' });
      res.end(JSON.stringify({ connections: sockets.size - 1, requests: totals.requests }));
      return;
    }
    if (path.startsWith('/_control/')) {
      control(req, res, path).catch((error) => res.writeHead(500, CORS).end(String(error)));
      return;
    }
    const file = files.get(path.slice(1));
    if (!file) {
      res.writeHead(404, { ...CORS, 'content-type': 'text/plain' }).end('not found');
      return;
    }
    serveFile(req, res, file).catch(() => res.destroy());
  });
  // Longer than the clients' own idle timeout (undici: 4 s), so a client never reuses a connection
  // this server is closing.
  server.keepAliveTimeout = 5000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        put,
        files,
        totals,
        /** Open connections now (a test checks that none is leaked). */
        connections: () => sockets.size,
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(r));
        },
      });
    });
  });
}

// `node http-server.mjs` serves until killed and prints its URL (for the browser and Deno runners).
if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await startHttpServer();
  process.stdout.write(`${server.url}\n`);
}
