// openPackage and NovusPackage: a NovusPackage (.nvpk) opened from any random-access source,
// its entries streamed one by one. The package module (runtime.js) reads the header, index and
// entry records and decodes entries; here the package's source is shared between the entries'
// streams, each reading its own window of it.
import { errorOf, invalid } from '../errors.js';
import { checkSignal, guard } from '../cancel.js';
import { openFileStream } from '../file-stream.js';
import { checkKemKey } from '../keys.js';
import { checkOptions } from '../options.js';
import { packageModule } from '../runtime.js';
import { isBlob, openByteSource } from '../sources/index.js';
import { windowSource } from '../sources/window.js';

const INTERNAL = Symbol('novuspack-stream NovusPackage');

function deepFreeze(entry) {
  Object.freeze(entry.paths);
  for (const h of entry.hashes) Object.freeze(h);
  Object.freeze(entry.hashes);
  for (const d of entry.optionalData) Object.freeze(d);
  Object.freeze(entry.optionalData);
  return Object.freeze(entry);
}

export class NovusPackage {
  #handle;
  #bytes;
  #blob;
  #index = new Map(); // FileEntry -> its number in the package
  #closed = false;
  #open = new Set(); // streams of entries, closed with the package

  constructor(token, handle, bytes, blob) {
    if (token !== INTERNAL) throw new TypeError('use openPackage()');
    this.#handle = handle;
    this.#bytes = bytes;
    this.#blob = blob;
    this.header = Object.freeze(handle.header());
    this.entries = Object.freeze(handle.entries().map(deepFreeze));
    this.entries.forEach((e, i) => this.#index.set(e, i));
    this.comment = handle.comment ?? null;
    this.size = handle.length;
    Object.freeze(this);
  }

  /** The entry with this stored path ("/dir/file.txt"), or one without the leading "/". */
  find(path) {
    if (typeof path !== 'string') throw invalid('path', path, 'a string');
    if (this.#closed) throw errorOf('CLOSED', 'the package is closed');
    const i = this.#handle.find(path);
    return i === undefined ? undefined : this.entries[i];
  }

  /**
   * A FileStream over an entry's original bytes (decrypted, decompressed, checked). `config`:
   * the FileStream options that apply to an entry, `key` (32 bytes) for AES-256-GCM and
   * ChaCha20-Poly1305 entries, `decapsulationKey` for ML-KEM entries.
   */
  async open(entryOrPath, config) {
    if (this.#closed) throw errorOf('CLOSED', 'the package is closed');
    const entry = typeof entryOrPath === 'string' ? this.find(entryOrPath) : entryOrPath;
    const index = this.#index.get(entry);
    if (index === undefined) {
      if (typeof entryOrPath === 'string') {
        throw errorOf('NOT_FOUND', `no entry ${JSON.stringify(entryOrPath)} in the package`, { field: 'path' });
      }
      throw invalid('entry', entryOrPath, 'a FileEntry of this package or a path');
    }
    const options = checkOptions(config, 'entry', 'the NovusPackage.open options');
    const decapsulationKey = checkKemKey(options.decapsulationKey, 'decapsulationKey');
    const { decapsulationKey: _, ...streamOptions } = options;
    const window = windowSource(this.#bytes, this.#blob, entry.dataOffset, entry.storedSize);
    let stream;
    const forget = () => this.#open.delete(stream);
    stream = await openFileStream(window, streamOptions, {
      kind: 'entry',
      what: 'the NovusPackage.open options',
      entry,
      onClose: forget,
      open: (bytes, o, key) => this.#handle.prepareEntry(index, bytes, o, key, decapsulationKey, packagePool()),
    });
    this.#open.add(stream);
    return stream;
  }

  /** Closes the package, its source and every stream of its entries (idempotent). */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#open]) s.close();
    this.#handle.free();
    this.#bytes.close();
  }

  get closed() {
    return this.#closed;
  }
}

let pool = null;

/** The buffer pool of the package module (a BufferPool lives in the main module's memory). */
function packagePool() {
  pool ??= packageModule.sync((w) => new w.WasmBufferPool({}));
  return pool;
}

/**
 * Opens a NovusPack package from a Blob, bytes or an httpSource: reads the header, file index,
 * comment and entry records (never entry data), in as few reads as the source allows.
 */
export async function openPackage(source, options) {
  const { signal, timeout, memoryLimit } = checkOptions(options, 'package', 'the openPackage options');
  checkSignal(signal);
  const bytes = await openByteSource(source, { memoryLimit, signal, timeout });
  try {
    await packageModule.ready();
    const pending = packageModule.sync((w) => w.WasmPackage.open(bytes, { memoryLimit, timeout }));
    const handle = await guard(
      pending.catch((e) => {
        throw packageModule.fail(e);
      }),
      {
        signals: [signal],
        timeout,
        onCancel: () =>
          pending.then(
            (h) => h.free(),
            () => {},
          ),
      },
    );
    return new NovusPackage(INTERNAL, handle, bytes, isBlob(source) ? source : null);
  } catch (error) {
    bytes.close();
    throw packageModule.fail(error);
  }
}
