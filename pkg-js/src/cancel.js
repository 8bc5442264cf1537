// Cancellation: AbortSignals and timeouts raced against operations. An abort or timeout runs
// the operation's clean-up (`onCancel`) and rejects with ABORTED or TIMEOUT.
import { aborted, invalid, timedOut } from './errors.js';

/** Checks an optional AbortSignal argument. */
export function checkSignal(signal, field = 'signal') {
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalid(field, signal, 'an AbortSignal');
  return signal;
}

/**
 * Races `promise` against AbortSignals and a timeout. On abort or timeout, `onCancel` runs
 * (closing what the operation used) and the result rejects with ABORTED or TIMEOUT.
 */
export function guard(promise, { signals = [], timeout, onCancel } = {}) {
  const active = signals.filter(Boolean);
  for (const s of active) {
    if (s.aborted) {
      promise.catch(() => {});
      onCancel?.();
      return Promise.reject(aborted(s.reason));
    }
  }
  if (active.length === 0 && !timeout) return promise;
  return new Promise((resolve, reject) => {
    let timer;
    const settle = (fn, value) => {
      clearTimeout(timer);
      for (const s of active) s.removeEventListener('abort', onAbort);
      fn(value);
    };
    const onAbort = (event) => {
      onCancel?.();
      settle(reject, aborted(event.target.reason));
    };
    for (const s of active) s.addEventListener('abort', onAbort, { once: true });
    if (timeout) {
      timer = setTimeout(() => {
        onCancel?.();
        settle(reject, timedOut(timeout));
      }, timeout);
    }
    promise.then(
      (value) => settle(resolve, value),
      (error) => settle(reject, error),
    );
  });
}

/** Calls `onAbort(error)` when `signal` aborts; returns a function that stops listening. */
export function listen(signal, onAbort) {
  if (!signal) return () => {};
  const handler = () => onAbort(aborted(signal.reason));
  signal.addEventListener('abort', handler, { once: true });
  return () => signal.removeEventListener('abort', handler);
}

/** Rejects when `signal` aborts (never when there is none). */
export function whenAborted(signal) {
  return new Promise((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(aborted(signal.reason));
    else signal.addEventListener('abort', () => reject(aborted(signal.reason)), { once: true });
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
