// The demo: seal a chosen file (streamed from disk, never held whole in memory), then open a
// sealed file with its key, verify it end to end with a progress bar, and browse it with
// random access. The UI stays responsive: all work is async and chunked.
import { BufferPool, FileStream, StreamingWorkerPool, generateKey, ready, seal } from 'novuspack-stream';

const $ = (id) => document.getElementById(id);
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (text) => {
  const clean = text.trim().replace(/\s+/g, '');
  if (!clean) return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(clean)) throw new Error('a key is 64 hex digits (32 bytes)');
  return Uint8Array.from(clean.match(/../g), (b) => parseInt(b, 16));
};
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const duration = (ms) => (ms === null ? '–' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

await ready();
const pool = new BufferPool({ maxTotalSize: 256 * 1024 * 1024 });
$('runtime').textContent = `crossOriginIsolated: ${self.crossOriginIsolated}, cores: ${navigator.hardwareConcurrency}`;
let sealedBlob = null;
let stream = null;
let workers = null;

const cores = navigator.hardwareConcurrency || 2;
for (let n = 1; n <= Math.max(4, cores); n++) $('pool-size').add(new Option(String(n), String(n), false, n === cores));

/** The worker pool, (re)started at the chosen size; null when it is switched off. */
async function workerPool() {
  if (!$('pool-on').checked) return null;
  const size = Number($('pool-size').value);
  if (!workers || workers.getStreamingStats().totalWorkers !== size) {
    await workers?.stop();
    workers = new StreamingWorkerPool({ maxWorkers: size });
    await workers.start();
  }
  return workers;
}

function showWorkers() {
  if (!workers) {
    $('pool-view').textContent = $('pool-on').checked ? 'starts on first use' : 'off: everything runs on this page';
    return;
  }
  const s = workers.getStreamingStats();
  const busiest = Math.max(1, ...s.workers.map((w) => w.busyTime));
  const rows = s.workers
    .map(
      (w) =>
        `<div class="worker-row${w.active ? ' active' : ''}" data-worker="${w.id}" data-jobs="${w.jobs}"><span>worker ${w.id}</span>` +
        `<div class="worker-bar"><div style="width:${((100 * w.busyTime) / busiest).toFixed(0)}%"></div></div>` +
        `<span>${w.jobs} tasks · ${mb(w.bytes)} · ${(w.busyTime / 1000).toFixed(2)} s busy</span></div>`,
    )
    .join('');
  $('pool-view').innerHTML =
    `<p id="pool-summary" data-transport="${s.transport}">transport <b>${s.transport}</b> · ${s.totalWorkers} workers, ${s.activeWorkers} busy · ` +
    `${s.jobsProcessed} tasks done, ${s.jobsInQueue} queued · queue wait p50 ${s.queueWait.p50.toFixed(1)} ms, run p50 ${s.runTime.p50.toFixed(1)} ms</p>` +
    rows;
}
setInterval(showWorkers, 250);

function status(id, text, error = false) {
  $(id).textContent = text;
  $(id).classList.toggle('error', error);
}

$('seal-keygen').onclick = () => {
  $('seal-key').value = hex(generateKey());
};

/** Counts the bytes flowing through, for the progress bar. */
function meter(total, onProgress) {
  let done = 0;
  return new TransformStream({
    transform(chunk, controller) {
      done += chunk.length;
      onProgress(done, total);
      controller.enqueue(chunk);
    },
  });
}

$('seal-start').onclick = async () => {
  const file = $('seal-file').files[0];
  if (!file) return status('seal-status', 'choose a file first', true);
  $('seal-result').hidden = true;
  try {
    const key = fromHex($('seal-key').value);
    const level = $('seal-level').value;
    const options = {
      key,
      compress: level === 'off' ? false : Number(level),
      chunkSize: Number($('seal-chunk').value),
      size: file.size,
      pool: (await workerPool()) ?? undefined,
    };
    const start = performance.now();
    const sealed = seal(
      file.stream().pipeThrough(
        meter(file.size, (done, total) => {
          $('seal-progress').value = done / total;
          status('seal-status', `${mb(done)} of ${mb(total)} · ${mb((done / (performance.now() - start)) * 1000)}/s`);
        }),
      ),
      options,
    );
    let blob;
    if (window.showSaveFilePicker && file.size > 512 * 1024 * 1024) {
      // Very large results go straight to disk.
      const handle = await window.showSaveFilePicker({ suggestedName: `${file.name}.sealed` });
      await sealed.pipeTo(await handle.createWritable());
      blob = await handle.getFile();
    } else {
      blob = await new Response(sealed).blob();
    }
    sealedBlob = new File([blob], `${file.name}.sealed`);
    $('seal-progress').value = 1;
    const ms = performance.now() - start;
    status(
      'seal-status',
      `sealed ${mb(file.size)} into ${mb(sealedBlob.size)} (${((100 * sealedBlob.size) / Math.max(1, file.size)).toFixed(1)}%) in ${duration(ms)}`,
    );
    $('seal-download').href = URL.createObjectURL(sealedBlob);
    $('seal-download').download = sealedBlob.name;
    $('seal-result').hidden = false;
  } catch (error) {
    status('seal-status', `${error.name}: ${error.type ?? ''} ${error.code ?? ''} ${error.message}`, true);
  }
};

$('seal-reopen').onclick = () => {
  $('open-key').value = $('seal-key').value;
  openSealed(sealedBlob);
};

$('open-start').onclick = () => {
  const file = $('open-file').files[0];
  if (!file) return status('open-status', 'choose a sealed file first', true);
  openSealed(file);
};

async function openSealed(file) {
  stream?.close();
  $('viewer').hidden = true;
  $('open-progress').value = 0;
  try {
    const key = fromHex($('open-key').value);
    const pooled = await workerPool();
    stream = pooled
      ? await pooled.open(file, { key, isCompressed: true, pool })
      : await FileStream.open(file, { key, isCompressed: true, pool });
    const total = stream.size;
    // One verifying pass over every chunk, at the reader's pace.
    let last = 0;
    for (;;) {
      const chunk = await stream.readChunk();
      if (chunk === null) break;
      const now = performance.now();
      if (now - last > 100) {
        last = now;
        const p = stream.progress();
        $('open-progress').value = total ? p.bytesRead / total : 0;
        status(
          'open-status',
          `verified ${mb(p.bytesRead)} of ${mb(total)} · ${mb(p.readSpeed)}/s · ${duration(stream.estimatedTimeRemaining())} left`,
        );
      }
    }
    const s = stream.getStats();
    $('open-progress').value = 1;
    const f = stream.format;
    status(
      'open-status',
      `verified ${mb(total)} (${f.kind}, ${f.encrypted ? 'encrypted' : 'not encrypted'}, ${f.compressed ? 'compressed' : 'stored'}, ${f.chunkCount} chunks of ${f.chunkSize} B) in ${duration(s.elapsed)} · ${mb(s.readSpeed)}/s · peak buffered ${mb(s.peakBufferedBytes)}`,
    );
    $('view-slider').max = String(Math.max(0, total - 1));
    $('view-offset').max = String(Math.max(0, total - 1));
    $('viewer').hidden = false;
    await show(0);
  } catch (error) {
    status('open-status', `${error.name}: ${error.type ?? ''} ${error.code ?? ''} ${error.message}`, true);
  }
}

let showing = 0;
async function show(offset) {
  const id = ++showing;
  const start = performance.now();
  const bytes = new Uint8Array(256);
  const n = await stream.readAt(bytes, offset);
  if (id !== showing) return;
  const lines = [];
  for (let i = 0; i < n; i += 16) {
    const row = bytes.subarray(i, Math.min(i + 16, n));
    const text = Array.from(row, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(
      `${(offset + i).toString(16).padStart(10, '0')}  ${Array.from(row, (b) => b.toString(16).padStart(2, '0'))
        .join(' ')
        .padEnd(47)}  ${text}`,
    );
  }
  $('view-hex').textContent = lines.join('\n');
  $('view-hex').dataset.offset = String(offset);
  $('view-hex').dataset.hex = hex(bytes.subarray(0, n));
  $('view-time').textContent = `readAt(${offset}): ${(performance.now() - start).toFixed(1)} ms`;
}

$('view-offset').oninput = () => {
  const offset = Math.max(0, Math.min(Number($('view-offset').value) || 0, Number($('view-slider').max)));
  $('view-slider').value = String(offset);
  show(offset);
};
$('view-slider').oninput = () => {
  $('view-offset').value = $('view-slider').value;
  show(Number($('view-slider').value));
};

setInterval(() => {
  const s = pool.getStats();
  $('pool-stats').textContent =
    `held ${mb(s.totalSize)} in ${s.bufferCount} buffers (${s.activeBuffers} lent, ${s.freeBuffers} free) · ` +
    `hits ${s.hits} · misses ${s.misses} · evictions ${s.evictions} · utilization ${(100 * s.utilization).toFixed(0)}%\n` +
    s.classes
      .map((c) => `  class ${c.size} B: ${c.active} lent, ${c.free} free, ${c.hits} hits, ${c.misses} misses`)
      .join('\n');
}, 500);
