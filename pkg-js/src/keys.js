// Keys: 32 random bytes, checked without ever putting key material in an error (a key is
// described by its type and length only), and the hex form `novuspack-stream keygen` writes.
import { errorOf } from './errors.js';

/** What a key-like value is, without its contents. */
function shape(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor?.name ?? 'typed array'} of ${value.byteLength} bytes`;
  if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`;
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value;
}

function badKey(value, field, expected = 'a Uint8Array of 32 bytes') {
  const hint = typeof value === 'string' ? ' (a hex key: keyFromHex(text))' : '';
  return errorOf('INVALID_KEY', `invalid ${field}: ${shape(value)}; expected ${expected}${hint}`, {
    field,
    value: shape(value),
    expected,
  });
}

/** Checks an optional key: undefined, or a Uint8Array (its length is checked by the core). */
export function checkKey(key, field = 'key') {
  if (key === undefined || key === null) return undefined;
  if (!(key instanceof Uint8Array)) throw badKey(key, field);
  if (key.length !== 32) throw badKey(key, field);
  return key;
}

/** Checks an optional ML-KEM key (its length is checked by the core): undefined, or a Uint8Array. */
export function checkKemKey(key, field) {
  if (key === undefined || key === null) return undefined;
  if (!(key instanceof Uint8Array)) throw badKey(key, field, 'a Uint8Array');
  return key;
}

/** 32 random bytes from crypto.getRandomValues. */
export function generateKey() {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** A key from 64 hex digits (surrounding whitespace ignored), as `keygen` writes it. */
export function keyFromHex(text) {
  if (typeof text !== 'string') throw badKey(text, 'hex key');
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw errorOf('INVALID_KEY', `invalid hex key: ${shape(hex)}; expected 64 hex digits`, {
      field: 'hex key',
      value: shape(hex),
      expected: '64 hex digits',
    });
  }
  const key = new Uint8Array(32);
  for (let i = 0; i < 32; i++) key[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return key;
}

/** The 64 lowercase hex digits of a key. */
export function keyToHex(key) {
  checkKey(key);
  if (key === undefined || key === null) throw badKey(key, 'key');
  return Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('');
}
