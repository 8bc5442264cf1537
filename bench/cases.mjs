// The benchmark cases, one body for every runtime (bench/node.mjs and bench/browser.mjs run it):
// each group measures novuspack-stream through its public API beside the libraries a user would
// pick instead, on the same bytes in the same run. `ctx` brings the libraries and the data:
//   lib        the novuspack-stream package            fflate, pako, noble, sodium, zip
//   zipInflate zip.js's wasm zlib DecompressionStream  node: { zlib, crypto } in Node only
//   corpus     64 MiB mixed text + binary              random: 64 MiB incompressible
//   deflated   raw deflate (zlib level 6) of corpus    quick: small sizes, one run (smoke test)
import { check, collect, drain, measure, percentile, piecesOf, sameBytes, withRatios } from './harness.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A deterministic key (benchmarks only). */
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);

function nonceOf(i) {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(8, i);
  return n;
}

/** Reads a FileStream to its end, returning the byte count. */
async function readAll(fs) {
  let n = 0;
  for (;;) {
    const chunk = await fs.readChunk();
    if (chunk === null) break;
    n += chunk.length;
  }
  fs.close();
  return n;
}

/** Concatenates FileStream output (verification, outside timing). */
async function readAllBytes(fs) {
  const out = await collect(fs);
  fs.close();
  return out;
}

/**
 * `size` bytes of plaintext as a ReadableStream of corpus pieces of `piece` bytes: the piece
 * at logical offset `k * piece` is corpus[(k * piece) % (corpus.length - piece) ...], so a
 * reader can check any range inside one piece.
 */
export function corpusStream(corpus, size, piece) {
  let produced = 0;
  return new ReadableStream({
    pull(controller) {
      if (produced >= size) return controller.close();
      const n = Math.min(piece, size - produced);
      const at = produced % (corpus.length - piece);
      controller.enqueue(corpus.slice(at, at + n));
      produced += n;
    },
  });
}

/** node:crypto ChaCha20-Poly1305 of one message: ciphertext length + tag. */
function nodeSealLength(crypto, message, i) {
  const c = crypto.createCipheriv('chacha20-poly1305', KEY, nonceOf(i), { authTagLength: 16 });
  const n = c.update(message).length + c.final().length;
  return n + c.getAuthTag().length;
}

