// Job ops (submitStreamingJob: seal, unseal, inflate, deflate, digest over a whole input), run
// by a worker or, in the 'inline' transport, by the calling thread. They go piece by piece,
// calling `between()` after each piece so a cancelled job stops there. Errors are thrown as
// StreamError data ({ name: 'StreamError', type, code, message }).
import { concatBytes } from '../sources/index.js';

/** Bytes per piece of a job op. */
const PIECE = 256 * 1024;
/** Default output limit of 'inflate' and 'unseal' jobs without memoryLimit. */
const DEFAULT_OUTPUT_LIMIT = 1024 * 1024 * 1024;

export function errorData(type, code, message) {
  return { name: 'StreamError', type, code, message };
}

/** Runs job ops over the wasm module `glue`. */
export class Operations {
  constructor(glue) {
    this.glue = glue;
  }

  /**
   * Runs `meta.op` over `input`; resolves to { output }. `between` is awaited after each piece
   * and throws to stop it. The key, if any, is zeroed once the wasm objects hold their copy.
   */
  async run(meta, input, between) {
    const { glue } = this;
    const options = meta.options ?? {};
    const key = meta.key ?? undefined;
    const limit = options.memoryLimit || DEFAULT_OUTPUT_LIMIT;
    try {
      switch (meta.op) {
        case 'seal':
          return await this.pieces(
            input,
            between,
            () => new glue.WasmSealer(options, key, input.length),
            (s, piece) => s.update(piece),
            (s) => s.finish(),
          );
        case 'unseal':
          return await this.unseal(input, key, limit, between, (part, parts) => parts.push(part));
        case 'inflate':
          return await this.pieces(
            input,
            between,
            () => new glue.WasmInflater(limit),
            (s, piece) => s.update(piece),
            (s) => {
              s.finish();
              return new Uint8Array(0);
            },
          );
        case 'deflate': {
          const level = glue.deflateLevel(options);
          return await this.pieces(
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
            if (glue.looksSealed(input.subarray(0, 64)))
              await this.unseal(input, key, limit, between, (part) => digest.update(part));
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
    } finally {
      key?.fill(0);
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
  async unseal(input, key, limit, between, take) {
    const opener = new this.glue.WasmOpener(key, false);
    const parts = [];
    let produced = 0;
    try {
      let rest = input;
      while (rest.length > 0) {
        const out = opener.update(rest.subarray(0, 64 * 1024));
        rest = rest.subarray(opener.consumed);
        if (out.length) {
          produced += out.length;
          if (produced > limit)
            throw errorData('Compression', 'OUTPUT_LIMIT', `the unsealed output exceeds the limit of ${limit} bytes`);
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
