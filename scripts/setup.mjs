// Installs what the build and tests need on a fresh machine, from the package registries only
// (see the README's "Development" section): npm dependencies, the wasm32 target, wasm-bindgen-cli
// (the version Cargo.lock pins), wasm-pack, and for browser tests Chromium, Firefox,
// geckodriver and ffmpeg (the Service Worker video test). Each step is skipped when its tool is
// already there.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { root, run, output, have, cargoBin, log, step } from './lib.mjs';

export async function ensureNodeModules() {
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.package-lock.json');
  // Up to date when npm's own record of node_modules is newer than the lockfile.
  if (existsSync(marker) && existsSync(lock) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  // `npm install`, not `npm ci`: the registries reachable here carry only the linux-x64 builds of
  // deno and workerd, so the lockfile cannot list the other platforms' optional packages and
  // `npm ci` rejects it as out of sync. `npm install` still installs the locked versions.
  await step('npm install', () => run('npm', ['install', '--no-audit', '--no-fund']));
}

function lockedWasmBindgenVersion() {
  const lock = readFileSync(join(root, 'Cargo.lock'), 'utf8');
  const m = lock.match(/name = "wasm-bindgen"\nversion = "([^"]+)"/);
  if (!m) throw new Error('wasm-bindgen is not in Cargo.lock');
  return m[1];
}

export async function ensureRustToolchain() {
  const targets = output('rustup', ['target', 'list', '--installed']) ?? '';
  if (!targets.split('\n').includes('wasm32-unknown-unknown')) {
    await step('rustup target add wasm32-unknown-unknown', () =>
      run('rustup', ['target', 'add', 'wasm32-unknown-unknown']),
    );
  }
  if (!existsSync(join(root, 'Cargo.lock'))) await run('cargo', ['generate-lockfile']);
  const wanted = lockedWasmBindgenVersion();
  const installed = output(join(cargoBin, 'wasm-bindgen'), ['--version']);
  if (!installed || !installed.endsWith(wanted)) {
    // Not --locked: its lockfile pins a crate version this registry lacks (TOOLCHAIN.md).
    await step(`cargo install wasm-bindgen-cli ${wanted}`, () =>
      run('cargo', ['install', 'wasm-bindgen-cli', '--version', wanted, '--force']),
    );
  }
  if (!existsSync(join(cargoBin, 'wasm-pack'))) {
    await step('cargo install wasm-pack', () => run('cargo', ['install', 'wasm-pack', '--locked']));
  }
}

function aptInstall(packages) {
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing ${packages.join(', ')}: install them (apt-get install ${packages.join(' ')}) or run as root`,
    );
  }
  return run('sh', [
    '-c',
    `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages.join(' ')}`,
  ]);
}

export async function ensureBrowsers() {
  const missing = [];
  if (!have('/usr/bin/chromium')) missing.push('chromium');
  if (!have('/usr/bin/chromedriver')) missing.push('chromium-driver');
  if (!have('firefox-esr') && !have('firefox')) missing.push('firefox-esr');
  // WebKit (Safari's engine): WebKitGTK's WebDriver and MiniBrowser, under a virtual display.
  if (!have('WebKitWebDriver')) missing.push('webkit2gtk-driver');
  if (!have('xvfb-run')) missing.push('xvfb');
  if (missing.length) await step(`apt-get install ${missing.join(' ')}`, () => aptInstall(missing));
  if (!existsSync(join(cargoBin, 'geckodriver'))) {
    await step('cargo install geckodriver', () => run('cargo', ['install', 'geckodriver', '--locked']));
  }
}

/** ffmpeg (Debian's), with which the Service Worker video test makes its WebM. */
export async function ensureMediaTools() {
  if (!have('ffmpeg')) await step('apt-get install ffmpeg', () => aptInstall(['ffmpeg']));
}

/** Debian's zstd, lz4 and xz tools: the independent implementations of the package tests and benchmark. */
export async function ensureCodecTools() {
  const missing = [
    ['zstd', 'zstd'],
    ['lz4', 'lz4'],
    ['xz', 'xz-utils'],
  ]
    .filter(([tool]) => !have(tool))
    .map(([, pkg]) => pkg);
  if (missing.length) await step(`apt-get install ${missing.join(' ')}`, () => aptInstall(missing));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await ensureNodeModules();
  await ensureRustToolchain();
  if (!process.argv.includes('--no-browsers')) {
    await ensureBrowsers();
    await ensureMediaTools();
  }
  await ensureCodecTools();
  log('toolchain ready');
}
