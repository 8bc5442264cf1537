// One validated ranged GET, with its retries: the HTTP layer under httpSource, and what pool
// workers call to fetch their own chunk records (`fetchRange`). Imports nothing browser-only.
//
// A "remote" is the plain record every request of one file shares:
//   { url, headers: [[name, value]], fetch, maxRetries, timeout, maxWhole, size, validator,
//     validated, changed, onChanged?, stats: { requests, bytesFetched, retries } }
// `size` and `validator` ({ header: 'etag' | 'last-modified', value }) come from the first
// response; every later response must repeat them, else the file changed (RESOURCE_CHANGED,
// kept in `changed`: every later request fails with it, so bytes of two versions never mix).
// A request appends to a target (`write(bytes)`, `filled`: an Extent of range-store.js, or the
// contiguous buffer of `fetchRange`), calling `onBytes()` as bytes arrive; a retry resumes after
// the bytes already received.
import { aborted, errorOf, StreamError } from '../errors.js';
import { CORS_HEADERS, corsHint, parseContentRange, shownUrl, statusError, validatorOf } from './http-response.js';
import { parseRetryAfter, retryableStatus, retryDelay, wait } from './retry.js';
import { toBytes } from './to-bytes.js';

/** A failure worth another attempt; `final()` is what the caller sees when none is left. */
class Retry extends Error {
  constructor(reason, { retryAfter, code = 'READ_FAILED', status } = {}) {
    super(reason);
    this.retryAfter = retryAfter;
    this.code = code;
    this.status = status;
  }

  final(remote, attempts) {
    const context = this.status === undefined ? undefined : { status: this.status };
    return errorOf(
      this.code,
      `GET ${shownUrl(remote.url)} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${this.message}`,
      context,
    );
  }
}

/** The record every request of one remote file shares (see the module comment). */
export function remoteOf({ url, headers = [], fetch, maxRetries = 3, timeout = 30_000, maxWhole, size, validator }) {
  return {
    url,
    headers,
    fetch,
    maxRetries,
    timeout,
    maxWhole,
    size: size ?? null,
    validator: validator ?? null,
    validated: size !== undefined && size !== null,
    changed: null,
    onChanged: null,
    stats: { requests: 0, bytesFetched: 0, retries: 0 },
  };
}

/**
 * One attempt's signal: aborts when the caller's signal does, or when the server stays silent
 * longer than `timeout` ms (`poke()` restarts that clock as bytes arrive).
 */
class AttemptWatch {
  constructor(timeout, signal) {
    this.controller = new AbortController();
    this.signal = this.controller.signal;
    this.outer = signal;
    this.timeout = timeout;
    this.timedOut = false;
    this.onAbort = () => this.controller.abort(signal.reason);
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) this.controller.abort(signal.reason);
    this.poke();
  }

  poke() {
    clearTimeout(this.timer);
    if (!this.timeout) return;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, this.timeout);
  }

  /** Why the attempt ended, as the error to throw (a Retry for a timeout or network failure). */
  failure(error, url) {
    if (this.outer?.aborted) return aborted(this.outer.reason);
    if (this.timedOut) return new Retry(`no answer for ${this.timeout} ms`, { code: 'TIMEOUT' });
    if (error instanceof StreamError || error instanceof Retry) return error;
    // Node's fetch says "fetch failed" and puts the reason (ECONNRESET, ...) in `cause`.
    const cause = error?.cause?.code ?? error?.cause?.message;
    const message = `${error?.message ?? String(error)}${cause ? `: ${cause}` : ''}`;
    return new Retry(`network error (${message})${corsHint(url)}`);
  }

  cancel() {
    this.controller.abort();
  }

  done() {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }
}

/**
 * One attempt: a GET with a Range header, and its answer. `finish()` ends it: a body not read to
 * its end is cancelled (the connection is closed, not drained) and the timers are cleared.
 */
class Attempt {
  constructor(remote, signal) {
    this.remote = remote;
    this.watch = new AttemptWatch(remote.timeout, signal);
    this.response = null;
    this.reader = null;
    this.ended = false;
    // An abort (the caller's, a timeout) must end a pending body read: Node's fetch may leave
    // one pending forever when the abort comes after the last byte arrived.
    this.onAbort = () => this.reader?.cancel().catch(() => {});
    this.watch.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  async send(range) {
    const { remote, watch } = this;
    const headers = new Headers(remote.headers);
    headers.set('range', range);
    // Ranges count stored bytes: no transfer coding may change them (browsers set this themselves).
    if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'identity');
    remote.stats.requests += 1;
    try {
      this.response = await remote.fetch(remote.url, { headers, signal: watch.signal });
    } catch (error) {
      throw watch.failure(error, remote.url);
    }
    return this.response;
  }

