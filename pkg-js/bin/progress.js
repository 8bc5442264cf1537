// The progress bar on stderr, for runs long enough to need one.

export function progress(total) {
  if (!process.stderr.isTTY || !total || total < 16 * 1024 * 1024) return { update() {}, done() {} };
  const start = Date.now();
  let last = 0;
  const draw = (done) => {
    const fraction = Math.min(1, done / total);
    const seconds = (Date.now() - start) / 1000;
    const speed = done / Math.max(seconds, 1e-3);
    const eta = speed > 0 ? Math.max(0, total - done) / speed : 0;
    const bar = '#'.repeat(Math.round(fraction * 30)).padEnd(30);
    process.stderr.write(
      `\r[${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${(speed / 1e6).toFixed(0)} MB/s ETA ${eta.toFixed(0)} s `,
    );
  };
  return {
    update(done) {
      if (Date.now() - last > 100) {
        last = Date.now();
        draw(done);
      }
    },
    done() {
      draw(total);
      process.stderr.write('\n');
    },
  };
}

/** Passes bytes through, counting them for the progress bar (from `start` bytes on). */
export function counting(bar, start = 0) {
  let done = start;
  return new TransformStream({
    transform(chunk, controller) {
      done += chunk.length;
      bar.update(done);
      controller.enqueue(chunk);
    },
  });
}
