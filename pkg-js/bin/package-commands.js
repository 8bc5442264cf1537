// The CLI's NovusPack package commands: ls, cat of an entry, extract and pack. Packages are
// read from files (fs.openAsBlob) or URLs (httpSource: only the records and the entries asked
// for are fetched); outputs go through output.js, which never loses data.
import { openAsBlob, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { openPackage, writePackage } from '../src/entry-node.js';
import { UsageError, integer, size } from './args.js';
import { input, readEntryKey, readKey, readPublicKey } from './inputs.js';
import { catRange, identity, planOutput, writeTo } from './output.js';
import { counting, progress } from './progress.js';

export const PACKAGE_HELP = {
  ls: `ls <package>
      list a NovusPack package's entries: size, stored size, compression, encryption, paths`,
  extract: `extract <package> [paths...] [-C dir] [--key-file F] [--force]
      write entries (all, or those named) under dir (default .); --key-file holds a 32-byte
      key or an ML-KEM decapsulation key`,
  pack: `pack <out.nvpk> <files or folders...> [--zstd | --lz4 | --xz] [--level N]
      [--encrypt aes | chacha | ml-kem] [--key-file F] [--recipient-key F.pub] [--comment T]
      [--force]
      write a package of files (folders recursively), compressed then encrypted; ml-kem needs
      --recipient-key (a public key from keygen --ml-kem)`,
};

/** Opens the package at `path` (a file or URL; not stdin: a package is read by offset). */
async function openInput(path) {
  if (path === '-') throw new UsageError('a package is read by offset: give a file or a URL, not -');
  const { source } = await input(path);
  return openPackage(source);
}

function entryOf(pkg, path) {
  const entry = pkg.find(path);
  if (!entry) throw new UsageError(`no entry ${JSON.stringify(path)} in the package`);
  return entry;
}

export async function runLs(args) {
  if (args.length !== 1) throw new UsageError(`ls needs ${PACKAGE_HELP.ls.split('\n')[0]}`);
  const pkg = await openInput(args[0]);
  const lines = [
    `NovusPack package, format ${pkg.header.formatVersion}, ${pkg.entries.length} entries, ${pkg.size} bytes`,
  ];
  if (pkg.comment !== null) lines.push(`comment: ${pkg.comment}`);
  lines.push(
    `${'size'.padStart(12)} ${'stored'.padStart(12)}  ${'compression'.padEnd(11)}  ${'encryption'.padEnd(17)}  path`,
  );
  for (const e of pkg.entries) {
    lines.push(
      `${String(e.originalSize).padStart(12)} ${String(e.storedSize).padStart(12)}  ${e.compression.padEnd(11)}  ${e.encryption.padEnd(17)}  ${e.paths.join(', ')}${e.special ? ' (metadata)' : ''}`,
    );
  }
  pkg.close();
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `cat <package> <entry>`: the entry's bytes from --offset for --length. */
export async function runPackageCat(args, values) {
  const [pkgPath, entryPath] = args;
  const offset = size('offset', values.offset ?? '0', 0, Number.MAX_SAFE_INTEGER);
  const length = size('length', values.length, 0, Number.MAX_SAFE_INTEGER);
  const keys = readEntryKey(values['key-file']);
  planOutput('-', { force: values.force });
  const pkg = await openInput(pkgPath);
  try {
    await catRange(await pkg.open(entryOf(pkg, entryPath), keys), { offset, length, force: values.force });
  } finally {
    pkg.close();
  }
}

/** Where an entry's first path is written under `dir`; refuses paths that leave it. */
function targetPath(dir, entry) {
  const root = resolve(dir);
  const target = resolve(root, `.${entry.paths[0]}`);
  if (!target.startsWith(root + sep)) {
    throw new UsageError(`the entry path ${JSON.stringify(entry.paths[0])} leaves ${dir}: not extracted`);
  }
  return target;
}

export async function runExtract(args, values) {
  if (args.length < 1) throw new UsageError(`extract needs ${PACKAGE_HELP.extract.split('\n')[0]}`);
  const [pkgPath, ...names] = args;
  const dir = values.directory ?? '.';
  const keys = readEntryKey(values['key-file']);
  const pkg = await openInput(pkgPath);
  try {
    const entries = names.length ? names.map((n) => entryOf(pkg, n)) : pkg.entries;
    // Every output is checked before anything is written.
    const plans = entries.map((e) => [e, targetPath(dir, e)]);
    for (const [, target] of plans) planOutput(target, { force: values.force, binary: false });
    const bar = progress(entries.reduce((n, e) => n + e.originalSize, 0));
    let done = 0;
    for (const [entry, target] of plans) {
      await mkdir(dirname(target), { recursive: true });
      const plan = planOutput(target, { force: values.force, binary: false });
      const stream = await pkg.open(entry, entry.encryption === 'none' ? {} : keys);
      await writeTo(plan, stream.readable().pipeThrough(counting(bar, done)));
      done += entry.originalSize;
      process.stderr.write(process.stderr.isTTY ? '' : `${relative('.', target)}\n`);
    }
    bar.done();
  } finally {
    pkg.close();
  }
}

/** The files under `path` (a file, or a folder walked in name order). */
function filesOf(path) {
  const stat = statSync(path);
  if (stat.isFile()) return [path];
  if (!stat.isDirectory()) throw new UsageError(`${path} is neither a file nor a folder`);
  return readdirSync(path)
    .sort()
    .flatMap((name) => filesOf(join(path, name)));
}

const CIPHERS = { aes: 'aes-256-gcm', chacha: 'chacha20-poly1305', 'ml-kem': 'ml-kem' };

export async function runPack(args, values) {
  if (args.length < 2) throw new UsageError(`pack needs ${PACKAGE_HELP.pack.split('\n')[0]}`);
  const [outPath, ...inputs] = args;
  const codecs = ['zstd', 'lz4', 'xz'].filter((c) => values[c]);
  if (codecs.length > 1) throw new UsageError(`choose one of --${codecs.join(', --')}`);
  const compression = { zstd: 'zstd', lz4: 'lz4', xz: 'lzma' }[codecs[0]] ?? 'none';
  const compressionLevel = integer('level', values.level, 0, compression === 'lzma' ? 9 : 22);
  const encryption = values.encrypt === undefined ? 'none' : CIPHERS[values.encrypt];
  if (!encryption) throw new UsageError(`--encrypt takes aes, chacha or ml-kem, not ${JSON.stringify(values.encrypt)}`);
  const keyed = {};
  if (encryption === 'ml-kem') {
    if (!values['recipient-key']) throw new UsageError('--encrypt ml-kem needs --recipient-key (a public key)');
    keyed.encapsulationKey = readPublicKey(values['recipient-key']);
  } else if (encryption !== 'none') {
    if (!values['key-file']) throw new UsageError(`--encrypt ${values.encrypt} needs --key-file`);
    keyed.key = readKey(values['key-file']);
  }
  const paths = inputs.flatMap(filesOf);
  const plan = planOutput(outPath, { force: values.force, inputs: paths.map(identity) });
  const files = [];
  let total = 0;
  for (const path of paths) {
    const source = await openAsBlob(path);
    total += source.size;
    files.push({ path: relative('.', path).split(sep).join('/'), source, compression, encryption, ...keyed });
    if (compressionLevel !== undefined) files.at(-1).compressionLevel = compressionLevel;
  }
  const bar = progress(total);
  const options = values.comment === undefined ? {} : { comment: values.comment };
  await writeTo(plan, writePackage(files, options).pipeThrough(counting(bar)));
  bar.done();
}
