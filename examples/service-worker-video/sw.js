// The Service Worker of the example: answers GET/HEAD media/video.webm with the decrypted bytes
// of a sealed file read with HTTP Range requests, with Range support, so the <video> plays and
// seeks. One httpSource for the file: every response shares its size, validator and cached
// chunks. Each response is one FileStream, pulled as the <video> reads and closed when it
// cancels (it does at every seek). The configuration (URL, key) comes from the page and is kept
// in memory only; after a restart the worker asks the page again.
//
// A module worker importing the package's browser entry by path (this folder sits in the
// package's repository; with a bundler, import from 'novuspack-stream').
import { httpSource, keyFromHex, serveRange } from '../../pkg-js/src/entry-browser.js';

let config = null;
let source = null;
const stats = { requests: 0, statuses: {} };

function configure(data) {
  if (config?.src !== data.src) source = httpSource(data.src);
  config = { src: data.src, key: keyFromHex(data.key) };
}

/** Asks the page that made `request` for the configuration (after the worker restarted). */
async function askPage(clientId) {
  const client = await self.clients.get(clientId);
  if (!client) throw new Error('no page to ask for the key');
  const data = await new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data);
    client.postMessage({ type: 'config?' }, [channel.port2]);
  });
  configure(data);
}

async function media(event) {
  if (!config) await askPage(event.clientId);
  stats.requests += 1;
  let response;
  try {
    response = await serveRange(event.request, source, {
      key: config.key,
      contentType: 'video/webm',
      memoryLimit: 16 * 1024 * 1024,
      headers: { 'cache-control': 'no-store' },
    });
  } catch (error) {
    // A typed StreamError: a wrong key (Encryption), an unreachable or changed file (IO), ...
    response = new Response(`${error.code}: ${error.message}`, { status: error.type === 'Encryption' ? 403 : 502 });
  }
  stats.statuses[response.status] = (stats.statuses[response.status] ?? 0) + 1;
  return response;
}

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  if (event.data?.type === 'config') configure(event.data);
  if (event.data?.type === 'stats') event.ports[0].postMessage(stats);
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== location.origin || !url.pathname.endsWith('/media/video.webm')) return;
  event.respondWith(media(event));
});