  /** The next piece of the body, or null at its end. */
  async next() {
    if (!this.response.body) {
      this.ended = true;
      return null;
    }
    this.reader ??= this.response.body.getReader();
    let step;
    try {
      step = await this.reader.read();
    } catch (error) {
      this.ended = true;
      throw this.watch.failure(error, this.remote.url);
    }
    if (this.watch.signal.aborted) {
      this.ended = true;
      throw this.watch.failure(new Error('aborted'), this.remote.url);
    }
    if (step.done) {
      this.ended = true;
      return null;
    }
    this.watch.poke();
    const bytes = toBytes(step.value);
    this.remote.stats.bytesFetched += bytes.length;
    return bytes;
  }

  /**
   * Reads the body into `target` (after its `filled` bytes), up to `limit` bytes in all, after
   * dropping its first `skip` bytes. Resolves to 'end' (the body ended) or 'overflow' (it held
   * more than that).
   */
  async readInto(target, limit, onBytes, skip = 0, stopAtLimit = false) {
    for (;;) {
      // With a known length, the end of the body is not waited for (its bytes are what counts).
      if (stopAtLimit && target.filled >= limit) return 'end';
      let bytes = await this.next();
      if (bytes === null) return 'end';
      if (skip > 0) {
        // Bytes before the target's start (already held elsewhere).
        const drop = Math.min(skip, bytes.length);
        skip -= drop;
        bytes = bytes.subarray(drop);
        if (bytes.length === 0) continue;
      }
      const take = Math.min(limit - target.filled, bytes.length);
      target.write(take === bytes.length ? bytes : bytes.subarray(0, take));
      if (take > 0) onBytes?.();
      if (bytes.length > take) return 'overflow';
    }
  }

  /**
   * Reads a whole 200 body of at most `max` bytes (`length`: its Content-Length, if known):
   * the bytes, or RANGE_NOT_SUPPORTED when larger (cancelled at once), a Retry when short.
   */
  async readWhole(length, max) {
    if (length !== null && length > max) throw rangeRefused(this.remote, length);
    let bytes = new Uint8Array(length ?? Math.min(max, 1 << 20));
    let filled = 0;
    for (;;) {
      const piece = await this.next();
      if (piece === null) break;
      if (filled + piece.length > bytes.length) {
        if (length !== null) throw new Retry('the body is longer than its Content-Length');
        if (filled + piece.length > max) throw rangeRefused(this.remote, null);
        const grown = new Uint8Array(Math.min(max, Math.max(bytes.length * 2, filled + piece.length)));
        grown.set(bytes.subarray(0, filled));
        bytes = grown;
      }
      bytes.set(piece, filled);
      filled += piece.length;
    }
    if (length !== null && filled !== length) throw new Retry(`short body: ${filled} of ${length} bytes`);
    return bytes.subarray(0, filled);
  }

  finish() {
    this.watch.signal.removeEventListener('abort', this.onAbort);
    if (this.response && !this.ended) {
      const body = this.reader ?? this.response.body;
      body?.cancel().catch(() => {});
      this.watch.cancel();
    }
    this.watch.done();
  }
}

/** Marks the file as changed: this and every later request fails with RESOURCE_CHANGED. */
function changed(remote, what) {
  remote.changed ??= errorOf(
    'RESOURCE_CHANGED',
    `${shownUrl(remote.url)} changed while it was read (${what}): no bytes of the new version were used`,
  );
  remote.onChanged?.(remote.changed);
  return remote.changed;
}

/**
 * Checks a response against the first one (validator, total size); the first response sets
 * them. `total` is the file size the response states, if any.
 */
function checkVersion(remote, headers, total) {
  if (remote.changed) throw remote.changed;
  const validator = validatorOf(headers);
  if (!remote.validated) {
    remote.validated = true;
    remote.validator = validator;
    if (total !== null && total !== undefined) remote.size ??= total;
  } else if (remote.validator) {
    const now = headers.get(remote.validator.header)?.trim() ?? null;
    if (now !== remote.validator.value) {
      throw changed(remote, `${remote.validator.header} ${remote.validator.value} then ${now ?? 'none'}`);
    }
  }
  if (total !== null && total !== undefined && remote.size !== null && total !== remote.size) {
    throw changed(remote, `size ${remote.size} then ${total}`);
  }
}

