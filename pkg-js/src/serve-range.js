// serveRange(request, source, options): the logical bytes of a source (decrypted, decompressed)
// as an HTTP response with Range support, for a Service Worker (a <video> seeking inside an
// encrypted file), a Cloudflare Worker, Deno.serve or Node. One FileStream per response: the
// body is pulled on demand, a chunk at a time (memory: the stream's, within memoryLimit), and
// cancelling it (a seeking <video> does, often) closes the stream, which stops its reads. A
// chunk that fails to verify errors the body: no unauthenticated byte is ever sent.
import { errorOf, invalid } from './errors.js';
import { checkOptions } from './options.js';
import { FileStream } from './file-stream.js';
import { identityTag } from './source-identity.js';
import { ifRangeMatches, noneMatch, parseRange } from './range-header.js';

function checkRequest(request) {
  const ok =
    request !== null &&
    typeof request === 'object' &&
    typeof request.method === 'string' &&
    typeof request.headers?.get === 'function';
  if (!ok) throw invalid('request', request, 'a Request');
  return request;
}

/** The body: bytes [start, end) of `stream`, read as the consumer pulls. */
function body(stream, start, end) {
  let sent = 0;
  const total = end - start;
  return new ReadableStream(
    {
      async start() {
        if (start > 0) await stream.seek(start);
      },
      async pull(controller) {
        try {
          if (sent >= total) {
            controller.close();
            stream.close();
            return;
          }
          const chunk = await stream.readChunk();
          if (chunk === null) throw errorOf('TRUNCATED', `the source ended ${total - sent} bytes early`);
          const piece = chunk.length > total - sent ? chunk.subarray(0, total - sent) : chunk;
          sent += piece.length;
          controller.enqueue(piece);
          if (sent >= total) {
            controller.close();
            stream.close();
          }
        } catch (error) {
          stream.close();
          controller.error(error);
        }
      },
      cancel() {
        stream.close();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * A body of `length` bytes. Cloudflare Workers send a streamed body chunked, without
 * Content-Length, unless it is a FixedLengthStream (a workerd global): a <video> wants the length.
 */
function sized(stream, length) {
  if (typeof globalThis.FixedLengthStream !== 'function') return stream;
  const fixed = new globalThis.FixedLengthStream(length);
  // An error or a cancel on either side reaches the other (pipeTo's defaults).
  stream.pipeTo(fixed.writable).catch(() => {});
  return fixed.readable;
}

/** Serves the logical bytes of `source` for `request` (GET or HEAD, with Range semantics). */
export async function serveRange(request, source, options) {
  checkRequest(request);
  const { contentType, headers: extra, ...config } = checkOptions(options, 'serveRange', 'the serveRange options');
  if (contentType !== undefined && typeof contentType !== 'string')
    throw invalid('contentType', contentType, 'a string');
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
  }
  const headers = new Headers(extra);
  const stream = await FileStream.open(source, config);
  try {
    const size = stream.size;
    const etag = await identityTag(source, stream);
    if (contentType !== undefined) headers.set('content-type', contentType);
    else if (!headers.has('content-type')) headers.set('content-type', 'application/octet-stream');
    if (size !== null) headers.set('accept-ranges', 'bytes');
    if (etag) headers.set('etag', etag);
    if (noneMatch(request.headers.get('if-none-match'), etag)) {
      stream.close();
      return new Response(null, { status: 304, headers });
    }
    let range = parseRange(request.headers.get('range'), size);
    if (range.kind !== 'none' && !ifRangeMatches(request.headers.get('if-range'), etag)) range = { kind: 'none' };
    if (range.kind === 'unsatisfiable') {
      stream.close();
      headers.set('content-range', `bytes */${size}`);
      return new Response(null, { status: 416, headers });
    }
    let status = 200;
    let start = 0;
    let end = size;
    if (range.kind === 'range') {
      status = 206;
      ({ start, end } = range);
      headers.set('content-range', `bytes ${start}-${end - 1}/${size}`);
    }
    if (end !== null) headers.set('content-length', String(end - start));
    if (method === 'HEAD') {
      stream.close();
      return new Response(null, { status, headers });
    }
    return new Response(end === null ? stream.readable() : sized(body(stream, start, end), end - start), {
      status,
      headers,
    });
  } catch (error) {
    stream.close();
    throw error;
  }
}
