// seal() with chunks sealed by the pool's workers, written in order.
import { fail, loaded, ready } from '../runtime.js';
import { concatBytes, toByteSource } from '../sources/index.js';

let codecIds = 0;

/** seal() with chunks sealed by the pool's workers, output in order. */
export function sealWithPool(source, options, pool) {
  let codec = null;
  let reader = null;
  let chunkSize = 0;
  let level = 6;
  let held = null;
  let index = 0;
  let ended = false;
  let emittedHeader = false;
  let total = 0;
  let offset = 48;
  const lens = [];
  const inFlight = [];
  const controller = new AbortController();
  const cleanup = () => {
    controller.abort();
    codec?.free();
    codec = null;
  };

  async function readChunk() {
    const parts = [];
    let length = 0;
    while (length < chunkSize) {
      const piece = await reader.next(chunkSize - length);
      if (piece === null) break;
      // Pieces are valid until the next read (a reused stream buffer): keep copies.
      parts.push(piece.slice());
      length += piece.length;
    }
    return parts.length === 0 ? null : concatBytes(parts);
  }

  function dispatch(chunk, last) {
    const meta = { op: 'sealChunk', codec: { id: codecId, header, key }, chunk: index, last, level };
    inFlight.push(pool.runChunk(meta, chunk, options.priority ?? 0, controller.signal));
    total += chunk.length;
    index += 1;
  }

  let codecId;
  let header;
  let key;
  let started = null;
  return new ReadableStream(
    {
      // Some runtimes (workerd) pull before an async start() settles: pull waits for it.
      start() {
        started = begin();
        return started;
      },
      async pull(stream) {
        await started;
        return pullSealed(stream);
      },
      cancel(reason) {
        reader?.close(reason);
        cleanup();
      },
    },
    { highWaterMark: 0 },
  );

  async function begin() {
    try {
      await ready();
      reader = toByteSource(source);
      const w = loaded();
      codec = w.WasmChunkCodec.forSealing(options, options.key, reader.size ?? undefined);
      chunkSize = codec.chunkSize;
      level = w.deflateLevel({ compress: options.compress });
      header = Array.from(codec.headerBytes());
      key = options.key ? Array.from(options.key) : undefined;
      codecId = `s${++codecIds}`;
      await pool.start();
      options.signal?.addEventListener('abort', () => cleanup(), { once: true });
    } catch (error) {
      reader?.close();
      throw fail(error);
    }
  }

  async function pullSealed(stream) {
    try {
      if (!emittedHeader) {
        emittedHeader = true;
        stream.enqueue(Uint8Array.from(header));
        return;
      }
      // Keep a window of chunks sealing while the first one is written.
      const window = 2 * Math.max(1, pool.workerCount);
      while (!ended && inFlight.length < window) {
        const next = await readChunk();
        if (next === null) {
          ended = true;
          dispatch(held ?? new Uint8Array(0), true);
          held = null;
        } else {
          if (held) dispatch(held, false);
          held = next;
        }
      }
      if (inFlight.length > 0) {
        const { output } = await inFlight.shift();
        lens.push(output.length);
        offset += output.length;
        stream.enqueue(output);
        return;
      }
      stream.enqueue(codec.sealIndex(total, Uint32Array.from(lens), offset));
      stream.close();
      cleanup();
    } catch (error) {
      reader.close(error);
      cleanup();
      throw fail(error);
    }
  }
}