/** The Content-Length of an unencoded body, or null. */
function contentLength(headers) {
  const encoding = headers.get('content-encoding');
  if (encoding && encoding.trim().toLowerCase() !== 'identity') return null;
  const value = headers.get('content-length');
  return value !== null && /^\s*\d+\s*$/.test(value) ? Number(value) : null;
}

/**
 * An answer that is neither 206 nor 200: a Retry for 408, 429 and 5xx (with Retry-After), else
 * the final error (404, 401, 403: READ_FAILED with context.status; 416: the file shrank, or
 * READ_FAILED).
 */
function unexpectedStatus(remote, response) {
  const { status, headers } = response;
  if (retryableStatus(status)) {
    return new Retry(`the server answered ${status}`, {
      retryAfter: parseRetryAfter(headers.get('retry-after')),
      status,
    });
  }
  if (status === 416) {
    const range = parseContentRange(headers.get('content-range'));
    if (range?.unsatisfied && remote.size !== null && range.total !== remote.size) {
      return changed(remote, `size ${remote.size} then ${range.total}`);
    }
  }
  return statusError(status, remote.url);
}

/** RANGE_NOT_SUPPORTED: a whole 200 body where a range was asked, too large to take whole. */
function rangeRefused(remote, length) {
  return errorOf(
    'RANGE_NOT_SUPPORTED',
    `${shownUrl(remote.url)}: the server answered a Range request with the whole file (${length ?? 'unknown'} bytes, ` +
      `more than maxRangeSize ${remote.maxWhole}); it must answer Range requests with 206 Partial Content`,
    { status: 200 },
  );
}

/** A 206 without a readable Content-Range: cross-origin, the header is probably not exposed. */
function missingContentRange(remote) {
  if (corsHint(remote.url)) {
    return errorOf(
      'READ_FAILED',
      `${shownUrl(remote.url)}: the 206 answer has no readable Content-Range (the cross-origin server must send ${CORS_HEADERS})`,
      { status: 206 },
    );
  }
  return new Retry('the 206 answer has no Content-Range');
}

/**
 * Runs `attempt` with retries: on a Retry, waits (backoff with jitter, or Retry-After) and tries
 * again, at most `remote.maxRetries` times; any other error ends at once.
 */
async function withRetries(remote, signal, attempt) {
  let failures = 0;
  for (;;) {
    if (remote.changed) throw remote.changed;
    if (signal?.aborted) throw aborted(signal.reason);
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof Retry)) throw error;
      if (failures >= remote.maxRetries) throw error.final(remote, failures + 1);
      failures += 1;
      remote.stats.retries += 1;
      await wait(retryDelay(failures, error.retryAfter), signal);
    }
  }
}

/**
 * Fills `target` (end - start bytes) with the file's bytes [start, end), from
 * `target.filled` on, in as few requests as faults allow. With `clamp`, the file may end before
 * `end` (its size is not known yet): `onShort(newEnd)` is called and only that much is read.
 */
export function rangedGet(remote, start, end, target, { signal, onBytes, clamp = false, onShort } = {}) {
  return withRetries(remote, signal, async () => {
    const from = start + target.filled;
    if (from >= end) return;
    const attempt = new Attempt(remote, signal);
    try {
      const response = await attempt.send(`bytes=${from}-${end - 1}`);
      const { status, headers } = response;
      if (status === 206) {
        const range = parseContentRange(headers.get('content-range'));
        if (!range) throw missingContentRange(remote);
        checkVersion(remote, headers, range.total ?? undefined);
        const endsEarly = clamp && !range.unsatisfied && range.end < end && range.end === range.total;
        if (range.unsatisfied || range.start !== from || (range.end !== end && !endsEarly)) {
          throw new Retry(`asked bytes ${from}-${end - 1}, the answer says ${headers.get('content-range')}`);
        }
        if (endsEarly) {
          end = range.end;
          onShort?.(end);
        }
        const length = contentLength(headers);
        if (length !== null && length !== end - from) {
          throw new Retry(`asked ${end - from} bytes, the answer's Content-Length is ${length}`);
        }
        // With a Content-Length the framing ends the body: the bytes asked are all there is.
        const ended = await attempt.readInto(target, end - start, onBytes, 0, length !== null);
        if (ended === 'overflow') throw new Retry('the body is longer than the range asked');
        if (start + target.filled < end) {
          throw new Retry(`short body: ${start + target.filled - from} of ${end - from} bytes`);
        }
        return;
      }
      if (status === 200) {
        const length = contentLength(headers);
        checkVersion(remote, headers, length ?? undefined);
        if (remote.size === null || remote.size > remote.maxWhole || (length !== null && length !== remote.size)) {
          throw rangeRefused(remote, length);
        }
        const whole = await attempt.readWhole(length, remote.size);
        if (whole.length !== remote.size) throw new Retry(`short body: ${whole.length} of ${remote.size} bytes`);
        target.write(whole.subarray(from, end));
        onBytes?.();
        return;
      }
      throw unexpectedStatus(remote, response);
    } finally {
      attempt.finish();
    }
  });
}

