// serveRange behind Deno.serve (for the load test): serves the plaintext of the sealed file at
// Deno.args[0] at /media, the key in NOVUSPACK_KEY (hex), each stream within
// NOVUSPACK_MEMORY_LIMIT bytes (a client that goes away cancels the body, which closes the
// stream). Prints its URL; GET /stats answers { rss, heapUsed, wasmMemory }.
import { keyFromHex, memoryUsage, serveRange } from 'novuspack-stream';

// Bytes in memory, not a Blob: an in-memory Blob's stream() hands its whole rest over as one
// chunk (Deno and Node alike), so each sequential pass would hold a copy of the file.
const source = await Deno.readFile(Deno.args[0]);
const key = keyFromHex(Deno.env.get('NOVUSPACK_KEY'));
const memoryLimit = Number(Deno.env.get('NOVUSPACK_MEMORY_LIMIT') ?? 4 * 1024 * 1024);

Deno.serve(
  { hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`http://127.0.0.1:${port}`) },
  async (request) => {
    if (new URL(request.url).pathname === '/stats') {
      const { rss, heapUsed, external } = Deno.memoryUsage();
      return Response.json({ rss, heapUsed, external, wasmMemory: memoryUsage().wasmMemory });
    }
    try {
      return await serveRange(request, source, { key, memoryLimit });
    } catch (error) {
      return new Response(String(error?.code ?? error), { status: 500 });
    }
  },
);
