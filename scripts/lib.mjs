// Helpers shared by the scripts in this folder: running commands, finding tools, logging.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function log(message) {
  process.stderr.write(`\x1b[36m[novuspack]\x1b[0m ${message}\n`);
}

/** Runs a command with inherited output; rejects with its exit code. */
export function run(cmd, args = [], options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit', cwd: root, ...options });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

/** Runs a command and returns its stdout (trimmed), or null if it cannot run or fails. */
export function output(cmd, args = [], options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: root, ...options });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** True if `cmd` is on PATH (or is a path that exists). */
export function have(cmd) {
  if (cmd.includes('/')) return existsSync(cmd);
  return output('sh', ['-c', `command -v ${cmd}`]) !== null;
}

export const cargoBin = join(process.env.CARGO_HOME ?? join(process.env.HOME ?? '/root', '.cargo'), 'bin');
export const nodeBin = join(root, 'node_modules', '.bin');

/** PATH with the cargo and local npm binaries first. */
export function toolPath() {
  return [nodeBin, cargoBin, process.env.PATH].join(':');
}

/** Time a step and log it. */
export async function step(name, fn) {
  const start = Date.now();
  log(`${name} ...`);
  const result = await fn();
  log(`${name}: done in ${((Date.now() - start) / 1000).toFixed(1)} s`);
  return result;
}
