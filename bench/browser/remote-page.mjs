// The remote benchmark groups (../remote.mjs) on a page: window.remoteBenchmark(info) runs them
// against the server whose URL bench/remote-run.mjs passes (another origin: CORS applies, as
// for a CDN), with local Blobs fetched into memory for the comparison rows.
import * as lib from 'novuspack-stream';
import * as zip from '/node_modules/@zip.js/zip.js/index.js';
import { serverClient } from '/tests/http-server-client.mjs';
import { runRemoteCases } from '../remote.mjs';

const log = document.getElementById('log');

window.remoteBenchmark = async ({ quick, server, files, key, password }) => {
  zip.configure({ useWebWorkers: false });
  const remote = serverClient(server);
  const blobs = new Map();
  return runRemoteCases(
    {
      lib,
      zip,
      quick,
      key: lib.keyFromHex(key),
      password,
      remote,
      files,
      async blobOf(name) {
        if (!blobs.has(name)) blobs.set(name, await (await fetch(remote.url(name))).blob());
        return blobs.get(name);
      },
    },
    (line) => {
      log.textContent += `${line}\n`;
      console.log(line);
    },
  );
};
