// An independent reader of the novuspack-stream sealed format, versions 1 and 2, written from
// FORMAT.md sections 1-10 alone (no code of the package was read to write it; src/core/sealed
// was read afterwards only to settle two orders the spec leaves open: an empty input is
// UNKNOWN_FORMAT, and a footer's end magic is checked before its CRC), with Node built-ins only:
// node:crypto for HKDF-SHA256 and ChaCha20-Poly1305, node:zlib for raw inflate, and a CRC-32 of
// its own. It reads a whole file in memory, in order, as FORMAT.md's sequential
// reader does (so its error codes are the ones the vectors name), and also makes the checks the
// spec gives for the index and footer. Every rejection is a FormatError whose `code` is the
// spec's code. It exists so that the tests can show the spec is enough to read what the package
// writes, and that the package's vectors mean what the spec says.
import { createDecipheriv, hkdfSync, timingSafeEqual } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';

const MAGIC = [0x89, 0x4e, 0x50, 0x4b, 0x53, 0x0d, 0x0a, 0x1a];
const END_MAGIC = [0x4e, 0x50, 0x4b, 0x53, 0x2d, 0x45, 0x4e, 0x44]; // "NPKS-END"
const HEADER_LEN = { 1: 48, 2: 80 };
const FOOTER_LEN = 24;
const MIN_CHUNK = 64;
const MAX_CHUNK = 64 * 1024 * 1024;
const MAX_CHUNKS = Math.floor((2 ** 32 - 1 - 32) / 4); // section 7
const TAG_LEN = 16;
const CRC_LEN = 4;
const KIND = { chunk: 0, last: 1, index: 2 };
const LABELS = {
  1: { subkey: 'novuspack-stream v1 chunk key' },
  2: { subkey: 'novuspack-stream v2 chacha20-poly1305 chunk key', commitment: 'novuspack-stream v2 key commitment' },
};

/** A rejection, with the code FORMAT.md gives for it. */
export class FormatError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'FormatError';
    this.code = code;
  }
}

const reject = (code, message) => {
  throw new FormatError(code, message);
};

