// NovusPack v1 ChaCha20-Poly1305 framing made by an independent implementation (env.v1Sample()):
// decrypts, readAt, tampering and a memoryLimit refused, a caller-held buffer changed after open.
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

  return list;
}
