// Bytes in memory (a Uint8Array or ArrayBuffer) as a byte source: reads are views, not copies.
import { errorOf } from '../errors.js';

export class BytesSource {
  #bytes;
  #length;
  #next = 0;

  constructor(bytes) {
    this.#bytes = bytes;
    this.#length = bytes.length;
  }

  /** The bytes themselves (a window of them is a subarray). */
  bytes() {
    return this.#bytes;
  }

  get size() {
    return this.#length;
  }

  get randomAccess() {
    return true;
  }

  async read(offset, length) {
    const end = Math.min(offset + length, this.#length);
    if (this.#bytes.length !== this.#length) {
      throw errorOf('READ_FAILED', 'the source Uint8Array was detached or shrank');
    }
    return this.#bytes.subarray(Math.min(offset, end), end);
  }

  /** A copy the caller owns (it may transfer it). */
  async readOwned(offset, length) {
    return (await this.read(offset, length)).slice();
  }

  async next(max) {
    if (this.#next >= this.#length) return null;
    const piece = await this.read(this.#next, max);
    this.#next += piece.length;
    return piece;
  }

  close() {}

  shareable() {
    return null;
  }
}
