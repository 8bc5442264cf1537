// processStreamsConcurrently: runs a processor over many streams, a bounded number at once,
// with one result slot per stream (failures isolated). With `streamTimeout`, a stream whose
// processing takes longer gets TIMEOUT in its slot and is closed.
import { errorOf, invalid, timedOut } from '../errors.js';
import { checkOptions } from '../options.js';
import { parallelism } from '../runtime.js';

/** Runs `processor` over every stream, at most `concurrency` at once; one result per stream. */
export async function processStreamsConcurrently(streams, processor, config = {}) {
  if (!Array.isArray(streams)) throw invalid('streams', streams, 'an array of FileStreams');
  if (typeof processor !== 'function') throw invalid('processor', processor, 'a function');
  const options = checkOptions(config, 'streaming', 'the processStreamsConcurrently config');
  const timeout = options.streamTimeout;
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout <= 0))
    throw invalid('streamTimeout', timeout, 'a positive number of milliseconds');
  const limit = options.maxConcurrentOps || options.maxWorkers || parallelism();
  const results = new Array(streams.length).fill(null);
  let next = 0;
  const run = (stream) => {
    const work = Promise.resolve().then(() => processor(stream));
    if (!timeout) return work;
    let timer;
    const expired = new Promise((_, reject) => {
      timer = setTimeout(() => {
        stream.close?.();
        reject(timedOut(timeout));
      }, timeout);
    });
    work.catch(() => {});
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  };
  async function lane() {
    while (next < streams.length) {
      const i = next++;
      try {
        await run(streams[i]);
      } catch (error) {
        results[i] = error instanceof Error ? error : errorOf('INTERNAL_ERROR', String(error));
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, streams.length) }, lane));
  return results;
}
