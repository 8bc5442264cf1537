// What the README claims of browsers, on one page: `?nosimd=1` makes this engine look as if it
// had no WebAssembly SIMD (the probe module fails to validate) before the package is imported,
// so the plain build must be picked; the page is served with the README's strict Content
// Security Policy by claims.test.mjs. Then a round trip through everything that compiles wasm
// or starts workers: seal, FileStream.open + readAt, the worker pool, a NovusPack package.
const params = new URLSearchParams(location.search);
const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));
if (params.get('nosimd') === '1') {
  const validate = WebAssembly.validate.bind(WebAssembly);
  // The probe is the only module validated before a build is chosen; any SIMD opcode (0xfd) fails.
  WebAssembly.validate = (bytes) => !new Uint8Array(bytes.buffer ?? bytes).includes(0xfd) && validate(bytes);
}
const lib = await import('novuspack-stream');
const out = {};
try {
  const key = lib.generateKey();
  const plain = new Uint8Array(2 << 20).map((_, i) => (i * 31) % 253);
  const sealed = await new Response(lib.seal(new Blob([plain]), { key, compress: 3, chunkSize: 128 << 10 })).blob();
  const stream = await lib.FileStream.open(sealed, { key });
  const part = new Uint8Array(1000);
  await stream.readAt(part, 1_500_000);
  out.readAt = part.every((b, i) => b === plain[1_500_000 + i]);
  stream.close();
  const pool = new lib.StreamingWorkerPool({ maxWorkers: 2 });
  const pooled = await pool.open(sealed, { key });
  const back = new Uint8Array(await new Response(pooled.readable()).arrayBuffer());
  out.pool = back.length === plain.length && back.every((b, i) => b === plain[i]);
  out.transport = pool.getStreamingStats().transport;
  await pool.stop();
  const pkgBytes = await new Response(
    lib.writePackage([{ path: '/a', source: plain, compression: 'zstd' }]),
  ).arrayBuffer();
  const pkg = await lib.openPackage(new Uint8Array(pkgBytes));
  const entry = new Uint8Array(await new Response((await pkg.open('/a')).readable()).arrayBuffer());
  out.package = entry.length === plain.length && entry.every((b, i) => b === plain[i]);
  pkg.close();
  out.simd = lib.wasmBuild().simd;
} catch (error) {
  out.error = `${error?.code ?? ''} ${error?.message ?? error}`;
}
out.violations = violations;
document.getElementById('log').textContent = JSON.stringify(out);
window.__results = out;
