// The independent reader of format-reader.mjs (written from FORMAT.md alone) against the
// committed vectors and against files the installed package seals: it must give back exactly the
// plaintext of every good file and reject every damaged one, and a wrong key must fail at the
// version 2 key commitment, before any chunk. The package can write version 2 only (FORMAT.md:
// "Writers write version 2"), so version 1 is covered by its frozen vectors.
// Environment: NOVUSPACK_PKG (the test project, whose node_modules holds the package),
// NOVUSPACK_DATA (the folder prepare-data.mjs wrote, for vectors.json; without it the vectors are
// read from ../vectors, as in the repository).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lib from 'novuspack-stream';
import { crc32, FormatError, openSealed, parseHeader, readSealed } from './format-reader.mjs';

const DEFAULT_CHUNK = 256 * 1024;
const hex = (text) => new Uint8Array(Buffer.from(text ?? '', 'hex'));

/** The committed vectors, from NOVUSPACK_DATA/vectors.json or the repository's tests/vectors. */
function loadVectors() {
  const data = process.env.NOVUSPACK_DATA;
  if (data && existsSync(join(data, 'vectors.json')))
    return JSON.parse(readFileSync(join(data, 'vectors.json'), 'utf8'));
  const dir = new URL('../vectors/', import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
}

/** Deterministic bytes: 'text' compresses, 'noise' does not, 'mixed' is text then noise. */
function sample(length, seed, kind) {
  const out = new Uint8Array(length);
  const words = ['stream ', 'chunk ', 'sealed ', 'index ', 'footer ', 'nonce ', 'salt ', 'the ', 'of '];
  let x = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  let i = 0;
  while (i < length) {
    const textHere = kind === 'text' || (kind === 'mixed' && i < length / 2);
    if (!textHere) out[i++] = next() & 0xff;
    else for (const c of words[next() % words.length]) if (i < length) out[i++] = c.charCodeAt(0);
  }
  return out;
}

/** Fails with the first differing offset rather than a dump of two large arrays. */
function assertSameBytes(actual, expected, what) {
  assert.ok(actual instanceof Uint8Array, `${what}: not a Uint8Array`);
  if (Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected)) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  assert.fail(`${what}: ${actual.length} bytes, expected ${expected.length}; first difference at ${i}`);
}

/** Asserts that the independent reader rejects `bytes`, with one of `codes` when given. */
function assertRejected(bytes, key, codes, what) {
  let error;
  try {
    readSealed(bytes, key);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof FormatError, `${what}: expected a rejection, got ${error ?? 'the plaintext'}`);
  if (codes) assert.ok(codes.includes(error.code), `${what}: ${error.message}, expected one of ${codes.join(', ')}`);
  return error;
}

/** seal() of the whole input: the header records the length. */
async function sealWhole(data, options) {
  return new Uint8Array(await new Response(lib.seal(data, options)).arrayBuffer());
}

/** sealTransform() fed in uneven pieces: the header has no length. */
async function sealStreamed(data, options) {
  let at = 0;
  const source = new ReadableStream({
    pull(controller) {
      if (at >= data.length) return controller.close();
      const piece = data.slice(at, at + 777 + (at % 5000));
      at += piece.length;
      controller.enqueue(piece);
    },
  });
  return new Uint8Array(await new Response(source.pipeThrough(lib.sealTransform(options))).arrayBuffer());
}

/**
 * Reads what the package sealed and checks the plaintext and what the header and chunks say
 * against the options it was sealed with.
 */
function checkSealed(sealed, data, options, { streamed = false } = {}) {
  const { header, chunks } = openSealed(sealed, options.key);
  assertSameBytes(readSealed(sealed, options.key), data, 'plaintext');
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  assert.equal(header.version, 2, 'the package writes version 2');
  assert.equal(header.chunkSize, chunkSize);
  assert.equal(header.encrypted, options.key !== undefined);
  assert.equal(header.deflate, options.compress !== undefined && options.compress !== false);
  assert.equal(header.total, streamed ? null : BigInt(data.length));
  assert.equal(chunks.length, Math.max(1, Math.ceil(data.length / chunkSize)));
  return chunks;
}

// ------------------------------------------------------------------------------ the vectors

const vectors = loadVectors();
const isBad = (v) => v.error !== null || /^(v2-)?bad-/.test(v.name);

test('the committed vectors are there, both versions, good and bad', () => {
  assert.ok(vectors.length >= 20, `${vectors.length} vectors`);
  assert.ok(vectors.some((v) => (v.version ?? 1) === 1 && !isBad(v)));
  assert.ok(vectors.some((v) => v.version === 2 && !isBad(v)));
  assert.ok(vectors.some((v) => (v.version ?? 1) === 1 && isBad(v)));
  assert.ok(vectors.some((v) => v.version === 2 && isBad(v)));
});

