// A bounded fuzz run in CI: thousands of random incremental edits (YAML-ish fragments, lone CRs, CRLFs, unicode,
// huge numbers, flow/block switches) over the built server on stdio, with hover, completion, inlay hints, code
// lenses, code actions, symbols, folding, dsod/graph and dsod/report in between. No crash, no error response, and
// nothing the server reports as going wrong (an error-level log line, a handler that threw, anything on stderr).
// The long version: npm run bench:fuzz.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fuzz } from './fuzz-edits';
import { startServer, type LspServer } from './lsp-harness';

const EDITS = Number(process.env.DSOD_FUZZ_EDITS ?? 3000);

let server: LspServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.stop();
});

test(`${EDITS} random edits with requests in between: no crash, no error response, no error logged`, { timeout: 120_000 }, async () => {
  const result = await fuzz(server, { seed: 9, edits: EDITS });
  assert.equal(result.crashed, false, 'the server stays up');
  assert.ok(result.edits > EDITS * 0.9 && result.requests >= result.edits, JSON.stringify(result));
  assert.deepEqual(result.errorResponses, [], 'every request is answered');
  assert.deepEqual(server.internal, [], 'no internal error diagnostics');
  const errors = server.errorLines();
  assert.deepEqual(errors.slice(0, 5), [], `${errors.length} error lines from the server`);
});
