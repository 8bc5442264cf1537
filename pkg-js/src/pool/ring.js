// The SharedArrayBuffer job ring of the 'shared' transport, used by the main thread and the
// workers alike. Layout (all Int32 words, then the slots' data areas):
//
//   control: WAKE (bumped when a slot is published or a worker has mail; workers wait on it)
//            DONE (bumped when a slot completes; the main thread waits on it, never blocking)
//            STOP (1 = workers exit), SLOTS, SLOT_BYTES,
//            SLEEPERS (workers in Atomics.wait), MAIN_WAITING (the main thread in waitAsync),
//            then one MAIL word per worker. Notifying costs a system call (about 0.1 ms
//            measured in Node), so it is done only when someone sleeps.
//   slot i:  STATE, PRIORITY, SEQ, TASK, WORKER, CANCEL, META_LEN, DATA_LEN, RUN_US
//   data i:  SLOT_BYTES bytes: task metadata (JSON) then input; on completion, result
//            metadata (JSON) then output.
//
// A slot goes FREE -> READY (main publishes) -> CLAIMED (a worker's compare-and-swap) ->
// DONE or FAILED (the worker) -> FREE (main, after reading the result).

export const STATE = { FREE: 0, READY: 1, CLAIMED: 2, DONE: 3, FAILED: 4 };
export const CTRL = { WAKE: 0, DONE: 1, STOP: 2, SLOTS: 3, SLOT_BYTES: 4, SLEEPERS: 5, MAIN_WAITING: 6, MAIL: 7 };
export const SLOT = {
  STATE: 0,
  PRIORITY: 1,
  SEQ: 2,
  TASK: 3,
  WORKER: 4,
  CANCEL: 5,
  META_LEN: 6,
  DATA_LEN: 7,
  RUN_US: 8,
};
const SLOT_WORDS = 9;
const MAX_WORKERS = 256;
const CONTROL_WORDS = CTRL.MAIL + MAX_WORKERS;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A view of a ring in `buffer` (a SharedArrayBuffer made by `createRing`). */
export class Ring {
  constructor(buffer) {
    this.buffer = buffer;
    this.words = new Int32Array(buffer, 0, CONTROL_WORDS);
    this.slots = this.words[CTRL.SLOTS];
    this.slotBytes = this.words[CTRL.SLOT_BYTES];
    this.slotWords = new Int32Array(buffer, CONTROL_WORDS * 4, this.slots * SLOT_WORDS);
    this.dataStart = (CONTROL_WORDS + this.slots * SLOT_WORDS) * 4;
  }

  word(slot, field) {
    return slot * SLOT_WORDS + field;
  }

  get(slot, field) {
    return Atomics.load(this.slotWords, this.word(slot, field));
  }

  set(slot, field, value) {
    Atomics.store(this.slotWords, this.word(slot, field), value);
  }

  /** The slot's data area. */
  data(slot) {
    return new Uint8Array(this.buffer, this.dataStart + slot * this.slotBytes, this.slotBytes);
  }

  /** Writes metadata (JSON) and bytes into a slot's data area; false if they do not fit. */
  writePayload(slot, meta, bytes) {
    const json = encoder.encode(JSON.stringify(meta));
    const length = bytes ? bytes.length : 0;
    if (json.length + length > this.slotBytes) return false;
    const data = this.data(slot);
    data.set(json, 0);
    if (length) data.set(bytes, json.length);
    this.set(slot, SLOT.META_LEN, json.length);
    this.set(slot, SLOT.DATA_LEN, length);
    return true;
  }

  /** Reads a slot's metadata and a copy of its bytes (copies: views of shared memory must not escape). */
  readPayload(slot) {
    const metaLength = this.get(slot, SLOT.META_LEN);
    const length = this.get(slot, SLOT.DATA_LEN);
    const data = this.data(slot);
    // TextDecoder refuses shared memory: decode a copy.
    const meta = JSON.parse(decoder.decode(data.slice(0, metaLength)));
    return { meta, bytes: data.slice(metaLength, metaLength + length) };
  }

  /**
   * Wakes one sleeping worker (a slot was published), or all (`all`: mail or stop). Bumping
   * WAKE before reading SLEEPERS makes this safe: a worker that counts itself asleep later
   * waits on the old WAKE value, and so returns at once.
   */
  wake(all = false) {
    Atomics.add(this.words, CTRL.WAKE, 1);
    if (Atomics.load(this.words, CTRL.SLEEPERS) > 0) Atomics.notify(this.words, CTRL.WAKE, all ? Infinity : 1);
  }

  /** A worker sleeps until WAKE moves from `seen` (or `ms` pass). */
  sleep(seen, ms) {
    Atomics.add(this.words, CTRL.SLEEPERS, 1);
    Atomics.wait(this.words, CTRL.WAKE, seen, ms);
    Atomics.sub(this.words, CTRL.SLEEPERS, 1);
  }

  /** A worker says a slot completed; the main thread is notified only if it waits. */
  completed() {
    Atomics.add(this.words, CTRL.DONE, 1);
    if (Atomics.load(this.words, CTRL.MAIN_WAITING) > 0) Atomics.notify(this.words, CTRL.DONE);
  }

  /** Claims the READY slot with the highest priority, then the lowest sequence; -1 if none. */
  claim(worker) {
    for (;;) {
      let best = -1;
      let bestPriority = 0;
      let bestSeq = 0;
      for (let i = 0; i < this.slots; i++) {
        if (this.get(i, SLOT.STATE) !== STATE.READY) continue;
        const priority = this.get(i, SLOT.PRIORITY);
        const seq = this.get(i, SLOT.SEQ);
        if (best < 0 || priority > bestPriority || (priority === bestPriority && seq < bestSeq)) {
          best = i;
          bestPriority = priority;
          bestSeq = seq;
        }
      }
      if (best < 0) return -1;
      if (
        Atomics.compareExchange(this.slotWords, this.word(best, SLOT.STATE), STATE.READY, STATE.CLAIMED) === STATE.READY
      ) {
        this.set(best, SLOT.WORKER, worker);
        return best;
      }
      // Another worker took it first: look again.
    }
  }
}

/** A new ring of `slots` slots with `slotBytes` of data each. */
export function createRing(slots, slotBytes) {
  const bytes = (CONTROL_WORDS + slots * SLOT_WORDS) * 4 + slots * slotBytes;
  const buffer = new SharedArrayBuffer(bytes);
  const words = new Int32Array(buffer, 0, CONTROL_WORDS);
  words[CTRL.SLOTS] = slots;
  words[CTRL.SLOT_BYTES] = slotBytes;
  return new Ring(buffer);
}

/** True where a SharedArrayBuffer can be made and shared with workers. */
export function canShareMemory() {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  // Browsers expose SharedArrayBuffer only to cross-origin isolated pages; elsewhere (Node,
  // Deno) crossOriginIsolated is undefined and sharing works.
  return globalThis.crossOriginIsolated !== false;
}
