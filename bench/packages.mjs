// NovusPack package benchmark cases, one body for Node and Chromium: reading entries of the
// benchmark package (bench/package-data.mjs: the corpus through zstd -3, lz4 -1, xz -6, AES-256-GCM
// and a small ML-KEM-768 entry) through `pkg.open(path)` read to the end, beside the decoders a
// user would pick instead on the same stored bytes in the same run. `ctx`:
//   lib, corpus, packageBytes (the .nvpk), meta (package.json), quick, only
//   fzstd, ZSTDDecoder (zstddec), lz4js, XzReadableStream (xz-decompress), gcm (@noble/ciphers),
//   mlKem768 (@noble/post-quantum), node?: { crypto }
import { check, measure, sameBytes, withRatios } from './harness.mjs';

const fromHex = (s) => Uint8Array.from(s.match(/../g), (h) => parseInt(h, 16));

async function readEntry(pkg, path, options) {
  const s = await pkg.open(path, options);
  let n = 0;
  for (let c; (c = await s.readChunk()) !== null;) n += c.length;
  s.close();
  return n;
}

export async function runPackageCases(ctx, report) {
  const { lib, corpus, packageBytes, meta, quick, only, fzstd, ZSTDDecoder, lz4js, XzReadableStream, gcm, mlKem768 } =
    ctx;
  const runs = quick ? 1 : 5;
  const warmup = quick ? 0 : 1;
  const groups = [];
  const stored = (path) => {
    const e = meta.entries[path];
    return packageBytes.subarray(e.dataOffset, e.dataOffset + e.storedSize);
  };
  const key = fromHex(meta.key);
  // From memory, as the alternatives get their input.
  const pkg = await lib.openPackage(packageBytes);
  const group = async (title, note, rows) => {
    if (only && !title.includes(only)) return;
    const g = { title, note, rows: [] };
    for (const entry of rows) {
      if (!entry) continue;
      const [name, kind, bytes, run, expectOut] = entry;
      report(`  ${title} · ${name}`);
      g.rows.push({ name, ours: kind === 'ours', speed: await measure(bytes, run, { runs, warmup, expectOut }) });
    }
    groups.push(withRatios(g));
  };
  const size = corpus.length;
  const mib = (size / 2 ** 20).toFixed(0);

  // Correctness first, outside timing.
  for (const path of ['/corpus.zst', '/corpus.lz4', '/corpus.xz', '/corpus.gcm']) {
    const s = await pkg.open(path, { key });
    const out = new Uint8Array(await new Response(s.readable()).arrayBuffer());
    check(sameBytes(out, corpus), `${path} read back differs from the corpus`);
  }

  const zstddec = new ZSTDDecoder();
  await zstddec.init();
  await group(
    `packages: zstd entry (${mib} MiB corpus, zstd -3), decoded to the end`,
    'ours: openPackage(bytes in memory).open(path) read with readChunk, CRC-32s of the stored and original bytes and the length checked; the others decode the stored bytes in memory',
    [
      ['novuspack-stream entry', 'ours', size, () => readEntry(pkg, '/corpus.zst'), size],
      ['fzstd decompress', 'alt', size, () => fzstd.decompress(stored('/corpus.zst')).length, size],
      ['zstddec (zstd in wasm) decode', 'alt', size, () => zstddec.decode(stored('/corpus.zst'), size).length, size],
    ],
  );
  await group(
    `packages: LZ4 entry (${mib} MiB corpus, lz4 -1 frame)`,
    'ours: the entry read to the end; lz4js decompresses the frame in memory',
    [
      ['novuspack-stream entry', 'ours', size, () => readEntry(pkg, '/corpus.lz4'), size],
      ['lz4js decompress', 'alt', size, () => lz4js.decompress(stored('/corpus.lz4')).length, size],
    ],
  );
  await group(
    `packages: LZMA entry (${mib} MiB corpus, xz -6)`,
    'ours: lzma-rust2 in wasm; xz-decompress: xz-embedded (C) in wasm, as a stream',
    [
      ['novuspack-stream entry', 'ours', size, () => readEntry(pkg, '/corpus.xz'), size],
      [
        'xz-decompress XzReadableStream',
        'alt',
        size,
        async () => {
          let n = 0;
          for await (const c of new XzReadableStream(new Blob([stored('/corpus.xz')]).stream())) n += c.length;
          return n;
        },
        size,
      ],
    ],
  );
  const gcmStored = stored('/corpus.gcm');
  const subtleKey = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['decrypt']);
  await group(
    `packages: AES-256-GCM entry (${mib} MiB, uncompressed)`,
    'ours: the tag verified in one pass, then decrypted by counter as read (nothing released before the tag); the others decrypt the whole entry in memory',
    [
      ['novuspack-stream entry', 'ours', size, () => readEntry(pkg, '/corpus.gcm', { key }), size],
      [
        '@noble/ciphers gcm decrypt',
        'alt',
        size,
        () => gcm(key, gcmStored.subarray(0, 12)).decrypt(gcmStored.subarray(12)).length,
        size,
      ],
      [
        'WebCrypto AES-GCM decrypt (whole entry)',
        'alt',
        size,
        async () =>
          (
            await crypto.subtle.decrypt(
              { name: 'AES-GCM', iv: gcmStored.subarray(0, 12) },
              subtleKey,
              gcmStored.subarray(12),
            )
          ).byteLength,
        size,
      ],
      ctx.node && [
        'node:crypto aes-256-gcm',
        'alt',
        size,
        () => {
          const d = ctx.node.crypto.createDecipheriv('aes-256-gcm', key, gcmStored.subarray(0, 12));
          d.setAuthTag(gcmStored.subarray(gcmStored.length - 16));
          return d.update(gcmStored.subarray(12, gcmStored.length - 16)).length + d.final().length;
        },
        size,
      ],
    ],
  );
  // Writing: writePackage's codecs against the reference tools' output sizes (the tools' speed
  // is not comparable here: they run natively in another process).
  if (!only || 'packages: writing'.includes(only) || only.includes('writing')) {
    const g = {
      title: `packages: writing (${mib} MiB corpus): writePackage speed, and its size against the reference tool's`,
      note: 'outRatio: output ÷ input; the tool rows give the sizes of zstd -3, lz4 -1 and xz -6 on the same bytes (no speed: they are native processes)',
      rows: [],
    };
    for (const [codec, level, path] of [
      ['zstd', 3, '/corpus.zst'],
      ['lz4', 0, '/corpus.lz4'],
      ['lzma', 6, '/corpus.xz'],
    ]) {
      report(`  ${g.title} · ${codec}`);
      let out = 0;
      const speed = await measure(
        size,
        async () => {
          const file = { path: '/c', source: corpus, compression: codec, compressionLevel: level };
          out = (await new Response(lib.writePackage([file])).arrayBuffer()).byteLength;
          return out;
        },
        { runs: codec === 'lzma' ? Math.min(runs, 2) : runs, warmup: codec === 'lzma' ? 0 : warmup },
      );
      g.rows.push({
        name: `novuspack-stream writePackage (${codec}, level ${level})`,
        ours: true,
        speed,
        outRatio: out / size,
      });
      g.rows.push({
        name: `${meta.tools.find((t) => t.startsWith(codec === 'lzma' ? 'xz' : codec))} (size only)`,
        ours: false,
        outRatio: meta.entries[path].storedSize / size,
      });
    }
    groups.push(g);
  }

  // Per operation: MB/s here is "operations per second" (bytes = operations x 1e6).
  const ops = quick ? 5 : 200;
  const kemStored = stored('/small.kem');
  const seed = fromHex(meta.kem.seed);
  const expanded = fromHex(meta.kem.expanded);
  const hkdfKey = async (secret) => {
    const k = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
    const info = new TextEncoder().encode('novuspack-file-encryption-v1');
    return new Uint8Array(
      await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info }, k, 256),
    );
  };
  await group(
    'packages: ML-KEM-768 entry of 64 bytes opened and read (figures: operations per second)',
    'ours: decapsulation (from the 64-byte seed, or the expanded key), HKDF-SHA256, AES-256-GCM verify and read; noble: decapsulate, WebCrypto HKDF, noble gcm',
    [
      [
        'novuspack-stream entry (seed key)',
        'ours',
        ops * 1e6,
        async () => {
          for (let i = 0; i < ops; i++) await readEntry(pkg, '/small.kem', { decapsulationKey: seed });
          return ops;
        },
        ops,
      ],
      [
        'novuspack-stream entry (expanded key)',
        'alt',
        ops * 1e6,
        async () => {
          for (let i = 0; i < ops; i++) await readEntry(pkg, '/small.kem', { decapsulationKey: expanded });
          return ops;
        },
        ops,
      ],
      [
        '@noble/post-quantum decapsulate + HKDF + gcm',
        'alt',
        ops * 1e6,
        async () => {
          const len = kemStored[0] | (kemStored[1] << 8);
          for (let i = 0; i < ops; i++) {
            const secret = mlKem768.decapsulate(kemStored.subarray(2, 2 + len), expanded);
            const k = await hkdfKey(secret);
            const framed = kemStored.subarray(2 + len);
            gcm(k, framed.subarray(0, 12)).decrypt(framed.subarray(12));
          }
          return ops;
        },
        ops,
      ],
    ],
  );
  pkg.close();
  return groups;
}
