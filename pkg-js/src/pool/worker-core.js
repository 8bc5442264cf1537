// A pool worker's main loop, for Web Workers (worker-web.js) and Node worker_threads
// (worker-node.js). It instantiates the wasm Module sent by the calling thread, then works from
// messages and, with the 'shared' transport, from the claim table:
//   - jobs: whole-input ops (ops.js), one at a time, stopping between pieces when cancelled;
//   - sessions: one sealed file being opened (or sealed) across the pool. The worker gets, once,
//     the authenticated header, the per-file subkey (never the caller's key), the record offsets
//     and, when it can read the source itself, the Blob or the httpSource's URL, headers and
//     validator (it fetches its own ranges); then it claims chunks (or is assigned
//     them), reads their bytes, decodes into its own memory and transfers the results back,
//     several per message when they are ready together. While it decodes one batch, the read of
//     the next is already in flight.
// It never blocks: between batches it returns to its event loop, and goes idle (a flag in the
// claim table) until a 'wake' or a new message.
import { initSync } from '../../dist/wasm/novuspack_stream.js';
import * as glue from '../../dist/wasm/novuspack_stream.js';
import { Operations, errorData } from './ops.js';
import { ClaimTable } from './claims.js';
import { fetchRange } from '../sources/http-fetch.js';

/** Bytes of records (or plaintext) a worker reads and decodes per batch, about. */
const BATCH_BYTES = 1024 * 1024;

function toData(error) {
  if (error && error.name === 'StreamError' && typeof error.code === 'string') {
    return { name: 'StreamError', type: error.type, code: error.code, message: error.message, context: error.context };
  }
  if (error instanceof WebAssembly.RuntimeError) {
    const panic = glue.lastPanic?.();
    return errorData('Unsupported', 'INTERNAL_ERROR', `the worker's wasm trapped${panic ? `: ${panic}` : ''}`);
  }
  return errorData('IO', 'READ_FAILED', String(error?.message ?? error));
}

const aborted = () => errorData('Context', 'ABORTED', 'the job was aborted');

/**
 * `post(message, transfer)` sends to the calling thread; `listen(handler)` delivers its
 * messages; `yieldNow()` lets the event loop run (and messages arrive).
 */
