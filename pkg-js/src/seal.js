// Producing and consuming the sealed format as Web Streams: seal() (a ReadableStream of a
// source sealed), sealTransform() and unsealTransform(). The format itself is the wasm
// module's (WasmSealer, WasmOpener); this file moves bytes and handles cancellation.
import { aborted, invalid } from './errors.js';
import { checkSignal, listen, sleep } from './cancel.js';
import { checkKey } from './keys.js';
import { checkOptions } from './options.js';
import { fail, ready, sync } from './runtime.js';
import { openByteSource } from './sources/index.js';
import { toBytes } from './sources/to-bytes.js';
import { StreamingWorkerPool } from './pool/pool.js';
import { sealWithPool } from './pool/seal.js';

/** Bytes fed to a sequential opener per call: bounds the input copied into wasm at once. */
const OPEN_PIECE = 64 * 1024;

/** Waits until the readable side of a transform has room (its queue is below 1 chunk). */
async function waitForDemand(controller) {
  let delay = 1;
  while (controller.desiredSize !== null && controller.desiredSize <= 0) {
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

function sealOptions(options) {
  const o = checkOptions(options, 'seal', 'the seal options');
  checkSignal(o.signal);
  checkKey(o.key);
  return o;
}

/** Seals `source` into the sealed format, as a byte stream (by the pool's workers with `pool`). */
export function seal(source, options = {}) {
  let o;
  try {
    o = sealOptions(options);
    if (o.pool !== undefined && !(o.pool instanceof StreamingWorkerPool))
      throw invalid('pool', o.pool, 'a StreamingWorkerPool');
  } catch (error) {
    // A throw inside start() would escape the constructor: reject instead.
    return new ReadableStream({ start: () => Promise.reject(error) });
  }
  if (o.pool && o.pool.transport !== 'inline') return sealWithPool(source, o, o.pool);
  let sealer = null;
  let reader = null;
  let chunkSize = 0;
  let unlisten = () => {};
  let started = null;
  const done = () => {
    unlisten();
    sealer?.free();
    sealer = null;
  };
  return new ReadableStream(
    {
      // Some runtimes (workerd) pull before an async start() settles: pull waits for it.
      start(controller) {
        started = begin(controller);
        return started;
      },
      async pull(controller) {
        await started;
        return pullSealed(controller);
      },
      cancel(reason) {
        reader?.close(reason);
        done();
      },
    },
    { highWaterMark: 0 },
  );

  async function begin(controller) {
    try {
      await ready();
      reader = await openByteSource(source, { signal: o.signal });
      if (o.signal?.aborted) throw aborted(o.signal.reason);
      sealer = sync((w) => new w.WasmSealer(o, o.key, reader.size ?? undefined));
      chunkSize = sealer.chunkSize;
      unlisten = listen(o.signal, (error) => {
        controller.error(error);
        reader.close(error);
        done();
      });
    } catch (error) {
      reader?.close();
      throw fail(error);
    }
  }

  async function pullSealed(controller) {
    try {
      // A pull that enqueues nothing is never called again (Streams spec): read on until
      // a chunk is sealed or the input ends.
      for (;;) {
        const piece = await reader.next(chunkSize);
        if (!sealer) return;
        if (piece === null) {
          controller.enqueue(sealer.finish());
          controller.close();
          done();
          return;
        }
        const out = sealer.update(piece);
        if (out.length) {
          controller.enqueue(out);
          return;
        }
      }
    } catch (error) {
      reader.close(error);
      done();
      throw fail(error);
    }
  }
}

/**
 * A TransformStream around one wasm codec object (WasmSealer, WasmOpener). `create()` makes the
 * codec once the module is ready. An abort of `signal` errors the stream, and the codec is freed
 * at the end whichever way it comes. `transform(bytes, controller, live)` gets `live()`, the
 * codec or null once freed (it may await between pieces); `flush(codec, controller)` ends it.
 */
function codecTransform(signal, create, { transform, flush }, readableStrategy) {
  let codec = null;
  let unlisten = () => {};
  let started = null;
  const done = () => {
    unlisten();
    codec?.free();
    codec = null;
  };
  const begin = async (controller) => {
    try {
      await ready();
      if (signal?.aborted) throw aborted(signal.reason);
      codec = create();
      unlisten = listen(signal, (error) => {
        controller.error(error);
        done();
      });
    } catch (error) {
      throw fail(error);
    }
  };
  return new TransformStream(
    {
      start(controller) {
        started = begin(controller);
        return started;
      },
      async transform(chunk, controller) {
        await started;
        try {
          await transform(toBytes(chunk), controller, () => codec);
        } catch (error) {
          done();
          throw fail(error);
        }
      },
      async flush(controller) {
        await started;
        try {
          flush(codec, controller);
        } catch (error) {
          throw fail(error);
        } finally {
          done();
        }
      },
    },
    undefined,
    readableStrategy,
  );
}

/** A TransformStream from plaintext to the sealed format. Options are checked at the call. */
export function sealTransform(options = {}) {
  const o = sealOptions(options);
  if (o.pool !== undefined) throw invalid('pool', o.pool, 'nothing: sealTransform seals on this thread');
  return codecTransform(o.signal, () => sync((w) => new w.WasmSealer(o, o.key, undefined)), {
    transform(bytes, controller, live) {
      const sealer = live();
      const step = sealer.chunkSize;
      for (let at = 0; at < bytes.length; at += step) {
        const out = sealer.update(bytes.subarray(at, at + step));
        if (out.length) controller.enqueue(out);
      }
    },
    flush: (sealer, controller) => controller.enqueue(sealer.finish()),
  });
}

/** A TransformStream from the sealed format to plaintext (verified before release). */
export function unsealTransform(options = {}) {
  const o = checkOptions(options, 'unseal', 'the unsealTransform options');
  checkSignal(o.signal);
  const key = checkKey(o.key);
  return codecTransform(
    o.signal,
    () => sync((w) => new w.WasmOpener(key, false)),
    {
      async transform(bytes, controller, live) {
        let rest = bytes;
        while (rest.length > 0 && live()) {
          const opener = live();
          const out = opener.update(rest.subarray(0, OPEN_PIECE));
          rest = rest.subarray(opener.consumed);
          if (out.length) {
            controller.enqueue(out);
            // A small sealed input can expand a thousandfold: wait for the reader.
            await waitForDemand(controller);
          }
        }
      },
      flush: (opener) => opener.finish(),
    },
    { highWaterMark: 1 },
  );
}
