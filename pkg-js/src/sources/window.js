// A byte range of another byte source (a package entry's stored bytes) as a byte source of its
// own: offsets start at the window's start and reads stop at its end. A Blob's window is a
// Blob slice and bytes' a subarray (both keep their fast paths); anything else (an
// httpSource) is wrapped, its reads moved by the window's start.
import { BlobSource } from './blob.js';
import { BytesSource } from './bytes.js';

class WindowSource {
  #inner;
  #start;
  #length;
  #next = 0;

  constructor(inner, start, length) {
    this.#inner = inner;
    this.#start = start;
    this.#length = length;
  }

  get size() {
    return this.#length;
  }

  get randomAccess() {
    return true;
  }

  #clip(offset, length) {
    return Math.max(0, Math.min(length, this.#length - offset));
  }

  read(offset, length) {
    return this.#inner.read(this.#start + offset, this.#clip(offset, length));
  }

  readOwned(offset, length) {
    const n = this.#clip(offset, length);
    if (this.#inner.readOwned) return this.#inner.readOwned(this.#start + offset, n);
    return this.#inner.read(this.#start + offset, n).then((bytes) => bytes.slice());
  }

  async next(max) {
    if (this.#next >= this.#length) return null;
    const piece = await this.read(this.#next, max);
    if (piece.length === 0) return null;
    this.#next += piece.length;
    return piece;
  }

  // The package's source is shared by every entry: closing one entry's stream leaves it open.
  close() {}

  shareable() {
    return null;
  }
}

/**
 * The `length` bytes of `source` (a byte source, or a Blob or bytes) from `start`. Closing the
 * window does not close `source`.
 */
export function windowSource(source, blob, start, length) {
  if (blob) return new BlobSource(blob.slice(start, start + length));
  if (source instanceof BytesSource) return new BytesSource(source.bytes().subarray(start, start + length));
  return new WindowSource(source, start, length);
}
