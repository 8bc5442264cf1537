// The worker pool's benchmark, one body for Node and Chromium: does the pool pay for itself?
// Each case is measured in shuffled rounds, every round running the single-threaded reader,
// pool.open with 1 worker and with 2 (or seal on one thread and with the pool) in random order,
// so load that comes and goes hits every variant alike. Reported per variant: median, min and
// max MB/s, the calling thread's busy time per GiB (`ctx.busy()`: Node's event-loop
// utilisation, Chromium's renderer TaskDuration), and the median of the per-round ratios to
// the single thread with their min and max; the machine's load is recorded before each case.
// Outputs are checked: in full in a first, untimed pass, and by samples in every timed run.
import { check, collect, drain } from './harness.mjs';
import { corpusStream } from './cases.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);

/** Fisher-Yates with a seeded generator (reproducible order). */
function shuffled(list, seed) {
  const out = [...list];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const summary = (values) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) });

/**
 * Reads a FileStream to its end. `expected(offset, length)` gives the plaintext expected there:
 * with `full`, every byte is compared (untimed pass); otherwise 256 bytes per chunk.
 */
async function readChecked(stream, expected, full) {
  let offset = 0;
  for (;;) {
    const chunk = await stream.readChunk();
    if (chunk === null) break;
    if (full) {
      const want = expected(offset, chunk.length);
      for (let i = 0; i < chunk.length; i++) if (chunk[i] !== want[i]) check(false, `byte ${offset + i} differs`);
    } else {
      const at = (offset * 31) % Math.max(1, chunk.length - 256);
      const want = expected(offset + at, Math.min(256, chunk.length - at));
      for (let i = 0; i < want.length; i++)
        if (chunk[at + i] !== want[i]) check(false, `byte ${offset + at + i} differs`);
    }
    offset += chunk.length;
  }
  stream.close();
  return offset;
}

/** Runs `variants` ([name, run(full) -> bytes]) in `rounds` shuffled rounds; see the file header. */
async function interleaved(ctx, bytes, variants, rounds) {
  for (const [, run] of variants) check((await run(true)) === bytes, 'untimed full check');
  const per = new Map(variants.map(([name]) => [name, { speeds: [], busy: [] }]));
  const ratios = new Map(variants.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const times = new Map();
    for (const [name, run] of shuffled(variants, round + 1)) {
      await ctx.settle();
      const busy0 = await ctx.busy();
      const start = performance.now();
      const out = await run(false);
      const ms = performance.now() - start;
      const busy = (await ctx.busy()) - busy0;
      check(out === bytes, `${name}: ${out} bytes, expected ${bytes}`);
      per.get(name).speeds.push(bytes / 1e6 / (ms / 1000));
      per.get(name).busy.push(busy / (bytes / GiB));
      times.set(name, ms);
    }
    const base = times.get(variants[0][0]);
    for (const [name] of variants) ratios.get(name).push(base / times.get(name));
  }
  return variants.map(([name], i) => ({
    name,
    ours: i === 0,
    speed: summary(per.get(name).speeds),
    busyMsPerGiB: summary(per.get(name).busy),
    ratio: i === 0 ? undefined : summary(ratios.get(name)),
  }));
}