export function runWorker({ post, listen, yieldNow }) {
  let ops = null;
  let claims = null;
  let incarnation = 0;
  let index = -1;
  const jobs = [];
  const cancelled = new Set();
  const sessions = new Map();
  const known = new Set();
  let pumping = false;

  async function runJob({ task, attempt, meta, input }) {
    const start = performance.now();
    const between = async () => {
      await yieldNow();
      if (cancelled.has(task)) throw aborted();
    };
    try {
      const { output } = await ops.run(meta, input, between);
      const runUs = Math.round((performance.now() - start) * 1000);
      post({ type: 'job-result', task, attempt, output, runUs }, [output.buffer]);
    } catch (error) {
      post({
        type: 'job-error',
        task,
        attempt,
        error: toData(error),
        fatal: error instanceof WebAssembly.RuntimeError,
      });
      if (error instanceof WebAssembly.RuntimeError) throw error;
    } finally {
      cancelled.delete(task);
    }
  }

  /** The next batch: assigned work first (urgent first), else chunks claimed from the table. */
  function nextBatch() {
    for (const session of sessions.values()) {
      if (session.assigned.length === 0) continue;
      const urgent = session.assigned.findIndex((item) => item.urgent);
      if (urgent > 0) session.assigned.unshift(...session.assigned.splice(urgent, 1));
      return { session, items: [session.assigned.shift()] };
    }
    if (!claims || known.size === 0) return null;
    // Small chunks are claimed several at a time (consecutive ones: one read).
    const more = (id) => Math.max(0, Math.floor(BATCH_BYTES / sessions.get(id).unit) - 1);
    const items = claims.claim(known, incarnation, more, index);
    return items.length ? { session: sessions.get(items[0].session), items } : null;
  }

  /** Where an item's bytes are in the source: a record (open) or a plaintext range (seal). */
  function range(session, item) {
    if (session.kind === 'open') return [session.offsets[item.chunk], session.offsets[item.chunk + 1]];
    // A claimed chunk's plaintext offset is its number times the chunk size.
    const offset = item.offset ?? item.chunk * session.unit;
    return [offset, offset + item.plainLength];
  }

  /** Starts reading a batch's bytes; resolves to { session, items, parts } (one part per item). */
  async function fetchBatch({ session, items }) {
    if (items[0].data) return { session, items, parts: items.map((item) => item.data) };
    // Consecutive items are read in one slice; others (rare) one by one.
    const groups = [];
    for (const item of items) {
      const [start, end] = range(session, item);
      const group = groups[groups.length - 1];
      if (group && group.end === start) {
        group.end = end;
        group.items.push(item);
      } else groups.push({ start, end, items: [item] });
    }
    const parts = [];
    for (const group of groups) {
      const bytes = await readShared(session, group.start, group.end);
      for (const item of group.items) {
        const [start, end] = range(session, item);
        parts.push(bytes.subarray(start - group.start, end - group.start));
      }
    }
    return { session, items, parts };
  }

  /** Bytes [start, end) of the session's source, read here: a Blob slice, or a ranged GET. */
  async function readShared(session, start, end) {
    const { source } = session;
    if (source.kind === 'http') return fetchRange(source, start, end, { signal: session.abort.signal });
    return new Uint8Array(await source.blob.slice(start, end).arrayBuffer());
  }

  /** Decodes (or seals) a fetched batch and sends the results back. */
  function processBatch({ session, items, parts }) {
    const results = [];
    const transfer = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (session.ended) return;
      const start = performance.now();
      try {
        let output;
        let deflated = false;
        if (session.kind === 'open') {
          output = session.codec.openChunk(item.chunk, item.last, parts[i], item.plainLength);
          deflated = session.codec.lastDeflated;
        } else {
          output = session.codec.sealChunk(item.chunk, item.last, parts[i], session.level);
        }
        results.push({ chunk: item.chunk, slot: item.slot, output, deflated, plainLength: item.plainLength });
        transfer.push(output.buffer);
        session.busyUs += Math.round((performance.now() - start) * 1000);
      } catch (error) {
        post({ type: 'chunk-error', session: session.id, chunk: item.chunk, slot: item.slot, error: toData(error) });
        if (error instanceof WebAssembly.RuntimeError) throw error;
      }
    }
    if (results.length) post({ type: 'chunks', session: session.id, items: results, busyUs: session.busyUs }, transfer);
    session.busyUs = 0;
  }

  /** Works until there is nothing left, then goes idle. */
  async function pump() {
    if (pumping || !ops) return;
    pumping = true;
    try {
      for (;;) {
        if (jobs.length) {
          await runJob(jobs.shift());
          continue;
        }
        const batch = nextBatch();
        if (!batch) {
          if (!claims) break;
          // Idle first, then one more look: work published after the look wakes us.
          claims.setIdle(index);
          if (claims.hasWork(known) && claims.unsetIdle(index)) continue;
          break;
        }
        let current = { batch, reading: fetchBatch(batch) };
        while (current) {
          // The next batch's read goes out before this one is decoded.
          const following = jobs.length ? null : nextBatch();
          const next = following ? { batch: following, reading: fetchBatch(following) } : null;
          next?.reading.catch(() => {});
          try {
            processBatch(await current.reading);
          } catch (error) {
            if (error instanceof WebAssembly.RuntimeError) throw error;
            reportReadFailure(current.batch, error);
          }
          current = next;
          // Let messages (cancels, ends, new work) in between batches.
          await yieldNow();
        }
      }
    } catch (error) {
      post({ type: 'crashed', error: toData(error) });
    } finally {
      pumping = false;
    }
  }

  function reportReadFailure(batch, error) {
    for (const item of batch.items) {
      post({
        type: 'chunk-error',
        session: batch.session.id,
        chunk: item.chunk,
        slot: item.slot,
        error: toData(error),
      });
    }
  }

  function startSession(message) {
    const codec = glue.WasmChunkCodec.fromSession(message.header, message.subkey);
    // The wasm codec holds its own copy (zeroed when freed): this one goes now.
    message.subkey?.fill(0);
    sessions.set(message.id, {
      id: message.id,
      kind: message.kind,
      codec,
      source: message.source ?? null,
      // Ends this session's requests in flight when it ends.
      abort: new AbortController(),
      offsets: message.offsets ?? null,
      level: message.level ?? 0,
      unit: message.unit,
      assigned: [],
      ended: false,
      busyUs: 0,
    });
    if (message.claim) known.add(message.id);
  }

  function endSession(id) {
    const session = sessions.get(id);
    if (!session) return;
    session.ended = true;
    session.abort.abort();
    sessions.delete(id);
    known.delete(id);
    session.codec.free();
  }

  listen((message) => {
    switch (message.type) {
      case 'init':
        initSync({ module: message.module });
        ops = new Operations(glue);
        incarnation = message.incarnation;
        index = message.index;
        if (message.claims) claims = new ClaimTable(message.claims);
        post({ type: 'ready', incarnation });
        break;
      case 'job':
        jobs.push(message);
        break;
      case 'cancel-job':
        cancelled.add(message.task);
        return;
      case 'session':
        startSession(message);
        break;
      case 'end-session':
        endSession(message.id);
        return;
      case 'assign': {
        const session = sessions.get(message.session);
        if (!session) return;
        const data = message.data ? new Uint8Array(message.data) : null;
        for (const item of message.items) {
          if (data) item.data = data.subarray(item.at, item.at + item.length);
          session.assigned.push(item);
        }
        break;
      }
      case 'urge': {
        const item = sessions.get(message.session)?.assigned.find((i) => i.chunk === message.chunk);
        if (item) item.urgent = true;
        return;
      }
      case 'wake':
        break;
      default:
        return;
    }
    pump();
  });
}
