// Runs the shared suite (suite.mjs) under `deno test` against the installed package, with the
// narrowest permissions: read access to the package and the data folder, and these variables:
//   deno test --node-modules-dir=manual --allow-read=<pkg>,<data> \
//     --allow-env=NOVUSPACK_DATA,NOVUSPACK_HEAVY,NOVUSPACK_REPORT --allow-write=<report> deno.test.mjs
import * as lib from 'novuspack-stream';
import { cases, fromHex, parseVector } from './suite.mjs';

const data = Deno.env.get('NOVUSPACK_DATA');
const read = (name) => Deno.readFile(`${data}/${name}`);

const env = {
  heavy: Deno.env.get('NOVUSPACK_HEAVY') !== '0',
  async vectors() {
    return JSON.parse(await Deno.readTextFile(`${data}/vectors.json`)).map(parseVector);
  },
  async v1Sample() {
    const { key } = JSON.parse(await Deno.readTextFile(`${data}/v1.json`));
    return { key: fromHex(key), framed: await read('v1.bin'), plaintext: await read('v1-plain.bin') };
  },
  report(figures) {
    const file = Deno.env.get('NOVUSPACK_REPORT');
    if (file) Deno.writeTextFileSync(file, `${JSON.stringify({ runtime: 'deno', ...figures })}\n`, { append: true });
  },
};

for (const [name, fn, { heavy } = {}] of cases(lib, env)) {
  // Streams left pending on purpose (stalled sources) are not leaks of the code under test.
  Deno.test({ name, fn, ignore: heavy && !env.heavy, sanitizeOps: false, sanitizeResources: false });
}
