// The work a worker does, also run on the calling thread by the 'inline' transport. Chunk ops
// (openChunk, sealChunk) are one call each; job ops (seal, unseal, inflate, deflate, digest)
// go piece by piece, calling `between()` after each piece so a cancelled job stops there.
// Errors are thrown as StreamError data ({ name: 'StreamError', type, code, message }).

import { concatBytes } from '../sources/index.js';

/** Bytes per piece of a job op. */
const PIECE = 256 * 1024;
/** Codecs (per-file parameters) a worker keeps: most recently used last. */
const CODEC_CACHE = 16;
/** Default output limit of 'inflate' jobs without memoryLimit. */
const DEFAULT_OUTPUT_LIMIT = 1024 * 1024 * 1024;

const MAGIC = [0x89, 0x4e, 0x50, 0x4b, 0x53, 0x0d, 0x0a, 0x1a];

export function errorData(type, code, message) {
  return { name: 'StreamError', type, code, message };
}

function fromBytes(array) {
  return array ? Uint8Array.from(array) : undefined;
}

/** Runs tasks with a cache of per-file codecs. */
export class Operations {
  constructor(glue) {
    this.glue = glue;
    this.codecs = new Map();
  }

  codec({ id, header, key }) {
    let codec = this.codecs.get(id);
    if (codec) {
      this.codecs.delete(id);
    } else {
      codec = new this.glue.WasmChunkCodec(fromBytes(header), fromBytes(key));
      if (this.codecs.size >= CODEC_CACHE) {
        const [oldest, old] = this.codecs.entries().next().value;
        this.codecs.delete(oldest);
        old.free();
      }
    }
    this.codecs.set(id, codec);
    return codec;
  }

  /**
   * Runs `meta.op` over `input`; resolves to { output, deflated? }. `between` is awaited after
   * each piece of a job op and throws to stop it.
   */
  async run(meta, input, between) {
    const { glue } = this;
    const key = fromBytes(meta.key);
    const options = meta.options ?? {};
    switch (meta.op) {
      case 'openChunk': {
        const codec = this.codec(meta.codec);
        const output = codec.openChunk(meta.chunk, meta.last, input, meta.plainLen);
        return { output, deflated: codec.lastDeflated };
      }
      case 'sealChunk': {
        const codec = this.codec(meta.codec);
        return { output: codec.sealChunk(meta.chunk, meta.last, input, meta.level) };
      }
      case 'seal':
        return this.pieces(
          input,
          between,
          () => new glue.WasmSealer({ ...options, size: input.length }, key),
          (s, piece) => s.update(piece),
          (s) => s.finish(),
        );
      case 'unseal':
        return this.unseal(input, key, between, (part, parts) => parts.push(part));
      case 'inflate': {
        const limit = options.memoryLimit || DEFAULT_OUTPUT_LIMIT;
        return this.pieces(
          input,
          between,
          () => new glue.WasmInflater(limit),
          (s, piece) => s.update(piece),
          (s) => {
            s.finish();
            return new Uint8Array(0);
          },
        );
      }
      case 'deflate': {
        const level = glue.deflateLevel(options);
        return this.pieces(
          input,
          between,
          () => new glue.WasmDeflater(level),
          (s, piece) => s.update(piece, false),
          (s) => s.update(new Uint8Array(0), true),
        );
      }
      case 'digest': {
        const digest = new glue.WasmDigest();
        try {
          const sealed = input.length >= 8 && MAGIC.every((b, i) => input[i] === b);
          if (sealed) await this.unseal(input, key, between, (part) => digest.update(part));
          else {
            for (let at = 0; at < input.length; at += PIECE) {
              digest.update(input.subarray(at, at + PIECE));
              await between();
            }
          }
          return { output: digest.finish() };
        } finally {
          digest.free();
        }
      }
      default:
        throw errorData('Validation', 'INVALID_ARGUMENT', `unknown op ${JSON.stringify(meta.op)}`);
    }
  }

  /** Feeds `input` through a push-style wasm object in pieces. */
  async pieces(input, between, make, update, finish) {
    const state = make();
    try {
      const parts = [];
      for (let at = 0; at < input.length; at += PIECE) {
        parts.push(update(state, input.subarray(at, at + PIECE)));
        await between();
      }
      parts.push(finish(state));
      return { output: concatBytes(parts) };
    } finally {
      state.free();
    }
  }

  /** Opens a sealed buffer in order, handing each verified piece of plaintext to `take`. */
  async unseal(input, key, between, take) {
    const opener = new this.glue.WasmOpener(key, false);
    const parts = [];
    try {
      let rest = input;
      while (rest.length > 0) {
        const out = opener.update(rest.subarray(0, 64 * 1024));
        rest = rest.subarray(opener.consumed);
        if (out.length) {
          take(out, parts);
          await between();
        }
      }
      opener.finish();
      return { output: concatBytes(parts) };
    } finally {
      opener.free();
    }
  }
}
