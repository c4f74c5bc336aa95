// The yaml library's own console warnings ("Keys with collection values will be stringified ...") must not reach
// the client as log lines (they arrived as error-level lines thousands of times per fuzz run); the problem they
// describe is a diagnostic at the key instead.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DidChangeTextDocumentNotification, DidOpenTextDocumentNotification, HoverRequest } from 'vscode-languageserver-protocol/node';
import { check, DSOD300_YAML } from '../helpers';
import { startServer, type LspServer } from './lsp-harness';

let server: LspServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.stop();
});

const SPECS = ['dsod: 1\n[a, b]: 1\n', 'dsod: 1\nbackbone:\n  ? { stem: x }\n  : 2\n', 'dsod: 1\n? - a\n  - b\n: 1\n'];

test('a collection used as a key is a diagnostic at the key, not a console line', async () => {
  const uri = 'file:///ws/collection-key.dsod.yaml';
  await server.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'dsod', version: 1, text: SPECS[0] } });
  const first = await server.diagnosticsFor(uri, 1);
  const d = first.diagnostics.find((x) => x.code === 'syntax/collection-key');
  assert.ok(d, JSON.stringify(first.diagnostics));
  assert.equal(d.severity, 1);
  assert.deepEqual(d.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 6 } });
  // Edits keep parsing such keys (and hovering over them runs the data conversion again).
  for (let i = 0; i < 30; i++) {
    const text = SPECS[i % SPECS.length] + `name: n${i}\n`;
    await server.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: i + 2 }, contentChanges: [{ text }] });
    await server.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 1, character: 2 } });
    const published = await server.diagnosticsFor(uri, i + 2);
    assert.ok(
      published.diagnostics.some((x) => x.code === 'syntax/collection-key'),
      `version ${i + 2}`,
    );
  }
  // A round trip after the last analysis, so every line the server wrote has arrived.
  await server.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 0, character: 0 } });
  const noisy = server.logs.filter((l) => /collection values|stringified/i.test(l.message));
  assert.deepEqual(noisy, [], 'no log line from the yaml library');
  assert.equal(server.stderr(), '', 'nothing on stderr');
  assert.deepEqual(server.errorLines(), []);
});

test('real problems stay diagnostics: yaml errors and warnings, and a valid spec stays clean', () => {
  assert.ok(check('dsod: 1\na: 1\na: 2\n').diagnostics.some((x) => x.code === 'syntax/duplicate-key'));
  assert.ok(check('dsod: 1\nname: [\n').diagnostics.some((x) => x.severity === 'error' && x.code.startsWith('syntax/')));
  assert.ok(check('dsod: 1\n{ a: 1 }: 2\n').diagnostics.some((x) => x.code === 'syntax/collection-key'));
  assert.deepEqual(
    check(DSOD300_YAML).diagnostics.filter((x) => x.severity === 'error'),
    [],
  );
});
