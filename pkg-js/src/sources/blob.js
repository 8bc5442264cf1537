// A Blob (or File) as a byte source: random reads through `slice().arrayBuffer()`; reads that
// follow one another (a pass through a sealed file) and `next()` through streams of consecutive
// slices instead, which browsers serve several times faster than a slice per chunk (ANCHORS.md:
// about 550 MB/s by slices in Chromium, 2,300 by one stream).
import { errorOf, readFailed } from '../errors.js';
import { StreamSource } from './stream.js';

/** Reads in a row, each starting where the one before ended, that make a sequence. */
const RUN = 3;
/**
 * Bytes per slice stream: Node and Deno hand an in-memory Blob's stream() out as one piece, so
 * a stream over the whole rest of a large Blob would hold all of it at once.
 */
const SPAN = 16 * 1024 * 1024;

/** A Blob read in order from `start`, one bounded slice stream after another. */
class SpanStream {
  #blob;
  #at;
  #spanEnd;
  #stream = null;

  constructor(blob, start) {
    this.#blob = blob;
    this.#at = start;
    this.#spanEnd = start;
  }

  /** The next bytes (at most `max`), or null at the end of the Blob. */
  async next(max) {
    for (;;) {
      if (!this.#stream) {
        if (this.#at >= this.#blob.size) return null;
        this.#spanEnd = Math.min(this.#blob.size, this.#at + SPAN);
        this.#stream = new StreamSource(this.#blob.slice(this.#at, this.#spanEnd).stream(), this.#spanEnd - this.#at);
      }
      const piece = await this.#stream.next(Math.min(max, this.#spanEnd - this.#at));
      if (piece) {
        this.#at += piece.length;
        return piece;
      }
      // This span ended: short of its end, the Blob itself ended (or shrank).
      this.#stream = null;
      if (this.#at < this.#spanEnd) return null;
    }
  }

  close() {
    this.#stream?.close();
    this.#stream = null;
  }
}

export class BlobSource {
  #blob;
  #lastEnd = -1;
  #run = 0;
  // The stream serving sequential reads, where it stands, and the queue of reads on it.
  #sequence = null;
  #sequenceAt = 0;
  #queue = Promise.resolve();
  #queuedEnd = -1;
  #next = null;
  #closed = false;

  constructor(blob) {
    this.#blob = blob;
  }

  get size() {
    return this.#blob.size;
  }

  get randomAccess() {
    return true;
  }

  /** The Blob itself, for a worker to read (null when it cannot be cloned, e.g. fs.openAsBlob). */
  shareable() {
    try {
      structuredClone(this.#blob);
      return { kind: 'blob', blob: this.#blob };
    } catch {
      return null;
    }
  }

  read(offset, length) {
    const size = this.#blob.size;
    const start = Math.min(offset, size);
    const end = Math.min(offset + length, size);
    if (end <= start) return Promise.resolve(new Uint8Array(0));
    const continues = this.#lastEnd === start;
    this.#run = continues ? this.#run + 1 : 0;
    this.#lastEnd = end;
    // Three reads in a row make a sequence (a random read and its one chunk of read-ahead do
    // not: opening a stream for them would cost more than a slice).
    if (this.#queuedEnd !== start && this.#run < RUN - 1) return this.#slice(start, end);
    this.#queuedEnd = end;
    const read = this.#queue.then(() => this.#fromSequence(start, end));
    this.#queue = read.catch(() => {});
    return read;
  }

  /** Bytes the caller owns (a fresh buffer it may transfer): one slice read. */
  readOwned(offset, length) {
    const size = this.#blob.size;
    return this.#slice(Math.min(offset, size), Math.min(offset + length, size));
  }

  async #slice(start, end) {
    if (this.#closed) throw errorOf('CLOSED', 'the source is closed');
    let buffer;
    try {
      buffer = await this.#blob.slice(start, end).arrayBuffer();
    } catch (error) {
      throw readFailed(error, 'reading the Blob failed');
    }
    if (buffer.byteLength !== end - start) throw errorOf('READ_FAILED', 'the Blob returned fewer bytes than asked');
    return new Uint8Array(buffer);
  }

  async #fromSequence(start, end) {
    if (!this.#sequence || this.#sequenceAt !== start) {
      // A new sequence (or reads that came out of order): a stream from here.
      this.#sequence?.close();
      this.#sequence = new SpanStream(this.#blob, start);
      this.#sequenceAt = start;
    }
    let out = null;
    let filled = 0;
    while (filled < end - start) {
      let piece;
      try {
        piece = await this.#sequence.next(end - start - filled);
      } catch {
        piece = null;
      }
      if (!piece) {
        // The stream is unusable from here: drop it, and read this range by slice.
        this.#sequence?.close();
        this.#sequence = null;
        this.#queuedEnd = -1;
        return this.#slice(start, end);
      }
      this.#sequenceAt += piece.length;
      // One piece that is the whole range needs no copy (it is valid until the next read).
      if (!out && piece.length === end - start) return piece;
      out ??= new Uint8Array(end - start);
      out.set(piece, filled);
      filled += piece.length;
    }
    return out;
  }

  async next(max) {
    this.#next ??= new SpanStream(this.#blob, 0);
    return this.#next.next(max);
  }

  close() {
    this.#closed = true;
    this.#sequence?.close();
    this.#sequence = null;
    this.#next?.close();
  }
}
