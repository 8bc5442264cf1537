// The files of the remote benchmark (bench/remote.mjs), written once to bench/data[/quick]/ and
// reused while their recipe holds (a stamp file), plus the server that serves them: the
// benchmark plaintext (corpus.bin repeated to 256 MiB; 8 MiB with `quick`) sealed with deflate
// and ChaCha20-Poly1305, the same plaintext as an AES-256 entry of a zip (zip.js), and 1 GiB of
// incompressible bytes sealed (16 MiB with `quick`), and a NovusPack package of 1,000 entries
// (4 KiB pieces of the corpus, zstd; 100 with `quick`). Node only.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import * as zip from '@zip.js/zip.js';
import * as lib from 'novuspack-stream';
import { benchData, randomBytes } from './corpus.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1 << 20;
/** The benchmark's key and zip password (benchmarks only). */
export const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
export const PASSWORD = 'novuspack-bench';

/** `size` bytes cycling through `data`, as a ReadableStream of 1 MiB pieces. */
function cycle(data, size) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= size) return controller.close();
      const n = Math.min(MiB, size - at);
      const from = at % data.length;
      const piece = new Uint8Array(n);
      for (let filled = 0; filled < n;) {
        const part = data.subarray(
          (from + filled) % data.length,
          Math.min(data.length, ((from + filled) % data.length) + n - filled),
        );
        piece.set(part, filled);
        filled += part.length;
      }
      controller.enqueue(piece);
      at += n;
    },
  });
}

async function writeStream(path, readable) {
  await pipeline(Readable.fromWeb(readable), createWriteStream(path));
  return statSync(path).size;
}

async function sealTo(path, plain, size, compress) {
  return writeStream(path, lib.seal(plain, { key: KEY, compress, size, chunkSize: 256 * 1024 }));
}

async function zipTo(path, plain) {
  const out = Writable.toWeb(createWriteStream(path));
  const writer = new zip.ZipWriter(out);
  await writer.add('data.bin', plain, { password: PASSWORD, encryptionStrength: 3, level: 6, useWebWorkers: false });
  await writer.close();
  return statSync(path).size;
}

/** Writes (or reuses) the files; resolves to { dir, files: { stream, zip, big } } with sizes. */
export async function remoteData({ quick = false } = {}) {
  const { dir, read } = benchData({ quick });
  const corpus = read('corpus.bin');
  const streamSize = quick ? 8 * MiB : 256 * MiB;
  const bigSize = quick ? 16 * MiB : 1024 * MiB;
  const stamp = join(dir, 'remote.json');
  const entries = quick ? 100 : 1000;
  const want = { streamSize, bigSize, entries, corpus: corpus.length, version: 2 };
  const paths = {
    stream: join(dir, 'remote-stream.sealed'),
    zip: join(dir, 'remote-stream.zip'),
    big: join(dir, 'remote-big.sealed'),
    package: join(dir, 'remote-many.nvpk'),
  };
  const fresh =
    existsSync(stamp) && JSON.stringify(JSON.parse(readFileSync(stamp, 'utf8')).want) === JSON.stringify(want);
  if (!fresh || !Object.values(paths).every(existsSync)) {
    await sealTo(paths.stream, cycle(corpus, streamSize), streamSize, true);
    await zipTo(paths.zip, cycle(corpus, streamSize));
    const random = randomBytes(64 * MiB);
    await sealTo(
      paths.big,
      cycle(new Uint8Array(random.buffer, random.byteOffset, random.length), bigSize),
      bigSize,
      false,
    );
    const pieces = Array.from({ length: entries }, (_, i) => ({
      path: `/assets/${String(i).padStart(4, '0')}.bin`,
      source: corpus.slice(i * 4096, (i + 1) * 4096),
      compression: 'zstd',
    }));
    await writeStream(paths.package, lib.writePackage(pieces));
    writeFileSync(stamp, JSON.stringify({ want }));
  }
  const entry = (name, path, plainSize) => ({ name, path, plainSize, storedSize: statSync(path).size });
  return {
    dir,
    files: {
      stream: entry('remote-stream.sealed', paths.stream, streamSize),
      zip: entry('remote-stream.zip', paths.zip, streamSize),
      big: entry('remote-big.sealed', paths.big, bigSize),
      package: { ...entry('remote-many.nvpk', paths.package, entries * 4096), entries },
    },
  };
}

/**
 * Starts tests/js/http-server.mjs in a child process and registers the files: the stream, zip
 * and package files with 20 ms of latency per response, the big file without. Resolves to { url, stop }.
 */
export async function startRemoteServer(files) {
  const child = spawn(process.execPath, [join(root, 'tests', 'js', 'http-server.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`the benchmark server exited (${code})`)));
  });
  const put = (name, path, latency) =>
    fetch(`${url}/_control/files/${name}?path=${encodeURIComponent(path)}&latency=${latency}`, { method: 'PUT' });
  await put(files.stream.name, files.stream.path, 20);
  await put(files.zip.name, files.zip.path, 20);
  await put(files.big.name, files.big.path, 0);
  await put(files.package.name, files.package.path, 20);
  return { url, stop: () => child.kill() };
}
