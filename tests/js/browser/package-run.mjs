// Runs the package suite on this page and publishes the results in window.__results.
import * as lib from 'novuspack-stream';
import { packageCases } from '../package-suite.mjs';
import { runCases } from './run-cases.mjs';

const env = { fixtures: async () => (await fetch('/data/packages.json')).json() };
const results = await runCases(packageCases(lib, env), document.getElementById('log'));
window.__results = { results, isolated: self.crossOriginIsolated };
