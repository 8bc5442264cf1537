// A ReadableStream as a byte source: in order only, through a BYOB reader when the stream is a
// byte stream (into a buffer of the size asked, no queue copy), else the default reader.
import { errorOf, readFailed } from '../errors.js';
import { toBytes } from './to-bytes.js';

export class StreamSource {
  #stream;
  #size;
  #reader = null;
  #byob = false;
  #leftover = null;
  #done = false;

  constructor(stream, size) {
    this.#stream = stream;
    this.#size = size;
  }

  get size() {
    return this.#size;
  }

  get randomAccess() {
    return false;
  }

  async read() {
    throw errorOf('NOT_SEEKABLE', 'a ReadableStream cannot be read by offset');
  }

  #getReader() {
    if (this.#reader) return this.#reader;
    try {
      // Engines without BYOB readers (WebKit) throw here or on non-byte streams.
      this.#reader = this.#stream.getReader({ mode: 'byob' });
      this.#byob = true;
    } catch {
      this.#reader = this.#stream.getReader();
    }
    return this.#reader;
  }

  async next(max) {
    if (this.#done || max <= 0) return null;
    if (this.#leftover) return this.#take(max);
    const reader = this.#getReader();
    try {
      if (this.#byob) {
        // A fresh buffer each time, never the last one again: a BYOB read detaches the buffer it
        // is given, and a caller may still be copying the previous piece (the engine copies in a
        // later microtask, and concurrent reads of a Blob queue one after another).
        const { done, value } = await reader.read(new Uint8Array(new ArrayBuffer(max), 0, max));
        if (done) return this.#end();
        return value;
      }
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return this.#end();
        const bytes = toBytes(value);
        if (bytes.length === 0) continue;
        this.#leftover = bytes;
        return this.#take(max);
      }
    } catch (error) {
      throw readFailed(error, 'the ReadableStream failed');
    }
  }

  #take(max) {
    const piece = this.#leftover.subarray(0, max);
    this.#leftover = piece.length < this.#leftover.length ? this.#leftover.subarray(piece.length) : null;
    return piece;
  }

  #end() {
    this.#done = true;
    return null;
  }

  close(reason) {
    this.#done = true;
    this.#leftover = null;
    const target = this.#reader ?? this.#stream;
    // A rejected cancel is of no interest once the stream is closed.
    target.cancel(reason).catch(() => {});
  }

  shareable() {
    return null;
  }
}
