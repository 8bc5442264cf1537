// Typed errors: every damaged test vector (env.vectors()) fails with its StreamError and never
// yields other bytes; bad arguments, keys, offsets and sources; sealed data is never read as
// plain (no key, misspelt options, raw on request); UNKNOWN_FORMAT and READ_FAILED.
import { assert, sample, collect, streamOf, sealBytes, readAll, caseList } from '../helpers.mjs';

export function errorCases(lib, env) {
  const { FileStream, StreamError } = lib;
  const { list, test } = caseList();

  test('every damaged test vector fails with its typed error and never yields other bytes', async () => {
    const vectors = await env.vectors();
    assert.ok(vectors.length >= 10, 'vectors loaded');
    for (const v of vectors) {
      for (const kind of ['blob', 'stream']) {
        const source = kind === 'blob' ? new Blob([v.sealed]) : streamOf(v.sealed, 50);
        let got = new Uint8Array(0);
        let error = null;
        try {
          const fs = await FileStream.open(source, { key: v.key, isCompressed: true });
          got = await readAll(fs);
        } catch (e) {
          error = e;
        }
        if (v.error === null) {
          assert.equal(error, null, `${v.name} (${kind}): ${error?.message}`);
          assert.bytes(got, v.plaintext, `${v.name} (${kind})`);
        } else {
          assert.ok(error !== null, `${v.name} (${kind}) was accepted`);
          assert.ok(error instanceof StreamError, `${v.name}: ${error}`);
          if (kind === 'stream') assert.equal(error.code, v.error, `${v.name}`);
          assert.ok(['Corruption', 'Encryption', 'Compression'].includes(error.type), `${v.name}: ${error.type}`);
        }
      }
    }
  });

  test('bad arguments, keys and sources are typed StreamErrors', async () => {
    const key = lib.generateKey();
    const sealed = await sealBytes(lib, sample(10_000), { key, chunkSize: 1024 });
    const blob = new Blob([sealed]);
    await assert.rejects(FileStream.open(blob, { key: lib.generateKey() }), lib, 'Encryption', 'AUTH_FAILED');
    await assert.rejects(FileStream.open(blob, { isCompressed: true }), lib, 'Security', 'KEY_REQUIRED');
    await assert.rejects(FileStream.open(blob, { key: new Uint8Array(16) }), lib, 'Validation', 'INVALID_KEY');
    await assert.rejects(FileStream.open(blob, { key: 'secret' }), lib, 'Validation', 'INVALID_KEY');
    const plain = await sealBytes(lib, sample(100), {});
    await assert.rejects(FileStream.open(new Blob([plain]), { key }), lib, 'Security', 'NOT_ENCRYPTED');
    await assert.rejects(FileStream.open(new Blob([plain]), { isEncrypted: true }), lib, 'Security', 'NOT_ENCRYPTED');
    await assert.rejects(FileStream.open('a string'), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(FileStream.open(blob, 'options'), lib, 'Validation', 'INVALID_ARGUMENT');
    const e = await assert.rejects(
      FileStream.open(blob, { key, bufferSize: -1 }),
      lib,
      'Validation',
      'INVALID_ARGUMENT',
    );
    assert.equal(e.context.field, 'bufferSize');
    await assert.rejects(FileStream.open(blob, { key, memoryLimit: 1.5 }), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(FileStream.open(blob, { key, memoryLimit: 1024 }), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(FileStream.open(blob, { key, signal: 'no' }), lib, 'Validation', 'INVALID_ARGUMENT');
    const locked = streamOf(sealed);
    locked.getReader();
    await assert.rejects(FileStream.open(locked, { key }), lib, 'Validation', 'INVALID_ARGUMENT');

    const fs = await FileStream.open(blob, { key });
    for (const offset of [-1, 0.5, NaN, Infinity, 10_001, '3']) {
      await assert.rejects(
        fs.readAt(new Uint8Array(4), offset),
        lib,
        'Validation',
        'INVALID_OFFSET',
        `offset ${offset}`,
      );
      await assert.rejects(fs.seek(offset), lib, 'Validation', 'INVALID_OFFSET', `seek ${offset}`);
    }
    await assert.rejects(fs.readAt([1, 2], 0), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(fs.read('buffer'), lib, 'Validation', 'INVALID_ARGUMENT');
    fs.close();
    fs.close();
    await assert.rejects(fs.readChunk(), lib, 'Context', 'CLOSED');
    await assert.rejects(fs.readAt(new Uint8Array(1), 0), lib, 'Context', 'CLOSED');

    const gzip = await collect(new Blob([sample(50_000, 9, true)]).stream().pipeThrough(new CompressionStream('gzip')));
    gzip[gzip.length - 6] ^= 1;
    const bad = await FileStream.open(new Blob([gzip]), { isCompressed: true });
    await assert.rejects(readAll(bad), lib, 'Corruption', 'CHECKSUM_MISMATCH');
    await assert.rejects(
      collect(lib.seal(new Blob([sample(10)]), { compress: 11 })),
      lib,
      'Validation',
      'INVALID_ARGUMENT',
    );
    await assert.rejects(collect(lib.seal(42)), lib, 'Validation', 'INVALID_ARGUMENT');
    const tampered = sealed.slice();
    tampered[200] ^= 1;
    await assert.rejects(
      collect(new Blob([tampered]).stream().pipeThrough(lib.unsealTransform({ key }))),
      lib,
      'Encryption',
      'AUTH_FAILED',
    );
    await assert.rejects(
      collect(new Blob([sealed.subarray(0, 5000)]).stream().pipeThrough(lib.unsealTransform({ key }))),
      lib,
      'Corruption',
      'TRUNCATED',
    );
  });

  test('sealed data is never read as plain: no key, misspelt options, raw on request', async () => {
    const data = sample(20_000, 5, true);
    const key = lib.generateKey();
    const locked = await sealBytes(lib, data, { key, compress: 6, chunkSize: 4096 });
    const open = await sealBytes(lib, data, { compress: 6, chunkSize: 4096 });
    for (const source of [() => new Blob([locked]), () => locked, () => streamOf(locked, 1000)]) {
      await assert.rejects(FileStream.open(source()), lib, 'Security', 'KEY_REQUIRED', 'no key, no flags');
      const e = await assert.rejects(FileStream.open(source(), { keyy: key }), lib, 'Validation', 'INVALID_ARGUMENT');
      assert.ok(/unknown option keyy.*did you mean key\?/.test(e.message), e.message);
      assert.equal(e.context.field, 'keyy');
      const raw = await FileStream.open(source(), { raw: true });
      assert.bytes(await readAll(raw), locked, 'raw reads the stored bytes');
    }
    for (const source of [new Blob([open]), streamOf(open, 999)]) {
      const fs = await FileStream.open(source);
      assert.equal(fs.size === null || fs.size === data.length, true);
      assert.bytes(await readAll(fs), data, 'an unencrypted sealed file opens as sealed without flags');
    }
    await assert.rejects(FileStream.open(new Blob([locked]), { raw: true, key }), lib, 'Validation');
    const typo = await assert.rejects(
      FileStream.open(new Blob([locked]), { key, memorylimit: 1 << 20 }),
      lib,
      'Validation',
      'INVALID_ARGUMENT',
    );
    assert.ok(typo.message.includes('did you mean memoryLimit?'), typo.message);
    assert.throws(() => new lib.BufferPool({ maxTotalSise: 1 }), lib, 'Validation', 'INVALID_ARGUMENT');
    await assert.rejects(collect(lib.seal(new Blob([data]), { compres: 6 })), lib, 'Validation', 'INVALID_ARGUMENT');
    assert.throws(() => lib.unsealTransform({ kye: key }), lib, 'Validation', 'INVALID_ARGUMENT');
  });

  test('not sealed, gzip or zlib is UNKNOWN_FORMAT; source failures are READ_FAILED everywhere', async () => {
    const text = new TextEncoder().encode('neither sealed nor compressed, just text. '.repeat(200));
    for (const source of [new Blob([text]), text, streamOf(text, 100), new Blob([])]) {
      await assert.rejects(FileStream.open(source, { isCompressed: true }), lib, 'Unsupported', 'UNKNOWN_FORMAT');
    }
    const failing = () =>
      new ReadableStream({
        pull(controller) {
          controller.error(new Error('disk on fire'));
        },
      });
    const sealError = await assert.rejects(collect(lib.seal(failing())), lib, 'IO', 'READ_FAILED');
    assert.ok(sealError.message.includes('disk on fire'), sealError.message);
    const openError = await assert.rejects(
      FileStream.open(failing(), { isCompressed: true }),
      lib,
      'IO',
      'READ_FAILED',
    );
    assert.ok(openError.message.includes('disk on fire'), openError.message);
  });

  return list;
}
