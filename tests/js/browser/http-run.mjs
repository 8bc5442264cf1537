// Runs the remote-file suite on this page against the fault-injecting server whose URL is in
// the query (?server=http://127.0.0.1:port, another origin: CORS applies), and publishes the
// results in window.__results for the Playwright runner.
import * as lib from 'novuspack-stream';
import { httpCases } from '../http-suite.mjs';
import { serverClient } from '../http-server-client.mjs';
import { runCases } from './run-cases.mjs';

const params = new URLSearchParams(location.search);
const server = serverClient(params.get('server'));
const env = { server, crossOrigin: new URL(server.base).origin !== location.origin };
const only = params.get('only');
const selected = httpCases(lib, env).filter(([name]) => !only || name.includes(only));
const results = await runCases(selected, document.getElementById('log'));
window.__results = { results, isolated: self.crossOriginIsolated, figures: {} };
