// Where the CLI writes, without ever losing data: a regular file is written to a temporary file
// beside it and renamed over it only when the command succeeds; on failure, SIGINT or SIGTERM
// only that temporary file is removed. The input is never the output (same device and inode,
// through links), an existing file is replaced only with --force, and devices, FIFOs and
// sockets (/dev/null, a pipe) are written in place and never removed.
import { randomBytes } from 'node:crypto';
import { createWriteStream, fstatSync, lstatSync, openSync, readlinkSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { UsageError } from './args.js';

/** Outputs not yet committed, for the signal handlers. */
const pending = new Set();

/** Removes every uncommitted temporary file (signals, fatal errors); returns how many. */
export function discardAll() {
  const count = pending.size;
  for (const output of pending) output.discard();
  return count;
}

/** Follows symbolic links to the path that is really written (a dangling link's target too). */
function realTarget(path) {
  let target = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let info;
    try {
      info = lstatSync(target);
    } catch (error) {
      if (error.code === 'ENOENT') return target;
      throw error;
    }
    if (!info.isSymbolicLink()) return target;
    target = resolve(dirname(target), readlinkSync(target));
  }
  throw Object.assign(new Error(`${path}: too many levels of symbolic links`), { code: 'ELOOP' });
}

function statOrNull(path) {
  try {
    return statSync(path);
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }
}

/** The device and inode of an input (a path, or '-' for stdin), to refuse writing over it. */
export function identity(path) {
  try {
    const info = path === '-' ? fstatSync(0) : statSync(path);
    return { dev: info.dev, ino: info.ino, regular: info.isFile() };
  } catch {
    return null;
  }
}

/**
 * Decides how `path` will be written, refusing (UsageError) before anything is created or read:
 * the input itself, a terminal for binary data without `force`, an existing regular file
 * without `force`. Options: `force`, `inputs` (identities that must not be overwritten),
 * `binary`. Returns a plan for `openOutput`.
 */
export function planOutput(path, { force = false, inputs = [], binary = true } = {}) {
  if (path === '-') {
    if (binary && process.stdout.isTTY && !force)
      throw new UsageError('refusing to write binary data to a terminal (redirect it, or add --force)');
    return { kind: 'stdout' };
  }
  const target = realTarget(path);
  const existing = statOrNull(target);
  if (existing) {
    for (const input of inputs) {
      if (input && input.dev === existing.dev && input.ino === existing.ino) {
        throw new UsageError(`${path} is the input file: refusing to write over what is being read`);
      }
    }
    if (existing.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
    if (!existing.isFile()) return { kind: 'in-place', target };
    if (!force) throw new UsageError(`${path} exists (add --force to replace it)`);
  }
  return { kind: 'replace', target };
}

/**
 * Opens a planned output (`mode`: of a new file; key files are 0o600). Returns
 * { stream (a WritableStream), commit(), discard() }: commit renames the temporary file over
 * the target, discard removes it.
 */
export function openOutput(plan, { mode = 0o666 } = {}) {
  if (plan.kind === 'stdout') return { stream: Writable.toWeb(process.stdout), async commit() {}, discard() {} };
  if (plan.kind === 'in-place') return inPlace(plan.target);
  return replacing(plan.target, mode);
}

/** A device, FIFO or socket: written where it is, never removed. */
function inPlace(target) {
  const file = createWriteStream(target, { flags: 'w' });
  const closed = new Promise((resolveClose) => file.on('close', resolveClose));
  return {
    stream: Writable.toWeb(file),
    async commit() {
      await closed;
    },
    discard() {
      file.destroy();
    },
  };
}

/** A regular file: a temporary file beside it, renamed over it on commit. */
function replacing(target, mode) {
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  // 'wx': the temporary file is ours alone (created here, never an existing file).
  const fd = openSync(temp, 'wx', mode);
  const file = createWriteStream(temp, { fd, autoClose: true });
  const closed = new Promise((resolveClose) => file.on('close', resolveClose));
  let settled = false;
  const output = {
    stream: Writable.toWeb(file),
    async commit() {
      await closed;
      if (settled) throw new Error('the output was discarded');
      settled = true;
      pending.delete(output);
      try {
        renameSync(temp, target);
      } catch (error) {
        rmSync(temp, { force: true });
        throw error;
      }
    },
    discard() {
      if (settled) return;
      settled = true;
      pending.delete(output);
      file.destroy();
      try {
        rmSync(temp, { force: true });
      } catch {
        // Nothing else to remove: the target was never touched.
      }
    },
  };
  pending.add(output);
  return output;
}

/** Writes `bytes` to a new or replaced file through `openOutput` (small outputs: keys). */
export async function writeWhole(path, bytes, { mode, ...options }) {
  const output = openOutput(planOutput(path, options), { mode });
  try {
    const writer = output.stream.getWriter();
    await writer.write(bytes);
    await writer.close();
    await output.commit();
  } catch (error) {
    output.discard();
    throw error;
  }
}

/** Pipes `readable` into a planned output, committing it only if everything succeeded. */
export async function writeTo(plan, readable) {
  const out = openOutput(plan);
  try {
    await readable.pipeTo(out.stream);
    await out.commit();
  } catch (error) {
    out.discard();
    throw error;
  }
}

/**
 * `cat`: the bytes of `stream` from `offset` (an offset past the end is the stream's typed
 * INVALID_OFFSET) for `length` bytes or to the end, through readAt (only the chunks that hold
 * them are decoded), to standard output (refused for a terminal without `force`).
 */
export async function catRange(stream, { offset, length, force }) {
  const out = openOutput(planOutput('-', { force }));
  if (stream.size !== null && offset > stream.size) await stream.readAt(new Uint8Array(1), offset);
  const end = length === undefined ? Infinity : offset + length;
  const writer = out.stream.getWriter();
  const piece = new Uint8Array(1024 * 1024);
  for (let at = offset; at < end;) {
    const n = await stream.readAt(piece.subarray(0, Math.min(piece.length, end - at)), at);
    if (n === 0) break;
    await writer.write(piece.slice(0, n));
    at += n;
  }
  await writer.close();
}
