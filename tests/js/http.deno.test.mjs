// Runs the remote-file suite (http-suite.mjs) under `deno test` against the installed package.
// The fault-injecting server runs in the Node process that starts Deno; its URL comes in
// NOVUSPACK_HTTP_SERVER:
//   deno test --node-modules-dir=manual --allow-read=<pkg> --allow-net=127.0.0.1 \
//     --allow-env=NOVUSPACK_HTTP_SERVER http.deno.test.mjs
import * as lib from 'novuspack-stream';
import { httpCases } from './http-suite.mjs';
import { serverClient } from './http-server-client.mjs';

const env = { server: serverClient(Deno.env.get('NOVUSPACK_HTTP_SERVER')) };

for (const [name, fn] of httpCases(lib, env)) {
  // Bodies cancelled on purpose leave Deno's own fetch resources to close asynchronously.
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}
