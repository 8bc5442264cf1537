// A stream chunk as bytes; anything else is a typed error.
import { invalid } from '../errors.js';

export function toBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw invalid('stream chunk', value, 'a Uint8Array');
}
