// Cancellation: AbortSignal (per call and per stream) and timeouts while a read waits on a
// stalled source reject with Context errors and close the stream; aborting a seal.
import { assert, sample, collect, streamOf, sealBytes, readAll, caseList } from '../helpers.mjs';

export function cancelCases(lib) {
  const { FileStream } = lib;
  const { list, test } = caseList();

  test('abort and timeout mid-read reject with Context errors and close the stream', async () => {
    const data = sample(200_000, 11);
    const sealed = await sealBytes(lib, data, { chunkSize: 4096 });
    const stalled = () => streamOf(sealed, 10_000, { stallAfter: 60_000 });

    // The source delivers the header and chunk 0, then nothing: later reads wait on it.
    const controller = new AbortController();
    const fs = await FileStream.open(streamOf(sealed, 10_000, { stallAfter: 8000 }), { isCompressed: true });
    assert.equal((await fs.readChunk()).length, 4096);
    const waiting = fs.readAt(new Uint8Array(10), 100_000);
    const aborted = fs.readChunk({ signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 30);
    await assert.rejects(aborted, lib, 'Context', 'ABORTED');
    await assert.rejects(waiting, lib, 'Context', 'CLOSED', 'a read waiting on the source when the stream closed');
    assert.equal(fs.closed, true);
    await assert.rejects(fs.readChunk(), lib, 'Context', 'CLOSED');

    const timed = await FileStream.open(stalled(), { isCompressed: true, timeout: 50 });
    const t0 = Date.now();
    await assert.rejects(readAll(timed), lib, 'Context', 'TIMEOUT');
    assert.ok(Date.now() - t0 < 5000, 'the timeout fired');
    assert.equal(timed.closed, true);

    const streamWide = new AbortController();
    const wide = await FileStream.open(stalled(), { isCompressed: true, signal: streamWide.signal });
    const pending = readAll(wide);
    streamWide.abort();
    await assert.rejects(pending, lib, 'Context', 'ABORTED');
    await assert.rejects(wide.readChunk(), lib, 'Context', 'ABORTED');
    await assert.rejects(FileStream.open(stalled(), { signal: AbortSignal.abort() }), lib, 'Context', 'ABORTED');
    await assert.rejects(
      FileStream.open(streamOf(sealed, 10, { stallAfter: 20 }), { isCompressed: true, timeout: 40 }),
      lib,
      'Context',
      'TIMEOUT',
    );
    const sealAbort = new AbortController();
    const sealing = collect(lib.seal(streamOf(data, 1000, { stallAfter: 5000 }), { signal: sealAbort.signal }));
    setTimeout(() => sealAbort.abort(), 20);
    await assert.rejects(sealing, lib, 'Context', 'ABORTED');
  });

  return list;
}