/**
 * Opens a remote file with one suffix range (`bytes=-guess`): learns its size and validator,
 * and fills the last `guess` bytes (footer and, usually, the whole index of a sealed file).
 * `onStart(start, end)` is called as soon as the range is known and returns the target to fill
 * ({ start, bytes, filled, onBytes }; its start may be after `start`, when the first bytes are
 * held already), or null when none of it is needed. Resolves to that target, or null (nothing
 * needed, or an empty file).
 */
export function suffixGet(remote, guess, { signal, onStart }) {
  let target = null;
  let range = null;
  return withRetries(remote, signal, async () => {
    if (target) {
      // The body broke after the range was known: resume it like any range.
      await rangedGet(remote, range.start, range.end, target, { signal, onBytes: target.onBytes });
      return target;
    }
    const attempt = new Attempt(remote, signal);
    try {
      const response = await attempt.send(`bytes=-${guess}`);
      const { status, headers } = response;
      if (status === 206) {
        const cr = parseContentRange(headers.get('content-range'));
        if (!cr) throw missingContentRange(remote);
        if (cr.total === null || cr.unsatisfied) {
          throw errorOf('READ_FAILED', `${shownUrl(remote.url)}: Content-Range gives no total size (bytes a-b/*)`);
        }
        checkVersion(remote, headers, cr.total);
        if (cr.start !== Math.max(0, cr.total - guess) || cr.end !== cr.total) {
          throw new Retry(`asked the last ${guess} bytes, the answer says ${headers.get('content-range')}`);
        }
        target = onStart(cr.start, cr.end);
        if (!target) return null;
        range = { start: target.start, end: cr.end };
        const length = cr.end - target.start;
        const framed = contentLength(headers) !== null;
        const ended = await attempt.readInto(target, length, target.onBytes, target.start - cr.start, framed);
        if (ended === 'overflow') throw new Retry('the body is longer than the range asked');
        if (target.filled < length) throw new Retry(`short body: ${target.filled} of ${length}`);
        return target;
      }
      if (status === 200) {
        // No range support: acceptable only for a file that fits in one range.
        const whole = await attempt.readWhole(contentLength(headers), remote.maxWhole);
        checkVersion(remote, headers, whole.length);
        if (whole.length === 0) return null;
        const t = onStart(0, whole.length);
        if (!t) return null;
        t.write(whole.subarray(t.start));
        t.onBytes?.();
        return t;
      }
      if (status === 416) {
        const cr = parseContentRange(headers.get('content-range'));
        if (cr?.unsatisfied && cr.total === 0) {
          checkVersion(remote, headers, 0);
          return null;
        }
      }
      throw unexpectedStatus(remote, response);
    } finally {
      attempt.finish();
    }
  });
}

/**
 * One validated ranged GET of a file described by an HttpSource's `shareable()` data: resolves
 * to exactly the bytes [start, end), with the source's retries, and fails with RESOURCE_CHANGED
 * if the server's validator or size is not the one the source saw. For pool workers.
 */
export async function fetchRange(shared, start, end, { fetch = globalThis.fetch.bind(globalThis), signal } = {}) {
  const remote = remoteOf({ ...shared, fetch, maxWhole: shared.maxRangeSize ?? 16 * 1024 * 1024 });
  remote.validated = true;
  remote.validator = shared.validator === null ? null : { header: shared.validatorHeader, value: shared.validator };
  const bytes = new Uint8Array(end - start);
  const target = {
    filled: 0,
    write(piece) {
      bytes.set(piece, this.filled);
      this.filled += piece.length;
    },
  };
  await rangedGet(remote, start, end, target, { signal });
  return bytes;
}
