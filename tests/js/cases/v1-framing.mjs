// NovusPack v1 ChaCha20-Poly1305 framing made by an independent implementation (env.v1Sample()):
// decrypts, readAt (at every offset class around the keystream's 64- and 256-byte edges),
// tampering and a memoryLimit refused, a caller-held buffer changed after open.
import { assert, streamOf, readAll, caseList } from '../helpers.mjs';

export function v1FramingCases(lib, env) {
  const { FileStream } = lib;
  const { list, test } = caseList();

  test('NovusPack v1 framing from an independent implementation decrypts, tampering fails', async () => {
    const { key, framed, plaintext } = await env.v1Sample();
    for (const source of [new Blob([framed]), streamOf(framed, 9999)]) {
      const fs = await FileStream.open(source, { isEncrypted: true, key });
      assert.equal(fs.format.kind, 'v1');
      assert.equal(fs.size, plaintext.length);
      const into = new Uint8Array(500);
      await fs.readAt(into, 1234);
      assert.bytes(into, plaintext.subarray(1234, 1734));
      assert.bytes(await readAll(fs), plaintext);
    }
    const bad = framed.slice();
    bad[framed.length - 1] ^= 1;
    await assert.rejects(
      FileStream.open(new Blob([bad]), { isEncrypted: true, key }),
      lib,
      'Encryption',
      'AUTH_FAILED',
    );
    await assert.rejects(
      FileStream.open(streamOf(framed), { isEncrypted: true, key, memoryLimit: 65536 }),
      lib,
      'Validation',
      'MEMORY_LIMIT',
    );
    // A caller-held buffer changed after open: the changed bytes are refused, never decrypted.
    const held = framed.slice();
    const fs = await FileStream.open(held, { key });
    const into = new Uint8Array(100);
    await fs.readAt(into, 150_000);
    assert.bytes(into, plaintext.subarray(150_000, 150_100));
    held[12 + 150_050] ^= 1;
    await assert.rejects(fs.readAt(into, 150_000), lib, 'Encryption', 'AUTH_FAILED', 'a changed byte');
    await fs.readAt(into, 1000);
    assert.bytes(into, plaintext.subarray(1000, 1100), 'unchanged blocks still read');
  });

  test('v1 framing from OpenSSL: readAt at every offset class around the 64- and 256-byte edges', async () => {
    // The keystream runs 64-byte ChaCha20 blocks four at a time (256 bytes per v128 pass) in the
    // SIMD build and one block at a time in the plain one: starts and ends just before, on and
    // after each edge, near the start, inside and across a 64 KiB tag block, and at the end.
    const { key, framed, plaintext } = await env.v1Sample();
    const fs = await FileStream.open(framed, { key });
    const size = plaintext.length;
    const bases = [0, 64, 256, 1024, 65536 - 256, 65536, 131072 + 512, size - 600];
    const deltas = [0, 1, 31, 63, 64, 65, 127, 255, 256, 257];
    const lengths = [1, 15, 63, 64, 65, 255, 256, 257, 513, 4099];
    let reads = 0;
    for (const base of bases) {
      for (const delta of deltas) {
        const offset = base + delta;
        if (offset >= size) continue;
        for (const length of lengths) {
          const into = new Uint8Array(length);
          const n = await fs.readAt(into, offset);
          const expected = plaintext.subarray(offset, offset + length);
          assert.equal(n, expected.length, `readAt(${length}) at ${offset}: count`);
          assert.bytes(into.subarray(0, n), expected, `readAt(${length}) at ${offset}`);
          reads += 1;
        }
      }
    }
    assert.ok(reads > 700, `${reads} reads`);
    fs.close();
  });

  return list;
}
