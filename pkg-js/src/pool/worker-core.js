// The worker's main loop, for Web Workers (worker-web.js) and Node worker_threads
// (worker-node.js). It instantiates the wasm Module sent by the main thread, then either
// takes tasks from the shared ring (sleeping in Atomics.wait between them) or gets them by
// message. A message task is also how the shared transport sends a payload too big for a slot:
// the main thread bumps this worker's MAIL counter and wakes it, and the loop yields to the
// event loop until the message arrives.
import { initSync } from '../../dist/wasm/novuspack_stream.js';
import * as glue from '../../dist/wasm/novuspack_stream.js';
import { Operations, errorData } from './ops.js';
import { CTRL, Ring, SLOT, STATE } from './ring.js';

function toData(error) {
  if (error && error.name === 'StreamError' && typeof error.code === 'string') {
    return { name: 'StreamError', type: error.type, code: error.code, message: error.message, context: error.context };
  }
  if (error instanceof WebAssembly.RuntimeError) {
    const panic = glue.lastPanic?.();
    return errorData('Unsupported', 'INTERNAL_ERROR', `the worker's wasm trapped${panic ? `: ${panic}` : ''}`);
  }
  return errorData('Unsupported', 'INTERNAL_ERROR', String(error?.message ?? error));
}

const aborted = () => errorData('Context', 'ABORTED', 'the job was aborted');

/**
 * `post(message, transfer)` sends to the main thread; `listen(handler)` delivers its messages;
 * `yieldNow()` lets the event loop run (and messages arrive).
 */
export function runWorker({ post, listen, yieldNow }) {
  let ops = null;
  let ring = null;
  let id = -1;
  let mail = -1;
  let nudge = false;
  let mailSeen = 0;
  const mailbox = [];
  const cancelled = new Set();
  let busy = false;

  async function runMessageTask({ task, attempt, meta, input }) {
    const start = performance.now();
    const between = async () => {
      await yieldNow();
      if (cancelled.has(task)) throw aborted();
    };
    try {
      const { output, deflated } = await ops.run(meta, input, between);
      const runUs = Math.round((performance.now() - start) * 1000);
      post({ type: 'result', task, attempt, output, deflated, runUs }, [output.buffer]);
    } catch (error) {
      post({ type: 'error', task, attempt, error: toData(error), fatal: error instanceof WebAssembly.RuntimeError });
      if (error instanceof WebAssembly.RuntimeError) throw error;
    } finally {
      cancelled.delete(task);
    }
  }

  async function drainMailbox() {
    if (busy) return;
    busy = true;
    try {
      while (mailbox.length) {
        // Counted as taken, so mail that arrives while draining is not waited for again.
        mailSeen += 1;
        await runMessageTask(mailbox.shift());
      }
    } finally {
      busy = false;
    }
  }

  async function runSlot(slot) {
    const { meta, bytes } = ring.readPayload(slot);
    const start = performance.now();
    const between = async () => {
      if (ring.get(slot, SLOT.CANCEL)) throw aborted();
    };
    let fatal = null;
    try {
      const { output, deflated } = await ops.run(meta, bytes, between);
      ring.set(slot, SLOT.RUN_US, Math.round((performance.now() - start) * 1000));
      if (!ring.writePayload(slot, { deflated }, output)) {
        // Too big for the slot: the bytes go by message, the slot says so.
        post({ type: 'result', task: meta.task, attempt: meta.attempt, output, deflated, runUs: 0 }, [output.buffer]);
        ring.writePayload(slot, { deflated, viaMessage: true }, null);
      }
      ring.set(slot, SLOT.STATE, STATE.DONE);
    } catch (error) {
      ring.writePayload(slot, { error: toData(error), fatal: error instanceof WebAssembly.RuntimeError }, null);
      ring.set(slot, SLOT.STATE, STATE.FAILED);
      if (error instanceof WebAssembly.RuntimeError) fatal = error;
    }
    ring.completed();
    if (nudge) post({ type: 'nudge' });
    if (fatal) throw fatal;
  }

  async function loop() {
    while (Atomics.load(ring.words, CTRL.STOP) === 0) {
      const posted = Atomics.load(ring.words, CTRL.MAIL + mail);
      if (posted !== mailSeen) {
        // A message task was posted to this worker: let the event loop deliver it.
        await yieldNow();
        await drainMailbox();
        continue;
      }
      const seen = Atomics.load(ring.words, CTRL.WAKE);
      const slot = ring.claim(id);
      if (slot >= 0) {
        await runSlot(slot);
        continue;
      }
      ring.sleep(seen, 1000);
    }
  }

  listen((message) => {
    switch (message.type) {
      case 'init':
        initSync({ module: message.module });
        ops = new Operations(glue);
        id = message.id;
        mail = message.mail;
        mailSeen = message.mailSeen ?? 0;
        nudge = Boolean(message.nudge);
        post({ type: 'ready', id });
        if (message.ring) {
          ring = new Ring(message.ring);
          loop().catch((error) => post({ type: 'crashed', error: toData(error) }));
        }
        break;
      case 'task':
        mailbox.push(message);
        if (!ring) drainMailbox().catch((error) => post({ type: 'crashed', error: toData(error) }));
        break;
      case 'cancel':
        cancelled.add(message.task);
        break;
      default:
        break;
    }
  });
}
