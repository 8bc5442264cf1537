// Running a Worker on the real workerd binary for tests: bundle `entry` with esbuild against
// the installed package (the `workerd` export condition; the .wasm kept a separate wasm
// module, as wrangler does), write a capnp config, start workerd on 127.0.0.1, wait for it.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Bundles `entry` (a Worker module) into `dir` as wrangler does: the package resolved with the
 * `workerd` condition, its .wasm kept a separate module. Resolves to { script, wasm (its name) }.
 */
export async function bundleWorker({ entry, dir }) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker'],
    loader: { '.wasm': 'copy' },
    outdir: dir,
    entryNames: 'worker',
    logLevel: 'warning',
  });
  // The main module and the package module (imported when a package is first used).
  const wasm = readdirSync(dir).filter((f) => f.endsWith('.wasm'));
  const bundle = readFileSync(join(dir, 'worker.js'), 'utf8');
  if (wasm.length === 0 || !wasm.every((w) => bundle.includes(`"./${w}"`))) {
    throw new Error('each .wasm must stay a separate, imported wasm module');
  }
  return { script: join(dir, 'worker.js'), wasm };
}

/**
 * Starts `entry` (a Worker module) on workerd in `dir`. `bindings`: text bindings; `services`:
 * { BINDING: 'host:port' } service bindings to HTTP servers outside workerd. Resolves to
 * { base, pid, inspectorPort, stop }.
 */
export async function startWorkerd({ entry, dir, bindings = {}, services = {}, probe = '/' }) {
  const { wasm } = await bundleWorker({ entry, dir });
  const port = await freePort();
  const inspectorPort = await freePort();
  const textBindings = [
    ...Object.entries(bindings).map(([name, text]) => `(name = "${name}", text = "${text}")`),
    ...Object.keys(services).map((name) => `(name = "${name}", service = "svc-${name}")`),
  ].join(', ');
  const externals = Object.entries(services)
    .map(([name, address]) => `, (name = "svc-${name}", external = (address = "${address}", http = ()))`)
    .join('');
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  # The production isolate limit is 128 MB: cap V8's heap there, so retaining a body would fail.
  v8Flags = [ "--max-old-space-size=128" ],
  services = [ (name = "main", worker = .worker)${externals} ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    ${wasm.map((w) => `(name = "${w}", wasm = embed "${w}"),`).join('\n    ')}
  ],
  bindings = [ ${textBindings} ],
  compatibilityDate = "2026-11-01",
);
`,
  );
  const bin = join(dirname(createRequire(import.meta.url).resolve('workerd/package.json')), 'bin', 'workerd');
  const child = spawn(bin, ['serve', 'config.capnp', `--inspector-addr=127.0.0.1:${inspectorPort}`], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`${base}${probe}`, { method: 'HEAD' });
      if (r.status) return { base, pid: child.pid, inspectorPort, stop: () => child.kill() };
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error('workerd did not start');
}
