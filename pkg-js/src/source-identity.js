// A strong ETag for the logical bytes a FileStream gives from a source, for serveRange. It must
// change whenever those bytes may: it hashes (SHA-256) what the stream found (format, sizes)
// with what identifies the stored file:
//   - a sealed file: its first and last 64 stored bytes (the header holds a random salt fresh for
//     every sealed file; the footer, the index position), read through the source's own reader
//     (an httpSource has them cached from opening: no request);
//   - an httpSource of another format: its validator (strong ETag, else Last-Modified).
// Other sources (a plain Blob, bytes, a ReadableStream) have no cheap identity: no ETag.
// Blobs and httpSources are immutable for this purpose (a changed remote file fails the
// source), so their tags are computed once.
import { HttpSource } from './sources/http.js';
import { isBlob, openByteSource } from './sources/index.js';

const EDGE = 64;
const known = new WeakMap();

/** The ETag (a quoted string) for `stream` opened over `source`, or null. */
export function identityTag(source, stream) {
  const shared = isBlob(source) || source instanceof HttpSource;
  if (shared && known.has(source)) return known.get(source);
  const tag = computeTag(source, stream).catch(() => null);
  if (shared) known.set(source, tag);
  return tag;
}

async function computeTag(source, stream) {
  const subtle = globalThis.crypto?.subtle;
  const format = stream.format;
  if (!subtle || stream.size === null) return null;
  const parts = [new TextEncoder().encode(JSON.stringify([format.kind, stream.size, format.storedSize ?? null]))];
  if (source instanceof HttpSource && source.validator) {
    parts.push(new TextEncoder().encode(source.validator));
  } else if (format.kind !== 'sealed' || !format.storedSize || source instanceof ReadableStream) {
    return null;
  }
  if (format.kind === 'sealed' && format.storedSize) {
    const bytes = await openByteSource(source);
    try {
      const stored = format.storedSize;
      parts.push((await bytes.read(0, Math.min(EDGE, stored))).slice());
      parts.push((await bytes.read(Math.max(0, stored - EDGE), Math.min(EDGE, stored))).slice());
    } finally {
      bytes.close();
    }
  }
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await subtle.digest('SHA-256', joined));
  let text = '';
  for (const b of digest.subarray(0, 18)) text += String.fromCharCode(b);
  return `"${btoa(text).replaceAll('+', '-').replaceAll('/', '_')}"`;
}
