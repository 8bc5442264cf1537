// The HTTP Range request header (RFC 9110, section 14): what serveRange answers to
// `bytes=a-b`, `bytes=a-` and `bytes=-n`, and to If-Range. Pure functions over strings.

/**
 * Reads a Range header against a representation of `size` bytes (null: unknown). Returns
 *   { kind: 'none' }             no Range, another unit, or a header that does not parse (ignored)
 *   { kind: 'multiple' }         several ranges (answered with the whole body)
 *   { kind: 'unsatisfiable' }    416: no byte of the range exists
 *   { kind: 'range', start, end } one satisfiable range, `end` exclusive and within size
 */
export function parseRange(header, size) {
  if (header === null || header === undefined) return { kind: 'none' };
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return { kind: 'none' };
  const specs = m[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (specs.length === 0) return { kind: 'none' };
  const parsed = specs.map(parseSpec);
  if (parsed.some((p) => p === null)) return { kind: 'none' };
  if (parsed.length > 1) return { kind: 'multiple' };
  if (size === null || size === undefined) return { kind: 'none' };
  const spec = parsed[0];
  if (spec.suffix !== undefined) {
    if (spec.suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - spec.suffix), end: size };
  }
  if (spec.first >= size) return { kind: 'unsatisfiable' };
  const end = spec.last === undefined ? size : Math.min(size, spec.last + 1);
  return { kind: 'range', start: spec.first, end };
}

/** One range-spec: { first, last? } or { suffix }, or null when it does not parse. */
function parseSpec(spec) {
  const m = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  const number = (text) => {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
  };
  if (m[1] === '') return { suffix: number(m[2]) };
  const first = number(m[1]);
  if (m[2] === '') return { first };
  const last = number(m[2]);
  return last < first ? null : { first, last };
}

/** True when If-Range (`value`) lets the Range apply: an entity tag equal to `etag` (strongly). */
export function ifRangeMatches(value, etag) {
  if (value === null || value === undefined) return true;
  const tag = value.trim();
  // A date, a weak tag, or no ETag of ours: the Range is ignored and the whole body is sent.
  if (!etag || tag.startsWith('W/') || !tag.startsWith('"')) return false;
  return tag === etag;
}

/** True when If-None-Match (`value`: "*" or a list of tags, compared weakly) names `etag`. */
export function noneMatch(value, etag) {
  if (!value || !etag) return false;
  if (value.trim() === '*') return true;
  const bare = (t) => t.trim().replace(/^W\//, '');
  return value.split(',').some((t) => bare(t) === bare(etag));
}
