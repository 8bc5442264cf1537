// With Node's types only: the pool's workers are worker_threads Workers, files come from disk.
import { openAsBlob } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { everything } from './types.test.js';

export const node = async (path: string, body: ReadableStream<Uint8Array>) =>
  everything(await openAsBlob(path), body, (url) => new Worker(url));
