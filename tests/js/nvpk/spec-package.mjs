// A test-only NovusPack package writer and reader, written from the specification's text
// ("Package File Format", FormatVersion 1: the 112-byte header of §2.1, the FileEntry of §4.1
// with its 64-byte fixed part in the table's field order, the file index of §1.1, the comment
// of §7.1) and not from the package's own code, so that each side checks the other. Plain
// JavaScript (no Node APIs): every runtime's runner uses it. All integers little-endian.

const MAGIC = 0x4e56504b;
const HEADER_LEN = 112;
const FIXED_LEN = 64;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3), as Go's crc32.ChecksumIEEE. */
export function crc32(bytes, crc = 0) {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export const COMPRESSION = { none: 0, zstd: 1, lz4: 2, lzma: 3 };
export const ENCRYPTION = { none: 0, 'aes-256-gcm': 1, 'ml-kem': 2, 'chacha20-poly1305': 3 };

class Out {
  constructor() {
    this.parts = [];
    this.length = 0;
  }
  bytes(b) {
    this.parts.push(b);
    this.length += b.length;
  }
  fixed(n, fill) {
    const b = new Uint8Array(n);
    fill(new DataView(b.buffer));
    this.bytes(b);
  }
  join() {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** The variable data of a record: paths, then hash entries, then optional data entries. */
function variableData({ paths, hashes = [], optionalData = [] }) {
  const v = new Out();
  for (const p of paths) {
    const b = utf8.encode(p);
    v.fixed(2, (d) => d.setUint16(0, b.length, true));
    v.bytes(b);
  }
  const pathsLen = v.length;
  for (const h of hashes) {
    v.fixed(4, (d) => {
      d.setUint8(0, h.type);
      d.setUint8(1, h.purpose ?? 0);
      d.setUint16(2, h.value.length, true);
    });
    v.bytes(h.value);
  }
  const hashLen = v.length - pathsLen;
  for (const o of optionalData) {
    v.fixed(3, (d) => {
      d.setUint8(0, o.type);
      d.setUint16(1, o.data.length, true);
    });
    v.bytes(o.data);
  }
  const optionalLen = v.length - pathsLen - hashLen;
  return { bytes: v.join(), pathsLen, hashLen, optionalLen };
}

/**
 * A package of `entries`, each { paths, stored (the stored bytes as given), originalSize,
 * rawChecksum, compression, encryption (names or ids), compressionLevel?, type?, hashes?,
 * optionalData?, storedChecksum? (default: the CRC-32 of `stored`), fileId? }, laid out as §1.1
 * shows: header, entries (record then stored bytes), file index, comment. `header` overrides
 * header fields.
 */
export function buildPackage(entries, { comment, header = {} } = {}) {
  const out = new Out();
  out.bytes(new Uint8Array(HEADER_LEN)); // written last
  const index = [];
  let flags = 0;
  entries.forEach((e, i) => {
    const fileId = BigInt(e.fileId ?? i + 1);
    const compression = typeof e.compression === 'number' ? e.compression : COMPRESSION[e.compression ?? 'none'];
    const encryption = typeof e.encryption === 'number' ? e.encryption : ENCRYPTION[e.encryption ?? 'none'];
    if (compression) flags |= 1 << 1;
    if (encryption) flags |= 1 << 2;
    const v = variableData(e);
    index.push({ fileId, offset: out.length });
    out.fixed(FIXED_LEN, (d) => {
      d.setBigUint64(0, fileId, true);
      d.setBigUint64(8, BigInt(e.originalSize), true);
      d.setBigUint64(16, BigInt(e.storedSize ?? e.stored.length), true);
      d.setUint32(24, e.rawChecksum >>> 0, true);
      d.setUint32(28, (e.storedChecksum ?? crc32(e.stored)) >>> 0, true);
      d.setUint32(32, 1, true); // FileVersion
      d.setUint32(36, 1, true); // MetadataVersion
      d.setUint16(40, e.paths.length, true);
      d.setUint16(42, e.type ?? 0, true);
      d.setUint8(44, compression);
      d.setUint8(45, e.compressionLevel ?? 0);
      d.setUint8(46, encryption);
      d.setUint8(47, (e.hashes ?? []).length);
      d.setUint32(48, v.pathsLen, true); // HashDataOffset
      d.setUint16(52, v.hashLen, true);
      d.setUint16(54, v.optionalLen, true);
      d.setUint32(56, v.pathsLen + v.hashLen, true); // OptionalDataOffset
      d.setUint32(60, 0, true);
    });
    out.bytes(v.bytes);
    out.bytes(e.stored);
  });
  const indexStart = out.length;
  out.fixed(16, (d) => {
    d.setUint32(0, index.length, true);
    d.setBigUint64(8, BigInt(HEADER_LEN), true);
  });
  for (const { fileId, offset } of index) {
    out.fixed(16, (d) => {
      d.setBigUint64(0, fileId, true);
      d.setBigUint64(8, BigInt(offset), true);
    });
  }
  const indexSize = out.length - indexStart;
  let commentStart = 0;
  let commentSize = 0;
  if (comment !== undefined) {
    flags |= 1 << 4;
    const text = utf8.encode(comment);
    commentStart = out.length;
    out.fixed(4, (d) => d.setUint32(0, text.length + 1, true)); // CommentLength counts the NUL
    out.bytes(text);
    out.bytes(new Uint8Array(4)); // NUL, 3 reserved bytes
    commentSize = out.length - commentStart;
  }
  const bytes = out.join();
  const h = {
    magic: MAGIC,
    formatVersion: 1,
    flags,
    packageDataVersion: 1,
    metadataVersion: 1,
    packageCrc: crc32(bytes.subarray(HEADER_LEN)),
    createdTime: 1_700_000_000_000_000_000n,
    modifiedTime: 1_700_000_000_000_000_000n,
    localeId: 0,
    reserved: 0,
    appId: 0n,
    vendorId: 0,
    creatorId: 0,
    indexStart: BigInt(indexStart),
    indexSize: BigInt(indexSize),
    archiveChainId: 0n,
    archivePartInfo: 0,
    commentSize,
    commentStart: BigInt(commentStart),
    signatureOffset: 0n,
    ...header,
  };
  bytes.set(headerBytes(h), 0);
  return { bytes, index, indexStart };
}

const HEADER_FIELDS = [
  ['magic', 0, 32],
  ['formatVersion', 4, 32],
  ['flags', 8, 32],
  ['packageDataVersion', 12, 32],
  ['metadataVersion', 16, 32],
  ['packageCrc', 20, 32],
  ['createdTime', 24, 64],
  ['modifiedTime', 32, 64],
  ['localeId', 40, 32],
  ['reserved', 44, 32],
  ['appId', 48, 64],
  ['vendorId', 56, 32],
  ['creatorId', 60, 32],
  ['indexStart', 64, 64],
  ['indexSize', 72, 64],
  ['archiveChainId', 80, 64],
  ['archivePartInfo', 88, 32],
  ['commentSize', 92, 32],
  ['commentStart', 96, 64],
  ['signatureOffset', 104, 64],
];

/** The 112 header bytes of the fields in `h` (u64 fields as bigint). */
export function headerBytes(h) {
  const b = new Uint8Array(HEADER_LEN);
  const d = new DataView(b.buffer);
  for (const [name, at, bits] of HEADER_FIELDS) {
    if (bits === 64) d.setBigUint64(at, BigInt(h[name] ?? 0), true);
    else d.setUint32(at, Number(h[name] ?? 0) >>> 0, true);
  }
  return b;
}

class Corrupt extends Error {}

/**
 * Reads a package as the specification lays it out; throws on anything that breaks it. Returns
 * { header, entries: [{ fileId, offset, dataOffset, paths, originalSize, storedSize,
 * rawChecksum, storedChecksum, type, compression, compressionLevel, encryption, hashes,
 * optionalData, stored }], comment }. Checks the PackageCRC and every StoredChecksum.
 */
export function readPackage(bytes) {
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (ok, what) => {
    if (!ok) throw new Corrupt(what);
  };
  need(bytes.length >= HEADER_LEN, 'shorter than the header');
  const header = {};
  for (const [name, at, bits] of HEADER_FIELDS) {
    header[name] = bits === 64 ? d.getBigUint64(at, true) : d.getUint32(at, true);
  }
  need(header.magic === MAGIC, 'magic');
  need(header.formatVersion === 1, 'FormatVersion');
  if (header.packageCrc !== 0) need(crc32(bytes.subarray(HEADER_LEN)) === header.packageCrc, 'PackageCRC');
  const indexStart = Number(header.indexStart);
  need(indexStart + Number(header.indexSize) <= bytes.length, 'index past the end');
  const count = d.getUint32(indexStart, true);
  need(Number(header.indexSize) === 16 + 16 * count, 'IndexSize');
  const entries = [];
  for (let i = 0; i < count; i++) {
    const at = indexStart + 16 + 16 * i;
    const fileId = d.getBigUint64(at, true);
    const offset = Number(d.getBigUint64(at + 8, true));
    need(d.getBigUint64(offset, true) === fileId, `entry ${i}: FileID`);
    const e = {
      fileId,
      offset,
      originalSize: Number(d.getBigUint64(offset + 8, true)),
      storedSize: Number(d.getBigUint64(offset + 16, true)),
      rawChecksum: d.getUint32(offset + 24, true),
      storedChecksum: d.getUint32(offset + 28, true),
      type: d.getUint16(offset + 42, true),
      compression: d.getUint8(offset + 44),
      compressionLevel: d.getUint8(offset + 45),
      encryption: d.getUint8(offset + 46),
      paths: [],
      hashes: [],
      optionalData: [],
    };
    const pathCount = d.getUint16(offset + 40, true);
    const hashCount = d.getUint8(offset + 47);
    const hashOffset = d.getUint32(offset + 48, true);
    const hashLen = d.getUint16(offset + 52, true);
    const optionalLen = d.getUint16(offset + 54, true);
    const optionalOffset = d.getUint32(offset + 56, true);
    const v = offset + FIXED_LEN;
    let p = v;
    for (let k = 0; k < pathCount; k++) {
      const len = d.getUint16(p, true);
      e.paths.push(fromUtf8.decode(bytes.subarray(p + 2, p + 2 + len)));
      p += 2 + len;
    }
    let end = p;
    if (hashLen > 0) {
      let h = v + hashOffset;
      for (let k = 0; k < hashCount; k++) {
        const len = d.getUint16(h + 2, true);
        e.hashes.push({ type: d.getUint8(h), purpose: d.getUint8(h + 1), value: bytes.slice(h + 4, h + 4 + len) });
        h += 4 + len;
      }
      need(h === v + hashOffset + hashLen, `entry ${i}: hash data length`);
      end = Math.max(end, h);
    }
    if (optionalLen > 0) {
      let o = v + optionalOffset;
      while (o < v + optionalOffset + optionalLen) {
        const len = d.getUint16(o + 1, true);
        e.optionalData.push({ type: d.getUint8(o), data: bytes.slice(o + 3, o + 3 + len) });
        o += 3 + len;
      }
      need(o === v + optionalOffset + optionalLen, `entry ${i}: optional data length`);
      end = Math.max(end, o);
    }
    e.dataOffset = end;
    need(end + e.storedSize <= indexStart, `entry ${i}: stored bytes past the index`);
    e.stored = bytes.subarray(end, end + e.storedSize);
    need(crc32(e.stored) === e.storedChecksum, `entry ${i}: StoredChecksum`);
    entries.push(e);
  }
  let comment = null;
  if (header.commentSize > 0) {
    const at = Number(header.commentStart);
    const len = d.getUint32(at, true);
    need(header.commentSize === 4 + len + 3, 'CommentSize');
    need(bytes[at + 4 + len - 1] === 0, 'comment NUL');
    comment = fromUtf8.decode(bytes.subarray(at + 4, at + 4 + len - 1));
  }
  return { header, entries, comment };
}
