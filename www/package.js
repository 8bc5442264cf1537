// The demo's package panel: open a NovusPack package from a file or a URL, browse its entries as
// a tree with sizes, codecs and ciphers, preview an entry (image, text or hex) and download it.
import { httpSource, openPackage } from 'novuspack-stream';

const $ = (id) => document.getElementById(id);
const PREVIEW_BYTES = 64 * 1024;
const IMAGE = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
};
let pkg = null;
let download = null;

const size = (n) =>
  n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
const status = (text) => {
  $('package-status').textContent = text;
};

function keys() {
  const hex = $('package-key').value.trim();
  const out = {};
  if (hex) {
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('a key is 64 hex digits (32 bytes)');
    out.key = Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16));
  }
  return out;
}

async function kemKey() {
  const file = $('package-kem').files[0];
  if (!file) return undefined;
  const text = (await file.text()).trim();
  if (/^([0-9a-fA-F]{2})+$/.test(text)) return Uint8Array.from(text.match(/../g), (b) => parseInt(b, 16));
  return new Uint8Array(await file.arrayBuffer());
}

/** Folders as nested objects: { dirs: Map, files: [entry] }. */
function tree(entries) {
  const root = { dirs: new Map(), files: [] };
  for (const entry of entries) {
    const parts = entry.paths[0].split('/').filter(Boolean);
    let node = root;
    for (const part of parts.slice(0, -1)) {
      if (!node.dirs.has(part)) node.dirs.set(part, { dirs: new Map(), files: [] });
      node = node.dirs.get(part);
    }
    node.files.push(entry);
  }
  return root;
}

function render(node, into) {
  for (const [name, child] of [...node.dirs].sort(([a], [b]) => a.localeCompare(b))) {
    const details = document.createElement('details');
    details.open = true;
    const summary = document.createElement('summary');
    summary.textContent = `${name}/`;
    details.append(summary);
    render(child, details);
    into.append(details);
  }
  for (const entry of node.files) {
    const row = document.createElement('div');
    row.className = 'entry';
    row.dataset.path = entry.paths[0];
    const name = entry.paths[0].split('/').pop();
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = `  ${size(entry.originalSize)} (stored ${size(entry.storedSize)}) ${entry.compression} / ${entry.encryption}`;
    row.append(name, meta);
    row.addEventListener('click', () => preview(entry).catch((e) => status(`${e.code ?? 'error'}: ${e.message}`)));
    into.append(row);
  }
}

async function show(source, label) {
  pkg?.close();
  pkg = null;
  $('package-tree').textContent = '';
  $('package-preview').hidden = true;
  status(`opening ${label}…`);
  const start = performance.now();
  pkg = await openPackage(source);
  const ms = performance.now() - start;
  status(
    `${label}: ${pkg.entries.length} entries, ${size(pkg.size)}, opened in ${ms.toFixed(0)} ms${pkg.comment ? `; comment: ${pkg.comment}` : ''}`,
  );
  render(tree(pkg.entries), $('package-tree'));
}

async function preview(entry) {
  const options = entry.encryption === 'ml-kem' ? { decapsulationKey: await kemKey() } : keys();
  const stream = await pkg.open(entry, options);
  const head = new Uint8Array(Math.min(PREVIEW_BYTES, entry.originalSize));
  const n = await stream.readAt(head, 0);
  const body = $('package-preview-body');
  body.textContent = '';
  const path = entry.paths[0];
  const type = IMAGE[path.split('.').pop().toLowerCase()];
  // The whole entry, streamed into a Blob (the stream verifies its checksums at the end).
  const blob = await new Response(stream.readable()).blob();
  if (download) URL.revokeObjectURL(download);
  download = URL.createObjectURL(type ? new Blob([blob], { type }) : blob);
  if (type) {
    const img = document.createElement('img');
    img.src = download;
    body.append(img);
  } else {
    const pre = document.createElement('pre');
    const text = new TextDecoder('utf-8', { fatal: true });
    try {
      pre.textContent = text.decode(head.subarray(0, n));
      pre.dataset.kind = 'text';
    } catch {
      pre.textContent = Array.from(head.subarray(0, Math.min(n, 512)), (b) => b.toString(16).padStart(2, '0'))
        .join(' ')
        .replace(/((?:\S\S ){16})/g, '$1\n');
      pre.dataset.kind = 'hex';
    }
    body.append(pre);
  }
  $('package-preview-title').textContent =
    `${path} (${size(entry.originalSize)}, ${entry.compression}, ${entry.encryption})`;
  $('package-download').href = download;
  $('package-download').download = path.split('/').pop();
  $('package-preview').hidden = false;
  $('package-preview').dataset.path = path;
  $('package-preview').dataset.bytes = String(blob.size);
}

const report = (e) => status(`${e.code ?? 'error'}: ${e.message}`);
$('package-file').addEventListener('change', () => {
  const file = $('package-file').files[0];
  if (file) show(file, file.name).catch(report);
});
$('package-open-url').addEventListener('click', () => {
  const url = $('package-url').value.trim();
  if (url) show(httpSource(url), url).catch(report);
});
