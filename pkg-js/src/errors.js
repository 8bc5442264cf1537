// StreamError, and the one function that turns anything thrown by the wasm module, a worker
// or the runtime into one. Errors cross the wasm boundary and worker boundaries as plain data
// ({ name: 'StreamError', type, code, message, context }) and are rebuilt here. JS code raises
// errors by code (`errorOf`): each code's type comes from the Rust core (tables.js).
import { ERROR_TYPES } from './tables.js';

/** The error of every rejection a caller can cause. `type` is the NovusPack category, `code` stable. */
export class StreamError extends Error {
  constructor(type, code, message, context, options) {
    super(message, options);
    this.name = 'StreamError';
    this.type = type;
    this.code = code;
    if (context !== undefined) this.context = context;
  }

  /** Plain data that survives postMessage / structuredClone. */
  toJSON() {
    return { name: 'StreamError', type: this.type, code: this.code, message: this.message, context: this.context };
  }
}

/** A StreamError with `code` and its type from the core's table. */
export function errorOf(code, message, context, options) {
  const type = ERROR_TYPES[code];
  if (!type) throw new TypeError(`novuspack-stream: unknown error code ${code}`);
  return new StreamError(type, code, message, context, options);
}

/** A failure of a byte source (a Blob, stream or server) as READ_FAILED, keeping StreamErrors. */
export function readFailed(error, what = 'the source failed') {
  if (error instanceof StreamError) return error;
  if (isErrorData(error)) return errorFromData(error);
  const message = error && error.message ? error.message : String(error);
  return errorOf('READ_FAILED', `${what}: ${message}`, undefined, { cause: error });
}

/** True for the plain-data form of a StreamError. */
export function isErrorData(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    value.name === 'StreamError' &&
    typeof value.type === 'string' &&
    typeof value.code === 'string'
  );
}

/** Rebuilds a StreamError from its plain-data form. */
export function errorFromData(data) {
  return new StreamError(data.type, data.code, data.message ?? data.code, data.context);
}

let trapped = null;

/** After a wasm trap the instance may be inconsistent: every later call fails with this. */
export function trappedError() {
  return trapped;
}

/**
 * Converts anything thrown into a StreamError. `lastPanic` reads the panic message recorded
 * by the wasm module, if any.
 */
export function toStreamError(error, lastPanic) {
  if (error instanceof StreamError) return error;
  if (isErrorData(error)) return errorFromData(error);
  if (typeof WebAssembly !== 'undefined' && error instanceof WebAssembly.RuntimeError) {
    const panic = safe(lastPanic);
    trapped = new StreamError(
      'Unsupported',
      'INTERNAL_ERROR',
      `novuspack-stream hit an internal error${panic ? `: ${panic}` : ''} (please report it); reload the module to continue`,
      undefined,
      { cause: error },
    );
    return trapped;
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    return new StreamError('Validation', 'INVALID_ARGUMENT', error.message, undefined, { cause: error });
  }
  if (error && error.name === 'AbortError') {
    return new StreamError('Context', 'ABORTED', error.message || 'the operation was aborted', undefined, {
      cause: error,
    });
  }
  const message = error && error.message ? error.message : String(error);
  return new StreamError('Unsupported', 'INTERNAL_ERROR', message, undefined, { cause: error });
}

function safe(fn) {
  try {
    return fn ? fn() : undefined;
  } catch {
    return undefined;
  }
}

export const aborted = (reason) =>
  errorOf(
    'ABORTED',
    reason instanceof Error && reason.message ? `aborted: ${reason.message}` : 'the operation was aborted',
    undefined,
    reason === undefined ? undefined : { cause: reason },
  );

export const timedOut = (ms) => errorOf('TIMEOUT', `the operation took longer than its timeout of ${ms} ms`);

export const closedError = () => errorOf('CLOSED', 'the stream is closed');

export const invalid = (field, value, expected, code = 'INVALID_ARGUMENT') =>
  errorOf(code, `invalid ${field}: ${describe(value)} (expected ${expected})`, {
    field,
    value: describe(value),
    expected,
  });

function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' || typeof value === 'function') return value.constructor?.name ?? typeof value;
  return String(value);
}
