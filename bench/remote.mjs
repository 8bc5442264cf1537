// The remote-file benchmark groups, one body for Node and Chromium: httpSource against a local
// HTTP server (tests/js/http-server.mjs, another process) that can add latency to every
// response. `runRemoteCases(ctx, report)` returns benchmark groups (the shape of cases.mjs) and
// checks every output. `ctx`:
//   lib          the novuspack-stream package         zip    zip.js (HttpRangeReader)
//   quick        small data, one run (the smoke test)  key    the sealing key of the files
//   remote       { url(name), stats(), summary(name) } a serverClient of the server
//   files        { stream, zip, big }: names on the server, each { name, plainSize, storedSize }
//                stream: the plaintext sealed (deflate + ChaCha20-Poly1305), served with 20 ms
//                latency per response (`streamFast`: the same file without latency);
//                zip: the same plaintext as one AES-256 entry of a zip, with 20 ms latency;
//                big: 1 GiB of random bytes sealed (readAt and memory rows), no latency
//   blobOf(name) a local Blob of the same file (Node: fs.openAsBlob; Chromium: in memory)
//   password     the zip entry's password
//   memory?()    Node only: runs the 1 GiB read in a fresh process, { rssGrowth, ... }
//   sink?        'worker' when zip.js may use web workers (it decodes on this thread otherwise)
import { check, measure, percentile, readToEnd, withRatios } from './harness.mjs';

const MiB = 1024 * 1024;

/** A WritableStream that only counts bytes (zip.js writes the entry's plaintext into it). */
function counter() {
  const state = { n: 0 };
  state.stream = new WritableStream({
    write(chunk) {
      state.n += chunk.length;
    },
  });
  return state;
}

