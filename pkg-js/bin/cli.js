#!/usr/bin/env node
// The `novuspack-stream` command: seal, unseal, random-access cat, info and keygen for files,
// and ls, cat, extract and pack for NovusPack packages (package-commands.js), with `-` for
// stdin / stdout. Files are read through fs.openAsBlob and http(s) URLs through httpSource
// (HTTP Range requests), so `cat`, `info` and `ls` read only the bytes they need; outputs are
// written through output.js, which never loses data. Errors are one line on stderr and a
// distinct exit code.
import { readFileSync } from 'node:fs';
import { FileStream, StreamError, generateKemKeyPair, generateKey, inspect, seal } from '../src/entry-node.js';
import { closest } from '../src/options.js';
import { UsageError, integer, parse, size } from './args.js';
import { input, readKey } from './inputs.js';
import { catRange, discardAll, identity, planOutput, writeTo, writeWhole } from './output.js';
import { counting, progress } from './progress.js';
import { PACKAGE_HELP, runExtract, runLs, runPack, runPackageCat } from './package-commands.js';

const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

const EXIT = { ok: 0, other: 1, usage: 2, auth: 3, damaged: 4, io: 5, unsupported: 6, sigint: 130, sigterm: 143 };

const COMMAND_HELP = {
  seal: `seal <in> <out> [--key-file F] [--level N] [--chunk-size SIZE] [--force]
      seal a file: deflate at level N (0..10; no --level = stored), encrypted with --key-file,
      SIZE plaintext bytes per chunk (default 256K; suffixes K, M: --chunk-size 1M)`,
  unseal: `unseal <in> <out> [--key-file F] [--force]
      verify and decode a sealed file (or gzip / zlib data); <out> appears only if all of it
      verified`,
  cat: `cat <in> [entry] [--offset N] [--length N] [--key-file F] [--force]
      print decoded bytes from an offset (default 0) for a length (default: to the end),
      reading only the chunks that hold them; with an entry path, <in> is a NovusPack package`,
  info: `info <in> [--key-file F]
      describe a sealed file (with the key, its size is verified)`,
  keygen: `keygen <file> [--ml-kem 512|768|1024] [--force]
      write a new random key (64 hex digits) readable by you only (mode 0600); with --ml-kem,
      an ML-KEM decapsulation key, and its public key (for pack --recipient-key) in <file>.pub`,
  ...PACKAGE_HELP,
  help: `help [command]
      this text, or one command's`,
};

const USAGE = `usage: novuspack-stream <command> ...

${Object.values(COMMAND_HELP)
  .map((h) => `  ${h}`)
  .join('\n')}

  <in> may be an http(s) URL: it is read with HTTP Range requests (cat and info fetch only
  the chunks they need; the server must answer Range requests).
  <in> and <out> may be - for stdin / stdout. An existing <out> is replaced only with --force
  (devices such as /dev/null are written, never replaced); <out> is written to a temporary file
  beside it and renamed when the command succeeds, so a failed or interrupted run leaves
  nothing behind. Binary output goes to a terminal only with --force.

  --version  the version;  -h, --help  this text

  Exit codes: 0 ok, 1 unexpected error, 2 usage (bad arguments, missing key, output exists),
  3 wrong key or modified data, 4 damaged data, 5 file or I/O error, 6 not a format this reads
  (not sealed, gzip or zlib; a newer version; an unknown codec), 130 interrupted (SIGINT),
  143 terminated (SIGTERM).`;

const OPTIONS = {
  'key-file': { value: true },
  level: { value: true },
  'chunk-size': { value: true },
  offset: { value: true },
  length: { value: true },
  force: { value: false, short: 'f' },
  directory: { value: true, short: 'C' },
  zstd: { value: false },
  lz4: { value: false },
  xz: { value: false },
  encrypt: { value: true },
  'recipient-key': { value: true },
  comment: { value: true },
  'ml-kem': { value: true },
  help: { value: false, short: 'h' },
  version: { value: false, short: 'V' },
};

