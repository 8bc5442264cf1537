// writePackage: a NovusPack package as a ReadableStream. The header comes first but depends on
// every entry's stored size, so the files are read twice (src/core/nvpk/stream_writer.rs):
// once to learn their sizes, once to write them; one entry's bytes are held at a time. A
// ReadableStream source cannot be read twice: its bytes are held from the first pass to the
// second (a Blob, bytes or an httpSource are read again instead).
import { aborted, errorOf } from '../errors.js';
import { checkSignal, listen } from '../cancel.js';
import { checkKemKey, checkKey } from '../keys.js';
import { checkOptions } from '../options.js';
import { packageModule } from '../runtime.js';
import { checkSource, concatBytes, isReadableStream, openByteSource } from '../sources/index.js';

/** The whole of `source`, as one array. */
async function readAll(source, signal) {
  const bytes = await openByteSource(source, { signal });
  try {
    if (bytes.randomAccess && bytes.size !== null) {
      const data = await bytes.read(0, bytes.size);
      if (data.length !== bytes.size) {
        throw errorOf('SIZE_MISMATCH', `a source of ${bytes.size} bytes delivered ${data.length}`);
      }
      return data;
    }
    const parts = [];
    for (let piece; (piece = await bytes.next(1 << 20)) !== null;) parts.push(piece.slice());
    return concatBytes(parts);
  } finally {
    bytes.close();
  }
}

/** A PackageFile, checked (its source, keys and names). */
function checkFile(file, n) {
  const what = `writePackage's file ${n}`;
  // A copy: the caller's object is never written to.
  const f = { ...checkOptions(file, 'packageFile', what) };
  if (typeof f.path !== 'string') {
    throw errorOf('INVALID_ARGUMENT', `${what} needs a path (a string)`, { field: 'path' });
  }
  checkSource(f.source);
  checkKey(f.key);
  checkKemKey(f.encapsulationKey, 'encapsulationKey');
  return f;
}

/**
 * The package of `files` ({ path, source, compression?, encryption?, key?, ... }, in order) as a
 * ReadableStream of its bytes.
 */
export function writePackage(files, options) {
  const o = checkOptions(options, 'writePackage', 'the writePackage options');
  checkSignal(o.signal);
  const { signal, ...packageOptions } = o;
  let writer = null;
  let list = [];
  // The bytes of ReadableStream sources, read in the first pass, until they are written.
  const held = new Map();
  let next = -1; // -1: the header is next; then the file to write; list.length: the trailer
  let unlisten = () => {};
  const free = () => {
    unlisten();
    writer?.free();
    writer = null;
    list = [];
    held.clear();
  };
  const fail = (error) => {
    free();
    return packageModule.fail(error);
  };

  return new ReadableStream(
    {
      async start(controller) {
        unlisten = listen(signal, (error) => {
          free();
          controller.error(error);
        });
        try {
          if (signal?.aborted) throw aborted(signal.reason);
          await packageModule.ready();
          writer = packageModule.sync((w) => new w.WasmStreamWriter(packageOptions, Date.now()));
          let n = 0;
          for await (const file of files) list.push(checkFile(file, n++));
          // Pass 1: every entry's stored size and checksums.
          for (const f of list) {
            const data = await readAll(f.source, signal);
            if (!writer) return;
            packageModule.sync(() => writer.plan(f, data));
            if (isReadableStream(f.source)) held.set(f, data);
          }
        } catch (error) {
          throw fail(error);
        }
      },
      async pull(controller) {
        try {
          if (!writer) return;
          if (next === -1) {
            controller.enqueue(packageModule.sync(() => writer.header()));
          } else if (next < list.length) {
            const f = list[next];
            const data = held.get(f) ?? (await readAll(f.source, signal));
            held.delete(f);
            if (!writer) return;
            const [record, stored] = packageModule.sync(() => writer.write(f, data));
            controller.enqueue(record);
            if (stored.length > 0) controller.enqueue(stored);
          } else {
            controller.enqueue(packageModule.sync(() => writer.finish()));
            free();
            controller.close();
          }
          next++;
        } catch (error) {
          throw fail(error);
        }
      },
      cancel() {
        free();
      },
    },
    { highWaterMark: 0 },
  );
}
