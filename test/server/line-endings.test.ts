// One line-splitting rule everywhere (the LSP's: "\r\n", "\n" and a lone "\r" each end a line): the same spec with
// LF, CRLF and lone-CR line endings answers completion, hover, inlay hints and code actions identically at the same
// positions, over stdio with the real server, and the server logs no error on the way.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CodeActionRequest,
  CompletionRequest,
  DidOpenTextDocumentNotification,
  HoverRequest,
  InlayHintRequest,
  type Diagnostic,
} from 'vscode-languageserver-protocol/node';
import { splitLines } from '../../core';
import { DSOD300_YAML, edit } from '../helpers';
import { startServer, type LspServer } from './lsp-harness';

let server: LspServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.stop();
});

const ENDINGS = { lf: '\n', crlf: '\r\n', cr: '\r' } as const;

/** The same text with every line break replaced by `eol`. */
const withEndings = (text: string, eol: string) => splitLines(text).join(eol);

test('splitLines follows the LSP: \\r\\n, \\n and a lone \\r each end a line', () => {
  assert.deepEqual(splitLines('a\r\nb\nc\rd\r\re'), ['a', 'b', 'c', 'd', '', 'e']);
  assert.deepEqual(splitLines('a\n\r\nb'), ['a', '', 'b']);
  assert.deepEqual(splitLines(''), ['']);
});

const SPECS = {
  // Valid: hovers with numbers, inlay hints.
  valid: DSOD300_YAML,
  // A typo (a code action) and a value to complete.
  typo: edit(DSOD300_YAML, 'structure: dense', 'structure: dens'),
  // Half-typed: block lists, a flow map, an empty key: completion contexts read from the lines above.
  typing:
    'dsod: 1\nname: t\ninput: { size: 300, channels: 3 }\nbackbone:\n  stem: DS/64-64-128\n  blocks:\n    - 6\n    - \n  \nprediction:\n  structure: \n  channels: [\n',
};

for (const [name, spec] of Object.entries(SPECS)) {
  test(`${name}: LF, CRLF and lone CR give the same completion, hover, inlay hints and code actions`, async () => {
    const lines = splitLines(spec);
    const uris: Record<string, string> = {};
    const diagnostics: Record<string, Diagnostic[]> = {};
    for (const [eol, sep] of Object.entries(ENDINGS)) {
      uris[eol] = `file:///ws/eol-${name}-${eol}.dsod.yaml`;
      await server.connection.sendNotification(DidOpenTextDocumentNotification.type, {
        textDocument: { uri: uris[eol], languageId: 'dsod', version: 1, text: withEndings(spec, sep) },
      });
      diagnostics[eol] = (await server.diagnosticsFor(uris[eol], 1)).diagnostics;
    }
    // Diagnostics are placed alike.
    assert.deepEqual(diagnostics.crlf, diagnostics.lf);
    assert.deepEqual(diagnostics.cr, diagnostics.lf);

    const same = (what: string, results: Record<string, unknown>) => {
      const norm = (eol: string) =>
        JSON.parse(
          JSON.stringify(results[eol] ?? null)
            .split(uris[eol])
            .join('URI'),
        );
      assert.deepEqual(norm('crlf'), norm('lf'), `${what}: CRLF differs from LF`);
      assert.deepEqual(norm('cr'), norm('lf'), `${what}: lone CR differs from LF`);
    };
    let nonEmptyCompletions = 0;
    for (let line = 0; line <= lines.length; line++) {
      const length = lines[line]?.length ?? 0;
      for (let character = 0; character <= length + 1; character += line % 3 === 0 ? 1 : 3) {
        const position = { line, character };
        const completion: Record<string, unknown> = {};
        const hover: Record<string, unknown> = {};
        for (const eol of Object.keys(ENDINGS)) {
          completion[eol] = await server.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: uris[eol] }, position });
          hover[eol] = await server.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uris[eol] }, position });
        }
        same(`completion at ${line}:${character}`, completion);
        same(`hover at ${line}:${character}`, hover);
        const items = completion.lf as unknown[] | { items: unknown[] };
        if ((Array.isArray(items) ? items : items.items).length > 0) nonEmptyCompletions++;
      }
    }
    assert.ok(nonEmptyCompletions > 10, 'completion offers items on many positions');

    const hints: Record<string, unknown> = {};
    const actions: Record<string, unknown[]> = {};
    for (const eol of Object.keys(ENDINGS)) {
      const range = { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } };
      hints[eol] = await server.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri: uris[eol] }, range });
      actions[eol] = [];
      for (const d of diagnostics[eol]) {
        actions[eol].push(
          await server.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri: uris[eol] }, range: d.range, context: { diagnostics: [d] } }),
        );
      }
    }
    same('inlay hints', hints);
    same('code actions', actions);
    if (name === 'valid') assert.ok((hints.lf as unknown[]).length > 0, 'the spec has inlay hints');
    if (name === 'typo') assert.ok(JSON.stringify(actions.lf).includes('Change to \\"dense\\"'), 'the typo has its quick fix');
    assert.deepEqual(server.errorLines(), [], 'the server logged no error');
  });
}
