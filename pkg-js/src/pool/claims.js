// The claim table of the 'shared' transport, in a SharedArrayBuffer used by the calling thread
// and every worker: the calling thread publishes the chunks a session wants (a slot each, no
// bytes); workers claim them themselves, several consecutive ones at a time, and read the
// records on their own. No key, header or payload is ever written here.
//
//   control: SLOTS, then one IDLE word per worker index (1: the worker went idle and waits
//            for a 'wake' message; whoever clears it sends the wake), then one LIVE word per
//            worker index: the incarnation allowed to claim there (a worker declared dead, which
//            may run on briefly, stops claiming)
//   slot i:  STATE, SESSION, CHUNK, PRIORITY, PLAIN_LEN, LAST
//
// STATE is FREE (0), READY (1) or claimed: 2 + the claiming worker's incarnation, written by one
// compare-and-swap, so a worker can never hold a slot without being recorded as its owner. The
// calling thread alone frees slots (on a result, a cancel, or the owner's death).

export const FREE = 0;
export const READY = 1;
const CLAIMED = 2;
const MAX_WORKERS = 256;
const LIVE = 1 + MAX_WORKERS;
const CONTROL = 1 + 2 * MAX_WORKERS;
const SLOT = { STATE: 0, SESSION: 1, CHUNK: 2, PRIORITY: 3, PLAIN_LEN: 4, LAST: 5 };
const SLOT_WORDS = 6;

/** True where a SharedArrayBuffer can be made and shared with workers. */
export function canShareMemory() {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  // Browsers expose SharedArrayBuffer only to cross-origin isolated pages; elsewhere (Node,
  // Deno) crossOriginIsolated is undefined and sharing works.
  return globalThis.crossOriginIsolated !== false;
}

export class ClaimTable {
  /** A view of a table in `buffer` (made by `ClaimTable.create`). */
  constructor(buffer) {
    this.buffer = buffer;
    this.words = new Int32Array(buffer);
    this.slots = this.words[0];
  }

  static create(slots) {
    const buffer = new SharedArrayBuffer((CONTROL + slots * SLOT_WORDS) * 4);
    new Int32Array(buffer)[0] = slots;
    return new ClaimTable(buffer);
  }

