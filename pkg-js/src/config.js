// The NovusPack streaming configuration API: defaultBufferConfig, StreamingConfigBuilder,
// createStreamingConfig, validateStreamingConfig, getStreamingConfigDefaults. Every rule and
// default lives in the Rust core (src/core/config.rs); this file converts.
import { checkOptions } from './options.js';
import { parallelism, sync } from './runtime.js';

export { ChunkMode } from './tables.js';

export function defaultBufferConfig() {
  return sync((w) => w.defaultBufferConfig());
}

export class StreamingConfigBuilder {
  #config = {};

  withStreamBufferSize(bytes) {
    this.#config.streamBufferSize = bytes;
    return this;
  }

  withChunkProcessingMode(mode) {
    this.#config.chunkProcessingMode = mode;
    return this;
  }

  withMaxStreamsPerWorker(max) {
    this.#config.maxStreamsPerWorker = max;
    return this;
  }

  withStreamTimeout(ms) {
    this.#config.streamTimeout = ms;
    return this;
  }

  /** Validates; options never set stay unset. */
  build() {
    return sync((w) => w.buildStreamingConfig({ ...this.#config }));
  }
}

export function createStreamingConfig() {
  return sync((w) => w.createStreamingConfig(parallelism()));
}

export function validateStreamingConfig(config) {
  sync((w) => w.validateStreamingConfig(checkOptions(config, 'streaming', 'the streaming config')));
}

export function getStreamingConfigDefaults() {
  return sync((w) => w.getStreamingConfigDefaults());
}
