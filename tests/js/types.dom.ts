// With the DOM library: the pool's workers are Web Workers.
import { everything } from './types.test.js';

export const dom = (blob: Blob, body: ReadableStream<Uint8Array>) =>
  everything(blob, body, (url) => new Worker(url, { type: 'module' }));