for (const v of vectors) {
  const key = v.key ? hex(v.key) : undefined;
  const sealed = hex(v.sealed);
  if (!isBad(v)) {
    test(`vector ${v.name}: exactly its plaintext, and its header says what the JSON does`, () => {
      assertSameBytes(readSealed(sealed, key), Buffer.from(hex(v.plaintext)), v.name);
      const header = parseHeader(sealed);
      assert.equal(header.version, v.version ?? 1);
      assert.equal(header.chunkSize, v.chunk_size);
      assert.equal(Buffer.from(header.salt).toString('hex'), v.salt);
      assert.equal(header.encrypted, v.key !== null);
      assert.equal(header.deflate, v.level !== null);
    });
  } else {
    test(`vector ${v.name}: rejected with ${v.error}`, () => {
      const error = assertRejected(sealed, key, [v.error], v.name);
      if (/wrong-key|commitment/.test(v.name)) assert.match(error.message, /key commitment/);
      assert.equal(parseHeader(sealed).version, v.version ?? 1);
    });
  }
}

// -------------------------------------------------------------- files the package seals now

const key = lib.generateKey();
const modes = [
  { name: 'stored', options: {} },
  { name: 'deflate 6', options: { compress: true } },
  { name: 'encrypted', options: { key } },
  { name: 'encrypted, deflate 9', options: { key, compress: 9 } },
];

for (const chunkSize of [64, 1000, 65536]) {
  for (const size of [0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 2 * chunkSize, 2 * chunkSize + 1]) {
    for (const mode of modes) {
      test(`seal: ${size} bytes in ${chunkSize}-byte chunks, ${mode.name}`, async () => {
        const data = sample(size, size + chunkSize, 'mixed');
        const options = { ...mode.options, chunkSize };
        checkSealed(await sealWhole(data, options), data, options);
      });
    }
  }
}

for (const compress of [0, 1, 6, 9, 10, true, false]) {
  for (const encrypted of [false, true]) {
    test(`seal: compress ${compress}, ${encrypted ? 'encrypted' : 'no key'}: deflated chunks where it pays`, async () => {
      const data = sample(10_000, 7, 'mixed');
      const options = { compress, chunkSize: 1024, ...(encrypted ? { key } : {}) };
      const chunks = checkSealed(await sealWhole(data, options), data, options);
      // Level 0 and `false` never make a chunk shorter; any other level shrinks the text half
      // and leaves the noise half stored (section 3: deflated only when strictly shorter).
      const deflated = chunks.map((c) => c.deflated);
      if (compress === 0 || compress === false) assert.ok(deflated.every((d) => !d));
      else assert.ok(deflated[0] && !deflated.at(-2), `deflated: ${deflated}`);
    });
  }
}

for (const size of [0, 1, 4096, 3 * 4096 + 5]) {
  for (const mode of [modes[0], modes[3]]) {
    test(`sealTransform (no length in the header): ${size} bytes in 4096-byte chunks, ${mode.name}`, async () => {
      const data = sample(size, 11, 'mixed');
      const options = { ...mode.options, chunkSize: 4096 };
      checkSealed(await sealStreamed(data, options), data, options, { streamed: true });
    });
  }
}

test('seal: the default chunk size, one byte past one chunk, encrypted and deflated', async () => {
  const data = sample(DEFAULT_CHUNK + 1, 3, 'text');
  const options = { key, compress: true };
  checkSealed(await sealWhole(data, options), data, options);
});

test('seal: the largest chunk size (64 MiB), a small input', async () => {
  const data = sample(1000, 5, 'text');
  const options = { key, chunkSize: 64 * 1024 * 1024 };
  checkSealed(await sealWhole(data, options), data, options);
});

test('seal: 5 MiB + 17 bytes, default chunks, encrypted and deflated', async () => {
  const data = sample(5 * 1024 * 1024 + 17, 13, 'mixed');
  const options = { key, compress: true };
  checkSealed(await sealWhole(data, options), data, options);
});

test('sealTransform: 5 MiB + 17 bytes, 1 MiB chunks, deflate 1, no key', async () => {
  const data = sample(5 * 1024 * 1024 + 17, 17, 'mixed');
  const options = { compress: 1, chunkSize: 1024 * 1024 };
  checkSealed(await sealStreamed(data, options), data, options, { streamed: true });
});

