// inspect(): what a sealed file's header and footer say, without a key (unauthenticated: a
// description, not a proof). Reads the first and last bytes only.
import { invalid } from './errors.js';
import { fail, ready, sync } from './runtime.js';
import { checkSource, openByteSource, sourceError } from './sources/index.js';

export async function inspect(source) {
  checkSource(source);
  const bytes = await openByteSource(source);
  if (!bytes.randomAccess)
    throw invalid('source', source, 'a Blob, Uint8Array, ArrayBuffer or httpSource (random access)');
  await ready();
  // The wasm side reads the header and footer it needs through the byte source.
  try {
    return await sync((w) => w.inspectSealed(bytes));
  } catch (error) {
    throw sourceError(fail(error), bytes);
  } finally {
    bytes.close();
  }
}
