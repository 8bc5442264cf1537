// A small static file server for the demo (`npm start`) and the browser tests: serves mount
// points on 127.0.0.1 with the right MIME types, single HTTP Range requests (what httpSource
// sends), and the headers that make a page cross-origin isolated (so SharedArrayBuffer
// exists) unless `isolate` is false.
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.bin': 'application/octet-stream',
};

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` of a file of `size` bytes: [start, end] inclusive, or null. */
function range(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  // A suffix longer than the file is the whole file (RFC 9110 §14.1.2).
  const [start, end] =
    m[1] === ''
      ? [Math.max(0, size - Number(m[2])), Number(m[2]) === 0 ? -1 : size - 1]
      : [Number(m[1]), m[2] === '' ? size - 1 : Number(m[2])];
  return start >= 0 && start < size && start <= end ? [start, Math.min(end, size - 1)] : null;
}

/**
 * Serves `mounts` ({ '/url/prefix/': '/dir' }, longest prefix wins) on 127.0.0.1, with
 * `headers` added to every answer (a Content-Security-Policy, say). Resolves to { url, close }.
 */
export function serve(mounts, { port = 0, isolate = true, headers: extra = {} } = {}) {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const prefix = prefixes.find((p) => path.startsWith(p));
    const headers = { 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'same-origin', ...extra };
    if (isolate) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    if (prefix === undefined) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    const base = mounts[prefix];
    let file = normalize(join(base, path.slice(prefix.length)));
    if (!file.startsWith(normalize(base + sep)) && file !== normalize(base)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    const size = statSync(file).size;
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    const wanted = range(req.headers.range, size);
    if (wanted === null) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    if (wanted) {
      const [start, end] = wanted;
      res.writeHead(206, {
        ...headers,
        'Content-Type': type,
        'Accept-Ranges': 'bytes',
        'Content-Range': `bytes ${start}-${end}/${size}`,
        'Content-Length': end - start + 1,
      });
      createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Content-Length': size });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({ url: `http://127.0.0.1:${actual}`, close: () => new Promise((r) => server.close(r)), server });
    });
  });
}
