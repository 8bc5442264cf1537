// The demo's remote panels: open a sealed file by URL (httpSource: the size and index from two
// Range requests, then one request per chunk read, counted on screen), and seal a chosen video
// and play it with seeking through the demo's Service Worker (sw.js), which answers the
// <video>'s Range requests with serveRange over the sealed Blob.
import { FileStream, generateKey, httpSource, keyFromHex, seal } from 'novuspack-stream';

const $ = (id) => document.getElementById(id);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const show = (id, text, error = false) => {
  $(id).textContent = text;
  $(id).classList.toggle('error', error);
};
const failure = (error) => `${error.name}: ${error.type ?? ''} ${error.code ?? ''} ${error.message}`;

// ----- open a sealed file by URL -----
let remote = null;

async function openUrl() {
  remote?.stream.close();
  remote = null;
  $('url-viewer').hidden = true;
  try {
    const key = $('url-key').value.trim() ? keyFromHex($('url-key').value) : undefined;
    const source = httpSource($('url-input').value.trim());
    const stream = await FileStream.open(source, { key, memoryLimit: 32 * 1024 * 1024 });
    remote = { source, stream };
    const f = stream.format;
    show(
      'url-status',
      `${mb(stream.size)} (${f.kind}, ${f.encrypted ? 'encrypted' : 'not encrypted'}, ${f.chunkCount ?? '?'} chunks) · ` +
        `opened with ${source.stats().requests} requests · validator ${source.validator ?? 'none'}`,
    );
    $('url-offset').max = String(Math.max(0, stream.size - 1));
    $('url-viewer').hidden = false;
    await readAtUrl(0);
  } catch (error) {
    show('url-status', failure(error), true);
  }
}

async function readAtUrl(offset) {
  if (!remote) return;
  const before = remote.source.stats().requests;
  const start = performance.now();
  const bytes = new Uint8Array(64);
  try {
    const n = await remote.stream.readAt(bytes, offset);
    const text = Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
    const requests = remote.source.stats().requests - before;
    $('url-hex').textContent = text;
    $('url-hex').dataset.offset = String(offset);
    $('url-time').textContent =
      `readAt(${offset}): ${(performance.now() - start).toFixed(1)} ms, ${requests} request${requests === 1 ? '' : 's'}`;
  } catch (error) {
    show('url-status', failure(error), true);
  }
}

$('url-open').onclick = openUrl;
$('url-offset').oninput = () => readAtUrl(Number($('url-offset').value) || 0);

// ----- seal a video, play it through the Service Worker -----
let media = 0;

async function worker() {
  const registration = await navigator.serviceWorker.register('./sw.js', { type: 'module' });
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }),
    );
  }
  return registration;
}

async function playSealed() {
  const file = $('video-file').files[0];
  if (!file) return show('video-status', 'choose a video first', true);
  try {
    show('video-status', 'sealing…');
    const key = generateKey();
    const sealed = await new Response(seal(file, { key, chunkSize: 64 * 1024 })).blob();
    await worker();
    const id = `${++media}-${encodeURIComponent(file.name)}`;
    // The sealed Blob and its key go to the worker (in memory only); the <video> asks ranges.
    await new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = resolve;
      navigator.serviceWorker.controller.postMessage({ type: 'media', id, blob: sealed, key, contentType: file.type }, [
        channel.port2,
      ]);
    });
    $('video').src = `./media/${id}`;
    show('video-status', `sealed ${mb(file.size)} into ${mb(sealed.size)}: the video plays from the sealed copy`);
    await $('video')
      .play()
      .catch(() => {});
  } catch (error) {
    show('video-status', failure(error), true);
  }
}

$('video-play').onclick = playSealed;
$('video').addEventListener('seeked', () => show('video-status', `seeked to ${$('video').currentTime.toFixed(1)} s`));
