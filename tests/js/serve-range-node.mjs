// serveRange behind a plain Node HTTP server (for the load test): serves the plaintext of the
// sealed file at argv[2] (read through fs.openAsBlob) at /media, the key in NOVUSPACK_KEY (hex),
// each stream within NOVUSPACK_MEMORY_LIMIT bytes. A client that goes away cancels the body,
// which closes the stream. Prints its URL; GET /stats answers { rss, heapUsed, wasmMemory, open }.
import { createServer } from 'node:http';
import { openAsBlob } from 'node:fs';
import { keyFromHex, memoryUsage, serveRange } from 'novuspack-stream';

const source = await openAsBlob(process.argv[2]);
const key = keyFromHex(process.env.NOVUSPACK_KEY);
const memoryLimit = Number(process.env.NOVUSPACK_MEMORY_LIMIT ?? 4 * 1024 * 1024);
let open = 0;

/** Resolves when `res` can take more (or is gone), leaving no listener behind. */
function drained(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Sends a Fetch API Response on a Node response, cancelling its body if the client leaves. */
async function send(response, res) {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.on('close', () => reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await drained(res);
      if (res.destroyed) return;
    }
    res.end();
  } catch {
    res.destroy();
  }
}

const server = createServer(async (req, res) => {
  if (req.url === '/stats') {
    const { rss, heapUsed } = process.memoryUsage();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ rss, heapUsed, wasmMemory: memoryUsage().wasmMemory, open }));
    return;
  }
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  const headers = new Headers();
  for (const name of ['range', 'if-range', 'if-none-match'])
    if (req.headers[name]) headers.set(name, req.headers[name]);
  open += 1;
  try {
    const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers });
    const response = await serveRange(request, source, {
      key,
      memoryLimit,
      signal: controller.signal,
      contentType: 'application/octet-stream',
    });
    await send(response, res);
  } catch (error) {
    if (!res.headersSent) res.writeHead(500).end(String(error?.code ?? error));
    else res.destroy();
  } finally {
    open -= 1;
  }
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`));
