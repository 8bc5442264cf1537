// `npm test`: installs what is missing (see setup.mjs), then runs every suite and prints a
// summary with test counts per runtime:
//   Rust: rustfmt, clippy (native and wasm32, warnings denied), cargo test
//   wasm-bindgen: one shared suite in Node, Chromium (page + dedicated worker), Firefox (same)
//   the npm package, packed and installed into an empty project: typings (tsc), the shared JS
//   suite in Node, Chromium (Playwright) and Deno; the Cloudflare Worker example on workerd;
//   a Vite build in Chromium; a CommonJS project; the CLI; the demo page (Playwright)
// NOVUSPACK_QUICK=1 skips the 1 GiB cases and Firefox; NOVUSPACK_ONLY=name,name runs some steps.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBrowsers, ensureNodeModules, ensureRustToolchain } from './setup.mjs';
import { cargoBin, log, root, toolPath } from './lib.mjs';

const quick = process.env.NOVUSPACK_QUICK === '1';
const only = process.env.NOVUSPACK_ONLY?.split(',');
const buildDir = join(root, 'build');
const installDir = join(buildDir, 'pkg-test');
const report = join(buildDir, 'test-report.jsonl');
const env = { ...process.env, PATH: toolPath() };
const summary = [];

/** Runs a command, echoing its output, and returns the output text. */
function capture(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const echo = (stream) => (chunk) => {
      text += chunk;
      stream.write(chunk);
    };
    child.stdout.on('data', echo(process.stdout));
    child.stderr.on('data', echo(process.stderr));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(text);
      else reject(Object.assign(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`), { text }));
    });
  });
}

/** Sums "N passed" from cargo / wasm-bindgen-test output. */
function rustCount(text) {
  let passed = 0;
  for (const m of text.matchAll(/test result: ok\. (\d+) passed/g)) passed += Number(m[1]);
  return passed;
}

/** Reads "# pass N" / "# fail N" from node --test TAP output. */
function tapCount(text) {
  const pass = Number(text.match(/^# pass (\d+)/m)?.[1] ?? 0);
  const fail = Number(text.match(/^# fail (\d+)/m)?.[1] ?? 0);
  return { pass, fail };
}

async function step(name, fn) {
  if (only && !only.some((o) => name.includes(o))) return;
  const start = Date.now();
  log(`── ${name}`);
  const tests = await fn();
  const seconds = (Date.now() - start) / 1000;
  summary.push({ name, tests, seconds });
  log(`── ${name}: ok (${tests ?? '-'} tests, ${seconds.toFixed(1)} s)`);
}

function nodeTest(files, extraEnv, cwd) {
  return capture(process.execPath, ['--test', '--test-reporter=tap', ...files], {
    cwd,
    env: { ...env, ...extraEnv },
  }).then((text) => {
    const { pass, fail } = tapCount(text);
    if (fail > 0 || pass === 0) throw new Error(`${files.join(' ')}: ${pass} passed, ${fail} failed`);
    return pass;
  });
}

const started = Date.now();
mkdirSync(buildDir, { recursive: true });
rmSync(report, { force: true });
await ensureNodeModules();
await ensureRustToolchain();
await ensureBrowsers();

await step('rustfmt', async () => {
  await capture('cargo', ['fmt', '--check']);
});
await step('prettier (JavaScript formatting)', async () => {
  await capture(join(root, 'node_modules', '.bin', 'prettier'), ['--check', '.'], { cwd: root });
});
await step('clippy native', async () => {
  await capture('cargo', ['clippy', '--all-targets', '--', '-D', 'warnings']);
});
await step('clippy native, miniz_oxide inflate (--no-default-features)', async () => {
  await capture('cargo', ['clippy', '--all-targets', '--no-default-features', '--', '-D', 'warnings']);
});
await step('clippy wasm32', async () => {
  await capture('cargo', ['clippy', '--target', 'wasm32-unknown-unknown', '--all-targets', '--', '-D', 'warnings']);
});
await step('cargo test (native core)', async () => rustCount(await capture('cargo', ['test'])));
await step('cargo test (core codecs with miniz_oxide inflate)', async () =>
  rustCount(await capture('cargo', ['test', '--no-default-features', '--lib', 'core::'])),
);

const { build } = await import('./build.mjs');
await step('build wasm', async () => {
  await build();
});

const wasmPackTest = (args, extraEnv = {}) =>
  capture('wasm-pack', ['test', ...args], { env: { ...env, ...extraEnv } }).then(rustCount);
await step('wasm-bindgen suite: Node', () => wasmPackTest(['--node', '--', '--test', 'node']));
await step('wasm-bindgen suite: Chromium page + worker', () =>
  wasmPackTest(['--headless', '--chrome', '--', '--test', 'browser', '--test', 'worker'], {
    CHROMEDRIVER: '/usr/bin/chromedriver',
  }),
);
if (!quick) {
  await step('wasm-bindgen suite: Firefox page + worker', () =>
    wasmPackTest(['--headless', '--firefox', '--', '--test', 'browser', '--test', 'worker'], {
      GECKODRIVER: join(cargoBin, 'geckodriver'),
    }),
  );
}

await step('package exports agree with index.d.ts', () =>
  nodeTest([join(root, 'tests', 'js', 'exports.test.mjs')], {}),
);
await step('npm pack + install into an empty project', async () => {
  for (const f of readdirSync(buildDir)) if (f.endsWith('.tgz')) rmSync(join(buildDir, f));
  await capture('npm', ['pack', '--pack-destination', buildDir, '--silent']);
  const tarball = readdirSync(buildDir).find((f) => f.endsWith('.tgz'));
  rmSync(installDir, { recursive: true, force: true });
  mkdirSync(installDir, { recursive: true });
  writeFileSync(
    join(installDir, 'package.json'),
    JSON.stringify({
      name: 'pkg-test',
      private: true,
      type: 'module',
      dependencies: { 'novuspack-stream': `file:../${tarball}` },
    }),
  );
  await capture('npm', ['install', '--no-audit', '--no-fund', '--silent'], { cwd: installDir });
  cpSync(join(root, 'tests', 'js'), join(installDir, 'tests'), { recursive: true });
  const files = JSON.parse(
    readFileSync(join(installDir, 'node_modules', 'novuspack-stream', 'package.json'), 'utf8'),
  ).files;
  log(`installed ${tarball} (${files.length} file patterns)`);
});

const dataDir = join(installDir, 'data');
const suiteEnv = {
  NOVUSPACK_DATA: dataDir,
  NOVUSPACK_HEAVY: quick ? '0' : '1',
  NOVUSPACK_REPORT: report,
  NOVUSPACK_PKG: installDir,
  NOVUSPACK_SERVE: join(root, 'scripts', 'serve.mjs'),
  NOVUSPACK_WORKER_EXAMPLE: join(root, 'examples', 'cloudflare-worker', 'src', 'index.js'),
};
const testsDir = join(installDir, 'tests');
if (existsSync(installDir)) {
  const { prepareData } = await import(join(root, 'tests', 'js', 'prepare-data.mjs'));
  prepareData(join(root, 'tests', 'vectors'), dataDir);
}
await step('typings: tsc on a file using every export', async () => {
  await capture(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(testsDir, 'tsconfig.json')]);
});
await step('JS suite: Node (packed package)', () => nodeTest(['node.test.mjs'], suiteEnv, testsDir));
await step('JS suite: Node, plain wasm build (no SIMD)', () =>
  nodeTest(['node.test.mjs'], { ...suiteEnv, NOVUSPACK_SIMD: '0', NOVUSPACK_HEAVY: '0' }, testsDir),
);
await step('JS suite: Chromium (packed package, Playwright)', () => nodeTest(['browser.test.mjs'], suiteEnv, testsDir));
await step('pool suite: Node worker_threads (shared, message)', () =>
  nodeTest(['pool.node.test.mjs'], suiteEnv, testsDir),
);
await step('pool suite: Chromium isolated (shared) and not (message)', () =>
  nodeTest(['pool.browser.test.mjs'], suiteEnv, testsDir),
);
await step('pool suite: workerd (inline)', () => nodeTest(['workerd-pool.test.mjs'], suiteEnv, testsDir));
await step('JS suite and pool suite: Deno (packed package)', async () => {
  const pkgDir = join(installDir, 'node_modules', 'novuspack-stream');
  const text = await capture(
    join(root, 'node_modules', '.bin', 'deno'),
    [
      'test',
      '--node-modules-dir=manual',
      `--allow-read=${pkgDir},${dataDir}`,
      '--allow-env=NOVUSPACK_DATA,NOVUSPACK_HEAVY,NOVUSPACK_REPORT',
      `--allow-write=${report}`,
      'deno.test.mjs',
      'deno-imports.test.mjs',
      'pool.deno.test.mjs',
    ],
    { cwd: testsDir, env: { ...env, ...suiteEnv, NO_COLOR: '1' } },
  );
  const m = text.match(/ok \| (\d+) passed \| 0 failed/);
  if (!m) throw new Error('deno test did not report success');
  return Number(m[1]);
});
// Node 20 has WebSocket (for the workerd inspector) behind a flag.
const websocket = typeof WebSocket === 'undefined' ? ['--experimental-websocket'] : [];
await step('Cloudflare Worker example on workerd', () =>
  capture(process.execPath, [...websocket, '--test', '--test-reporter=tap', 'workerd.test.mjs'], {
    cwd: testsDir,
    env: { ...env, ...suiteEnv },
  }).then((text) => tapCount(text).pass),
);
await step('Vite build in Chromium', () => nodeTest(['vite.test.mjs'], suiteEnv, testsDir));
await step('Node CommonJS project', () => nodeTest(['commonjs.test.mjs'], suiteEnv, testsDir));
await step('CLI (installed bin)', () => nodeTest(['cli.test.mjs'], suiteEnv, testsDir));
await step('demo page (Playwright)', () => nodeTest([join(root, 'tests', 'js', 'demo.test.mjs')], suiteEnv));
// The benchmarks' smoke test: every case on small data, once, with its correctness checks
// (figures come from `npm run bench`, never from tests).
for (const [runtime, script] of [
  ['Node', 'node.mjs'],
  ['Chromium', 'browser.mjs'],
]) {
  await step(`bench smoke test: ${runtime}`, async () => {
    const text = await capture(process.execPath, ['--expose-gc', join(root, 'bench', script), '--quick'], {
      cwd: root,
      env,
    });
    const groups = Number(text.match(/smoke test \(\w+\): (\d+) groups/)?.[1] ?? 0);
    if (groups === 0) throw new Error(`bench/${script} --quick did not finish`);
    return groups;
  });
}

const figures = existsSync(report)
  ? readFileSync(report, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
const total = summary.reduce((n, s) => n + (typeof s.tests === 'number' ? s.tests : 0), 0);
writeFileSync(
  join(buildDir, 'test-summary.json'),
  JSON.stringify({ summary, figures, seconds: (Date.now() - started) / 1000 }, null, 2),
);
log('summary:');
for (const s of summary)
  log(`  ${s.name.padEnd(48)} ${String(s.tests ?? '-').padStart(5)} tests ${s.seconds.toFixed(1).padStart(7)} s`);
for (const f of figures) log(`  measured: ${JSON.stringify(f)}`);
log(`all passed: ${total} tests in ${((Date.now() - started) / 1000).toFixed(0)} s`);
