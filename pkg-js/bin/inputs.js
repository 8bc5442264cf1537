// What the CLI reads: inputs (a file through fs.openAsBlob, an http(s) URL through httpSource,
// `-` for stdin) and key files.
import { openAsBlob, readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { httpSource } from '../src/entry-node.js';
import { UsageError } from './args.js';

/** `path` as an http(s) URL, or null when it is a file path. */
export function remoteUrl(path) {
  if (!/^https?:\/\//i.test(path)) return null;
  try {
    return new URL(path);
  } catch {
    throw new UsageError(`not a valid URL: ${JSON.stringify(path)}`);
  }
}

/** An input path as { source, size }: stdin, a URL or a file. */
export async function input(path) {
  if (path === '-') return { source: Readable.toWeb(process.stdin), size: undefined };
  const url = remoteUrl(path);
  if (url) return { source: httpSource(url), size: undefined };
  const stat = statSync(path);
  if (stat.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
  return { source: await openAsBlob(path), size: stat.isFile() ? stat.size : undefined };
}

/** The bytes of a key file: hex digits (whitespace around them ignored), or raw bytes. */
function keyBytes(path) {
  const raw = readFileSync(path);
  const text = raw.toString('latin1').trim();
  if (/^([0-9a-fA-F]{2})+$/.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'));
  return new Uint8Array(raw);
}

/** A key file holds 32 raw bytes or 64 hex digits. */
export function readKey(path) {
  if (path === undefined) return undefined;
  const key = keyBytes(path);
  if (key.length !== 32) throw new UsageError(`${path} is not a key (64 hex digits or 32 bytes)`);
  return key;
}

const KEM_KEY_LENGTHS = [64, 1632, 2400, 3168];

/**
 * A key file for a package entry: a 32-byte key ({ key }), or an ML-KEM decapsulation key
 * ({ decapsulationKey }: the 64-byte seed `keygen --ml-kem` writes, or an expanded key).
 */
export function readEntryKey(path) {
  if (path === undefined) return {};
  const bytes = keyBytes(path);
  if (bytes.length === 32) return { key: bytes };
  if (KEM_KEY_LENGTHS.includes(bytes.length)) return { decapsulationKey: bytes };
  throw new UsageError(`${path} is neither a key (32 bytes) nor an ML-KEM decapsulation key`);
}

/** An ML-KEM public key file (`keygen --ml-kem` writes <file>.pub): 800, 1184 or 1568 bytes. */
export function readPublicKey(path) {
  const bytes = keyBytes(path);
  if (![800, 1184, 1568].includes(bytes.length)) {
    throw new UsageError(`${path} is not an ML-KEM public key (800, 1184 or 1568 bytes)`);
  }
  return bytes;
}
