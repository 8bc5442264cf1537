// The page of the example: registers the Service Worker (sw.js), gives it the sealed file's URL
// and the key when it asks (it forgets them when the browser stops it), and points the
// <video> at media/video.webm, which the worker serves decrypted, with Range support.
// The URL fragment may carry both (#src=...&key=...: a fragment is never sent to a server).
const video = document.getElementById('video');
const status = document.getElementById('status');
const form = document.getElementById('form');
let config = null;

function show(text) {
  status.textContent = text;
}

// The worker asks for the configuration on its first media request after a (re)start.
navigator.serviceWorker.addEventListener('message', (event) => {
  if (event.data?.type === 'config?' && config) event.ports[0].postMessage(config);
});

async function controller() {
  const registration = await navigator.serviceWorker.register('./sw.js', { type: 'module', scope: './' });
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    // First visit: the worker claims this page when it activates.
    await new Promise((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }),
    );
  }
  return registration;
}

async function play(src, key) {
  config = { type: 'config', src: new URL(src, location.href).href, key };
  await controller();
  navigator.serviceWorker.controller.postMessage(config);
  video.src = './media/video.webm';
  show('loading…');
  await video.play().catch(() => {});
}

/** What the worker answered so far: { requests, statuses: { 206: n, ... } } (the tests read it). */
window.workerStats = () =>
  new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data);
    navigator.serviceWorker.controller.postMessage({ type: 'stats' }, [channel.port2]);
  });
window.play = play;

video.addEventListener('error', () => show(`the video failed: ${video.error?.message || video.error?.code}`));
video.addEventListener('playing', () => show('playing'));
video.addEventListener('seeked', () => show(`seeked to ${video.currentTime.toFixed(2)} s`));

form.addEventListener('submit', (event) => {
  event.preventDefault();
  play(document.getElementById('src').value, document.getElementById('key').value.trim());
});

const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get('src') && fragment.get('key')) {
  document.getElementById('src').value = fragment.get('src');
  play(fragment.get('src'), fragment.get('key'));
}
