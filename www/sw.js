// The demo's Service Worker: answers ./media/<id> with serveRange over a sealed Blob the page
// handed over (with its key, kept in memory only), so a <video> plays and seeks in the sealed
// copy of a file. Everything else goes to the network untouched.
import { serveRange } from '/pkg-js/src/entry-browser.js';

const media = new Map();

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  if (event.data?.type !== 'media') return;
  const { id, blob, key, contentType } = event.data;
  media.set(id, { blob, key, contentType: contentType || 'application/octet-stream' });
  event.ports[0]?.postMessage('ok');
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const id = url.pathname.startsWith('/media/') ? decodeURIComponent(url.pathname.slice(7)) : null;
  if (id === null) return;
  const entry = media.get(id) ?? media.get(encodeURIComponent(id));
  if (!entry) {
    event.respondWith(new Response('unknown media (the worker restarted: play it again)', { status: 404 }));
    return;
  }
  event.respondWith(
    serveRange(event.request, entry.blob, { key: entry.key, contentType: entry.contentType }).catch(
      (error) => new Response(`${error.code}: ${error.message}`, { status: 500 }),
    ),
  );
});
