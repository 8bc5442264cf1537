// The benchmark page: fetches the corpus that bench/browser.mjs serves, then runs the same cases
// as Node (bench/cases.mjs). Playwright calls window.benchmark() and reads the result.
import * as lib from 'novuspack-stream';
import * as alt from '/build/bench/alternatives.js';
import { runCases } from '../cases.mjs';
import { runPoolCases } from '../pool.mjs';
import { runPackageCases } from '../packages.mjs';

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
  const report = (line) => {
    log.textContent += `${line}\n`;
    console.log(line);
  };
  const groups = await runCases(
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
    },
    report,
  );
  const pool = await runPoolCases(
    {
      lib,
      corpus,
      quick,
      only,
      // The renderer's main-thread task time (DevTools Performance.getMetrics), in ms.
      busy: () => window.rendererTaskMs(),
      settle: () => new Promise((resolve) => setTimeout(resolve, 0)),
      load: () => window.hostLoad(),
    },
    report,
  );
  const packages = await runPackageCases(
    {
      lib,
      corpus,
      packageBytes: await bytesOf('/data/package.nvpk'),
      meta: await (await fetch('/data/package.json')).json(),
      quick,
      only,
      fzstd: alt.fzstd,
      ZSTDDecoder: alt.ZSTDDecoder,
      lz4js: alt.lz4js,
      XzReadableStream: alt.xzDecompress.XzReadableStream,
      gcm: alt.gcm,
      mlKem768: alt.ml_kem768,
    },
    report,
  );
  return [...groups, ...pool, ...packages];
};