function describe(error) {
  if (error instanceof UsageError) return [`${error.message} (see novuspack-stream help)`, EXIT.usage];
  if (error instanceof StreamError) {
    if (error.code === 'AUTH_FAILED') return ['wrong key, or the file was modified (AUTH_FAILED)', EXIT.auth];
    if (error.code === 'KEY_REQUIRED') return ['the file is encrypted: give --key-file (KEY_REQUIRED)', EXIT.usage];
    if (error.code === 'NOT_ENCRYPTED')
      return ['the file is not encrypted, but a key was given (NOT_ENCRYPTED)', EXIT.usage];
    if (error.code === 'UNKNOWN_FORMAT') return [`${error.message} (UNKNOWN_FORMAT)`, EXIT.unsupported];
    if (error.type === 'Unsupported' && error.code !== 'INTERNAL_ERROR')
      return [`${error.message} (${error.code})`, EXIT.unsupported];
    if (error.type === 'Corruption' || error.type === 'Compression') {
      return [`the file is damaged: ${error.message} (${error.code})`, EXIT.damaged];
    }
    if (error.type === 'IO') return [`${error.message} (${error.code})`, EXIT.io];
    if (error.type === 'Validation') return [`${error.message} (${error.code})`, EXIT.usage];
    return [`${error.message} (${error.type} ${error.code})`, EXIT.other];
  }
  if (error?.code === 'ENOENT') return [`no such file: ${error.path}`, EXIT.io];
  if (['EACCES', 'EPERM', 'EISDIR', 'EPIPE', 'ELOOP', 'ENOSPC', 'EROFS', 'EXDEV'].includes(error?.code))
    return [`${error.message}`, EXIT.io];
  return [String(error?.message ?? error), EXIT.other];
}

/**
 * Opens a file the CLI decodes: sealed, gzip or zlib. Raw deflate has no header to recognise,
 * so the CLI does not guess it: anything else is UNKNOWN_FORMAT.
 */
async function openDecoded(source, options) {
  const stream = await FileStream.open(source, { ...options, isCompressed: true });
  if (stream.format.kind === 'deflate-raw') {
    stream.close();
    throw new StreamError('Unsupported', 'UNKNOWN_FORMAT', 'not a sealed, gzip or zlib file');
  }
  return stream;
}

/** The bytes of an input as a ReadableStream (a remote file: its stored bytes, read ahead). */
async function plaintextStream(source) {
  if (source instanceof Blob) return source.stream();
  if (source instanceof ReadableStream) return source;
  return (await FileStream.open(source, { raw: true })).readable();
}

