// Writes bench/RESULTS.md from bench/results-node.json and bench/results-chromium.json (either
// may be missing): one table per group and runtime, with ours ÷ each alternative by median, and
// the targets of the benchmark issue checked against the figures.
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
        `| ${name} | ${fmt(r.speed.median)} | ${fmt(r.speed.min)} | ${fmt(r.speed.max)} |${out} ${r.ratio ? `${r.ratio.toFixed(2)}×` : ''} |`,
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
  if (group.memory) {
    const m = group.memory;
    lines.push('| peak buffered by the stream | wasm memory before → after |', '|--:|--:|');
    lines.push(`| ${bytes(m.peakBufferedBytes)} | ${bytes(m.wasmMemoryBefore)} → ${bytes(m.wasmMemoryAfter)} |`);
  }
  if (group.process) {
    const m = group.process;
    lines.push(
      '| idle process RSS | peak RSS | growth | wasm memory | peak buffered by the stream |',
      '|--:|--:|--:|--:|--:|',
    );
    lines.push(
      `| ${bytes(m.idleRss)} | ${bytes(m.peakRss)} | ${bytes(m.rssGrowth)} | ${bytes(m.wasmMemory)} | ${bytes(m.peakBufferedBytes)} |`,
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
  for (const g of result.groups.filter((g) => g.process)) {
    const how = g.title.match(/read to the end by (.*) with/)?.[1] ?? 'FileStream.open';
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
}

if (import.meta.url === `file://${process.argv[1]}`) writeReport();

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
        console.log(`  ${r.name.padEnd(52)} ${r.speed.median.toFixed(0).padStart(6)} MB/s ${ratio}`);
      }
    }
  } else if (quick) {
    console.log(`bench smoke test (${runtime}): ${result.groups.length} groups, every check passed`);
  } else {
    writeFileSync(join(here, `results-${name}.json`), JSON.stringify(result, null, 2));
    writeReport();
  }
}
