// examples/service-worker-video in headless Chromium (Playwright) and Firefox (geckodriver):
// makes ten seconds of WebM (about 3 MB) with ffmpeg, seals it with the installed package, serves it from
// the fault-injecting server (another origin, CORS), opens the example page, and checks that a
// real <video> plays it through the Service Worker and seeks to three positions, each `seeked`
// with a frame decoded there, and that the worker answered with 206s.
// Environment: NOVUSPACK_PKG (the test project), NOVUSPACK_SERVE, NOVUSPACK_EXAMPLES (the
// examples folder), NOVUSPACK_GECKODRIVER, NOVUSPACK_QUICK (Firefox is skipped, as elsewhere).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, keyToHex, seal } from 'novuspack-stream';
import { launchChromium } from './chromium.mjs';
import { startHttpServer } from './http-server.mjs';
import { firefoxSession } from './webdriver.mjs';

const { serve } = await import(process.env.NOVUSPACK_SERVE ?? new URL('../../scripts/serve.mjs', import.meta.url).href);
const examples = process.env.NOVUSPACK_EXAMPLES ?? new URL('../../examples', import.meta.url).pathname;
const pkgJs = process.env.NOVUSPACK_PKG
  ? join(process.env.NOVUSPACK_PKG, 'node_modules', 'novuspack-stream', 'pkg-js')
  : new URL('../../pkg-js', import.meta.url).pathname;
// Far ahead first (beyond what the browser has read: a new Range request), then back, then on.
const SEEKS = [8.5, 1.2, 5.1];

let origin;
let site;
let page;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novuspack-video-'));
  const webm = join(dir, 'video.webm');
  // Keyframes every second, so seeks are cheap to decode; VP9 plays in both browsers.
  execFileSync('ffmpeg', [
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=10:size=960x540:rate=25',
    '-c:v',
    'libvpx-vp9',
    '-b:v',
    '3M',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-g',
    '25',
    '-y',
    webm,
  ]);
  const key = generateKey();
  const sealed = new Uint8Array(
    await new Response(
      seal(new Uint8Array(readFileSync(webm)), { key, chunkSize: 16 * 1024, compress: true }),
    ).arrayBuffer(),
  );
  origin = await startHttpServer();
  // A slow origin (512 KiB/s): a seek far ahead finds the bytes not read yet, so the <video> asks
  // the worker for a new range, and the worker gives up the old response's read-ahead.
  origin.put('video.sealed', sealed, { rate: 512 * 1024 });
  site = await serve(
    { '/examples/service-worker-video/': join(examples, 'service-worker-video'), '/pkg-js/': pkgJs },
    { isolate: false },
  );
  const fragment = new URLSearchParams({ src: `${origin.url}/video.sealed`, key: keyToHex(key) });
  page = `${site.url}/examples/service-worker-video/#${fragment}`;
});

after(async () => {
  await site?.close();
  await origin?.close();
});

/** Runs in the page: waits for playback, seeks, and reports what the video and worker did. */
async function exercise(seeks) {
  const video = document.getElementById('video');
  const timeout = (what) =>
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: ${document.getElementById('status').textContent}`)), 60_000),
    );
  const event = (name) => new Promise((resolve) => video.addEventListener(name, resolve, { once: true }));
  const frameTime = () =>
    new Promise((resolve) => video.requestVideoFrameCallback((now, meta) => resolve(meta.mediaTime)));
  if (video.paused || video.currentTime === 0) {
    await Promise.race([
      (async () => {
        while (video.currentTime < 0.3) await new Promise((r) => setTimeout(r, 50));
      })(),
      timeout('playback did not start'),
    ]);
  }
  const results = [];
  for (const target of seeks) {
    const seeked = event('seeked');
    video.currentTime = target;
    await Promise.race([seeked, timeout(`seek to ${target}`)]);
    const mediaTime = await Promise.race([frameTime(), timeout(`a frame after the seek to ${target}`)]);
    results.push({ target, currentTime: video.currentTime, mediaTime });
  }
  return {
    results,
    duration: video.duration,
    error: video.error?.message ?? null,
    frames: video.getVideoPlaybackQuality().totalVideoFrames,
    worker: await window.workerStats(),
  };
}

function check(report, browser) {
  assert.equal(report.error, null, `${browser}: no media error`);
  assert.ok(Math.abs(report.duration - 10) < 0.2, `${browser}: duration ${report.duration}`);
  for (const r of report.results) {
    assert.ok(
      Math.abs(r.mediaTime - r.target) < 0.25,
      `${browser}: a frame at ${r.mediaTime} after seeking to ${r.target}`,
    );
  }
  assert.ok(report.frames > 3, `${browser}: frames decoded (${report.frames})`);
  const statuses = report.worker.statuses;
  assert.ok(statuses['206'] >= 2, `${browser}: the worker answered 206s (${JSON.stringify(statuses)})`);
  assert.ok(!Object.keys(statuses).some((s) => s >= 500), `${browser}: no error answer (${JSON.stringify(statuses)})`);
}

test(
  'Chromium plays the sealed video through the Service Worker and seeks three times',
  { timeout: 180_000 },
  async () => {
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      const errors = [];
      tab.on('pageerror', (e) => errors.push(String(e)));
      tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await tab.goto(page);
      const report = await tab.evaluate(exercise, SEEKS);
      console.log(`# chromium: ${JSON.stringify(report)}`);
      check(report, 'Chromium');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  },
);

test(
  'Firefox plays the sealed video through the Service Worker and seeks three times',
  { timeout: 240_000, skip: process.env.NOVUSPACK_QUICK === '1' ? 'skipped: NOVUSPACK_QUICK=1 (Firefox)' : false },
  async () => {
    const firefox = await firefoxSession({
      geckodriver: process.env.NOVUSPACK_GECKODRIVER ?? 'geckodriver',
      prefs: { 'media.autoplay.default': 0 },
    });
    try {
      await firefox.goto(page);
      const report = await firefox.run(exercise, SEEKS);
      console.log(`# firefox ${firefox.version}: ${JSON.stringify(report)}`);
      check(report, 'Firefox');
    } finally {
      await firefox.close();
    }
  },
);
