// Reading what a server answered to a Range request: Content-Range, the validator that
// identifies one version of the file (a strong ETag, else Last-Modified), the URL as it may be
// shown in messages (no query string: signed URLs carry credentials there), and the hint a
// cross-origin failure needs. Imports nothing browser-only: pool workers use it too.
import { errorOf } from '../errors.js';

/** The headers a cross-origin server must send for ranged reads (named in messages). */
export const CORS_HEADERS =
  'Access-Control-Allow-Origin, Access-Control-Allow-Headers: Range, Access-Control-Expose-Headers: Content-Range, ETag';

/**
 * A Content-Range header: { start, end (exclusive), total (null for "*") } for `bytes a-b/n`,
 * { unsatisfied: true, total } for `bytes * /n`, null when absent or unreadable.
 */
export function parseContentRange(value) {
  if (!value) return null;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|(\*))\s*\/\s*(\d+|\*)\s*$/i.exec(value);
  if (!m) return null;
  const total = m[4] === '*' ? null : Number(m[4]);
  if (m[3]) return total === null ? null : { unsatisfied: true, total };
  const start = Number(m[1]);
  const last = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last) || last < start) return null;
  if (total !== null && last >= total) return null;
  return { start, end: last + 1, total };
}

/**
 * The validator of a response: { header: 'etag', value } for a strong ETag, else
 * { header: 'last-modified', value }, else null (the server gives no way to tell versions apart).
 */
export function validatorOf(headers) {
  const etag = headers.get('etag');
  if (etag && !/^W\//.test(etag.trim())) return { header: 'etag', value: etag.trim() };
  const modified = headers.get('last-modified');
  if (modified) return { header: 'last-modified', value: modified.trim() };
  return null;
}

/** The URL as messages show it: origin and path, without query or fragment (they may hold secrets). */
export function shownUrl(url) {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(an invalid URL)';
  }
}

/** True when `url` is on another origin than the page or worker running this code. */
export function crossOrigin(url) {
  const here = globalThis.location?.origin;
  if (!here || here === 'null') return false;
  try {
    return new URL(url).origin !== here;
  } catch {
    return false;
  }
}

/** What a failure of a cross-origin request should add to its message. */
export function corsHint(url) {
  return crossOrigin(url)
    ? ` (a cross-origin server must send ${CORS_HEADERS}; a browser reports a refused CORS request as a network error)`
    : '';
}

/** READ_FAILED for an HTTP status that no retry will change (404, 401, 403, ...). */
export function statusError(status, url) {
  const what = { 401: 'unauthorized', 403: 'forbidden', 404: 'not found', 410: 'gone' }[status];
  return errorOf(
    'READ_FAILED',
    `GET ${shownUrl(url)} answered ${status}${what ? ` (${what})` : ''}${status === 403 ? corsHint(url) : ''}`,
    { status },
  );
}
