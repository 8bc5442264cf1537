#!/usr/bin/env node
// The `novuspack-stream` command: seal, unseal, random-access cat, info and keygen for files,
// with `-` for stdin / stdout. Files are read through fs.openAsBlob, so `cat` and `info` read
// only the bytes they need. Errors are one line on stderr and a distinct exit code.
import { openAsBlob, createWriteStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { FileStream, StreamError, generateKey, inspect, seal } from '../src/entry-node.js';

const USAGE = `usage: novuspack-stream <command> ...

  seal <in> <out> [--key-file F] [--level N] [--chunk-size N]
        seal a file (deflate at level N, 0..10; no --level = store; encrypted with --key-file)
  unseal <in> <out> --key-file F
        verify and decode a sealed file (or gzip / zlib / deflate data)
  cat <in> --offset N --length N [--key-file F]
        print bytes of the decoded file at an offset, reading only the chunks that hold them
  info <in> [--key-file F]
        describe a sealed file (with the key: verified sizes)
  keygen <file>
        write a new random key (64 hex digits) readable by you only

  <in> and <out> may be - for stdin / stdout. Exit codes: 0 ok, 2 usage, 3 wrong key or
  modified data, 4 damaged data, 5 file or I/O error, 1 anything else.`;

const EXIT = { usage: 2, auth: 3, damaged: 4, io: 5, other: 1 };

class UsageError extends Error {}

function fail(message, code) {
  process.stderr.write(`novuspack-stream: ${message}\n`);
  process.exit(code);
}

function describe(error) {
  if (error instanceof UsageError) return [`${error.message} (see novuspack-stream --help)`, EXIT.usage];
  if (error instanceof StreamError) {
    if (error.code === 'AUTH_FAILED') return ['wrong key, or the file was modified (AUTH_FAILED)', EXIT.auth];
    if (error.code === 'KEY_REQUIRED') return ['the file is encrypted: give --key-file (KEY_REQUIRED)', EXIT.usage];
    if (error.code === 'NOT_ENCRYPTED')
      return ['the file is not encrypted, but a key was given (NOT_ENCRYPTED)', EXIT.usage];
    if (error.type === 'Corruption' || error.type === 'Compression') {
      return [`the file is damaged: ${error.message} (${error.code})`, EXIT.damaged];
    }
    if (error.type === 'IO') return [`${error.message} (${error.code})`, EXIT.io];
    if (error.type === 'Validation') return [`${error.message} (${error.code})`, EXIT.usage];
    return [`${error.message} (${error.type} ${error.code})`, EXIT.other];
  }
  if (error?.code === 'ENOENT') return [`no such file: ${error.path}`, EXIT.io];
  if (error?.code === 'EACCES' || error?.code === 'EISDIR' || error?.code === 'EPIPE')
    return [`${error.message}`, EXIT.io];
  return [String(error?.message ?? error), EXIT.other];
}

function integer(name, value, min, max) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** A key file holds 32 raw bytes or 64 hex digits. */
function readKey(path) {
  if (path === undefined) return undefined;
  const raw = readFileSync(path);
  const text = raw.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'));
  if (raw.length === 32) return new Uint8Array(raw);
  throw new UsageError(`${path} is not a key (64 hex digits or 32 bytes)`);
}

async function input(path) {
  if (path === '-') return { source: Readable.toWeb(process.stdin), size: undefined };
  const stat = statSync(path);
  if (stat.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
  return { source: await openAsBlob(path), size: stat.size };
}

function output(path) {
  if (path === '-') return { stream: Writable.toWeb(process.stdout), discard() {} };
  const file = createWriteStream(path);
  return {
    stream: Writable.toWeb(file),
    discard() {
      file.destroy();
      rmSync(path, { force: true });
    },
  };
}

/** A progress bar on stderr for runs long enough to need one. */
function progress(total) {
  if (!process.stderr.isTTY || !total || total < 16 * 1024 * 1024) return { update() {}, done() {} };
  const start = Date.now();
  let last = 0;
  const draw = (done) => {
    const fraction = Math.min(1, done / total);
    const seconds = (Date.now() - start) / 1000;
    const speed = done / Math.max(seconds, 1e-3);
    const eta = speed > 0 ? (total - done) / speed : 0;
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

/** Passes bytes through, counting them for the progress bar. */
function counting(bar) {
  let done = 0;
  return new TransformStream({
    transform(chunk, controller) {
      done += chunk.length;
      bar.update(done);
      controller.enqueue(chunk);
    },
  });
}

async function runSeal([inPath, outPath], values) {
  if (!inPath || !outPath) throw new UsageError('seal needs <in> and <out>');
  const key = readKey(values['key-file']);
  const level = integer('level', values.level, 0, 10);
  const chunkSize = integer('chunk-size', values['chunk-size'], 64, 64 * 1024 * 1024);
  const { source, size } = await input(inPath);
  const bar = progress(size);
  const out = output(outPath);
  const plain = source instanceof Blob ? source.stream() : source;
  try {
    await seal(plain.pipeThrough(counting(bar)), { key, compress: level ?? false, chunkSize, size }).pipeTo(out.stream);
  } catch (error) {
    out.discard();
    throw error;
  }
  bar.done();
}

async function runUnseal([inPath, outPath], values) {
  if (!inPath || !outPath) throw new UsageError('unseal needs <in> and <out>');
  const key = readKey(values['key-file']);
  const { source } = await input(inPath);
  const stream = await FileStream.open(source, { key, isCompressed: true, memoryLimit: 256 * 1024 * 1024 });
  const bar = progress(stream.size);
  const out = output(outPath);
  try {
    await stream.readable().pipeThrough(counting(bar)).pipeTo(out.stream);
  } catch (error) {
    // Never leave a partial file that looks complete.
    out.discard();
    throw error;
  }
  bar.done();
}

async function runCat([inPath], values) {
  if (!inPath) throw new UsageError('cat needs <in>');
  const offset = integer('offset', values.offset ?? '0', 0, Number.MAX_SAFE_INTEGER);
  const length = integer('length', values.length, 0, 1024 * 1024 * 1024);
  if (length === undefined) throw new UsageError('cat needs --length');
  const key = readKey(values['key-file']);
  const { source } = await input(inPath);
  const stream = await FileStream.open(source, { key, isCompressed: true });
  const out = Writable.toWeb(process.stdout).getWriter();
  const piece = new Uint8Array(Math.min(length, 1024 * 1024));
  let done = 0;
  while (done < length) {
    const n = await stream.readAt(piece.subarray(0, Math.min(piece.length, length - done)), offset + done);
    if (n === 0) break;
    await out.write(piece.slice(0, n));
    done += n;
  }
  await out.close();
  stream.close();
}

async function runInfo([inPath], values) {
  if (!inPath || inPath === '-') throw new UsageError('info needs a file (it reads the end of the file first)');
  const key = readKey(values['key-file']);
  const { source } = await input(inPath);
  const info = await inspect(source);
  const lines = [
    `format        novuspack-stream sealed, version ${info.version}`,
    `encryption    ${info.encrypted ? 'ChaCha20-Poly1305' : 'none (CRC-32 per chunk)'}`,
    `compression   ${info.compressed ? 'deflate (per chunk)' : 'none'}`,
    `chunk size    ${info.chunkSize} bytes`,
    `chunks        ${info.chunkCount}`,
    `stored size   ${info.storedSize} bytes`,
  ];
  if (!info.encrypted || key) {
    const stream = await FileStream.open(source, { key, isCompressed: true });
    lines.push(`size          ${stream.size} bytes (verified index)`);
    stream.close();
  } else if (info.declaredSize !== undefined) {
    lines.push(`size          ${info.declaredSize} bytes (from the header, not verified without the key)`);
  } else {
    lines.push('size          unknown without the key');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function runKeygen([path], values) {
  if (!path) throw new UsageError('keygen needs <file>');
  if (path !== '-' && existsSync(path) && !values.force)
    throw new UsageError(`${path} exists (use --force to replace it)`);
  const text = `${Buffer.from(generateKey()).toString('hex')}\n`;
  if (path === '-') process.stdout.write(text);
  else writeFileSync(path, text, { mode: 0o600 });
}

const COMMANDS = { seal: runSeal, unseal: runUnseal, cat: runCat, info: runInfo, keygen: runKeygen };

async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'key-file': { type: 'string' },
        level: { type: 'string' },
        'chunk-size': { type: 'string' },
        offset: { type: 'string' },
        length: { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error.message);
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`unknown command: ${command}`);
  await run(rest, parsed.values);
}

process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
});

main(process.argv.slice(2)).catch((error) => {
  const [message, code] = describe(error);
  fail(message, code);
});
