// Builds the wasm module(s) of the package from wasm-pack.toml: for each [[build]], one
// `wasm-pack build` and then wasm-opt (npm `binaryen`) with the listed flags. Skips the work
// when no input changed since the last build (a stamp of the sources' contents).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { root, run, step, toolPath, log } from './lib.mjs';

const { parse } = await import('smol-toml');

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
}

/** A hash of everything that goes into the wasm build. */
function inputsHash(matrix) {
  const files = [
    ...listFiles(join(root, 'src')),
    join(root, 'Cargo.toml'),
    join(root, 'Cargo.lock'),
    join(root, 'wasm-pack.toml'),
    join(root, '.cargo', 'config.toml'),
  ];
  const hash = createHash('sha256');
  for (const file of files.sort()) {
    hash.update(relative(root, file));
    hash.update(readFileSync(file));
  }
  hash.update(JSON.stringify(matrix));
  return hash.digest('hex');
}

export async function build({ force = false } = {}) {
  const matrix = parse(readFileSync(join(root, 'wasm-pack.toml'), 'utf8')).build;
  const hash = inputsHash(matrix);
  const stamp = join(root, 'pkg-js', 'dist', '.build-stamp');
  const wasmOf = (b) => join(root, b['wasm-into'] ?? b['out-dir'], `${b['wasm-name'] ?? b['out-name']}_bg.wasm`);
  const outputsExist = matrix.every((b) => existsSync(wasmOf(b)));
  if (!force && outputsExist && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) {
    log('wasm build is up to date');
    return matrix;
  }
  const env = { ...process.env, PATH: toolPath() };
  for (const b of matrix) {
    await step(`wasm-pack build (${b.name})`, () =>
      run(
        'wasm-pack',
        [
          'build',
          '--target',
          b.target,
          `--${b.profile}`,
          '--out-dir',
          b['out-dir'],
          '--out-name',
          b['out-name'],
          '--no-pack',
          ...(b.features ? ['--features', b.features] : []),
        ],
        {
          env: {
            ...env,
            ...(b.rustflags ? { RUSTFLAGS: b.rustflags } : {}),
            // Other flags, other artifacts: a target folder of its own keeps both builds cached.
            ...(b['target-dir'] ? { CARGO_TARGET_DIR: join(root, b['target-dir']) } : {}),
          },
        },
      ),
    );
    // wasm-pack writes a `.gitignore` of `*` there, which npm pack would honour.
    rmSync(join(root, b['out-dir'], '.gitignore'), { force: true });
    const wasm = join(root, b['out-dir'], `${b['out-name']}_bg.wasm`);
    await step(`wasm-opt (${b.name})`, () => run('wasm-opt', [...b['wasm-opt'], wasm, '-o', wasm], { env }));
    if (b['wasm-into']) {
      // Only the .wasm is kept, next to the glue of the build it must match export for export.
      // Comments aside (they carry wasm-bindgen's internal shim numbers).
      const glueOf = (dir, name) => readFileSync(join(root, dir, `${name}.js`), 'utf8').replace(/^\s*\/\/.*$/gm, '');
      const main = matrix.find((m) => m['out-dir'] === b['wasm-into']);
      if (glueOf(b['out-dir'], b['out-name']) !== glueOf(main['out-dir'], main['out-name'])) {
        throw new Error(`the ${b.name} build's glue differs from the ${main.name} build's: they cannot share it`);
      }
      renameSync(wasm, wasmOf(b));
      rmSync(join(root, b['out-dir']), { recursive: true, force: true });
    }
    log(`${relative(root, wasmOf(b))}: ${statSync(wasmOf(b)).size} bytes`);
  }
  writeFileSync(stamp, hash);
  return matrix;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await build({ force: process.argv.includes('--force') });
}
