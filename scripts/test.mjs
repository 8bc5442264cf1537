// `npm test`: installs what is missing (see setup.mjs), then runs every suite and prints a
// summary with test counts per runtime:
//   Rust: rustfmt, clippy (native and wasm32, warnings denied), cargo test
//   wasm-bindgen: one shared suite in Node, Chromium (page + dedicated worker), Firefox and
//   WebKit (same)
//   the npm package, packed and installed into an empty project: typings (tsc), the shared JS
//   suite in Node, Chromium (Playwright) and Deno; the Cloudflare Worker example on workerd;
//   a Vite build, Vite's dev server, a webpack 5 build and an esbuild bundle in Chromium; a
//   CommonJS project; the CLI; the demo page (Playwright)
// NOVUSPACK_QUICK=1 skips the 1 GiB cases, Firefox and WebKit; NOVUSPACK_ONLY=name,name runs
// some steps.
// A failing step does not stop the run (unless later steps need what it makes: the build, the
// packed package); each step has a timeout; the summary gives every step's outcome and
// "N passed, N failed, N skipped", and the exit code is 1 when any step failed.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ensureBrowsers,
  ensureCodecTools,
  ensureMediaTools,
  ensureNodeModules,
  ensureRustToolchain,
} from './setup.mjs';
import { cargoBin, log, root, toolPath } from './lib.mjs';

const quick = process.env.NOVUSPACK_QUICK === '1';
const only = process.env.NOVUSPACK_ONLY?.split(',');
const buildDir = join(root, 'build');
// One test project per run: two runs at once (a developer's and a helper's) must not remove each
// other's; it is removed when the run passes.
const installDir = join(buildDir, `pkg-test-${process.pid}`);
const report = join(buildDir, 'test-report.jsonl');
const env = { ...process.env, PATH: toolPath() };
const summary = [];
/** Child processes running now: a step's timeout kills them. */
const running = new Set();
/** The essential step that failed, after which the rest are skipped. */
let blocked = null;
const STEP_TIMEOUT = Number(process.env.NOVUSPACK_STEP_TIMEOUT ?? 30 * 60) * 1000;

