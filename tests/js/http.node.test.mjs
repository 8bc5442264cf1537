// Runs the remote-file suite (http-suite.mjs) in Node against the installed package, with the
// fault-injecting server (http-server.mjs) in this process. The pool workers' fetch function is
// imported from the installed package's files (it is not a public export).
// Environment: NOVUSPACK_PKG (the folder holding node_modules/novuspack-stream).
import { test, after } from 'node:test';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as lib from 'novuspack-stream';
import { httpCases } from './http-suite.mjs';
import { serverClient, startHttpServer } from './http-server.mjs';

const pkgDir = process.env.NOVUSPACK_PKG
  ? join(process.env.NOVUSPACK_PKG, 'node_modules', 'novuspack-stream')
  : new URL('../..', import.meta.url).pathname;
const { fetchRange } = await import(pathToFileURL(join(pkgDir, 'pkg-js', 'src', 'sources', 'http-fetch.js')).href);

const server = await startHttpServer();
const env = { fetchRange, server: serverClient(server.url) };
after(() => server.close());

const unhandled = [];
process.on('unhandledRejection', (error) => unhandled.push(error));

for (const [name, fn] of httpCases(lib, env)) test(name, { timeout: 60_000 }, fn);

test('no unhandled rejection', () => {
  if (unhandled.length) throw new Error(`unhandled rejections: ${unhandled.map(String).join('; ')}`);
});
