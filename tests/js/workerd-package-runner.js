// A Worker that runs the package suite inside workerd and answers with the results as JSON.
// Bundled by workerd-package.test.mjs, with the fixtures (packages.json) bundled in.
import * as lib from 'novuspack-stream';
import fixtures from './packages.json';
import { packageCases } from './package-suite.mjs';
import { casesResponse } from './workerd-cases.js';

export default {
  fetch: () => casesResponse(packageCases(lib, { fixtures: async () => fixtures })),
};