test('seal with a worker pool (chunks sealed in parallel): 300 KiB, 16 KiB chunks, encrypted and deflated', async () => {
  const pool = new lib.StreamingWorkerPool({ maxWorkers: 2 });
  try {
    const data = sample(300 * 1024 + 3, 19, 'mixed');
    const options = { key, compress: true, chunkSize: 16 * 1024 };
    checkSealed(await sealWhole(data, { ...options, pool }), data, options);
  } finally {
    await pool.stop();
  }
});

// ------------------------------------------------------------------------ keys and damage

test('a wrong key fails at the version 2 key commitment, before any chunk', async () => {
  const data = sample(1000, 23, 'text');
  const sealed = await sealWhole(data, { key, chunkSize: 64 });
  const wrong = lib.generateKey();
  assert.match(assertRejected(sealed, wrong, ['AUTH_FAILED'], 'wrong key').message, /key commitment/);
  // The header alone: the wrong key is refused at the commitment, the right one reads on and
  // finds the file cut (so nothing after the header was needed to refuse the wrong key).
  const headerOnly = sealed.slice(0, 80);
  assert.match(assertRejected(headerOnly, wrong, ['AUTH_FAILED'], 'header only').message, /key commitment/);
  assertRejected(headerOnly, key, ['TRUNCATED'], 'header only, right key');
  // Every byte after the header garbled: still the commitment that fails.
  const garbled = sealed.slice();
  for (let i = 80; i < garbled.length; i++) garbled[i] ^= 0x5a;
  assert.match(assertRejected(garbled, wrong, ['AUTH_FAILED'], 'garbled').message, /key commitment/);
});

test('a wrong key on a version 1 vector fails at the first record (no commitment in version 1)', () => {
  const v = vectors.find((x) => (x.version ?? 1) === 1 && x.key && !isBad(x));
  const error = assertRejected(hex(v.sealed), lib.generateKey(), ['AUTH_FAILED'], v.name);
  assert.match(error.message, /chunk 0/);
});

test('no key for an encrypted file is KEY_REQUIRED; a key for an unencrypted one NOT_ENCRYPTED', async () => {
  const data = sample(100, 29, 'text');
  assertRejected(await sealWhole(data, { key }), undefined, ['KEY_REQUIRED'], 'no key');
  assertRejected(await sealWhole(data, {}), key, ['NOT_ENCRYPTED'], 'a key');
});

// Section 6: a flipped bit anywhere is one of these, never other plaintext. UNKNOWN_FORMAT is
// what section 1 gives for a damaged leading magic.
const FLIP_CODES = [
  'AUTH_FAILED',
  'CHECKSUM_MISMATCH',
  'CORRUPTED',
  'BAD_MAGIC',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_ALGORITHM',
  'UNKNOWN_FORMAT',
];

for (const [name, options] of [
  ['encrypted, deflated', { key, compress: true, chunkSize: 64 }],
  ['unencrypted, deflated', { compress: true, chunkSize: 64 }],
  ['unencrypted, stored', { chunkSize: 64 }],
]) {
  for (const streamed of [false, true]) {
    const how = streamed ? 'sealTransform' : 'seal';
    test(`${how}, ${name}: every flipped bit, every truncation and a trailing byte are rejected`, async () => {
      const data = sample(300, 31, 'mixed');
      const sealed = streamed ? await sealStreamed(data, options) : await sealWhole(data, options);
      assertSameBytes(readSealed(sealed, options.key), data, 'intact');
      for (let i = 0; i < sealed.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const damaged = sealed.slice();
          damaged[i] ^= 1 << bit;
          assertRejected(damaged, options.key, FLIP_CODES, `bit ${bit} of byte ${i}`);
        }
      }
      for (let length = 0; length < sealed.length; length++)
        assertRejected(sealed.subarray(0, length), options.key, null, `cut to ${length} bytes`);
      const longer = new Uint8Array(sealed.length + 1);
      longer.set(sealed);
      assertRejected(longer, options.key, ['CORRUPTED'], 'a byte after the footer');
    });
  }
}

test('chunks swapped, or a chunk of another file at its position, are rejected', async () => {
  for (const options of [{ key, chunkSize: 64 }, { chunkSize: 64 }]) {
    const data = sample(200, 37, 'noise');
    const a = await sealWhole(data, options);
    const b = await sealWhole(data, options);
    const record = 4 + 64 + (options.key ? 16 : 4);
    const swapped = a.slice();
    swapped.set(a.subarray(80 + record, 80 + 2 * record), 80);
    swapped.set(a.subarray(80, 80 + record), 80 + record);
    assertRejected(swapped, options.key, ['AUTH_FAILED', 'CHECKSUM_MISMATCH'], 'swapped');
    // Same key, same plaintext, another salt: version 2 binds each record to its own header.
    const spliced = a.slice();
    spliced.set(b.subarray(80, 80 + record), 80);
    assertRejected(spliced, options.key, ['AUTH_FAILED', 'CHECKSUM_MISMATCH'], 'spliced');
  }
});

