// Streaming configuration: StreamingConfigBuilder, createStreamingConfig,
// validateStreamingConfig, getStreamingConfigDefaults and ChunkMode.
import { assert, caseList } from '../helpers.mjs';

export function configCases(lib) {
  const { list, test } = caseList();

  test('streaming configuration: builder, defaults, validation', async () => {
    await lib.ready();
    assert.equal(lib.ChunkMode.Parallel, 1);
    const built = new lib.StreamingConfigBuilder()
      .withStreamBufferSize(65536)
      .withChunkProcessingMode(lib.ChunkMode.Parallel)
      .build();
    assert.equal(built.streamBufferSize, 65536);
    assert.equal(built.chunkProcessingMode, 1);
    assert.equal(built.maxStreamsPerWorker, undefined, 'unset stays unset');
    const all = new lib.StreamingConfigBuilder().withMaxStreamsPerWorker(2).withStreamTimeout(1000).build();
    assert.equal(all.maxStreamsPerWorker, 2);
    assert.equal(all.streamTimeout, 1000);
    for (const [method, value, field] of [
      ['withStreamBufferSize', 0, 'streamBufferSize'],
      ['withStreamBufferSize', -5, 'streamBufferSize'],
      ['withChunkProcessingMode', 3, 'chunkProcessingMode'],
      ['withStreamTimeout', 'soon', 'streamTimeout'],
    ]) {
      const error = assert.throws(() => new lib.StreamingConfigBuilder()[method](value).build(), lib, 'Validation');
      assert.equal(error.context.field, field);
    }
    const created = lib.createStreamingConfig();
    assert.ok(created.maxWorkers >= 1);
    lib.validateStreamingConfig(created);
    const defaults = lib.getStreamingConfigDefaults();
    assert.equal(defaults.maxWorkers, 0);
    assert.equal(defaults.chunkProcessingMode, 2);
    assert.throws(() => lib.validateStreamingConfig({ maxWorkers: 10_000 }), lib, 'Validation');
  });

  return list;
}