/** node:crypto open of `sealed` (ciphertext then 16-byte tag): the plaintext. */
function nodeOpen(crypto, sealed, i) {
  const d = crypto.createDecipheriv('chacha20-poly1305', KEY, nonceOf(i), { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
}

/** The same job as a sealed file, built from the alternatives: per chunk deflate then AEAD. */
function chunked(data, size) {
  const out = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

export async function runCases(ctx, report) {
  const { lib, fflate, pako, noble, sodium, zip, zipInflate, node, quick } = ctx;
  const runs = quick ? 1 : 5;
  const warmup = quick ? 0 : 1;
  const opts = (expectOut) => ({ runs, warmup, expectOut });
  const corpus = ctx.corpus;
  const random = ctx.random;
  const deflated = ctx.deflated;
  const has = (name) => ctx.skip?.includes(name) !== true;
  const groups = [];
  const group = async (title, note, rows) => {
    if (ctx.only && !title.includes(ctx.only)) return;
    const g = { title, note, rows: [] };
    for (const entry of rows) {
      if (!entry) continue; // an alternative this runtime does not have
      const [name, kind, run] = entry;
      report(`  ${title} · ${name}`);
      const result = await run();
      g.rows.push({ name, ours: kind === 'ours', ...result });
    }
    groups.push(withRatios(g));
  };
  const speed = async (bytes, fn, expectOut) => ({ speed: await measure(bytes, fn, opts(expectOut)) });

  // Correctness first, outside timing: what we decode is the corpus, byte for byte.
  {
    const fs = await lib.FileStream.open(deflated, { isCompressed: true });
    check(sameBytes(await readAllBytes(fs), corpus), 'FileStream inflate output differs from the corpus');
  }

  // ----- inflate -----
  const decompressionStream = (() => {
    try {
      new DecompressionStream('deflate-raw');
      return true;
    } catch {
      return false;
    }
  })();
  const zipjsStream = (src) => drain(src.pipeThrough(new zipInflate('deflate-raw')));
  const nativeStream = (src) => drain(src.pipeThrough(new DecompressionStream('deflate-raw')));
  await group(
    `inflate: whole buffer (${(corpus.length / MiB).toFixed(0)} MiB corpus, raw deflate level 6)`,
    'ours: FileStream.open(Uint8Array, { isCompressed: true }) read to the end',
    [
      [
        'novuspack-stream FileStream',
        'ours',
        () =>
          speed(
            corpus.length,
            async () => readAll(await lib.FileStream.open(deflated, { isCompressed: true })),
            corpus.length,
          ),
      ],
      [
        'fflate inflateSync',
        'alt',
        () => speed(corpus.length, () => fflate.inflateSync(deflated).length, corpus.length),
      ],
      ['pako inflateRaw', 'alt', () => speed(corpus.length, () => pako.inflateRaw(deflated).length, corpus.length)],
      decompressionStream && [
        'native DecompressionStream',
        'alt',
        () => speed(corpus.length, () => nativeStream(new Blob([deflated]).stream()), corpus.length),
      ],
      zipInflate && [
        'zip.js wasm zlib stream',
        'alt',
        () => speed(corpus.length, () => zipjsStream(piecesOf(deflated, MiB)), corpus.length),
      ],
      node && [
        'node:zlib inflateRawSync',
        'alt',
        () => speed(corpus.length, () => node.zlib.inflateRawSync(deflated).length, corpus.length),
      ],
    ],
  );
  for (const piece of [64 * KiB, MiB]) {
    const label = piece === MiB ? '1 MiB' : '64 KiB';
    await group(
      `inflate: streamed in ${label} pieces`,
      `ours: FileStream.open(ReadableStream of ${label} pieces, { isCompressed: true })`,
      [
        [
          'novuspack-stream FileStream',
          'ours',
          () =>
            speed(
              corpus.length,
              async () => readAll(await lib.FileStream.open(piecesOf(deflated, piece), { isCompressed: true })),
              corpus.length,
            ),
        ],
        [
          'fflate Inflate (push)',
          'alt',
          () =>
            speed(
              corpus.length,
              () => {
                let n = 0;
                const inf = new fflate.Inflate((chunk) => (n += chunk.length));
                for (let at = 0; at < deflated.length; at += piece)
                  inf.push(deflated.subarray(at, at + piece), at + piece >= deflated.length);
                return n;
              },
              corpus.length,
            ),
        ],
        [
          'pako Inflate (push)',
          'alt',
          () =>
            speed(
              corpus.length,
              () => {
                let n = 0;
                const inf = new pako.Inflate({ raw: true });
                inf.onData = (chunk) => (n += chunk.length);
                for (let at = 0; at < deflated.length; at += piece)
                  inf.push(deflated.subarray(at, at + piece), at + piece >= deflated.length);
                return n;
              },
              corpus.length,
            ),
        ],
        decompressionStream && [
          'native DecompressionStream',
          'alt',
          () => speed(corpus.length, () => nativeStream(piecesOf(deflated, piece)), corpus.length),
        ],
        zipInflate && [
          'zip.js wasm zlib stream',
          'alt',
          () => speed(corpus.length, () => zipjsStream(piecesOf(deflated, piece)), corpus.length),
        ],
        node && [
          'node:zlib createInflateRaw',
          'alt',
          () =>
            speed(
              corpus.length,
              () =>
                drain(piecesOf(deflated, piece).pipeThrough(node.zlibTransform(() => node.zlib.createInflateRaw()))),
              corpus.length,
            ),
        ],
      ],
    );
  }

  // ----- deflate (what sealing with compression costs), with the size each produces -----
  const deflateInput = corpus.subarray(0, quick ? 2 * MiB : 16 * MiB);
  for (const level of [1, 6]) {
    const sized = async (fn) => {
      const outLen = await fn();
      const result = await speed(deflateInput.length, fn);
      return { ...result, outRatio: outLen / deflateInput.length };
    };
    await group(
      `deflate level ${level} (${deflateInput.length / MiB} MiB of corpus)`,
      'ours: seal(Uint8Array, { compress: level }) without a key (sealed format: chunked deflate + CRC per chunk); "out" is compressed ÷ input size',
      [
        ['novuspack-stream seal', 'ours', () => sized(() => drain(lib.seal(deflateInput, { compress: level })))],
        ['fflate deflateSync', 'alt', () => sized(() => fflate.deflateSync(deflateInput, { level }).length)],
        ['pako deflateRaw', 'alt', () => sized(() => pako.deflateRaw(deflateInput, { level }).length)],
        level === 6 &&
          decompressionStream && [
            'native CompressionStream',
            'alt',
            () =>
              sized(() => drain(new Blob([deflateInput]).stream().pipeThrough(new CompressionStream('deflate-raw')))),
          ],
        node && [
          'node:zlib deflateRawSync',
          'alt',
          () => sized(() => node.zlib.deflateRawSync(deflateInput, { level }).length),
        ],
      ],
    );
  }

  // ----- ChaCha20-Poly1305: seal and open of incompressible data in 64 KiB and 1 MiB messages -----
  for (const size of [64 * KiB, MiB]) {
    const label = size === MiB ? '1 MiB' : '64 KiB';
    const parts = chunked(random, size);
    const sodiumParts = parts.map((p, i) =>
      sodium.crypto_aead_chacha20poly1305_ietf_encrypt(p, null, null, nonceOf(i), KEY),
    );
    const sealedBytes = await collect(lib.seal(random, { key: KEY, compress: false, chunkSize: size }));
    {
      const fs = await lib.FileStream.open(sealedBytes, { key: KEY });
      check(sameBytes(await readAllBytes(fs), random), 'unsealed random data differs');
    }
    await group(
      `ChaCha20-Poly1305 seal, ${label} messages (${random.length / MiB} MiB incompressible)`,
      `ours: seal(Uint8Array, { key, compress: false, chunkSize: ${label} }), the sealed format with its header, index and footer`,
      [
        [
          'novuspack-stream seal',
          'ours',
          () => speed(random.length, () => drain(lib.seal(random, { key: KEY, compress: false, chunkSize: size }))),
        ],
        [
          'libsodium.js',
          'alt',
          () =>
            speed(random.length, () =>
              parts.reduce(
                (n, p, i) =>
                  n + sodium.crypto_aead_chacha20poly1305_ietf_encrypt(p, null, null, nonceOf(i), KEY).length,
                0,
              ),
            ),
        ],
        [
          '@noble/ciphers',
          'alt',
          () =>
            speed(random.length, () =>
              parts.reduce((n, p, i) => n + noble.chacha20poly1305(KEY, nonceOf(i)).encrypt(p).length, 0),
            ),
        ],
        node && [
          'node:crypto',
          'alt',
          () => speed(random.length, () => parts.reduce((n, p, i) => n + nodeSealLength(node.crypto, p, i), 0)),
        ],
      ],
    );
    await group(
      `ChaCha20-Poly1305 open, ${label} messages`,
      'ours: FileStream.open(Uint8Array, { key }) read to the end (every chunk verified before release)',
      [
        [
          'novuspack-stream FileStream',
          'ours',
          () =>
            speed(
              random.length,
              async () => readAll(await lib.FileStream.open(sealedBytes, { key: KEY })),
              random.length,
            ),
        ],
        [
          'libsodium.js',
          'alt',
          () =>
            speed(
              random.length,
              () =>
                sodiumParts.reduce(
                  (n, c, i) =>
                    n + sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, c, null, nonceOf(i), KEY).length,
                  0,
                ),
              random.length,
            ),
        ],
        [
          '@noble/ciphers',
          'alt',
          () =>
            speed(
              random.length,
              () => sodiumParts.reduce((n, c, i) => n + noble.chacha20poly1305(KEY, nonceOf(i)).decrypt(c).length, 0),
              random.length,
            ),
        ],
        node && [
          'node:crypto',
          'alt',
          () =>
            speed(
              random.length,
              () => sodiumParts.reduce((n, c, i) => n + nodeOpen(node.crypto, c, i).length, 0),
              random.length,
            ),
        ],
      ],
    );
  }

  // ----- whole files: seal and unseal of the compressed + encrypted corpus -----
  const sealedBlob = new Blob([await collect(lib.seal(corpus, { key: KEY, compress: 6 }))]);
  const info = await lib.inspect(sealedBlob);
  const chunkSize = info.chunkSize;
  check(
    info.compressed && info.encrypted && sealedBlob.size < corpus.length * 0.5,
    'the sealed corpus is compressed and encrypted',
  );
  {
    const fs = await lib.FileStream.open(sealedBlob, { key: KEY });
    check(sameBytes(await readAllBytes(fs), corpus), 'unsealed corpus differs');
  }
  // The alternatives' equivalent: the same chunks, deflated (level 6) then sealed.
  const altChunks = chunked(corpus, chunkSize);
  const altSealed = altChunks.map((p, i) =>
    sodium.crypto_aead_chacha20poly1305_ietf_encrypt(fflate.deflateSync(p, { level: 6 }), null, null, nonceOf(i), KEY),
  );
  const altUnseal = () =>
    altSealed.reduce(
      (n, c, i) =>
        n + fflate.inflateSync(sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, c, null, nonceOf(i), KEY)).length,
      0,
    );
  check(altUnseal() === corpus.length, 'libsodium + fflate round trip');
  const nodeUnseal =
    node && (() => altSealed.reduce((n, c, i) => n + node.zlib.inflateRawSync(nodeOpen(node.crypto, c, i)).length, 0));
  const password = 'benchmark password';
  zip.configure({ useWebWorkers: false });
  const zipSeal = async () => {
    const writer = new zip.ZipWriter(new zip.BlobWriter());
    await writer.add('corpus.bin', new zip.Uint8ArrayReader(corpus), { password, encryptionStrength: 3, level: 6 });
    return writer.close();
  };
  const zipBlob = await zipSeal();
  const zipUnseal = async () => {
    const reader = new zip.ZipReader(new zip.BlobReader(zipBlob));
    const [entry] = await reader.getEntries();
    let n = 0;
    await entry.getData(new WritableStream({ write: (c) => void (n += c.length) }), { password });
    await reader.close();
    return n;
  };
  check((await zipUnseal()) === corpus.length, 'zip.js round trip');
  const sealedBlobLarge = new Blob([await collect(lib.seal(corpus, { key: KEY, compress: 6, chunkSize: MiB }))]);
  await group(
    `unseal a compressed + encrypted file (${corpus.length / MiB} MiB corpus, ${chunkSize / KiB} KiB chunks)`,
    'ours: FileStream.open(source, { key }) read to the end (the worker pool has its own groups, bench/pool.mjs). Alternatives: the same chunks deflated then sealed, opened chunk by chunk; zip.js: one AES-256 entry (its own format, deflate level 6)',
    [
      [
        'novuspack-stream FileStream(Blob)',
        'ours',
        () =>
          speed(corpus.length, async () => readAll(await lib.FileStream.open(sealedBlob, { key: KEY })), corpus.length),
      ],
      [
        'novuspack-stream FileStream(ReadableStream)',
        'ours-variant',
        () =>
          speed(
            corpus.length,
            async () => readAll(await lib.FileStream.open(sealedBlob.stream(), { key: KEY })),
            corpus.length,
          ),
      ],
      [
        'novuspack-stream FileStream(Blob), 1 MiB chunks',
        'ours-variant',
        () =>
          speed(
            corpus.length,
            async () => readAll(await lib.FileStream.open(sealedBlobLarge, { key: KEY })),
            corpus.length,
          ),
      ],
      ['libsodium.js + fflate', 'alt', () => speed(corpus.length, altUnseal, corpus.length)],
      nodeUnseal && ['node:crypto + node:zlib', 'alt', () => speed(corpus.length, nodeUnseal, corpus.length)],
      ['zip.js AES-256 entry', 'alt', () => speed(corpus.length, zipUnseal, corpus.length)],
    ],
  );
  await group(
    `seal a file: deflate level 6 + encrypt (${corpus.length / MiB} MiB corpus)`,
    'ours: seal(Blob, { key }) drained (the pooled seal is measured in bench/pool.mjs)',
    [
      [
        'novuspack-stream seal',
        'ours',
        () => speed(corpus.length, () => drain(lib.seal(new Blob([corpus]), { key: KEY, compress: 6 }))),
      ],
      [
        'novuspack-stream seal(ReadableStream)',
        'ours-variant',
        () => speed(corpus.length, () => drain(lib.seal(piecesOf(corpus, MiB), { key: KEY, compress: 6 }))),
      ],
      [
        'libsodium.js + fflate',
        'alt',
        () =>
          speed(corpus.length, () =>
            altChunks.reduce(
              (n, p, i) =>
                n +
                sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
                  fflate.deflateSync(p, { level: 6 }),
                  null,
                  null,
                  nonceOf(i),
                  KEY,
                ).length,
              0,
            ),
          ),
      ],
      node && [
        'node:crypto + node:zlib',
        'alt',
        () =>
          speed(corpus.length, () =>
            altChunks.reduce(
              (n, p, i) => n + nodeSealLength(node.crypto, node.zlib.deflateRawSync(p, { level: 6 }), i),
              0,
            ),
          ),
      ],
      ['zip.js AES-256 entry', 'alt', () => speed(corpus.length, async () => (await zipSeal()).size)],
    ],
  );
  // ----- random access and memory over a large sealed Blob -----
  if (ctx.only && !'random access, memory'.includes(ctx.only)) return groups;
  const bigSize = quick ? 64 * MiB : 1024 * MiB;
  const PIECE = quick ? MiB : 4 * MiB; // the plaintext: corpus pieces of this size
  const bigPlain = corpusStream(corpus, bigSize, PIECE);
  const bigBlob = new Blob([await collect(lib.seal(bigPlain, { key: KEY, compress: 1 }))]);
  const samples = quick ? 20 : 400;
  const latencies = [];
  // The gigabyte just sealed is garbage now: collect it before timing, not during.
  globalThis.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 100));
  {
    const fs = await lib.FileStream.open(bigBlob, { key: KEY });
    const into = new Uint8Array(4 * KiB);
    let seed = 12345;
    for (let i = 0; i < samples + 10; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const offset = Math.floor((seed / 2147483648) * (bigSize - into.length));
      const start = performance.now();
      const n = await fs.readAt(into, offset);
      const ms = performance.now() - start;
      check(n === into.length, 'readAt filled its buffer');
      // Check the reads that stay inside one plaintext piece.
      const piece = Math.floor(offset / PIECE);
      const within = offset % PIECE;
      if (within + into.length <= PIECE) {
        const at = ((piece * PIECE) % (corpus.length - PIECE)) + within;
        check(sameBytes(into, corpus.subarray(at, at + into.length)), `readAt at ${offset} returned the wrong bytes`);
      }
      if (i >= 10) latencies.push(ms);
    }
    fs.close();
  }
  const memBefore = lib.memoryUsage().wasmMemory;
  const seqStart = performance.now();
  const fs = await lib.FileStream.open(bigBlob, { key: KEY, memoryLimit: 64 * MiB });
  let total = 0;
  for (;;) {
    const chunk = await fs.readChunk();
    if (chunk === null) break;
    total += chunk.length;
  }
  const seqMs = performance.now() - seqStart;
  const stats = fs.getStats();
  fs.close();
  check(total === bigSize, 'sequential read of the large Blob');
  const seqSpeed = bigSize / MiB / (seqMs / 1000);
  const chunkShareMs = (chunkSize / MiB / seqSpeed) * 1000;
  groups.push({
    title: `random access: readAt of 4 KiB at ${samples} random offsets in a ${bigSize / MiB} MiB sealed Blob (deflate level 1 + ChaCha20-Poly1305, ${chunkSize / KiB} KiB chunks)`,
    note: 'one-chunk decode = chunk size ÷ sequential read speed of the same Blob, same run',
    latency: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: Math.max(...latencies),
      oneChunkMs: chunkShareMs,
      sequentialMBps: seqSpeed * (MiB / 1e6),
    },
  });
  groups.push({
    title: `memory: ${bigSize / MiB} MiB sealed Blob read to the end with memoryLimit 64 MiB`,
    memory: {
      peakBufferedBytes: stats.peakBufferedBytes,
      wasmMemoryBefore: memBefore,
      wasmMemoryAfter: lib.memoryUsage().wasmMemory,
    },
  });
  return groups;
}