// ------------------------------------------------------------------------------------ bytes

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32/ISO-HDLC (zlib's) of the concatenation of `parts`, without concatenating them. */
export function crc32(...parts) {
  let c = 0xffffffff;
  for (const part of parts) for (let i = 0; i < part.length; i++) c = CRC_TABLE[(c ^ part[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const view = (bytes) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const u32 = (bytes, at) => view(bytes).getUint32(at, true);
const u64 = (bytes, at) => view(bytes).getBigUint64(at, true);
const startsWith = (bytes, prefix, at = 0) => prefix.every((b, i) => bytes[at + i] === b);
const isZero = (bytes) => bytes.every((b) => b === 0);

/** The 12-byte record nonce of section 2: 00 00 00 || counter (big-endian u64) || kind. */
export function nonce(counter, kind) {
  const n = new Uint8Array(12);
  view(n).setBigUint64(3, BigInt(counter), false);
  n[11] = kind;
  return n;
}

// ----------------------------------------------------------------------------------- header

/**
 * Parses and checks a header (section 1), in the spec's order of checks: magic, version,
 * length, CRC, flags and reserved bytes, ids, commitment field, chunk size and total length.
 */
export function parseHeader(bytes) {
  // Empty data, or data that does not start like the magic, is not a sealed file at all; a
  // proper prefix of magic and version is a sealed file cut short.
  if (bytes.length === 0 || !startsWith(bytes, MAGIC.slice(0, Math.min(8, bytes.length))))
    reject('UNKNOWN_FORMAT', 'no sealed magic at offset 0');
  if (bytes.length < 9) reject('TRUNCATED', 'the file ends inside the magic or the version');
  const version = bytes[8];
  if (version !== 1 && version !== 2) reject('UNSUPPORTED_VERSION', `version ${version}`);
  const length = HEADER_LEN[version];
  if (bytes.length < length) reject('TRUNCATED', `the file ends inside the ${length}-byte header`);
  const header = bytes.slice(0, length);
  if (crc32(header.subarray(0, length - 4)) !== u32(header, length - 4)) reject('CHECKSUM_MISMATCH', 'header CRC');
  const flags = header[9];
  if (flags & 0xfe) reject('CORRUPTED', `header flags ${flags}: bits 1-7 must be 0`);
  if (u32(header, length - 8) !== 0) reject('CORRUPTED', 'header reserved word is not 0');
  const compression = header[10];
  const encryption = header[11];
  if (compression !== 0 && compression !== 1) reject('UNSUPPORTED_ALGORITHM', `compression id ${compression}`);
  if (encryption !== 0 && encryption !== 3) reject('UNSUPPORTED_ALGORITHM', `encryption id ${encryption}`);
  const commitment = version === 2 ? header.slice(40, 72) : null;
  if (version === 2 && encryption === 0 && !isZero(commitment))
    reject('CORRUPTED', 'an unencrypted version 2 header has a non-zero key commitment');
  const chunkSize = u32(header, 12);
  if (chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) reject('CORRUPTED', `chunk size ${chunkSize}`);
  const hasTotal = (flags & 1) === 1;
  const total = u64(header, 16);
  if (!hasTotal && total !== 0n) reject('CORRUPTED', 'total length field set without flag bit 0');
  if (hasTotal && chunkCount(total, chunkSize) > MAX_CHUNKS)
    reject('CORRUPTED', `a total of ${total} bytes needs more than MAX_CHUNKS chunks`);
  return {
    version,
    length,
    bytes: header,
    // The CRCs of unencrypted records start with this (section 3 and section 9, point 3).
    crcPrefix: version === 2 ? header.subarray(0, length - 4) : header,
    deflate: compression === 1,
    encrypted: encryption === 3,
    chunkSize,
    total: hasTotal ? total : null,
    salt: header.slice(24, 40),
    commitment,
  };
}

/** N = max(1, ceil(T / C)) (section 3), as a Number (T may be a BigInt). */
function chunkCount(total, chunkSize) {
  const c = BigInt(chunkSize);
  const n = (BigInt(total) + c - 1n) / c;
  return Number(n > 1n ? n : 1n);
}

// --------------------------------------------------------------------------------------- keys

const hkdf = (key, salt, info) => new Uint8Array(hkdfSync('sha256', key, salt, Buffer.from(info, 'ascii'), 32));

/**
 * The file's chunk subkey (section 2). In version 2 the key commitment is checked first, in
 * constant time, so a wrong key fails here, before any record is looked at.
 */
export function subkeyFor(header, key) {
  const labels = LABELS[header.version];
  if (labels.commitment) {
    const expected = hkdf(key, header.salt, labels.commitment);
    if (!timingSafeEqual(expected, header.commitment))
      reject('AUTH_FAILED', 'wrong key or modified data (key commitment mismatch)');
  }
  return hkdf(key, header.salt, labels.subkey);
}

/** Refuses a missing key, a key for an unencrypted file, a key of the wrong length (section 6). */
function checkKey(header, key) {
  if (header.encrypted && key === undefined) reject('KEY_REQUIRED', 'the file is encrypted and no key was given');
  if (!header.encrypted && key !== undefined) reject('NOT_ENCRYPTED', 'a key was given for an unencrypted file');
  if (key !== undefined && key.length !== 32) reject('INVALID_KEY', `a key is 32 bytes, not ${key.length}`);
}

// ------------------------------------------------------------------------------------ records

/**
 * Verifies one record's check and returns its body in the clear: a Poly1305 tag over the
 * encrypted body with `ad` as associated data, or a CRC-32 over `crcPrefix || nonce || crcAd ||
 * body`. Nothing of the body is returned unless it verifies.
 */
function openRecord(file, { nonce: n, ad, crcAd, sealed, what }) {
  const body = sealed.subarray(0, sealed.length - file.checkLen);
  const check = sealed.subarray(sealed.length - file.checkLen);
  if (file.subkey) {
    const decipher = createDecipheriv('chacha20-poly1305', file.subkey, n, { authTagLength: TAG_LEN });
    decipher.setAAD(ad);
    decipher.setAuthTag(check);
    const clear = decipher.update(body);
    try {
      decipher.final();
    } catch {
      reject('AUTH_FAILED', `wrong key or modified data (${what})`);
    }
    return new Uint8Array(clear);
  }
  if (crc32(file.header.crcPrefix, n, crcAd, body) !== u32(check, 0)) reject('CHECKSUM_MISMATCH', `${what} CRC`);
  return body;
}

/**
 * Raw-inflates a chunk body that must be one complete deflate stream using all of its bytes.
 * More than C bytes out is a decompression bomb (OUTPUT_LIMIT), stopped at C.
 */
function inflateChunk(body, chunkSize, what) {
  let result;
  try {
    result = inflateRawSync(body, { maxOutputLength: chunkSize, info: true });
  } catch (error) {
    if (error?.code === 'ERR_BUFFER_TOO_LARGE') reject('OUTPUT_LIMIT', `${what} inflates past ${chunkSize} bytes`);
    reject('CORRUPTED', `${what} is not a complete raw deflate stream (${error?.message})`);
  }
  if (result.engine.bytesWritten !== body.length) reject('CORRUPTED', `${what} has bytes after its deflate stream`);
  return new Uint8Array(result.buffer.buffer, result.buffer.byteOffset, result.buffer.length);
}

/** The plaintext length chunk `i` must have, given whether it is last (section 3). */
function checkChunkLength(file, i, last, length) {
  const c = file.header.chunkSize;
  const what = `chunk ${i}`;
  if (!last && length !== c) reject('CORRUPTED', `${what} is not last and holds ${length} bytes, not ${c}`);
  if (last && (length > c || (length === 0 && i !== 0))) reject('CORRUPTED', `last ${what} holds ${length} bytes`);
  if (last && file.declaredCount !== null) {
    const expected = Number(file.header.total - BigInt(c) * BigInt(i));
    if (length !== expected) reject('CORRUPTED', `last ${what} holds ${length} bytes, the header says ${expected}`);
  }
}

/**
 * Reads chunk record `i` at `offset` (section 3): prefix checks, then the tag or CRC, then the
 * inflate, then the length rules. Returns its record length, plaintext and flags.
 */
function readChunk(file, bytes, offset, i) {
  const what = `chunk ${i}`;
  if (offset + 4 > bytes.length) reject('TRUNCATED', `the file ends before ${what}`);
  const prefixBytes = bytes.subarray(offset, offset + 4);
  const prefix = u32(prefixBytes, 0);
  const payload = prefix & 0x3fffffff;
  const deflated = (prefix & 0x40000000) !== 0;
  const last = (prefix & 0x80000000) !== 0;
  if (payload < file.checkLen || payload > file.header.chunkSize + file.checkLen)
    reject('CORRUPTED', `${what} payload length ${payload}`);
  if (deflated && !file.header.deflate) reject('CORRUPTED', `${what} is deflated in a file with compression id 0`);
  // With a declared total, N is known from the header and the flag must agree with it.
  if (file.declaredCount !== null && last !== (i === file.declaredCount - 1))
    reject('CORRUPTED', `${what} last flag ${last}, but the header's total makes ${file.declaredCount} chunks`);
  const end = offset + 4 + payload;
  if (end > bytes.length) reject('TRUNCATED', `the file ends inside ${what}`);
  const body = openRecord(file, {
    nonce: nonce(i, last ? KIND.last : KIND.chunk),
    ad: concat([file.header.bytes, prefixBytes]),
    crcAd: prefixBytes,
    sealed: bytes.subarray(offset + 4, end),
    what,
  });
  const plaintext = deflated ? inflateChunk(body, file.header.chunkSize, what) : body;
  checkChunkLength(file, i, last, plaintext.length);
  return { recordLength: 4 + payload, plaintext, deflated, last };
}

// ------------------------------------------------------------------------- index and footer

/**
 * Reads and checks the footer that must follow an index record of `indexLength` bytes at
 * `indexOffset` (section 5). Returns footer bytes 0..12, the index's associated data.
 */
function readFooter(file, bytes, indexOffset, indexLength) {
  const at = indexOffset + indexLength;
  if (at + FOOTER_LEN > bytes.length) reject('TRUNCATED', 'the file ends inside the index or footer');
  const footer = bytes.subarray(at, at + FOOTER_LEN);
  // Without its end magic these 24 bytes are not a footer at all; then its CRC.
  if (!startsWith(footer, END_MAGIC, 16)) reject('BAD_MAGIC', 'no NPKS-END at the end of the footer');
  if (crc32(footer.subarray(0, 12)) !== u32(footer, 12)) reject('CHECKSUM_MISMATCH', 'footer CRC');
  const offset = u64(footer, 0);
  const length = u32(footer, 8);
  if (offset < BigInt(file.header.length)) reject('CORRUPTED', `footer index offset ${offset} is inside the header`);
  if (offset !== BigInt(indexOffset) || length !== indexLength)
    reject('CORRUPTED', `footer points at ${length} bytes at ${offset}, the index is ${indexLength} at ${indexOffset}`);
  if (at + FOOTER_LEN !== bytes.length) reject('CORRUPTED', `${bytes.length - at - FOOTER_LEN} bytes after the footer`);
  return footer.subarray(0, 12);
}

/**
 * Reads the index record at `indexOffset` (section 4) and requires it to list exactly the
 * records that were read, their count, and the plaintext length released.
 */
function readIndex(file, bytes, indexOffset, recordLengths, released) {
  const n = recordLengths.length;
  const indexLength = 16 + 4 * n + file.checkLen;
  const footer = readFooter(file, bytes, indexOffset, indexLength);
  const body = openRecord(file, {
    nonce: nonce(0, KIND.index),
    ad: concat([file.header.bytes, footer]),
    crcAd: footer,
    sealed: bytes.subarray(indexOffset, indexOffset + indexLength),
    what: 'index',
  });
  const total = u64(body, 0);
  const count = u64(body, 8);
  const c = file.header.chunkSize;
  if (count !== BigInt(chunkCount(total, c))) reject('CORRUPTED', `index: ${count} chunks for ${total} bytes`);
  if (count !== BigInt(n)) reject('CORRUPTED', `index lists ${count} chunks, ${n} were read`);
  if (file.header.total !== null && total !== file.header.total)
    reject('CORRUPTED', `index total ${total}, header total ${file.header.total}`);
  if (total !== BigInt(released)) reject('CORRUPTED', `index total ${total}, ${released} bytes were read`);
  let tiled = file.header.length;
  for (let i = 0; i < n; i++) {
    const length = u32(body, 16 + 4 * i);
    if (length < 4 + file.checkLen || length > 4 + c + file.checkLen)
      reject('CORRUPTED', `index: record length ${length} of chunk ${i} out of range`);
    if (length !== recordLengths[i])
      reject('CORRUPTED', `index: chunk ${i} is ${length} bytes, ${recordLengths[i]} were read`);
    tiled += length;
  }
  if (tiled !== indexOffset) reject('CORRUPTED', 'index record lengths do not tile the file up to the index');
}

// ---------------------------------------------------------------------------------- the file

function concat(parts) {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Opens a whole sealed file (`key`: 32 bytes, for an encrypted one): its header and its chunks
 * ({ plaintext, deflated, recordLength }), in order. Throws a FormatError for anything FORMAT.md
 * says a reader must reject; nothing is returned unless every record, the index and the footer
 * verified.
 */
export function openSealed(bytes, key) {
  bytes = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const header = parseHeader(bytes);
  checkKey(header, key);
  const file = {
    header,
    subkey: header.encrypted ? subkeyFor(header, key) : null,
    checkLen: header.encrypted ? TAG_LEN : CRC_LEN,
    declaredCount: header.total === null ? null : chunkCount(header.total, header.chunkSize),
  };
  const chunks = [];
  let offset = header.length;
  let released = 0;
  for (let i = 0; ; i++) {
    const chunk = readChunk(file, bytes, offset, i);
    chunks.push(chunk);
    released += chunk.plaintext.length;
    offset += chunk.recordLength;
    if (chunk.last) break;
    if (i + 1 >= MAX_CHUNKS) reject('CORRUPTED', 'more than MAX_CHUNKS chunks');
  }
  readIndex(
    file,
    bytes,
    offset,
    chunks.map((c) => c.recordLength),
    released,
  );
  return { header, chunks };
}

/** The plaintext of a whole sealed file: see openSealed. */
export function readSealed(bytes, key) {
  return concat(openSealed(bytes, key).chunks.map((c) => c.plaintext));
}
