// Runs the shared suite on this page (native ESM import of the package through an import
// map) and publishes the results in window.__results for the Playwright runner.
import * as lib from 'novuspack-stream';
import { cases, fromHex, parseVector } from '../suite.mjs';
import { runCases } from './run-cases.mjs';

const params = new URLSearchParams(location.search);
const log = document.getElementById('log');

const env = {
  heavy: params.get('heavy') !== '0',
  async vectors() {
    const list = await (await fetch('/data/vectors.json')).json();
    return list.map(parseVector);
  },
  async v1Sample() {
    const meta = await (await fetch('/data/v1.json')).json();
    const bytes = async (name) => new Uint8Array(await (await fetch(`/data/${name}`)).arrayBuffer());
    return { key: fromHex(meta.key), framed: await bytes('v1.bin'), plaintext: await bytes('v1-plain.bin') };
  },
  report(figures) {
    window.__figures = { ...(window.__figures ?? {}), ...figures };
  },
};

const only = params.get('only');
const selected = cases(lib, env).filter(([name]) => !only || name.includes(only));
const results = await runCases(selected, log);
window.__results = { results, isolated: self.crossOriginIsolated, figures: window.__figures ?? {} };
