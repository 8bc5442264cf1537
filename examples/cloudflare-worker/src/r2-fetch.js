// An R2 bucket as a fetch() that answers HTTP Range requests for one object, so httpSource can
// read an object in place: `Range: bytes=a-b`, `bytes=a-` and `bytes=-n` become R2 ranged gets
// (`bucket.get(key, { range })`), answered with 206, Content-Range and the object's ETag (which
// httpSource checks on every answer: a replaced object is RESOURCE_CHANGED, never mixed bytes).

function parseRange(header) {
  const m = /^bytes=(\d*)-(\d*)$/.exec((header ?? '').trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') return { suffix: Number(m[2]) };
  return m[2] === '' ? { offset: Number(m[1]) } : { offset: Number(m[1]), length: Number(m[2]) - Number(m[1]) + 1 };
}

/** A fetch-like function serving `key` of `bucket` (the URL it is called with is ignored). */
export function r2Fetch(bucket, key) {
  return async (input, init = {}) => {
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    const range = parseRange(headers.get('range'));
    let object;
    try {
      object = await bucket.get(key, range ? { range } : {});
    } catch {
      // A range past the end: 416 with the size, as a server would answer.
      const head = await bucket.head(key);
      if (!head) return new Response('not found', { status: 404 });
      return new Response(null, { status: 416, headers: { 'content-range': `bytes */${head.size}` } });
    }
    if (!object) return new Response('not found', { status: 404 });
    const out = new Headers({ etag: object.httpEtag, 'last-modified': object.uploaded.toUTCString() });
    if (!range) {
      out.set('content-length', String(object.size));
      return new Response(object.body, { status: 200, headers: out });
    }
    const size = object.size;
    const start = 'suffix' in range ? Math.max(0, size - range.suffix) : range.offset;
    const end = 'suffix' in range || range.length === undefined ? size : Math.min(size, start + range.length);
    out.set('content-range', `bytes ${start}-${end - 1}/${size}`);
    out.set('content-length', String(end - start));
    return new Response(object.body, { status: 206, headers: out });
  };
}