// ------------------------------------------------------------------- header checks (section 1)

/** A copy of `sealed` with its header edited by `edit(header, view)` and its CRC recomputed. */
function withHeader(sealed, edit) {
  const out = sealed.slice();
  const length = out[8] === 1 ? 48 : 80;
  const dv = new DataView(out.buffer);
  edit(out, dv);
  dv.setUint32(length - 4, crc32(out.subarray(0, length - 4)), true);
  return out;
}

const vector = (name) => hex(vectors.find((v) => v.name === name).sealed);

test('header: each check of section 1 refuses what it should, with its code', async () => {
  const sealed = await sealWhole(sample(300, 41, 'text'), { chunkSize: 64 });
  assertRejected(new Uint8Array(0), undefined, ['UNKNOWN_FORMAT'], 'empty');
  assertRejected(new TextEncoder().encode('not a sealed file at all'), undefined, ['UNKNOWN_FORMAT'], 'text');
  assertRejected(sealed.subarray(0, 5), undefined, ['TRUNCATED'], 'a prefix of the magic');
  assertRejected(sealed.subarray(0, 79), undefined, ['TRUNCATED'], 'a header cut short');
  assertRejected(
    withHeader(sealed, (h) => (h[8] = 3)),
    undefined,
    ['UNSUPPORTED_VERSION'],
    'version 3',
  );
  const crcOnly = sealed.slice();
  crcOnly[30] ^= 1;
  assertRejected(crcOnly, undefined, ['CHECKSUM_MISMATCH'], 'a salt bit, CRC not recomputed');
  assertRejected(
    withHeader(sealed, (h) => (h[9] |= 2)),
    undefined,
    ['CORRUPTED'],
    'flag bit 1',
  );
  assertRejected(
    withHeader(sealed, (h) => (h[73] = 1)),
    undefined,
    ['CORRUPTED'],
    'reserved word',
  );
  assertRejected(
    withHeader(sealed, (h) => (h[10] = 2)),
    undefined,
    ['UNSUPPORTED_ALGORITHM'],
    'compression id 2',
  );
  assertRejected(
    withHeader(sealed, (h) => (h[11] = 1)),
    undefined,
    ['UNSUPPORTED_ALGORITHM'],
    'encryption id 1',
  );
  assertRejected(
    withHeader(sealed, (h) => (h[50] = 1)),
    undefined,
    ['CORRUPTED'],
    'commitment, unencrypted',
  );
  assertRejected(
    withHeader(sealed, (h, dv) => dv.setUint32(12, 63, true)),
    undefined,
    ['CORRUPTED'],
    'C = 63',
  );
  const tooBig = 64 * 1024 * 1024 + 1;
  assertRejected(
    withHeader(sealed, (h, dv) => dv.setUint32(12, tooBig, true)),
    undefined,
    ['CORRUPTED'],
    'C > 64 MiB',
  );
  const noFlag = (h, dv) => {
    h[9] = 0;
    dv.setBigUint64(16, 300n, true);
  };
  assertRejected(withHeader(sealed, noFlag), undefined, ['CORRUPTED'], 'a total without flag bit 0');
  const huge = (h, dv) => dv.setBigUint64(16, 64n * 1_073_741_815n + 1n, true);
  assertRejected(withHeader(sealed, huge), undefined, ['CORRUPTED'], 'a total needing MAX_CHUNKS + 1 chunks');
});

test('section 9, point 3: unencrypted version 1 CRCs ignore the header, version 2 CRCs do not', () => {
  // A new salt and a declared (right) total, header CRC recomputed: version 1 still opens, as
  // FORMAT.md says (CRC-32's fixed residue), and its wrong declared total is still caught.
  const v1 = vector('multi-deflate');
  const plaintext = hex(vectors.find((v) => v.name === 'multi-deflate').plaintext);
  const declare = (total) => (h, dv) => {
    h[30] ^= 0xff;
    h[9] = 1;
    dv.setBigUint64(16, BigInt(total), true);
  };
  assertSameBytes(readSealed(withHeader(v1, declare(plaintext.length))), Buffer.from(plaintext), 'v1 new salt');
  assertRejected(withHeader(v1, declare(plaintext.length - 1)), undefined, ['CORRUPTED'], 'v1 wrong total');
  // The same edits to a version 2 file break the CRC of its first chunk.
  const v2 = vector('v2-multi-deflate');
  assertRejected(withHeader(v2, declare(plaintext.length)), undefined, ['CHECKSUM_MISMATCH'], 'v2 new salt');
});
