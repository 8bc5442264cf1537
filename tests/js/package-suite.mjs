// NovusPack packages, one test body for every runtime: `packageCases(lib, env)` returns named
// async cases over the public API (openPackage, NovusPackage, FileStream.entry, writePackage).
// `env.fixtures()` resolves to what nvpk/make-fixtures.mjs wrote (packages whose entry data
// came from the zstd, lz4 and xz tools, OpenSSL and @noble/post-quantum, laid out by the
// test-only writer of nvpk/spec-package.mjs).
import { assert, concat, readAll } from './suite.mjs';
import { buildPackage, crc32, headerBytes, readPackage } from './nvpk/spec-package.mjs';

const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const fromHex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));

/** The fixtures with their bytes decoded. */
export function decodeFixtures(raw) {
  const originals = Object.fromEntries(Object.entries(raw.originals).map(([k, v]) => [k, fromBase64(v)]));
  const kem = Object.fromEntries(
    Object.entries(raw.keys.kem).map(([set, k]) => [
      set,
      { seed: fromHex(k.seed), expanded: fromHex(k.expanded), public: fromHex(k.public) },
    ]),
  );
  return {
    main: fromBase64(raw.packages.main),
    entries: raw.entries,
    originals,
    key: fromHex(raw.keys.key),
    kem,
  };
}

/** The keys that open `path` of the fixtures. */
function keysFor(fx, path, kemForm = 'seed') {
  const set = /kem(\d+)/.exec(path)?.[1];
  if (set) return { decapsulationKey: fx.kem[set][kemForm] };
  return { key: fx.key };
}

/**
 * A ReadableStream's bytes, read with a reader: its own error rejects (Firefox's
 * `Response.arrayBuffer()` would reject with a TypeError of its own instead).
 */
async function bytesOf(stream) {
  const reader = stream.getReader();
  const parts = [];
  for (let r; !(r = await reader.read()).done;) parts.push(r.value);
  return concat(parts);
}

/** The StreamError `promise` rejects with (any type and code). */
async function rejection(promise, lib, message) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof lib.StreamError, `${message}: expected a StreamError, got ${error?.stack ?? error}`);
    return error;
  }
  throw new Error(`${message}: expected a rejection`);
}

/** xorshift offsets for readAt. */
function* offsets(size, count, seed = 5) {
  let x = seed;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield (x >>> 0) % Math.max(1, size);
  }
}

/** A copy of `bytes` with `patch(view, bytes)` applied. */
function patched(bytes, patch) {
  const copy = bytes.slice();
  patch(new DataView(copy.buffer), copy);
  return copy;
}

/** The spec reader's view of the fixture package: where entry `path` is. */
function locate(fx, path) {
  const p = readPackage(fx.main);
  const e = p.entries.find((x) => x.paths.includes(path));
  return { package: p, entry: e };
}

