// At most `concurrency` requests of one httpSource in flight: extents wait here for a slot,
// reads that a caller waits for ahead of read-ahead. An extent abandoned while it waits (a seek,
// a close) gives its place up without taking a slot.
export class RequestSlots {
  #limit;
  #active = 0;
  #urgent = [];
  #later = [];

  constructor(limit) {
    this.#limit = limit;
  }

  /** Resolves to a release function once `extent` may start (`urgent`: a caller waits for it). */
  acquire(extent, urgent) {
    return new Promise((resolve) => {
      (urgent ? this.#urgent : this.#later).push({ extent, resolve });
      this.#pump();
    });
  }

  /** A read now waits for an extent queued as read-ahead: it goes first. */
  promote(extent) {
    const i = this.#later.findIndex((entry) => entry.extent === extent);
    if (i >= 0) this.#urgent.push(...this.#later.splice(i, 1));
  }

  #pump() {
    while (this.#active < this.#limit) {
      const queue = this.#urgent.length ? this.#urgent : this.#later;
      const entry = queue.shift();
      if (!entry) return;
      if (entry.extent.error) {
        // Abandoned while it waited.
        entry.resolve(() => {});
        continue;
      }
      this.#active += 1;
      let released = false;
      entry.resolve(() => {
        if (released) return;
        released = true;
        this.#active -= 1;
        this.#pump();
      });
    }
  }
}