  #at(slot, field) {
    return CONTROL + slot * SLOT_WORDS + field;
  }

  get(slot, field) {
    return Atomics.load(this.words, this.#at(slot, SLOT[field]));
  }

  // ----- the calling thread -----

  /** Publishes a wanted chunk in a free slot; returns the slot, or -1 when none is free. */
  publish(session, chunk, plainLength, last, priority) {
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.get(slot, 'STATE') !== FREE) continue;
      const w = this.words;
      Atomics.store(w, this.#at(slot, SLOT.SESSION), session);
      Atomics.store(w, this.#at(slot, SLOT.CHUNK), chunk);
      Atomics.store(w, this.#at(slot, SLOT.PRIORITY), priority);
      Atomics.store(w, this.#at(slot, SLOT.PLAIN_LEN), plainLength);
      Atomics.store(w, this.#at(slot, SLOT.LAST), last ? 1 : 0);
      Atomics.store(w, this.#at(slot, SLOT.STATE), READY);
      return slot;
    }
    return -1;
  }

  /** Raises a published chunk's priority (its reader is waiting for it). */
  urge(slot) {
    Atomics.store(this.words, this.#at(slot, SLOT.PRIORITY), 1);
  }

  /** Takes back a slot nobody claimed yet; true if it was still READY. */
  withdraw(slot) {
    return Atomics.compareExchange(this.words, this.#at(slot, SLOT.STATE), READY, FREE) === READY;
  }

  /** Frees a slot (its result arrived, or its claimer is gone). */
  free(slot) {
    Atomics.store(this.words, this.#at(slot, SLOT.STATE), FREE);
  }

  /** Frees every slot of `session` (ended: its late results are dropped). */
  freeSession(session) {
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.get(slot, 'STATE') !== FREE && this.get(slot, 'SESSION') === session) this.free(slot);
    }
  }

  /** The incarnation that claimed `slot`, or 0. */
  owner(slot) {
    const state = this.get(slot, 'STATE');
    return state >= CLAIMED ? state - CLAIMED : 0;
  }

  /** Puts a dead worker's claimed slots back to READY; returns them. */
  reissue(incarnation) {
    const back = [];
    for (let slot = 0; slot < this.slots; slot++) {
      const at = this.#at(slot, SLOT.STATE);
      if (Atomics.compareExchange(this.words, at, CLAIMED + incarnation, READY) === CLAIMED + incarnation)
        back.push(slot);
    }
    return back;
  }

  /** Clears worker `index`'s idle flag; true if it was idle (the caller must wake it). */
  takeIdle(index) {
    return Atomics.compareExchange(this.words, 1 + index, 1, 0) === 1;
  }

  /** A new worker at `index` (or none: 0): it alone may claim there. */
  setLive(index, incarnation) {
    Atomics.store(this.words, 1 + index, 0);
    Atomics.store(this.words, LIVE + index, incarnation);
  }

  // ----- workers -----

  /** True if some READY slot belongs to one of `sessions` (a Set of session ids). */
  hasWork(sessions) {
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.get(slot, 'STATE') === READY && sessions.has(this.get(slot, 'SESSION'))) return true;
    }
    return false;
  }

  /**
   * Claims the best READY slot of one of `sessions` (urgent first, then the lowest chunk), then
   * up to `more(session)` READY slots of the same session holding the chunks right after it.
   * Returns [{ slot, session, chunk, plainLength, last }] (empty when there is nothing to claim).
   */
  claim(sessions, incarnation, more, index) {
    if (Atomics.load(this.words, LIVE + index) !== incarnation) return [];
    for (;;) {
      let best = -1;
      let bestPriority = -1;
      let bestChunk = 0;
      for (let slot = 0; slot < this.slots; slot++) {
        if (this.get(slot, 'STATE') !== READY) continue;
        if (!sessions.has(this.get(slot, 'SESSION'))) continue;
        const priority = this.get(slot, 'PRIORITY');
        const chunk = this.get(slot, 'CHUNK');
        if (priority > bestPriority || (priority === bestPriority && chunk < bestChunk)) {
          best = slot;
          bestPriority = priority;
          bestChunk = chunk;
        }
      }
      if (best < 0) return [];
      const claimed = this.#take(best, incarnation);
      if (!claimed) continue; // another worker took it first: look again
      const out = [claimed];
      const most = more(claimed.session);
      while (out.length <= most) {
        const next = this.#find(claimed.session, out[out.length - 1].chunk + 1);
        const taken = next >= 0 ? this.#take(next, incarnation) : null;
        if (!taken) break;
        out.push(taken);
      }
      return out;
    }
  }

  #find(session, chunk) {
    for (let slot = 0; slot < this.slots; slot++) {
      if (
        this.get(slot, 'STATE') === READY &&
        this.get(slot, 'SESSION') === session &&
        this.get(slot, 'CHUNK') === chunk
      )
        return slot;
    }
    return -1;
  }

  #take(slot, incarnation) {
    const at = this.#at(slot, SLOT.STATE);
    if (Atomics.compareExchange(this.words, at, READY, CLAIMED + incarnation) !== READY) return null;
    return {
      slot,
      session: this.get(slot, 'SESSION'),
      chunk: this.get(slot, 'CHUNK'),
      plainLength: this.get(slot, 'PLAIN_LEN'),
      last: this.get(slot, 'LAST') === 1,
    };
  }

  /** Marks worker `index` idle; the caller then looks for work once more (see `takeIdle`). */
  setIdle(index) {
    Atomics.store(this.words, 1 + index, 1);
  }

  /** Clears this worker's own idle flag; false if the calling thread cleared it first. */
  unsetIdle(index) {
    return Atomics.compareExchange(this.words, 1 + index, 1, 0) === 1;
  }
}
