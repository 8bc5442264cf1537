// The benchmark page: fetches the corpus that bench/browser.mjs serves, then runs the same cases
// as Node (bench/cases.mjs). Playwright calls window.benchmark() and reads the result.
import * as lib from 'novuspack-stream';
import * as alt from '/build/bench/alternatives.js';
import { runCases } from '../cases.mjs';

const bytesOf = async (url) => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
};

window.benchmark = async ({ quick, only }) => {
  const [corpus, random, deflated, zlibWasm] = await Promise.all([
    bytesOf('/data/corpus.bin'),
    bytesOf('/data/random.bin'),
    bytesOf('/data/corpus.deflate-raw'),
    bytesOf('/node_modules/@zip.js/zip.js/lib/core/streams/zlib-wasm/zlib-streams.wasm'),
  ]);
  alt.setWasmExports((await WebAssembly.instantiate(zlibWasm)).instance.exports);
  await alt.sodium.ready;
  await lib.ready();
  const log = document.getElementById('log');
  return runCases(
    {
      lib,
      fflate: alt.fflate,
      pako: alt.pako,
      noble: alt.noble,
      sodium: alt.sodium,
      zip: alt.zip,
      zipInflate: alt.DecompressionStreamZlib,
      corpus,
      random,
      deflated,
      quick,
      only,
      poolWorkers: [1, 2, navigator.hardwareConcurrency],
    },
    (line) => {
      log.textContent += `${line}\n`;
      console.log(line);
    },
  );
};
