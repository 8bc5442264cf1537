// The retry policy of remote reads: which HTTP answers are worth another attempt, how long to
// wait before it (exponential backoff with jitter, or the server's Retry-After when longer), and
// a wait that an AbortSignal ends. Imports nothing browser-only: pool workers use it too.
import { aborted, errorOf } from '../errors.js';

/** First backoff, in ms; each retry doubles it, up to MAX_BACKOFF. */
const BASE_BACKOFF = 100;
const MAX_BACKOFF = 5000;
/** A Retry-After longer than this is not waited for: the read fails instead. */
export const MAX_RETRY_AFTER = 60_000;

/** 408 Request Timeout, 429 Too Many Requests and every 5xx: the same request may succeed later. */
export function retryableStatus(status) {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * Milliseconds of a Retry-After header (delay-seconds or an HTTP date), or undefined when absent
 * or unreadable.
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value === undefined) return undefined;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How long to wait before retry number `attempt` (1 for the first retry): "equal jitter" backoff
 * (half fixed, half random, so many readers that failed together do not retry together), or the
 * server's Retry-After when that is longer.
 */
export function retryDelay(attempt, retryAfter) {
  const backoff = Math.min(MAX_BACKOFF, BASE_BACKOFF * 2 ** (attempt - 1));
  const jittered = backoff / 2 + Math.random() * (backoff / 2);
  if (retryAfter !== undefined && retryAfter > MAX_RETRY_AFTER) {
    throw errorOf(
      'READ_FAILED',
      `the server asked to retry after ${Math.round(retryAfter / 1000)} s, longer than ${MAX_RETRY_AFTER / 1000} s`,
    );
  }
  return Math.max(jittered, retryAfter ?? 0);
}

/** Resolves after `ms`, or rejects with ABORTED as soon as `signal` aborts (the timer is cleared). */
export function wait(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted(signal.reason));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(signal.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
