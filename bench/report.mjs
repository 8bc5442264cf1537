// Writes bench/RESULTS.md from bench/results-node.json and bench/results-chromium.json (either
// may be missing): one table per group and runtime, with ours ÷ each alternative by median, and
// the targets of the benchmark issue checked against the figures. Also writes the README's
// figures (between its `<!-- figures:start -->` and `<!-- figures:end -->` lines) from the same
// files, so no figure in the README is copied by hand; `--check` only checks that they agree.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const MiB = 1 << 20;

const fmt = (x, digits = 0) => (x === undefined || x === null ? '–' : x.toFixed(digits));
const bytes = (n) => (n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

function table(group) {
  const lines = [`#### ${group.title}`, ''];
  if (group.note) lines.push(`<sub>${group.note}</sub>`, '');
  if (group.rows) {
    const withOut = group.rows.some((r) => r.outRatio !== undefined);
    lines.push(`| | median MB/s | min | max |${withOut ? ' out |' : ''} ours ÷ this |`);
    lines.push(`|---|--:|--:|--:|${withOut ? '--:|' : ''}--:|`);
    for (const r of group.rows) {
      const name = r.ours ? `**${r.name}**` : r.name;
      const out = withOut ? ` ${r.outRatio === undefined ? '' : `${(r.outRatio * 100).toFixed(1)}%`} |` : '';
      lines.push(
        `| ${name} | ${fmt(r.speed?.median)} | ${fmt(r.speed?.min)} | ${fmt(r.speed?.max)} |${out} ${r.ratio ? `${r.ratio.toFixed(2)}×` : ''} |`,
      );
    }
  }
  if (group.pool) {
    lines.push(
      '| | median MB/s | min | max | calling thread, ms per GiB (median, min–max) | ÷ one thread, per round (median, min–max) |',
      '|---|--:|--:|--:|--:|--:|',
    );
    for (const r of group.pool) {
      const busy = `${fmt(r.busyMsPerGiB.median)} (${fmt(r.busyMsPerGiB.min)}–${fmt(r.busyMsPerGiB.max)})`;
      const ratio = r.ratio
        ? `${r.ratio.median.toFixed(2)}× (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})`
        : '';
      lines.push(
        `| ${r.ours ? `**${r.name}**` : r.name} | ${fmt(r.speed.median)} | ${fmt(r.speed.min)} | ${fmt(r.speed.max)} | ${busy} | ${ratio} |`,
      );
    }
  }
  if (group.latency) {
    const l = group.latency;
    lines.push(
      '| readAt 4 KiB p50 | p99 | max | one-chunk decode | p50 ÷ one chunk | sequential MB/s |',
      '|--:|--:|--:|--:|--:|--:|',
    );
    lines.push(
      `| ${fmt(l.p50, 2)} ms | ${fmt(l.p99, 2)} ms | ${fmt(l.max, 2)} ms | ${fmt(l.oneChunkMs, 2)} ms | ${(l.p50 / l.oneChunkMs).toFixed(2)}× | ${fmt(l.sequentialMBps)} |`,
    );
  }
  if (group.counts) {
    const timed = group.counts.some((c) => c.ms !== undefined);
    lines.push(`| | requests | target |${timed ? ' time |' : ''}`, `|---|--:|--:|${timed ? '--:|' : ''}`);
    for (const c of group.counts)
      lines.push(`| ${c.name} | ${c.requests} | ${c.target} |${timed ? ` ${fmt(c.ms, 1)} ms |` : ''}`);
  }
  if (group.remoteLatency) {
    const l = group.remoteLatency;
    lines.push(
      '| readAt 4 KiB p50 | p99 | requests per readAt | one round trip | one chunk decode | p50 ÷ (round trip + decode) |',
      '|--:|--:|--:|--:|--:|--:|',
    );
    lines.push(
      `| ${fmt(l.p50, 2)} ms | ${fmt(l.p99, 2)} ms | ${fmt(l.requestsPerReadAt, 2)} | ${fmt(l.roundTripMs, 2)} ms | ${fmt(l.decodeMs, 2)} ms | ${l.ratio.toFixed(2)}× |`,
    );
  }
  if (group.memory) {
    const m = group.memory;
    lines.push('| peak buffered by the stream | wasm memory before → after |', '|--:|--:|');
    lines.push(`| ${bytes(m.peakBufferedBytes)} | ${bytes(m.wasmMemoryBefore)} → ${bytes(m.wasmMemoryAfter)} |`);
  }
  if (group.process) {
    const m = group.process;
    lines.push(
      '| idle process RSS | peak RSS | growth | JS heap + ArrayBuffers growth | wasm memory | peak buffered by the stream |',
      '|--:|--:|--:|--:|--:|--:|',
    );
    lines.push(
      `| ${bytes(m.idleRss)} | ${bytes(m.peakRss)} | ${bytes(m.rssGrowth)} | ${m.jsGrowth === undefined ? '–' : bytes(m.jsGrowth)} | ${bytes(m.wasmMemory)} | ${m.peakBufferedBytes === null || m.peakBufferedBytes === undefined ? '–' : bytes(m.peakBufferedBytes)} |`,
    );
  }
  if (group.sizes) {
    lines.push('| | raw | gzip -9 |', '|---|--:|--:|');
    for (const s of group.sizes) lines.push(`| ${s.name} | ${bytes(s.raw)} | ${bytes(s.gzip)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

const find = (result, prefix) => result?.groups.find((g) => g.title.startsWith(prefix));
const row = (group, prefix) => group?.rows.find((r) => r.name.startsWith(prefix));

/** The issue's targets, each with the figure that decides it. */
function targets(result) {
  if (!result) return [];
  const out = [];
  const ratio = (g, name) => row(find(result, g), name)?.ratio;
  const verdict = (value, pass) => (value === undefined ? '–' : pass === null ? '' : pass ? 'met' : '**missed**');
  const add = (what, value, goal, pass) =>
    out.push(`| ${what} | ${value === undefined ? '–' : value} | ${goal} | ${verdict(value, pass)} |`);
  for (const [g, label] of [
    ['inflate: whole', 'whole buffer'],
    ['inflate: streamed in 64 KiB', '64 KiB pieces'],
    ['inflate: streamed in 1 MiB', '1 MiB pieces'],
  ]) {
    const f = ratio(g, 'fflate');
    const z = ratio(g, 'zip.js');
    add(`inflate (${label}) vs fflate`, f && `${f.toFixed(2)}×`, '≥ 1.2×', f >= 1.2);
    add(`inflate (${label}) vs zip.js wasm`, z && `${z.toFixed(2)}×`, '≥ 1.0×', z >= 1.0);
  }
  for (const g of [
    'ChaCha20-Poly1305 seal, 64 KiB',
    'ChaCha20-Poly1305 seal, 1 MiB',
    'ChaCha20-Poly1305 open, 64 KiB',
    'ChaCha20-Poly1305 open, 1 MiB',
  ]) {
    const s = ratio(g, 'libsodium');
    add(
      `${g.replace('ChaCha20-Poly1305 ', 'ChaCha20-Poly1305 ')} vs libsodium.js`,
      s && `${s.toFixed(2)}×`,
      '≥ 1.0×',
      s >= 1.0,
    );
  }
  const unseal = find(result, 'unseal a compressed');
  const alt = ratio('unseal a compressed', 'libsodium.js + fflate');
  add('unseal, single thread, vs libsodium.js + fflate', alt && `${alt.toFixed(2)}×`, '≥ 1.3×', alt >= 1.3);
  // The worker pool (bench/pool.mjs): interleaved rounds, ratios per round.
  for (const g of result.groups.filter((g) => g.pool && g.title.startsWith('pool.open'))) {
    const what = g.title.match(/: (.*)$/)[1];
    const p1 = g.pool.find((r) => r.name === 'pool.open, 1 worker');
    const p2 = g.pool.find((r) => r.name === 'pool.open, 2 workers');
    const chunk = Number(g.title.match(/(\d+) KiB chunks/)[1]);
    const r = (x) => `${x.ratio.median.toFixed(2)}× (${x.ratio.min.toFixed(2)}–${x.ratio.max.toFixed(2)})`;
    add(`pool.open, 2 workers ÷ one thread: ${what}`, r(p2), '≥ 1.8×', p2.ratio.median >= 1.8);
    add(`pool.open, 1 worker ÷ one thread: ${what}`, r(p1), '≥ 0.95×', p1.ratio.median >= 0.95);
    const goal = chunk >= 1024 ? 50 : 150;
    add(
      `calling thread busy, 2 workers, ms per GiB: ${what}`,
      fmt(p2.busyMsPerGiB.median),
      `≤ ${goal}`,
      p2.busyMsPerGiB.median <= goal,
    );
  }
  const sealPool = result.groups.find((g) => g.pool && g.title.startsWith('seal({ pool })'));
  const s2 = sealPool?.pool.find((r) => r.name === 'seal, pool of 2');
  if (s2)
    add(
      'seal({ pool }), 2 workers ÷ seal on one thread (level 6)',
      `${s2.ratio.median.toFixed(2)}× (${s2.ratio.min.toFixed(2)}–${s2.ratio.max.toFixed(2)})`,
      '≥ 1.8×',
      s2.ratio.median >= 1.8,
    );
  const l = find(result, 'random access')?.latency;
  if (l)
    add(
      'readAt 4 KiB p50 ÷ one-chunk decode',
      `${(l.p50 / l.oneChunkMs).toFixed(2)}×`,
      '≤ 2×',
      l.p50 / l.oneChunkMs <= 2,
    );
  // NovusPack packages (bench/packages.mjs).
  for (const [g, alt, goal, label] of [
    ['packages: zstd entry', 'fzstd', 2, 'zstd entry vs fzstd'],
    ['packages: zstd entry', 'zstddec', null, 'zstd entry vs zstddec (C in wasm)'],
    ['packages: LZ4 entry', 'lz4js', 2, 'LZ4 entry vs lz4js'],
    ['packages: LZMA entry', 'xz-decompress', null, 'LZMA (.xz) entry vs xz-decompress'],
    ['packages: AES-256-GCM entry', '@noble/ciphers', 1, 'AES-256-GCM entry vs @noble/ciphers'],
    ['packages: AES-256-GCM entry', 'WebCrypto', null, 'AES-256-GCM entry vs WebCrypto (whole entry)'],
    ['packages: ML-KEM-768', '@noble/post-quantum', null, 'ML-KEM-768 entry open vs @noble/post-quantum'],
  ]) {
    const r = ratio(g, alt);
    if (r !== undefined) add(label, `${r.toFixed(2)}×`, goal ? `≥ ${goal}×` : 'reported', goal ? r >= goal : null);
  }
  // Remote files (bench/remote.mjs).
  const remote = result.groups.find((g) => g.remoteRatio);
  if (remote)
    add(
      'a sealed file read in order over HTTP (20 ms per response) ÷ from a local Blob',
      `${(remote.remoteRatio.median * 100).toFixed(0)}%`,
      '≥ 90%',
      remote.remoteRatio.median >= 0.9,
    );
  for (const g of result.groups.filter((g) => g.process)) {
    if (g.title.startsWith('memory: sealing')) {
      add(
        '1 GiB on disk sealed to disk (seal piped to a file): RSS above the idle process',
        bytes(g.process.rssGrowth),
        'reported',
        null,
      );
      continue;
    }
    const how = g.title.includes('zstd entry')
      ? 'pkg.open (a zstd entry)'
      : g.title.includes('through httpSource')
        ? 'FileStream.open(httpSource)'
        : (g.title.match(/read to the end by (.*) with/)?.[1] ?? 'FileStream.open');
    add(
      `1 GiB streamed by ${how}, memoryLimit 64 MiB: RSS above the idle process`,
      bytes(g.process.rssGrowth),
      '≤ 64 MiB + 16 MiB',
      g.process.rssGrowth <= 80 * MiB,
    );
  }
  const size = find(result, 'size')?.sizes?.[0];
  if (size) add('.wasm gzip size', bytes(size.gzip), '≤ 100 KiB', size.gzip <= 100 * 1024);
  return out;
}

export function writeReport() {
  const load = (name) => {
    const path = join(here, `results-${name}.json`);
    return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
  };
  const results = [load('node'), load('chromium')].filter(Boolean);
  const corpus = results[0]?.corpus;
  const lines = [
    '# Benchmark results',
    '',
    "Written by `npm run bench` (Node) and `npm run bench:browser` (headless Chromium, cross-origin-isolated page); rerun them to reproduce. Every figure is the median of 5 runs after one warm-up, with min and max; **ours ÷ this** is our median throughput over the alternative's, so above 1 means we are faster. Bold rows are novuspack-stream through its public API.",
    '',
  ];
  if (corpus) {
    lines.push(
      `Corpus (bench/corpus.mjs): ${bytes(corpus.corpus.bytes)} mixed, sha256 \`${corpus.corpus.sha256}\` (${corpus.corpus.text}; binary: ${corpus.corpus.binary}); incompressible ${bytes(corpus.random.bytes)}, sha256 \`${corpus.random.sha256}\`.`,
      '',
    );
  }
  // The hand-written part: what changed, and where targets are missed and why.
  const notes = join(here, 'NOTES.md');
  if (existsSync(notes)) lines.push(readFileSync(notes, 'utf8'), '');
  for (const r of results) {
    lines.push(`## ${r.runtime}`, '', `${r.machine}; ${r.date}; ${r.seconds} s.`, '');
    const t = targets(r);
    if (t.length) lines.push('### Targets', '', '| target | measured | goal | |', '|---|--:|--:|---|', ...t, '');
    lines.push('### Figures', '');
    for (const g of r.groups) lines.push(table(g));
  }
  writeFileSync(join(here, 'RESULTS.md'), lines.join('\n'));
  console.log(`wrote bench/RESULTS.md (${results.map((r) => r.runtime).join(', ')})`);
  if (readFileSync(README, 'utf8').includes(START)) {
    writeFileSync(README, readmeWithFigures(loadResults()));
    console.log('wrote the figures of README.md');
  }
}

/** Ours ÷ the alternative `alt` in the group whose title starts with `group`, as "1.23×". */
function ratioOf(result, group, alt) {
  const r = row(find(result, group), alt)?.ratio;
  return r === undefined ? '–' : `${r.toFixed(2)}×`;
}

/** The README's figures: a few lines, each Node / Chromium, from the results files. */
export function readmeFigures(results) {
  const [node, chromium] = ['node', 'chromium'].map((n) => results.find((r) => r?.name === n) ?? null);
  const both = (fn) => `${node ? fn(node) : '–'} / ${chromium ? fn(chromium) : '–'}`;
  const pool = (r, chunk) => {
    const g = r.groups.find(
      (x) => x.pool && x.title.startsWith('pool.open') && x.title.includes(`${chunk} KiB chunks`),
    );
    const p2 = g?.pool.find((x) => x.name === 'pool.open, 2 workers');
    return p2 ? `${p2.ratio.median.toFixed(2)}×` : '–';
  };
  const memory = (r, what) => {
    const g = r?.groups.find((x) => x.process && x.title.includes(what));
    return g ? bytes(g.process.rssGrowth) : '–';
  };
  const size = (r, name) => {
    const s = find(r, 'size')?.sizes?.find((x) => x.name.startsWith(name));
    return s ? `${(s.gzip / 1024).toFixed(0)} KiB` : '–';
  };
  const lines = [
    `Measured by \`npm run bench\` and \`npm run bench:browser\` (figures: Node / Chromium, ours ÷ theirs, median of 5 runs; all figures and the machine in [bench/RESULTS.md](bench/RESULTS.md)):`,
    '',
    `- inflate: **${both((r) => ratioOf(r, 'inflate: whole', 'fflate'))}** fflate, ${both((r) => ratioOf(r, 'inflate: whole', 'zip.js'))} zip.js's wasm zlib;`,
    `- ChaCha20-Poly1305 (1 MiB messages): **${both((r) => ratioOf(r, 'ChaCha20-Poly1305 open, 1 MiB', 'libsodium'))}** libsodium.js;`,
    `- opening a compressed + encrypted file: **${both((r) => ratioOf(r, 'unseal a compressed', 'libsodium.js + fflate'))}** libsodium.js + fflate on one thread; with the worker pool, 2 workers read at **${both((r) => pool(r, 1024))}** one thread (1 MiB chunks);`,
    `- NovusPack entries: zstd **${both((r) => ratioOf(r, 'packages: zstd entry', 'fzstd'))}** fzstd, LZ4 **${both((r) => ratioOf(r, 'packages: LZ4 entry', 'lz4js'))}** lz4js, AES-256-GCM **${both((r) => ratioOf(r, 'packages: AES-256-GCM entry', '@noble/ciphers'))}** @noble/ciphers;`,
    `- memory: streaming a 1 GiB file from disk with \`memoryLimit: 64 MiB\` grows Node by ${memory(node, 'sealed file on disk (fs.openAsBlob) read to the end by FileStream.open')} (sealed), ${memory(node, 'zstd entry')} (a zstd package entry) and ${memory(node, 'through httpSource')} (sealed, over HTTP); sealing 1 GiB from disk to disk by ${memory(node, 'memory: sealing')};`,
    `- size (gzip): the main module ${size(node, 'novuspack-stream .wasm')}, the package module ${size(node, 'novuspack-stream package module .wasm')} (fetched only when a package is first used).`,
  ];
  return lines.join('\n');
}

const README = join(here, '..', 'README.md');
const START = '<!-- figures:start -->';
const END = '<!-- figures:end -->';

/** The README with its figures block made from the results files. */
function readmeWithFigures(results) {
  const text = readFileSync(README, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${START} ... ${END} block`);
  return `${text.slice(0, a + START.length)}\n${readmeFigures(results)}\n${text.slice(b)}`;
}

function loadResults() {
  return ['node', 'chromium'].map((name) => {
    const path = join(here, `results-${name}.json`);
    return existsSync(path) ? { name, ...JSON.parse(readFileSync(path, 'utf8')) } : null;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--check')) {
    const want = readmeWithFigures(loadResults());
    if (want !== readFileSync(README, 'utf8')) {
      console.error('README.md figures differ from bench/results-*.json: run `node bench/report.mjs`');
      process.exit(1);
    }
    console.log('README.md figures are those of bench/results-*.json');
  } else {
    writeReport();
  }
}

/**
 * The end of a bench run: with `only`, print the groups; with `quick` (the smoke test), say
 * that every check passed; else write bench/results-<name>.json and regenerate RESULTS.md.
 */
export function finishRun(result, { name, runtime, only, quick }) {
  if (only) {
    for (const g of result.groups.filter((g) => g.latency)) console.log(g.title, g.latency);
    for (const g of result.groups.filter((g) => g.pool)) console.log(table(g));
    for (const g of result.groups.filter((g) => g.rows)) {
      console.log(g.title);
      for (const r of g.rows) {
        const ratio = r.ratio ? `${r.ratio.toFixed(2)}x` : '';
        const out = r.outRatio === undefined ? '' : ` out ${(r.outRatio * 100).toFixed(1)}%`;
        console.log(`  ${r.name.padEnd(52)} ${fmt(r.speed?.median).padStart(6)} MB/s ${ratio}${out}`);
      }
    }
  } else if (quick) {
    console.log(`bench smoke test (${runtime}): ${result.groups.length} groups, every check passed`);
  } else {
    writeFileSync(join(here, `results-${name}.json`), JSON.stringify(result, null, 2));
    writeReport();
  }
}
