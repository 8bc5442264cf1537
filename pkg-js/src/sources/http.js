// httpSource(url, options): a file on a web server, CDN or object store, read with HTTP Range
// requests, usable wherever a Source is. The object is shared: every user (each FileStream,
// seal, inspect, serveRange request) reads through its own HttpReader (`reader()`, which
// toByteSource calls), and they share one size, validator, range cache and request budget, so
// closing one stream never breaks another. The HttpSource itself also follows the byte-source
// contract, through a default reader.
import { errorOf, invalid } from '../errors.js';
import { checkSignal } from '../cancel.js';
import { checkOptions } from '../options.js';
import { HttpReader } from './http-reader.js';
import { RemoteFile } from './remote-file.js';

const MiB = 1024 * 1024;
const DEFAULTS = { maxRetries: 3, maxRangeSize: 16 * MiB, concurrency: 4, timeout: 30_000, cacheSize: 16 * MiB };

function count(options, name, min, max) {
  const value = options[name] ?? DEFAULTS[name];
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(name, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

function checkUrl(url) {
  const text = url instanceof URL ? url.href : url;
  if (typeof text !== 'string') throw invalid('url', url, 'a string or URL');
  let parsed;
  try {
    parsed = new URL(text, globalThis.location?.href);
  } catch {
    throw invalid('url', '(not a URL)', 'an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalid('url', parsed.protocol, 'an http: or https: URL');
  }
  return parsed.href;
}

/** The request headers as plain [name, value] pairs (they cross to workers by postMessage). */
function headerPairs(init) {
  if (init === undefined) return [];
  try {
    return [...new Headers(init)];
  } catch (error) {
    throw invalid('headers', init, `HeadersInit (${error.message})`);
  }
}

/** A file read with HTTP Range requests (see index.d.ts for the costs and guarantees). */
export class HttpSource {
  #file;
  #default = null;

  constructor(url, options) {
    const o = checkOptions(options, 'http', 'the httpSource options');
    const signal = checkSignal(o.signal);
    if (o.fetch !== undefined && typeof o.fetch !== 'function') throw invalid('fetch', o.fetch, 'a function');
    const fetch = o.fetch ?? globalThis.fetch?.bind(globalThis);
    if (!fetch) throw errorOf('UNSUPPORTED_RUNTIME', 'this runtime has no fetch(): pass options.fetch');
    this.#file = new RemoteFile({
      url: checkUrl(url),
      headers: headerPairs(o.headers),
      fetch,
      custom: o.fetch !== undefined,
      maxRetries: count(o, 'maxRetries', 0, 100),
      maxRangeSize: count(o, 'maxRangeSize', 64 * 1024, 1024 * MiB),
      concurrency: count(o, 'concurrency', 1, 64),
      timeout: count(o, 'timeout', 0, 2 ** 31 - 1),
      cacheSize: count(o, 'cacheSize', 0, Number.MAX_SAFE_INTEGER),
    });
    if (signal) {
      const stop = () => this.#file.fail(errorOf('ABORTED', 'the httpSource signal was aborted'));
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    }
  }

  get url() {
    return this.#file.remote.url;
  }

  /** The file's size in bytes, known after the first response (Content-Range); null before. */
  get size() {
    return this.#file.size;
  }

  /** The strong ETag (else Last-Modified) every response must repeat; null before the first or without one. */
  get validator() {
    return this.#file.remote.validator?.value ?? null;
  }

  get randomAccess() {
    return true;
  }

  /** Requests sent (retries included), body bytes received, retries; bytes held now (cache and in flight). */
  stats() {
    const { requests, bytesFetched, retries } = this.#file.remote.stats;
    return { requests, bytesFetched, retries, bytesHeld: this.#file.store.bytes };
  }

  /** A reader of its own for one user (a stream, a seal), sharing this source's cache and validator. */
  reader() {
    return new HttpReader(this.#file);
  }

  #reader() {
    this.#default ??= this.reader();
    return this.#default;
  }

  open(options) {
    return this.#reader().open(options);
  }

  read(offset, length) {
    return this.#reader().read(offset, length);
  }

  readOwned(offset, length) {
    return this.#reader().readOwned(offset, length);
  }

  next(max) {
    return this.#reader().next(max);
  }

  /** Ends the default reader's requests (other readers go on). */
  close() {
    this.#default?.close();
  }

  /** `{ kind: 'http', url, headers, validator, validatorHeader, size, ... }` for a worker, or null. */
  shareable() {
    return this.#file.shareable();
  }
}

/** A file on a web server, CDN or object store, read with HTTP Range requests. */
export function httpSource(url, options) {
  return new HttpSource(url, options);
}