/** The pool cases. `ctx`: { lib, corpus, quick, busy(), settle(), load(), memory? }. */
export async function runPoolCases(ctx, report) {
  const { lib, corpus, quick } = ctx;
  const rounds = quick ? 1 : 5;
  const pools = {};
  for (const workers of [1, 2]) {
    pools[workers] = new lib.StreamingWorkerPool({ maxWorkers: workers });
    await pools[workers].start();
  }
  const transport = pools[2].transport;
  const groups = [];
  const expectedFrom = (plain) => (offset, length) => plain.subarray(offset, offset + length);
  // The plaintext of a file made by corpusStream(corpus, size, piece): piece k starts at
  // corpus offset (k * piece) % (corpus.length - piece).
  const streamed = (piece) => (offset, length) => {
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const k = Math.floor((offset + done) / piece);
      const within = (offset + done) % piece;
      const at = ((k * piece) % (corpus.length - piece)) + within;
      const n = Math.min(length - done, piece - within);
      out.set(corpus.subarray(at, at + n), done);
      done += n;
    }
    return out;
  };

  const cases = [
    { title: 'the corpus', size: corpus.length, chunk: 256 * KiB },
    { title: 'the corpus', size: corpus.length, chunk: MiB },
    { title: 'a 256 MiB file', size: quick ? 8 * MiB : 256 * MiB, chunk: 256 * KiB },
    { title: 'a 256 MiB file', size: quick ? 8 * MiB : 256 * MiB, chunk: MiB },
  ];
  for (const c of cases) {
    const label = `pool.open vs one thread: ${c.title} (${(c.size / MiB).toFixed(0)} MiB, deflate 6 + ChaCha20-Poly1305, ${c.chunk / KiB} KiB chunks)`;
    if (ctx.only && !label.includes(ctx.only)) continue;
    report(`  ${label}`);
    const piece = Math.min(4 * MiB, corpus.length / 2);
    const plain = c.size === corpus.length ? corpus : null;
    const source = plain ?? corpusStream(corpus, c.size, piece);
    const sealed = new Blob([await collect(lib.seal(source, { key: KEY, compress: 6, chunkSize: c.chunk }))]);
    const expected = plain ? expectedFrom(plain) : streamed(piece);
    const load = ctx.load();
    const rows = await interleaved(
      ctx,
      c.size,
      [
        [
          'FileStream.open, one thread',
          (full) => lib.FileStream.open(sealed, { key: KEY }).then((s) => readChecked(s, expected, full)),
        ],
        [
          'pool.open, 1 worker',
          (full) => pools[1].open(sealed, { key: KEY }).then((s) => readChecked(s, expected, full)),
        ],
        [
          'pool.open, 2 workers',
          (full) => pools[2].open(sealed, { key: KEY }).then((s) => readChecked(s, expected, full)),
        ],
      ],
      rounds,
    );
    groups.push({
      title: label,
      note: `${transport} transport; ${rounds} shuffled rounds; load before: ${load}`,
      pool: rows,
    });
  }

  {
    const label = `seal({ pool }) vs seal on one thread (${(corpus.length / MiB).toFixed(0)} MiB corpus Blob, deflate level 6 + ChaCha20-Poly1305)`;
    if (!ctx.only || label.includes(ctx.only)) {
      report(`  ${label}`);
      const load = ctx.load();
      const expectedSize = await drain(lib.seal(new Blob([corpus]), { key: KEY, compress: 6 }));
      const sealWith = (pool) => async (full) => {
        if (full) {
          // Untimed: what the pool sealed opens to the corpus, byte for byte.
          const sealed = await collect(lib.seal(new Blob([corpus]), { key: KEY, compress: 6, pool }));
          return readChecked(await lib.FileStream.open(sealed, { key: KEY }), expectedFrom(corpus), true);
        }
        const n = await drain(lib.seal(new Blob([corpus]), { key: KEY, compress: 6, pool }));
        // Same chunks at the same level: the same size, whatever the salt.
        check(n === expectedSize, `sealed ${n} bytes, expected ${expectedSize}`);
        return corpus.length;
      };
      const rows = await interleaved(
        ctx,
        corpus.length,
        [
          ['seal, one thread', sealWith(undefined)],
          ['seal, pool of 1', sealWith(pools[1])],
          ['seal, pool of 2', sealWith(pools[2])],
        ],
        rounds,
      );
      groups.push({
        title: label,
        note: `${transport} transport; ${rounds} shuffled rounds; load before: ${load}`,
        pool: rows,
      });
    }
  }
  for (const pool of Object.values(pools)) await pool.stop();
  return groups;
}