function needs(command, args, count) {
  if (args.length < count) throw new UsageError(`${command} needs ${COMMAND_HELP[command].split('\n')[0]}`);
  if (args.length > count) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(args[count])}`);
}

async function runSeal(args, values) {
  needs('seal', args, 2);
  const [inPath, outPath] = args;
  const key = readKey(values['key-file']);
  const level = integer('level', values.level, 0, 10);
  const chunkSize = size('chunk-size', values['chunk-size'], 64, 64 * 1024 * 1024);
  // Checked before reading: a refused output must not consume stdin or touch anything.
  const plan = planOutput(outPath, { force: values.force, inputs: [identity(inPath)] });
  const { source, size: inputSize } = await input(inPath);
  const bar = progress(inputSize);
  const plain = await plaintextStream(source);
  const declared = inputSize ?? (source instanceof Blob ? undefined : (source.size ?? undefined));
  const sealed = seal(plain.pipeThrough(counting(bar)), { key, compress: level ?? false, chunkSize, size: declared });
  await writeTo(plan, sealed);
  bar.done();
}

async function runUnseal(args, values) {
  needs('unseal', args, 2);
  const [inPath, outPath] = args;
  const key = readKey(values['key-file']);
  // Refuse a bad output before the (possibly long) open.
  const plan = planOutput(outPath, { force: values.force, inputs: [identity(inPath)] });
  const { source } = await input(inPath);
  const stream = await openDecoded(source, { key, memoryLimit: 256 * 1024 * 1024 });
  const bar = progress(stream.size);
  await writeTo(plan, stream.readable().pipeThrough(counting(bar)));
  bar.done();
}

async function runCat(args, values) {
  if (args.length === 2) return runPackageCat(args, values);
  needs('cat', args, 1);
  const [inPath] = args;
  const offset = size('offset', values.offset ?? '0', 0, Number.MAX_SAFE_INTEGER);
  const length = size('length', values.length, 0, Number.MAX_SAFE_INTEGER);
  const key = readKey(values['key-file']);
  // A terminal without --force is refused before anything is read.
  planOutput('-', { force: values.force });
  const { source } = await input(inPath);
  const stream = await openDecoded(source, { key });
  await catRange(stream, { offset, length, force: values.force });
  stream.close();
}

async function runInfo(args, values) {
  needs('info', args, 1);
  const [inPath] = args;
  if (inPath === '-') throw new UsageError('info needs a file (it reads the end of the file first)');
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
  if (info.encrypted && key) {
    const stream = await FileStream.open(source, { key });
    lines.push(`size          ${stream.size} bytes (authenticated index)`);
    stream.close();
  } else if (!info.encrypted) {
    const stream = await FileStream.open(source);
    lines.push(`size          ${stream.size} bytes (from the index; CRC-checked, not authenticated)`);
    stream.close();
  } else if (info.declaredSize !== undefined) {
    lines.push(`size          ${info.declaredSize} bytes (from the header, not verified without the key)`);
  } else {
    lines.push('size          unknown without the key');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function runKeygen(args, values) {
  needs('keygen', args, 1);
  const [path] = args;
  const hex = (bytes) => new TextEncoder().encode(`${Buffer.from(bytes).toString('hex')}\n`);
  if (values['ml-kem'] !== undefined) {
    if (path === '-') throw new UsageError('keygen --ml-kem writes two files: give a file name');
    const set = integer('ml-kem', values['ml-kem'], 512, 1024);
    if (![512, 768, 1024].includes(set)) throw new UsageError('--ml-kem takes 512, 768 or 1024');
    const { decapsulationKey, encapsulationKey } = await generateKemKeyPair(set);
    planOutput(`${path}.pub`, { force: values.force, binary: false });
    await writeWhole(path, hex(decapsulationKey), { force: values.force, binary: false, mode: 0o600 });
    await writeWhole(`${path}.pub`, hex(encapsulationKey), { force: values.force, binary: false });
    return;
  }
  const text = hex(generateKey());
  if (path === '-') process.stdout.write(new TextDecoder().decode(text));
  else await writeWhole(path, text, { force: values.force, binary: false, mode: 0o600 });
}

function runHelp(args) {
  if (args.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const help = COMMAND_HELP[args[0]];
  if (!help) throw unknownCommand(args[0]);
  process.stdout.write(`usage: novuspack-stream ${help}\n`);
}

function unknownCommand(command) {
  const guess = closest(command, Object.keys(COMMANDS));
  return new UsageError(`unknown command ${JSON.stringify(command)}${guess ? ` (did you mean ${guess}?)` : ''}`);
}

const COMMANDS = {
  seal: runSeal,
  unseal: runUnseal,
  cat: runCat,
  info: runInfo,
  keygen: runKeygen,
  ls: runLs,
  extract: runExtract,
  pack: runPack,
  help: runHelp,
};

async function main(argv) {
  const { positionals, values } = parse(argv, OPTIONS);
  if (values.version) {
    process.stdout.write(`novuspack-stream ${VERSION}\n`);
    return;
  }
  const [command, ...rest] = positionals;
  if (!command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const run = COMMANDS[command];
  if (!run) throw unknownCommand(command);
  if (values.help) {
    runHelp([command === 'help' ? (rest[0] ?? '') : command].filter(Boolean));
    return;
  }
  await run(rest, values);
}

process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(EXIT.ok);
});

// An interrupted run leaves nothing behind: only the temporary output is removed.
for (const [signal, code] of [
  ['SIGINT', EXIT.sigint],
  ['SIGTERM', EXIT.sigterm],
]) {
  process.on(signal, () => {
    const removed = discardAll();
    process.stderr.write(
      `novuspack-stream: interrupted (${signal})${removed ? '; the partial output was removed' : ''}\n`,
    );
    process.exit(code);
  });
}

main(process.argv.slice(2)).catch((error) => {
  discardAll();
  const [message, code] = describe(error);
  process.stderr.write(`novuspack-stream: ${message}\n`);
  process.exit(code);
});