export function packageCases(lib, env) {
  let fixtures;
  const fx = async () => (fixtures ??= decodeFixtures(await env.fixtures()));
  const open = async (bytes, options) => lib.openPackage(new Blob([bytes]), options);
  const cases = [];
  const add = (name, fn) => cases.push([`packages: ${name}`, fn]);
  /** Runs `fn(pkg, { path, want, keys }, f)` for every fixture entry of the main package. */
  const eachEntry = async (fn) => {
    const f = await fx();
    const pkg = await open(f.main);
    try {
      for (const { path, original } of f.entries) {
        await fn(pkg, { path, want: f.originals[original], keys: keysFor(f, path), entry: pkg.find(path) }, f);
      }
    } finally {
      pkg.close();
    }
  };

  add('opening lists the header, every entry and the comment; find by path', async () => {
    const f = await fx();
    const pkg = await open(f.main);
    try {
      const spec = readPackage(f.main);
      assert.equal(pkg.header.magic, 0x4e56504b, 'magic');
      assert.equal(pkg.header.formatVersion, 1, 'formatVersion');
      assert.equal(typeof pkg.header.indexStart, 'bigint', 'u64 fields are bigints');
      assert.equal(pkg.header.indexStart, spec.header.indexStart, 'indexStart');
      assert.equal(pkg.header.packageCrc, spec.header.packageCrc, 'packageCrc');
      assert.equal(pkg.comment, 'made by the test-only writer', 'comment');
      assert.equal(pkg.entries.length, f.entries.length, 'entries');
      for (const [i, e] of pkg.entries.entries()) {
        const s = spec.entries[i];
        assert.equal(e.paths.join(), s.paths.join(), `paths of ${i}`);
        assert.equal(e.fileId, s.fileId, 'fileId');
        assert.equal(e.originalSize, s.originalSize, 'originalSize');
        assert.equal(e.storedSize, s.storedSize, 'storedSize');
        assert.equal(e.rawChecksum, s.rawChecksum, 'rawChecksum');
        assert.equal(e.offset, s.offset, 'offset');
        assert.equal(e.dataOffset, s.dataOffset, 'dataOffset');
        assert.equal(e.hashes.length, 1, 'one hash entry');
        assert.bytes(e.hashes[0].value, s.hashes[0].value, 'SHA-256 entry');
        assert.ok(Object.isFrozen(e), 'entries are frozen');
      }
      const names = pkg.entries.map((e) => `${e.compression}/${e.encryption}`);
      for (const kind of [
        'zstd/none',
        'lz4/none',
        'lzma/none',
        'none/aes-256-gcm',
        'zstd/chacha20-poly1305',
        'none/ml-kem',
      ]) {
        assert.ok(names.includes(kind), `an entry ${kind}`);
      }
      assert.equal(pkg.find('/plain.txt'), pkg.entries[0], 'find with "/"');
      assert.equal(pkg.find('plain.txt'), pkg.entries[0], 'find without "/"');
      assert.equal(pkg.find('/alias/one.yaml'), pkg.find('/alias/two.yaml'), 'both paths of one entry');
      assert.equal(pkg.find('/nope'), undefined, 'a path not in the package');
      assert.equal(pkg.find('/meta.yaml').type, 65001, 'a special metadata entry keeps its type');
    } finally {
      pkg.close();
    }
  });

  add('every entry read whole (readable()) is its original; stream.entry, size and progress', () =>
    eachEntry(async (pkg, { path, want, keys, entry }) => {
      const stream = await pkg.open(entry, keys);
      assert.equal(stream.entry, entry, `${path}: stream.entry`);
      assert.equal(stream.size, entry.originalSize, `${path}: size`);
      assert.equal(stream.format.kind, 'entry', `${path}: format.kind`);
      assert.equal(stream.format.storedSize, entry.storedSize, `${path}: format.storedSize`);
      const out = new Uint8Array(await new Response(stream.readable()).arrayBuffer());
      assert.bytes(out, want, path);
      assert.equal(stream.progress().bytesRead, out.length, `${path}: progress`);
    }),
  );

  add('every entry read in small chunks and with read() is its original', () =>
    eachEntry(async (pkg, { path, want, keys }) => {
      const chunked = await pkg.open(path, { ...keys, chunkSize: 7000, bufferSize: 4096 });
      assert.bytes(await readAll(chunked), want, `${path} by readChunk`);
      chunked.close();
      const s = await pkg.open(path, keys);
      const out = new Uint8Array(want.length);
      let at = 0;
      for (let n; (n = await s.read(out.subarray(at, Math.min(at + 10_007, out.length)))) > 0;) at += n;
      assert.equal(at, want.length, `${path} by read()`);
      assert.bytes(out, want, `${path} by read()`);
      s.close();
    }),
  );

  add('readAt at random offsets and seeks back and forth in every entry', () =>
    eachEntry(async (pkg, { path, want, keys }) => {
      if (want.length === 0) return;
      const s = await pkg.open(path, keys);
      for (const offset of offsets(want.length, 12)) {
        const into = new Uint8Array(Math.min(5000, want.length - offset));
        const n = await s.readAt(into, offset);
        assert.equal(n, into.length, `${path} readAt ${offset}`);
        assert.bytes(into, want.subarray(offset, offset + n), `${path} readAt ${offset}`);
      }
      const back = Math.floor(want.length / 3);
      await s.seek(want.length - 10);
      await s.seek(back);
      const into = new Uint8Array(100);
      const n = await s.read(into);
      assert.bytes(into.subarray(0, n), want.subarray(back, back + n), `${path} after seeking back`);
      s.close();
    }),
  );

  add('zstd random access starts at the nearest frame: from a seek table, or from frames already seen', async () => {
    const f = await fx();
    const big = f.originals.big;
    const decoded = (s) => s.getStats().decompressedBytes;
    // Frames seen while decoding (three tool-made frames of 400,000 bytes, no seek table).
    const pkg = await open(f.main);
    const s = await pkg.open('/docs/zstd-frames.txt');
    await readAll(s);
    const before = decoded(s);
    const into = new Uint8Array(5000);
    assert.equal(await s.readAt(into, 900_000), 5000);
    assert.bytes(into, big.subarray(900_000, 905_000), 'bytes from the third frame');
    const cost = decoded(s) - before;
    assert.ok(cost > 0 && cost < 400_000, `decoded ${cost} bytes for a read in the third frame`);
    pkg.close();
    // A seek table (writePackage writes the zstd seekable format: frames of 1 MiB).
    const bytes = await bytesOf(lib.writePackage([{ path: '/big', source: big, compression: 'zstd' }]));
    const written = await open(bytes);
    const t = await written.open('/big');
    assert.equal(await t.readAt(into, big.length - 5000), 5000);
    assert.bytes(into, big.subarray(big.length - 5000), 'the last bytes');
    assert.ok(decoded(t) < 500_000, `decoded ${decoded(t)} bytes to read the last frame`);
    await t.seek(10);
    const back = new Uint8Array(100);
    assert.equal(await t.read(back), 100);
    assert.bytes(back, big.subarray(10, 110), 'back at the start');
    written.close();
  });

  add('ML-KEM entries open with the 64-byte seed or the expanded key; wrong and missing keys are typed', async () => {
    const f = await fx();
    const pkg = await open(f.main);
    try {
      for (const set of ['512', '768', '1024']) {
        const path = pkg.entries.find((e) => e.paths[0].includes(`kem${set}`)).paths[0];
        const want = f.originals[f.entries.find((e) => e.path === path).original];
        for (const form of ['seed', 'expanded']) {
          const s = await pkg.open(path, keysFor(f, path, form));
          assert.bytes(await readAll(s), want, `${path} with the ${form}`);
        }
        const other = set === '768' ? '512' : '768';
        await assert.rejects(
          pkg.open(path, { decapsulationKey: f.kem[other].seed }),
          lib,
          'Encryption',
          'AUTH_FAILED',
          `${path}, another key`,
        );
        await assert.rejects(pkg.open(path), lib, 'Security', 'KEY_REQUIRED', `${path}, no key`);
      }
      await assert.rejects(
        pkg.open('/kem768.bin', { decapsulationKey: new Uint8Array(10) }),
        lib,
        'Validation',
        'INVALID_KEY',
        'a decapsulation key of no known length',
      );
      await assert.rejects(
        pkg.open('/kem768.bin', { decapsulationKey: 'secret' }),
        lib,
        'Validation',
        'INVALID_KEY',
        'a string',
      );
    } finally {
      pkg.close();
    }
  });

  add(
    'AES-256-GCM and ChaCha20-Poly1305: wrong key AUTH_FAILED, no key KEY_REQUIRED, key of an unencrypted entry',
    async () => {
      const f = await fx();
      const pkg = await open(f.main);
      try {
        const wrong = new Uint8Array(32).fill(1);
        for (const path of ['/aes.bin', '/chacha.txt', '/aes-lz4.txt']) {
          await assert.rejects(pkg.open(path, { key: wrong }), lib, 'Encryption', 'AUTH_FAILED', path);
          await assert.rejects(pkg.open(path), lib, 'Security', 'KEY_REQUIRED', path);
        }
        const e = await assert.rejects(pkg.open('/aes.bin', { key: wrong }), lib, 'Encryption', 'AUTH_FAILED');
        assert.ok(!e.message.includes('0101'), 'no key material in the message');
        await assert.rejects(pkg.open('/aes.bin', { key: new Uint8Array(31) }), lib, 'Validation', 'INVALID_KEY');
      } finally {
        pkg.close();
      }
    },
  );

  add('bad arguments: unknown entry, unknown option, closed package', async () => {
    const f = await fx();
    const pkg = await open(f.main);
    await assert.rejects(pkg.open('/nope'), lib, 'Validation', 'NOT_FOUND');
    await assert.rejects(pkg.open({ paths: ['/plain.txt'] }), lib, 'Validation', 'INVALID_ARGUMENT');
    const e = await assert.rejects(pkg.open('/plain.txt', { keyy: f.key }), lib, 'Validation', 'INVALID_ARGUMENT');
    assert.ok(e.message.includes('did you mean key'), e.message);
    await assert.rejects(pkg.open('/plain.txt', { isCompressed: true }), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(lib.openPackage(new Blob([f.main]), { memoryLimt: 1 }), lib, 'Validation', 'INVALID_ARGUMENT');
    const stream = await pkg.open('/docs/zstd.txt');
    pkg.close();
    assert.ok(stream.closed, 'closing the package closes its entries');
    await assert.rejects(stream.readChunk(), lib, 'Context', 'CLOSED');
    await assert.rejects(pkg.open('/plain.txt'), lib, 'Context', 'CLOSED');
    assert.throws(() => pkg.find('/plain.txt'), lib, 'Context', 'CLOSED');
    await assert.rejects(lib.openPackage(new ReadableStream()), lib, 'Unsupported', 'NOT_SEEKABLE');
  });

  add('damaged containers: each a typed error when opened', async () => {
    const f = await fx();
    const { package: spec, entry: aes } = locate(f, '/aes.bin');
    const len = f.main.length;
    const damaged = [
      ['bad magic', patched(f.main, (d) => d.setUint32(0, 0x4b50564e, true)), 'Corruption', ['BAD_MAGIC']],
      ['FormatVersion 2', patched(f.main, (d) => d.setUint32(4, 2, true)), 'Unsupported', ['UNSUPPORTED_VERSION']],
      [
        'package compression',
        patched(f.main, (d) => d.setUint32(8, 0x0100, true)),
        'Unsupported',
        ['UNSUPPORTED_ALGORITHM'],
      ],
      [
        'index past the end',
        patched(f.main, (d) => d.setBigUint64(64, BigInt(len + 100), true)),
        'Corruption',
        ['TRUNCATED', 'CORRUPTED'],
      ],
      ['index inside the header', patched(f.main, (d) => d.setBigUint64(64, 8n, true)), 'Corruption', ['CORRUPTED']],
      [
        'an entry offset outside the file',
        patched(f.main, (d) => d.setBigUint64(Number(spec.header.indexStart) + 16 + 8, BigInt(len + 5), true)),
        'Corruption',
        ['CORRUPTED', 'TRUNCATED'],
      ],
      [
        'overlapping entries (a StoredSize running into the next record)',
        patched(f.main, (d) => d.setBigUint64(aes.offset + 16, BigInt(aes.storedSize + 70), true)),
        'Corruption',
        ['CORRUPTED'],
      ],
      [
        'a StoredSize past the end of the file',
        patched(f.main, (d) => d.setBigUint64(aes.offset + 16, BigInt(len * 2), true)),
        'Corruption',
        ['CORRUPTED', 'TRUNCATED'],
      ],
      ['a truncated package', f.main.subarray(0, Math.floor(len / 2)), 'Corruption', ['TRUNCATED', 'CORRUPTED']],
      ['shorter than a header', f.main.subarray(0, 50), 'Corruption', ['TRUNCATED']],
      [
        'an unfinished header',
        patched(f.main, (d) => d.setBigUint64(64, 0n, true) || d.setBigUint64(72, 0n, true)),
        'Corruption',
        ['CORRUPTED'],
      ],
    ];
    for (const [name, bytes, type, codes] of damaged) {
      const e = await rejection(open(bytes), lib, name);
      assert.ok(e.type === type && codes.includes(e.code), `${name}: ${e.type}/${e.code} (${e.message})`);
    }
  });

  add('damaged entries: unknown ids, tampering, wrong checksums and a zstd bomb are typed errors', async () => {
    const f = await fx();
    const at = (path) => locate(f, path).entry;
    const plain = at('/plain.txt');
    const zstd = at('/docs/zstd.txt');
    const aes = at('/aes.bin');
    const openEntry = async (bytes, path, options = {}) => {
      const pkg = await open(bytes);
      try {
        return await readAll(await pkg.open(path, { ...keysFor(f, path), ...options }));
      } finally {
        pkg.close();
      }
    };
    // Unknown ids: the package lists, the entry does not open.
    const unknownCodec = patched(f.main, (d) => d.setUint8(zstd.offset + 44, 9));
    const pkg = await open(unknownCodec);
    assert.equal(pkg.find('/docs/zstd.txt').compression, 'unknown', 'an unknown codec is listed as unknown');
    assert.equal(pkg.find('/docs/zstd.txt').compressionId, 9, 'with its id');
    pkg.close();
    await assert.rejects(
      openEntry(unknownCodec, '/docs/zstd.txt'),
      lib,
      'Unsupported',
      'UNSUPPORTED_ALGORITHM',
      'codec 9',
    );
    await assert.rejects(
      openEntry(
        patched(f.main, (d) => d.setUint8(aes.offset + 46, 7)),
        '/aes.bin',
      ),
      lib,
      'Unsupported',
      'UNSUPPORTED_ALGORITHM',
      'cipher 7',
    );
    // Tampering is AUTH_FAILED before anything is released, even with a stale StoredChecksum.
    const tampered = patched(f.main, (_, b) => {
      b[aes.dataOffset + 12 + 1000] ^= 1;
    });
    await assert.rejects(openEntry(tampered, '/aes.bin'), lib, 'Encryption', 'AUTH_FAILED', 'tampered ciphertext');
    const tamperedTag = patched(f.main, (_, b) => {
      b[aes.dataOffset + aes.storedSize - 1] ^= 0x80;
    });
    await assert.rejects(openEntry(tamperedTag, '/aes.bin'), lib, 'Encryption', 'AUTH_FAILED', 'tampered tag');
    // Checksums are checked when the entry is read to its end.
    await assert.rejects(
      openEntry(
        patched(f.main, (d) => d.setUint32(plain.offset + 24, plain.rawChecksum ^ 1, true)),
        '/plain.txt',
      ),
      lib,
      'Corruption',
      'CHECKSUM_MISMATCH',
      'a wrong RawChecksum',
    );
    await assert.rejects(
      openEntry(
        patched(f.main, (d) => d.setUint32(zstd.offset + 28, zstd.storedChecksum ^ 1, true)),
        '/docs/zstd.txt',
      ),
      lib,
      'Corruption',
      'CHECKSUM_MISMATCH',
      'a wrong StoredChecksum',
    );
    const hashAt = zstd.dataOffset - 32;
    await assert.rejects(
      openEntry(
        patched(f.main, (_, b) => (b[hashAt] ^= 1)),
        '/docs/zstd.txt',
      ),
      lib,
      'Corruption',
      'CHECKSUM_MISMATCH',
      'a wrong SHA-256 hash entry',
    );
    // A bomb: OriginalSize smaller than the frames produce.
    await assert.rejects(
      openEntry(
        patched(f.main, (d) => d.setBigUint64(zstd.offset + 8, 1000n, true)),
        '/docs/zstd.txt',
      ),
      lib,
      'Compression',
      'OUTPUT_LIMIT',
      'a zstd bomb',
    );
    // A corrupt zstd frame.
    const corruptFrame = patched(f.main, (_, b) => {
      for (let i = 20; i < 60; i++) b[zstd.dataOffset + i] ^= 0x5a;
    });
    const e = await rejection(openEntry(corruptFrame, '/docs/zstd.txt'), lib, 'corrupt zstd');
    assert.ok(['Corruption', 'Compression'].includes(e.type), `corrupt zstd: ${e.type}/${e.code}`);
    // Partial reads of a damaged entry still work until its end.
    const partial = await open(patched(f.main, (d) => d.setUint32(plain.offset + 24, plain.rawChecksum ^ 1, true)));
    const s = await partial.open('/plain.txt');
    const into = new Uint8Array(1000);
    assert.equal(await s.readAt(into, 500), 1000, 'readAt before the end');
    assert.bytes(into, f.originals.text.subarray(500, 1500));
    partial.close();
  });

  add('a package of 1,000 entries opens and every entry reads', async () => {
    const entries = [];
    for (let i = 0; i < 1000; i++) {
      const bytes = new TextEncoder().encode(`entry ${i} `.repeat(1 + (i % 17)));
      entries.push({ paths: [`/many/${i}.txt`], stored: bytes, originalSize: bytes.length, rawChecksum: crc32(bytes) });
    }
    const { bytes } = buildPackage(entries);
    const pkg = await open(bytes);
    try {
      assert.equal(pkg.entries.length, 1000);
      for (const i of [0, 1, 499, 998, 999]) {
        const s = await pkg.open(`many/${i}.txt`);
        assert.bytes(await readAll(s), entries[i].stored, `entry ${i}`);
      }
    } finally {
      pkg.close();
    }
  });

  add('writePackage: every codec and cipher, read back by the test-only reader and by openPackage', async () => {
    const f = await fx();
    const files = writtenFiles(f);
    const inputs = files.map(({ original, ...file }) => file);
    const written = lib.writePackage(inputs, { comment: 'written', vendorId: 7, appId: 9n });
    const bytes = await bytesOf(written);
    const spec = readPackage(bytes);
    assert.equal(spec.comment, 'written', 'comment');
    assert.equal(spec.header.vendorId, 7, 'vendorId');
    assert.equal(spec.header.appId, 9n, 'appId');
    assert.ok(spec.header.packageCrc !== 0, 'a PackageCRC');
    assert.equal(spec.entries.length, files.length, 'entries');
    for (const [i, e] of spec.entries.entries()) {
      const file = files[i];
      assert.equal(e.paths[0], file.path.startsWith('/') ? file.path : `/${file.path}`, `path ${i}`);
      assert.equal(e.originalSize, file.original.length, `originalSize of ${file.path}`);
      assert.equal(e.rawChecksum, crc32(file.original), `rawChecksum of ${file.path}`);
      assert.equal(e.hashes[0].type, 0, 'a SHA-256 hash entry');
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', file.original));
      assert.bytes(e.hashes[0].value, digest, `SHA-256 of ${file.path}`);
      if (file.compression === undefined && file.encryption === undefined) assert.bytes(e.stored, file.original);
    }
    // AES-256-GCM framing, decrypted by WebCrypto.
    const aesIndex = files.findIndex((x) => x.encryption === 'aes-256-gcm' && !x.compression);
    const stored = spec.entries[aesIndex].stored;
    const key = await crypto.subtle.importKey('raw', f.key, 'AES-GCM', false, ['decrypt']);
    const plain = new Uint8Array(
      await crypto.subtle.decrypt({ name: 'AES-GCM', iv: stored.subarray(0, 12) }, key, stored.subarray(12)),
    );
    assert.bytes(plain, files[aesIndex].original, 'WebCrypto decrypts the AES-256-GCM entry');
    const pkg = await open(bytes);
    try {
      for (const file of files) {
        const s = await pkg.open(
          file.path,
          file.encapsulationKey ? { decapsulationKey: f.kem['768'].seed } : { key: f.key },
        );
        assert.bytes(await readAll(s), file.original, `${file.path} read back`);
      }
    } finally {
      pkg.close();
    }
  });

  add('writePackage: two writes of one input differ only in nonces; bad files are typed errors', async () => {
    const f = await fx();
    const write = (files, options) => bytesOf(lib.writePackage(files, options));
    const text = f.originals.text;
    await assert.rejects(
      write([
        { path: '/a', source: text },
        { path: 'a', source: text },
      ]),
      lib,
      'Validation',
      'INVALID_ARGUMENT',
      'a path twice',
    );
    await assert.rejects(
      write([{ path: '/a', source: text, encryption: 'aes-256-gcm' }]),
      lib,
      'Security',
      'KEY_REQUIRED',
    );
    await assert.rejects(
      write([{ path: '/a', source: text, compression: 'brotli' }]),
      lib,
      'Validation',
      'INVALID_ARGUMENT',
    );
    await assert.rejects(
      write([{ path: '/a', source: text, compresion: 'zstd' }]),
      lib,
      'Validation',
      'INVALID_ARGUMENT',
    );
    await assert.rejects(write([{ path: '/a', source: 42 }]), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(write([{ path: '/a', source: text, key: 'hex' }]), lib, 'Validation', 'INVALID_KEY');
    await assert.rejects(
      write([{ path: '/../a', source: text }]),
      lib,
      'Validation',
      'INVALID_ARGUMENT',
      'escaping the root',
    );
    await assert.rejects(
      write([{ path: '/a', source: text, encryption: 'ml-kem', encapsulationKey: new Uint8Array(5) }]),
      lib,
      'Validation',
      'INVALID_KEY',
    );
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      write([{ path: '/a', source: text }], { signal: controller.signal }),
      lib,
      'Context',
      'ABORTED',
    );
    // Deterministic apart from the encryption's random choices.
    const a = new Uint8Array(await write([{ path: '/a', source: text, compression: 'zstd' }]));
    const b = new Uint8Array(await write([{ path: '/a', source: text, compression: 'zstd' }]));
    assert.bytes(a.subarray(112), b.subarray(112), 'the same bytes after the header');
    // A ReadableStream source (read once, held between the passes) and an empty package.
    const file = { path: '/s', source: new Blob([text]).stream(), compression: 'lz4' };
    const once = await write([file]);
    assert.equal(Object.keys(file).join(), 'path,source,compression', "the caller's file object is not written to");
    const pkg = await open(once);
    assert.bytes(await readAll(await pkg.open('/s')), text, 'a ReadableStream source');
    pkg.close();
    const empty = await open(new Uint8Array(await write([])));
    assert.equal(empty.entries.length, 0, 'an empty package');
    assert.ok((empty.header.flags & 0x80) !== 0, 'metadata-only flag on an empty package');
    empty.close();
  });

  add('generateKemKeyPair: each parameter set round-trips through writePackage and NovusPackage.open', async () => {
    const text = (await fx()).originals.text;
    for (const set of [512, 768, 1024]) {
      const { decapsulationKey, encapsulationKey } = await lib.generateKemKeyPair(set);
      assert.equal(decapsulationKey.length, 64, 'a 64-byte seed');
      assert.equal(encapsulationKey.length, { 512: 800, 768: 1184, 1024: 1568 }[set], `ML-KEM-${set} public key`);
      const file = { path: '/k', source: text, encryption: 'ml-kem', encapsulationKey, compression: 'zstd' };
      const pkg = await open(await bytesOf(lib.writePackage([file])));
      assert.bytes(await readAll(await pkg.open('/k', { decapsulationKey })), text, `ML-KEM-${set}`);
      pkg.close();
    }
    await assert.rejects(lib.generateKemKeyPair(256), lib, 'Validation', 'INVALID_ARGUMENT');
  });

  add('a header field patched by the test-only writer is what openPackage reports', async () => {
    const f = await fx();
    const spec = readPackage(f.main);
    const bytes = f.main.slice();
    bytes.set(headerBytes({ ...spec.header, vendorId: 0xabcdef, appId: 2n ** 63n + 5n, localeId: 0x409 }), 0);
    const pkg = await open(bytes);
    assert.equal(pkg.header.vendorId, 0xabcdef);
    assert.equal(pkg.header.appId, 2n ** 63n + 5n);
    assert.equal(pkg.header.localeId, 0x409);
    pkg.close();
  });

  return cases;
}

/** What the writePackage cases write: every codec and cipher. */
export function writtenFiles(f) {
  const t = f.originals.text;
  const b = f.originals.binary;
  return [
    { path: '/stored.txt', source: t, original: t },
    { path: 'zstd.txt', source: new Blob([t]), original: t, compression: 'zstd', compressionLevel: 9 },
    { path: '/lz4.txt', source: t, original: t, compression: 'lz4' },
    { path: '/xz.txt', source: t, original: t, compression: 'lzma' },
    { path: '/aes.bin', source: b, original: b, encryption: 'aes-256-gcm', key: f.key },
    { path: '/chacha.zst', source: t, original: t, compression: 'zstd', encryption: 'chacha20-poly1305', key: f.key },
    {
      path: '/kem.lz4',
      source: t,
      original: t,
      compression: 'lz4',
      encryption: 'ml-kem',
      encapsulationKey: f.kem['768'].public,
    },
    { path: '/big.zst', source: f.originals.big, original: f.originals.big, compression: 'zstd' },
    { path: '/empty', source: new Uint8Array(0), original: new Uint8Array(0) },
  ];
}
