// The ways a Deno program imports the package: the `npm:` specifier, a bare specifier mapped
// by the project's node_modules, and a direct import of the built ESM file. Run by `deno test`
// with the same narrow permissions as deno.test.mjs.
async function roundTrip(lib) {
  const key = lib.generateKey();
  const data = new TextEncoder().encode('deno '.repeat(2000));
  const sealed = new Uint8Array(await new Response(lib.seal(data, { key, compress: true })).arrayBuffer());
  const stream = await lib.FileStream.open(sealed, { key });
  const part = new Uint8Array(5);
  await stream.readAt(part, 500);
  if (stream.size !== data.length || new TextDecoder().decode(part) !== 'deno ') {
    throw new Error(`round trip failed: size ${stream.size}`);
  }
}

Deno.test('import from "npm:novuspack-stream"', async () => {
  await roundTrip(await import('npm:novuspack-stream'));
});

Deno.test('import from "novuspack-stream"', async () => {
  await roundTrip(await import('novuspack-stream'));
});

Deno.test('direct import of the built ESM entry', async () => {
  await roundTrip(
    await import(new URL('../node_modules/novuspack-stream/pkg-js/src/entry-deno.js', import.meta.url).href),
  );
});
