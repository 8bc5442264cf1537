// The package suite (package-suite.mjs) under `deno test`, against the installed package.
import * as lib from 'novuspack-stream';
import { packageCases } from './package-suite.mjs';

const data = Deno.env.get('NOVUSPACK_DATA');
const env = { fixtures: async () => JSON.parse(await Deno.readTextFile(`${data}/packages.json`)) };

for (const [name, fn] of packageCases(lib, env)) {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}
