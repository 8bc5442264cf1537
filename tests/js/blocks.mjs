// Test plaintext that checks itself: 1 MiB blocks of pseudo-random bytes, each stamped with its
// offset, as a stream of any length, and a checker of such a stream (the workerd tests send
// hundreds of MiB through a Worker and verify them without holding them).
import assert from 'node:assert/strict';

const MiB = 1024 * 1024;

/** The block at `offset` (a multiple of 1 MiB). */
export function block(offset) {
  const b = new Uint8Array(MiB);
  let x = (offset / MiB + 1) | 0;
  for (let i = 0; i < MiB; i += 4) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x;
    b[i + 1] = x >>> 8;
    b[i + 2] = x >>> 16;
    b[i + 3] = x >>> 24;
  }
  new DataView(b.buffer).setFloat64(0, offset);
  return b;
}

/** `total` bytes (a multiple of 1 MiB) of blocks, as a ReadableStream. */
export function blocks(total) {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= total) return controller.close();
      controller.enqueue(block(offset));
      offset += MiB;
    },
  });
}

/** Checks a stream of blocks from offset 0; resolves to the bytes seen. */
export async function verifyBlocks(stream) {
  const reader = stream.getReader();
  let seen = 0;
  let pending = new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(pending.length + value.length);
    joined.set(pending);
    joined.set(value, pending.length);
    let at = 0;
    while (joined.length - at >= MiB) {
      assert.deepEqual(joined.subarray(at, at + MiB), block(seen), `block at ${seen}`);
      seen += MiB;
      at += MiB;
    }
    pending = joined.slice(at);
  }
  assert.equal(pending.length, 0, 'a whole number of blocks');
  return seen;
}
