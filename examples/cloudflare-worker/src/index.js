// A Cloudflare Worker that seals and unseals request bodies, streaming both ways: bytes flow
// through at the pace the client sends and reads them, so a body of any size passes through
// in a few chunks of memory; and that serves decrypted byte ranges of sealed objects.
//
//   POST /seal[?level=0..10]  plaintext body -> sealed format (ChaCha20-Poly1305, deflate)
//   POST /unseal              sealed body    -> verified plaintext
//   GET|HEAD /media/<name>    the plaintext of the sealed object <name>, with Range support (a
//                             <video> seeks in it): read in place with HTTP Range requests from
//                             the MEDIA R2 bucket when it is bound, else from the ORIGIN
//                             service binding (or ORIGIN_URL with fetch); only the chunks each
//                             range needs are fetched and decrypted, within a few MiB of memory
//   GET  /stats               { wasmMemory } of this isolate
//
// The key is the SEAL_KEY secret: 64 hex digits (`npx novuspack-stream keygen key.hex`).
import { StreamError, httpSource, memoryUsage, sealTransform, serveRange, unsealTransform } from 'novuspack-stream';
import { r2Fetch } from './r2-fetch.js';

const MiB = 1024 * 1024;

function json(status, value) {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
}

function errorResponse(error) {
  const e =
    error instanceof StreamError ? error : new StreamError('IO', 'READ_FAILED', String(error?.message ?? error));
  const status =
    e.type === 'Validation'
      ? 400
      : e.type === 'Context'
        ? 408
        : e.code === 'READ_FAILED' && e.context?.status === 404
          ? 404
          : e.type === 'IO'
            ? 502
            : 422;
  return json(status, { error: { type: e.type, code: e.code, message: e.message } });
}

function keyFrom(env) {
  const hex = (env.SEAL_KEY ?? '').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new StreamError('Validation', 'INVALID_KEY', 'SEAL_KEY must be 64 hex digits');
  return Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16));
}

/** Reads the first chunk before answering, so an error at the start is a clean 4xx. */
async function respondWith(stream) {
  const reader = stream.getReader();
  const first = await reader.read();
  const body = new ReadableStream({
    start(controller) {
      if (first.done) controller.close();
      else controller.enqueue(first.value);
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        // Headers are gone: ending the body with an error is the only honest answer.
        controller.error(error);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { headers: { 'content-type': 'application/octet-stream' } });
}

/**
 * The plaintext of a sealed object, with Range support. One httpSource per request: a Worker
 * may not use one request's I/O (a fetch in flight) for another.
 */
function media(request, env, name) {
  const key = keyFrom(env);
  const fetch = env.MEDIA
    ? r2Fetch(env.MEDIA, name)
    : env.ORIGIN
      ? (input, init) => env.ORIGIN.fetch(input, init)
      : undefined;
  const base = env.MEDIA ? 'https://r2.internal' : (env.ORIGIN_URL ?? 'https://origin.internal');
  // At most 4 requests in flight (Workers allow 6 connections per request), each of at most
  // 8 MiB; 4 MiB of cache; the stream's read-ahead within half of its 16 MiB memoryLimit.
  const source = httpSource(`${base}/${encodeURIComponent(name)}`, {
    fetch,
    concurrency: 4,
    maxRangeSize: 8 * MiB,
    cacheSize: 4 * MiB,
  });
  return serveRange(request, source, { key, memoryLimit: 16 * MiB });
}

export default {
  async fetch(request, env) {
    const { pathname, searchParams } = new URL(request.url);
    try {
      if (request.method === 'GET' && pathname === '/stats') return json(200, memoryUsage());
      if (pathname.startsWith('/media/')) return await media(request, env, decodeURIComponent(pathname.slice(7)));
      if (request.method !== 'POST' || !request.body) return json(405, { error: { message: 'POST a body' } });
      const key = keyFrom(env);
      if (pathname === '/seal') {
        const level = searchParams.get('level');
        const compress = level === null ? true : Number(level);
        return await respondWith(request.body.pipeThrough(sealTransform({ key, compress })));
      }
      if (pathname === '/unseal') {
        // A tampered chunk later in the body ends the response with an error: the client sees
        // a broken transfer, never bytes that did not verify.
        return await respondWith(request.body.pipeThrough(unsealTransform({ key })));
      }
      return json(404, { error: { message: 'unknown route' } });
    } catch (error) {
      return errorResponse(error);
    }
  },
};