export async function runRemoteCases(ctx, report) {
  const { lib, zip, quick, remote, files, key } = ctx;
  const runs = quick ? 1 : 3;
  const warmup = quick ? 0 : 1;
  const groups = [];
  const run = async (title, fn) => {
    report(`  ${title}`);
    groups.push(await fn());
  };

  // ----- opening: requests -----
  await run('remote: opening a sealed file and reading 4 KiB', async () => {
    const source = lib.httpSource(remote.url(files.big.name));
    const before = (await remote.summary(files.big.name)).requests;
    const stream = await lib.FileStream.open(source, { key });
    const opened = source.stats().requests;
    const into = new Uint8Array(4096);
    check((await stream.readAt(into, Math.floor(stream.size / 2))) === 4096, 'readAt filled');
    const after = (await remote.summary(files.big.name)).requests;
    stream.close();
    check(opened <= 2, `open took ${opened} requests`);
    check(after - before === opened + 1, `open + readAt took ${after - before} requests on the server`);
    return {
      title: 'remote: requests to open a sealed file and read 4 KiB from it (1 GiB, sealed, on a local server)',
      counts: [
        { name: 'open (suffix range + first bytes)', requests: opened, target: '≤ 2' },
        { name: 'readAt 4 KiB inside one chunk', requests: after - before - opened, target: '1' },
      ],
    };
  });

  // ----- a package of many entries: requests and time to open it, then to read one entry -----
  await run('remote: opening a package of many entries', async () => {
    const { name, entries } = files.package;
    const times = { open: [], entry: [] };
    let counts = null;
    for (let round = 0; round < runs + warmup; round++) {
      const source = lib.httpSource(remote.url(name));
      const before = (await remote.summary(name)).requests;
      let t = performance.now();
      const pkg = await lib.openPackage(source);
      const open = performance.now() - t;
      const opened = (await remote.summary(name)).requests - before;
      check(pkg.entries.length === entries, `${pkg.entries.length} entries`);
      t = performance.now();
      const stream = await pkg.open(`/assets/${String(entries >> 1).padStart(4, '0')}.bin`);
      check((await readToEnd(stream)) === 4096, 'the entry read');
      const entry = performance.now() - t;
      const read = (await remote.summary(name)).requests - before - opened;
      pkg.close();
      check(opened <= 4 && read <= 1, `open took ${opened} requests, one entry ${read}`);
      if (round >= warmup) {
        times.open.push(open);
        times.entry.push(entry);
      }
      counts = { opened, read };
    }
    const p50 = (xs) => percentile(xs, 50);
    return {
      title: `remote: a package of ${entries} entries (zstd, 4 KiB each) opened over HTTP, the server adding 20 ms to every response`,
      note: `median of ${runs} runs after ${warmup} warm-up; one round trip is at least 20 ms here`,
      counts: [
        {
          name: 'openPackage (header, index, entry records)',
          requests: counts.opened,
          target: '≤ 4',
          ms: p50(times.open),
        },
        { name: 'reading one entry after open', requests: counts.read, target: '≤ 1', ms: p50(times.entry) },
      ],
    };
  });

  // ----- readAt latency against a round trip plus one chunk decode -----
  await run('remote: readAt 4 KiB latency', async () => {
    const n = quick ? 10 : 60;
    const url = remote.url(files.big.name);
    const offsets = Array.from({ length: n }, (_, i) => Math.floor(((i * 7919) % n) * (files.big.plainSize / n)) + 123);
    // One round trip: a GET of one stored chunk's bytes (the file's 256 KiB chunks, stored) at the
    // same places, through fetch() alone.
    const record = 256 * 1024 + 20;
    const rtt = [];
    for (const offset of offsets) {
      const at = Math.floor(offset * (files.big.storedSize / files.big.plainSize));
      const t = performance.now();
      const r = await fetch(url, { headers: { range: `bytes=${at}-${at + record - 1}` } });
      await r.arrayBuffer();
      rtt.push(performance.now() - t);
    }
    // One chunk decode: the same readAt on a local Blob of the same file.
    const local = await lib.FileStream.open(await ctx.blobOf(files.big.name), { key });
    const decode = [];
    for (const offset of offsets) {
      const t = performance.now();
      await local.readAt(new Uint8Array(4096), offset + 17);
      decode.push(performance.now() - t);
    }
    local.close();
    const source = lib.httpSource(url);
    const stream = await lib.FileStream.open(source, { key });
    const base = source.stats().requests;
    const times = [];
    for (const offset of offsets) {
      const into = new Uint8Array(4096);
      const t = performance.now();
      check((await stream.readAt(into, offset)) === 4096, 'readAt filled');
      times.push(performance.now() - t);
    }
    const requests = source.stats().requests - base;
    stream.close();
    check(requests === n, `${n} readAts took ${requests} requests`);
    const p50 = percentile(times, 50);
    const bound = percentile(rtt, 50) + percentile(decode, 50);
    return {
      title: `remote: readAt 4 KiB at ${n} random places of a ${Math.round(files.big.plainSize / MiB)} MiB sealed file on a local server`,
      note: 'one round trip = p50 of a fetch() of one stored chunk (256 KiB) at the same places; one chunk decode = p50 of the same readAt on a local Blob',
      remoteLatency: {
        p50,
        p99: percentile(times, 99),
        requestsPerReadAt: requests / n,
        roundTripMs: percentile(rtt, 50),
        decodeMs: percentile(decode, 50),
        ratio: p50 / bound,
      },
    };
  });

  // ----- reading in order: remote with 20 ms per response vs a local Blob, zip.js, fetch whole -----
  await run('remote: reading in order', async () => {
    const { stream: s, zip: z } = files;
    const bytes = s.plainSize;
    const blob = await ctx.blobOf(s.name);
    const sources = [];
    const rows = [
      [
        'novuspack-stream httpSource, 20 ms per response',
        'ours',
        async () => {
          const source = lib.httpSource(remote.url(s.name));
          sources.push(source);
          return readToEnd(await lib.FileStream.open(source, { key }));
        },
      ],
      [
        'novuspack-stream, the same file as a local Blob',
        'ref',
        async () => readToEnd(await lib.FileStream.open(blob, { key })),
      ],
      [
        'fetch() the whole file, then novuspack-stream',
        'alt',
        async () => {
          const whole = new Uint8Array(await (await fetch(remote.url(s.name))).arrayBuffer());
          return readToEnd(await lib.FileStream.open(whole, { key }));
        },
      ],
      [
        `zip.js HttpRangeReader, AES-256 entry, 20 ms per response${ctx.sink === 'worker' ? ' (web workers)' : ''}`,
        'alt',
        async () => {
          const reader = new zip.ZipReader(new zip.HttpRangeReader(remote.url(z.name)));
          const [entry] = await reader.getEntries();
          const out = counter();
          await entry.getData(out.stream, { password: ctx.password, useWebWorkers: ctx.sink === 'worker' });
          await reader.close();
          return out.n;
        },
      ],
    ];
    // Interleaved rounds (every row once per round, in a rotating order), so a busy moment of a
    // shared machine weighs on all rows alike; the remote ÷ Blob ratio is taken per round.
    const speeds = rows.map(() => []);
    const ratios = [];
    for (let round = 0; round < warmup + runs; round++) {
      const order = rows.map((_, i) => (i + round) % rows.length);
      const here = [];
      for (const i of order) {
        report(`    round ${round + 1}: ${rows[i][0]}`);
        const speed = await measure(bytes, rows[i][2], { runs: 1, warmup: 0, expectOut: bytes });
        here[i] = speed.median;
      }
      if (round < warmup) continue;
      here.forEach((v, i) => speeds[i].push(v));
      ratios.push(here[0] / here[1]);
    }
    const summary = (list) => ({
      median: percentile(list, 50),
      min: Math.min(...list),
      max: Math.max(...list),
      runs: list.length,
    });
    const group = {
      title: `remote: a ${Math.round(bytes / MiB)} MiB sealed file read in order, the server adding 20 ms to every response`,
      rows: rows.map(([name, kind], i) => ({ name, ours: kind === 'ours', speed: summary(speeds[i]) })),
    };
    const ratio = summary(ratios);
    const requests = sources.map((x) => x.stats().requests);
    group.note =
      `httpSource ÷ local Blob, per round: median ${(ratio.median * 100).toFixed(0)}% ` +
      `(${(ratio.min * 100).toFixed(0)}–${(ratio.max * 100).toFixed(0)}%; target ≥ 90%); requests per read: ${[...new Set(requests)].join(', ')}`;
    group.remoteRatio = ratio;
    return withRatios(group);
  });

  // ----- memory: 1 GiB remote with memoryLimit 64 MiB -----
  if (ctx.memory) {
    await run('remote: memory of a 1 GiB read', async () => {
      const m = await ctx.memory();
      check(m.bytes === files.big.plainSize, `the memory run read ${m.bytes} bytes`);
      return {
        title: `memory: a ${Math.round(files.big.plainSize / MiB)} MiB sealed file read to the end through httpSource with memoryLimit 64 MiB, in a fresh process`,
        note: 'RSS growth = peak resident set size minus the idle process with the package loaded (target ≤ 64 + 16 MiB); jsGrowth = the same for the JS heap and ArrayBuffers (without what the allocator keeps)',
        process: m,
      };
    });
  }
  return groups;
}
