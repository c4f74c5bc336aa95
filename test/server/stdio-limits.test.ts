// The built server over stdio with a spec too large to check: a 5 MB spec on ONE line (the size guard once looked at
// the first line only, so such a file was parsed whole: 17 s and 2.4 GB, with hovers on other documents waiting), and
// a document with U+FFFD (bytes that were not UTF-8, decoded by the editor).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DidOpenTextDocumentNotification, HoverRequest, type ProtocolConnection, type PublishDiagnosticsParams } from 'vscode-languageserver-protocol/node';
import { DSOD300_YAML } from '../helpers';
import { startServer, until, type LspServer } from './lsp-harness';

let server: LspServer;
let connection: ProtocolConnection;
let published: PublishDiagnosticsParams[];

before(async () => {
  server = await startServer();
  ({ connection, published } = server);
});

after(() => server.stop());

/** CI machines are slow, but nothing here may take seconds: parsing 5 MB of YAML does (~1 MB/s). */
const PROMPT_MS = 2000;

test('a 5 MB spec on one line gets the one spec/too-large diagnostic at once, and hovers elsewhere answer promptly', async () => {
  const small = 'file:///ws/small.dsod.yaml';
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: small, languageId: 'dsod', version: 1, text: DSOD300_YAML } });
  await until(() => published.find((p) => p.uri === small), 30_000);

  const huge = 'file:///ws/huge.dsod.yaml';
  const text = `{dsod: 1, name: huge, sizes: [${'12345, '.repeat(750_000)}0]}`;
  assert.ok(text.length > 5_000_000 && !text.includes('\n'));
  const started = Date.now();
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: huge, languageId: 'dsod', version: 1, text } });
  // A hover on the other document, asked right behind the huge one, is not held up by it.
  const line = DSOD300_YAML.split('\n').findIndex((l) => l.startsWith('backbone:'));
  const hover = await connection.sendRequest(HoverRequest.type, { textDocument: { uri: small }, position: { line, character: 2 } });
  const hoverMs = Date.now() - started;
  assert.ok(hover, 'the hover answered');
  const diagnostics = await until(() => published.find((p) => p.uri === huge), 30_000);
  const diagnosticMs = Date.now() - started;
  assert.deepEqual(
    diagnostics.diagnostics.map((d) => d.code),
    ['spec/too-large'],
  );
  assert.match(diagnostics.diagnostics[0].message as string, /specs over 512 KB are not checked/);
  assert.deepEqual(diagnostics.diagnostics[0].range, { start: { line: 0, character: 0 }, end: { line: 0, character: 256 } });
  assert.ok(hoverMs < PROMPT_MS, `the hover took ${hoverMs} ms`);
  assert.ok(diagnosticMs < PROMPT_MS, `the diagnostic took ${diagnosticMs} ms`);
  // And a hover on the huge document itself answers too (nothing to say, at once).
  const own = Date.now();
  await connection.sendRequest(HoverRequest.type, { textDocument: { uri: huge }, position: { line: 0, character: 3_000_000 } });
  assert.ok(Date.now() - own < PROMPT_MS);
});

test('U+FFFD in a document (bytes that were not UTF-8) is a spec/invalid-utf8 warning at its position', async () => {
  const uri = 'file:///ws/latin1.dsod.yaml';
  const text = DSOD300_YAML.replace(/^name: .*$/m, 'name: "Caf\uFFFD DSOD"');
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'dsod', version: 1, text } });
  const p = await until(() => published.find((x) => x.uri === uri), 30_000);
  const bad = p.diagnostics.filter((d) => d.code === 'spec/invalid-utf8');
  const line = text.split('\n').findIndex((l) => l.startsWith('name: '));
  assert.equal(bad.length, 1);
  assert.equal(bad[0].severity, 2, 'a warning');
  assert.deepEqual(bad[0].range, { start: { line, character: 10 }, end: { line, character: 11 } });
  assert.match(bad[0].message as string, /U\+FFFD.*not valid UTF-8/);
});