/** Runs a command, echoing its output, and returns the output text. */
function capture(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.on('exit', () => running.delete(child));
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

/** Sums "N passed" (and "N ignored", as skipped) from cargo / wasm-bindgen-test output. */
function rustCount(text) {
  let passed = 0;
  let ignored = 0;
  for (const m of text.matchAll(/test result: ok\. (\d+) passed; \d+ failed; (\d+) ignored/g)) {
    passed += Number(m[1]);
    ignored += Number(m[2]);
  }
  return { tests: passed, skipped: ignored };
}

/** Reads "# pass N" / "# fail N" / "# skipped N" from node --test TAP output. */
function tapCount(text) {
  const pass = Number(text.match(/^# pass (\d+)/m)?.[1] ?? 0);
  const fail = Number(text.match(/^# fail (\d+)/m)?.[1] ?? 0);
  const skip = Number(text.match(/^# skipped (\d+)/m)?.[1] ?? 0);
  return { pass, fail, skip };
}

/**
 * Runs one step: passed (with its test count), failed (the run goes on), or skipped (an essential
 * step failed before it; `skip` gives another reason, such as NOVUSPACK_QUICK). A step that
 * outlives `timeout` fails and its processes are killed. `essential`: later steps need it;
 * `always`: run even when NOVUSPACK_ONLY names other steps (what they read).
 */
async function step(name, fn, { essential = false, timeout = STEP_TIMEOUT, skip, always = false } = {}) {
  if (only && !always && !only.some((o) => name.includes(o))) return;
  const reason = blocked ? `${blocked} failed` : skip;
  if (reason) {
    summary.push({ name, status: 'skipped', reason, seconds: 0 });
    log(`── ${name}: skipped (${reason})`);
    return;
  }
  const start = Date.now();
  log(`── ${name}`);
  let timer;
  try {
    const result = await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          for (const child of running) child.kill('SIGKILL');
          reject(new Error(`timed out after ${timeout / 1000} s`));
        }, timeout);
      }),
    ]);
    const seconds = (Date.now() - start) / 1000;
    const { tests, skipped = 0 } = typeof result === 'object' && result !== null ? result : { tests: result };
    summary.push({ name, status: 'passed', tests, skipped, seconds });
    log(`── ${name}: ok (${tests ?? '-'} tests${skipped ? `, ${skipped} skipped` : ''}, ${seconds.toFixed(1)} s)`);
  } catch (error) {
    const seconds = (Date.now() - start) / 1000;
    const message = String(error?.message ?? error).split('\n')[0];
    summary.push({ name, status: 'failed', error: message, seconds });
    log(`── ${name}: FAILED (${message}, ${seconds.toFixed(1)} s)`);
    if (essential) blocked = name;
  } finally {
    clearTimeout(timer);
  }
}

function nodeTest(files, extraEnv, cwd) {
  return capture(process.execPath, ['--test', '--test-reporter=tap', ...files], {
    cwd,
    env: { ...env, ...extraEnv },
  }).then((text) => {
    const { pass, fail, skip } = tapCount(text);
    if (fail > 0 || pass === 0) throw new Error(`${files.join(' ')}: ${pass} passed, ${fail} failed`);
    return { tests: pass, skipped: skip };
  });
}

/**
 * Starts Xvfb on a free display (it picks one and says which): resolves to { display, stop }.
 * A step's timeout kills it with the step's other processes.
 */
function virtualDisplay() {
  return new Promise((resolve, reject) => {
    const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    running.add(xvfb);
    let said = '';
    let errors = '';
    xvfb.stderr.on('data', (d) => (errors = (errors + d).slice(-2000)));
    xvfb.stdio[3].on('data', (d) => {
      said += d;
      if (said.includes('\n')) resolve({ display: `:${said.trim()}`, stop: () => xvfb.kill() });
    });
    xvfb.on('error', reject);
    xvfb.on('exit', (code, signal) => {
      running.delete(xvfb);
      reject(new Error(`Xvfb exited (${signal ?? `exit ${code}`}): ${errors}`));
    });
  });
}

const started = Date.now();
mkdirSync(buildDir, { recursive: true });
rmSync(report, { force: true });
await ensureNodeModules();
await ensureRustToolchain();
await ensureBrowsers();
await ensureMediaTools();
await ensureCodecTools();

await step('rustfmt', async () => {
  await capture('cargo', ['fmt', '--check']);
});
await step('prettier (JavaScript formatting)', async () => {
  await capture(join(root, 'node_modules', '.bin', 'prettier'), ['--check', '.'], { cwd: root });
});
await step('clippy native', async () => {
  await capture('cargo', ['clippy', '--all-targets', '--features', 'nvpk', '--', '-D', 'warnings']);
});
await step('clippy native, miniz_oxide inflate (--no-default-features)', async () => {
  await capture('cargo', ['clippy', '--all-targets', '--no-default-features', '--', '-D', 'warnings']);
});
await step('clippy wasm32', async () => {
  await capture('cargo', ['clippy', '--target', 'wasm32-unknown-unknown', '--all-targets', '--', '-D', 'warnings']);
  await capture('cargo', [
    'clippy',
    '--target',
    'wasm32-unknown-unknown',
    '--all-targets',
    '--features',
    'nvpk',
    '--',
    '-D',
    'warnings',
  ]);
});
await step('cargo test (native core, NovusPack packages)', async () =>
  rustCount(await capture('cargo', ['test', '--features', 'nvpk'])),
);
await step('cargo test (core codecs with miniz_oxide inflate)', async () =>
  rustCount(await capture('cargo', ['test', '--no-default-features', '--lib', 'core::'])),
);

const { build } = await import('./build.mjs');
await step('the fuzz targets compile (cargo check of fuzz/, stable Rust)', async () => {
  await capture('cargo', [
    'check',
    '--manifest-path',
    'fuzz/Cargo.toml',
    '--bins',
    '--target-dir',
    'target/fuzz-check',
  ]);
});
await step(
  'build wasm',
  async () => {
    await build();
  },
  { essential: true },
);

const wasmPackTest = (args, extraEnv = {}) =>
  capture('wasm-pack', ['test', ...args], { env: { ...env, ...extraEnv } }).then(rustCount);
await step('wasm-bindgen suite: Node', () => wasmPackTest(['--node', '--', '--test', 'node']));
// The plain build's cipher checks (keystream, AEAD, Wycheproof, RFC 8439) with the chacha20
// crate's software keystream that the no-SIMD fallback ships.
await step('wasm-bindgen suite: Node, plain build (no SIMD)', () =>
  wasmPackTest(['--node', '--', '--test', 'node'], {
    RUSTFLAGS: '-C target-feature=-simd128',
    CARGO_TARGET_DIR: join(root, 'target', 'wasm-plain-test'),
  }),
);
await step('wasm-bindgen suite: Chromium page + worker', () =>
  wasmPackTest(['--headless', '--chrome', '--', '--test', 'browser', '--test', 'worker'], {
    CHROMEDRIVER: '/usr/bin/chromedriver',
  }),
);
await step(
  'wasm-bindgen suite: Firefox page + worker',
  () =>
    wasmPackTest(['--headless', '--firefox', '--', '--test', 'browser', '--test', 'worker'], {
      GECKODRIVER: join(cargoBin, 'geckodriver'),
    }),
  { skip: quick ? 'NOVUSPACK_QUICK=1' : undefined },
);
// WebKit: WebKitGTK's WebDriver is the runner's "safaridriver". The runner starts it itself and
// asks for a session with no capabilities (it reads no webdriver.json for Safari), which
// WebKitWebDriver answers with its default browser, MiniBrowser; MiniBrowser needs an X display.
await step(
  'wasm-bindgen suite: WebKit page + worker',
  async () => {
    const xvfb = await virtualDisplay();
    try {
      return await wasmPackTest(
        [
          '--headless',
          '--safari',
          '--safaridriver',
          '/usr/bin/WebKitWebDriver',
          '--',
          '--test',
          'browser',
          '--test',
          'worker',
        ],
        { DISPLAY: xvfb.display },
      );
    } finally {
      xvfb.stop();
    }
  },
  { skip: quick ? 'NOVUSPACK_QUICK=1' : undefined },
);

await step('package exports agree with index.d.ts', () =>
  nodeTest([join(root, 'tests', 'js', 'exports.test.mjs')], {}),
);
await step(
  'npm pack + install into an empty project',
  async () => {
    rmSync(installDir, { recursive: true, force: true });
    mkdirSync(installDir, { recursive: true });
    await capture('npm', ['pack', '--pack-destination', installDir, '--silent']);
    const tarball = readdirSync(installDir).find((f) => f.endsWith('.tgz'));
    writeFileSync(
      join(installDir, 'package.json'),
      JSON.stringify({
        name: 'pkg-test',
        private: true,
        type: 'module',
        dependencies: { 'novuspack-stream': `file:./${tarball}` },
      }),
    );
    await capture('npm', ['install', '--no-audit', '--no-fund', '--silent'], { cwd: installDir });
    cpSync(join(root, 'tests', 'js'), join(installDir, 'tests'), { recursive: true });
    const files = JSON.parse(
      readFileSync(join(installDir, 'node_modules', 'novuspack-stream', 'package.json'), 'utf8'),
    ).files;
    log(`installed ${tarball} (${files.length} file patterns)`);
  },
  { essential: true },
);

const dataDir = join(installDir, 'data');
const suiteEnv = {
  NOVUSPACK_DATA: dataDir,
  NOVUSPACK_HEAVY: quick ? '0' : '1',
  NOVUSPACK_REPORT: report,
  NOVUSPACK_PKG: installDir,
  NOVUSPACK_SERVE: join(root, 'scripts', 'serve.mjs'),
  NOVUSPACK_README: join(root, 'README.md'),
  NOVUSPACK_WORKER_EXAMPLE: join(root, 'examples', 'cloudflare-worker', 'src', 'index.js'),
};
const testsDir = join(installDir, 'tests');
await step(
  'test data: vectors, a v1 sample (OpenSSL), NovusPack packages (zstd, lz4, xz, OpenSSL, noble)',
  async () => {
    const { prepareData } = await import(join(root, 'tests', 'js', 'prepare-data.mjs'));
    await prepareData(join(root, 'tests', 'vectors'), dataDir);
  },
  { essential: true, always: existsSync(installDir) },
);
await step('typings: tsc --strict on files using every export (DOM only, Node only, both)', async () => {
  for (const config of ['tsconfig.json', 'tsconfig.node.json', 'tsconfig.both.json']) {
    await capture(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(testsDir, config)]);
  }
});
await step('JS suite: Node (packed package)', () => nodeTest(['node.test.mjs'], suiteEnv, testsDir));
await step('an independent reader written from FORMAT.md decodes the vectors and what the package seals', () =>
  nodeTest(['format-reader.test.mjs'], suiteEnv, testsDir),
);
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
await step('JS suite: workerd', () => nodeTest(['workerd-suite.test.mjs'], suiteEnv, testsDir));
await step('a trap inside the wasm module is INTERNAL_ERROR, and the module stays failed', () =>
  nodeTest(['trap.test.mjs'], suiteEnv, testsDir),
);
await step('idle pool workers do not keep Node or Deno alive', () =>
  nodeTest(['idle-workers.test.mjs'], suiteEnv, testsDir),
);
await step("Chromium under the README's strict CSP, with and without WebAssembly SIMD", () =>
  nodeTest(['claims.test.mjs'], suiteEnv, testsDir),
);
await step('packages: Node (package suite; writePackage decoded by zstd, lz4, xz, OpenSSL, noble)', () =>
  nodeTest(['package.node.test.mjs'], suiteEnv, testsDir),
);
await step('packages: Chromium (package suite)', () => nodeTest(['package.browser.test.mjs'], suiteEnv, testsDir));
await step(
  'Firefox and WebKit (WebDriver): the JS suite, the pool suite (isolated and not), the package suite',
  () => nodeTest(['browsers.test.mjs'], suiteEnv, testsDir),
  { skip: quick ? 'NOVUSPACK_QUICK=1' : undefined },
);
await step('packages: workerd (package suite, the package module as a second wasm module)', () =>
  nodeTest(['workerd-package.test.mjs'], suiteEnv, testsDir),
);
await step('JS suite, pool suite and package suite: Deno (packed package)', async () => {
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
      'package.deno.test.mjs',
    ],
    { cwd: testsDir, env: { ...env, ...suiteEnv, NO_COLOR: '1' } },
  );
  const m = text.match(/ok \| (\d+) passed \| 0 failed(?: \| (\d+) ignored)?/);
  if (!m) throw new Error('deno test did not report success');
  return { tests: Number(m[1]), skipped: Number(m[2] ?? 0) };
});
// Remote files (httpSource, serveRange): one suite against a fault-injecting server on
// 127.0.0.1, in Node, Chromium (the server on another origin: CORS) and Deno.
await step('remote files: Node (http suite)', () => nodeTest(['http.node.test.mjs'], suiteEnv, testsDir));
await step('remote files: Chromium (http suite, cross-origin)', () =>
  nodeTest(['http.browser.test.mjs'], suiteEnv, testsDir),
);
await step('remote files: Deno (http suite)', async () => {
  const { startHttpServer } = await import(join(root, 'tests', 'js', 'http-server.mjs'));
  const server = await startHttpServer();
  try {
    const pkgDir = join(installDir, 'node_modules', 'novuspack-stream');
    const text = await capture(
      join(root, 'node_modules', '.bin', 'deno'),
      [
        'test',
        '--node-modules-dir=manual',
        `--allow-read=${pkgDir}`,
        `--allow-net=127.0.0.1:${server.port}`,
        '--allow-env=NOVUSPACK_HTTP_SERVER',
        'http.deno.test.mjs',
      ],
      { cwd: testsDir, env: { ...env, NOVUSPACK_HTTP_SERVER: server.url, NO_COLOR: '1' } },
    );
    const m = text.match(/ok \| (\d+) passed \| 0 failed/);
    if (!m) throw new Error('deno test did not report success');
    return Number(m[1]);
  } finally {
    await server.close();
  }
});
await step('remote files: CLI reads URLs (installed bin)', () => nodeTest(['cli-http.test.mjs'], suiteEnv, testsDir));
await step('remote files: load (200 httpSource readers; serveRange on Node and Deno, 100 clients)', async () => {
  const text = await capture(process.execPath, ['--test', '--test-reporter=tap', 'http-load.test.mjs'], {
    cwd: testsDir,
    env: { ...env, ...suiteEnv, NOVUSPACK_DENO: join(root, 'node_modules', '.bin', 'deno') },
  });
  const { pass, fail } = tapCount(text);
  const skipped = Number(text.match(/^# skipped (\d+)/m)?.[1] ?? 0);
  if (fail > 0 || pass + skipped === 0) throw new Error(`http-load.test.mjs: ${pass} passed, ${fail} failed`);
  if (skipped) log(`load test skipped (${skipped} parts): NOVUSPACK_QUICK=1`);
  return pass;
});
await step('remote files: Service Worker video example (Chromium, Firefox)', () =>
  nodeTest(
    ['sw-video.test.mjs'],
    {
      ...suiteEnv,
      NOVUSPACK_EXAMPLES: join(root, 'examples'),
      NOVUSPACK_GECKODRIVER: join(cargoBin, 'geckodriver'),
    },
    testsDir,
  ),
);
// Node 20 has WebSocket (for the workerd inspector) behind a flag.
const websocket = typeof WebSocket === 'undefined' ? ['--experimental-websocket'] : [];
await step('Cloudflare Worker example on workerd', () =>
  capture(process.execPath, [...websocket, '--test', '--test-reporter=tap', 'workerd.test.mjs'], {
    cwd: testsDir,
    env: { ...env, ...suiteEnv },
  }).then((text) => tapCount(text).pass),
);
await step('remote files: Cloudflare Worker /media route on workerd (origin, 256 MiB object)', () =>
  capture(process.execPath, [...websocket, '--test', '--test-reporter=tap', 'workerd-media.test.mjs'], {
    cwd: testsDir,
    env: { ...env, ...suiteEnv },
  }).then((text) => {
    const { pass, fail } = tapCount(text);
    if (fail > 0 || pass === 0) throw new Error(`workerd-media.test.mjs: ${pass} passed, ${fail} failed`);
    return pass;
  }),
);
await step('remote files: Cloudflare Worker /media route on miniflare (local R2)', () =>
  nodeTest(['miniflare-r2.test.mjs'], suiteEnv, testsDir),
);
await step('remote files: demo panels (open by URL; seal a video, seek through the Service Worker)', () =>
  nodeTest([join(root, 'tests', 'js', 'demo-remote.test.mjs')], suiteEnv),
);
await step('Vite build in Chromium', () => nodeTest(['vite.test.mjs'], suiteEnv, testsDir));
// Bundlers (bundler-app.mjs): seal, open, readAt and the worker pool in Chromium.
await step('Vite dev server (dependency pre-bundling) in Chromium', () =>
  nodeTest(['vite-dev.test.mjs'], suiteEnv, testsDir),
);
await step('webpack 5 production build in Chromium', () => nodeTest(['webpack.test.mjs'], suiteEnv, testsDir));
await step('esbuild browser bundle in Chromium', () => nodeTest(['esbuild.test.mjs'], suiteEnv, testsDir));
await step('Node CommonJS project', () => nodeTest(['commonjs.test.mjs'], suiteEnv, testsDir));
await step("the README's examples (Node, Chromium, a Worker, excerpts of tested files)", () =>
  nodeTest(['readme.test.mjs'], suiteEnv, testsDir),
);
await step("the README's figures are those of bench/results-*.json", () =>
  capture(process.execPath, [join(root, 'bench', 'report.mjs'), '--check']).then(() => undefined),
);
await step('CLI (installed bin)', () => nodeTest(['cli.test.mjs'], suiteEnv, testsDir));
await step('CLI package commands: ls, cat, extract, pack, keygen --ml-kem (installed bin)', () =>
  nodeTest(['cli-package.test.mjs'], suiteEnv, testsDir),
);
await step('demo page (Playwright)', () => nodeTest([join(root, 'tests', 'js', 'demo.test.mjs')], suiteEnv));
await step('demo page: the package panel (Playwright)', () =>
  nodeTest([join(root, 'tests', 'js', 'demo-package.test.mjs')], suiteEnv),
);
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
    // Benchmark groups are not tests: they are not counted as such.
    log(`bench/${script} --quick: ${groups} groups, every check passed`);
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
const count = (status) => summary.filter((s) => s.status === status).length;
writeFileSync(
  join(buildDir, 'test-summary.json'),
  JSON.stringify({ summary, figures, seconds: (Date.now() - started) / 1000 }, null, 2),
);
log('summary:');
for (const s of summary) {
  const outcome =
    s.status === 'passed'
      ? `${String(s.tests ?? '-').padStart(5)} tests${s.skipped ? ` (${s.skipped} skipped)` : ''}`
      : `${s.status.toUpperCase()}: ${s.error ?? s.reason}`;
  log(`  ${s.status.padEnd(7)} ${s.name.padEnd(60)} ${outcome} ${s.seconds.toFixed(1).padStart(7)} s`);
}
for (const f of figures) log(`  measured: ${JSON.stringify(f)}`);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
const skippedTests = summary.reduce((n, s) => n + (s.skipped ?? 0), 0);
log(
  `steps: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped; tests: ${total} passed, ${skippedTests} skipped`,
);
if (count('failed') > 0) {
  log(
    `FAILED: ${summary
      .filter((s) => s.status === 'failed')
      .map((s) => s.name)
      .join('; ')} (${seconds} s)`,
  );
  process.exitCode = 1;
} else {
  rmSync(installDir, { recursive: true, force: true });
  log(`all passed: ${total} tests in ${seconds} s`);
}
