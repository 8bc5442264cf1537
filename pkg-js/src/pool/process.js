// processStreamsConcurrently: runs a processor over many streams, a bounded number at once,
// with one result slot per stream (failures isolated).
import { errorOf, invalid } from '../errors.js';
import { parallelism } from '../runtime.js';

/** Runs `processor` over every stream, at most `concurrency` at once; one result per stream. */
export async function processStreamsConcurrently(streams, processor, config = {}) {
  if (!Array.isArray(streams)) throw invalid('streams', streams, 'an array of FileStreams');
  if (typeof processor !== 'function') throw invalid('processor', processor, 'a function');
  const limit = config?.maxConcurrentOps || config?.maxWorkers || parallelism();
  const results = new Array(streams.length).fill(null);
  let next = 0;
  async function lane() {
    while (next < streams.length) {
      const i = next++;
      try {
        await processor(streams[i]);
      } catch (error) {
        results[i] = error instanceof Error ? error : errorOf('INTERNAL_ERROR', String(error));
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, streams.length) }, lane));
  return results;
}
