// A Cloudflare Worker that seals and unseals request bodies, streaming both ways: bytes flow
// through at the pace the client sends and reads them, so a body of any size passes through
// in a few chunks of memory.
//
//   POST /seal[?level=0..10]  plaintext body -> sealed format (ChaCha20-Poly1305, deflate)
//   POST /unseal              sealed body    -> verified plaintext
//   GET  /stats               { wasmMemory } of this isolate
//
// The key is the SEAL_KEY secret: 64 hex digits (`npx novuspack-stream keygen key.hex`).
import { StreamError, memoryUsage, sealTransform, unsealTransform } from 'novuspack-stream';

function json(status, value) {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
}

function errorResponse(error) {
  const e =
    error instanceof StreamError ? error : new StreamError('IO', 'READ_FAILED', String(error?.message ?? error));
  const status = e.type === 'Validation' ? 400 : e.type === 'Context' ? 408 : 422;
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

export default {
  async fetch(request, env) {
    const { pathname, searchParams } = new URL(request.url);
    try {
      if (request.method === 'GET' && pathname === '/stats') return json(200, memoryUsage());
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
