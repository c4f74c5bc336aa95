// The built server over stdio, driven by a real LSP client connection: the way Neovim, Helix or Emacs would use it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CodeActionRequest,
  CompletionRequest,
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentSymbolRequest,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  InlayHintRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { AnalyzedNotification, GraphRequest, type SpecSummary } from '../../protocol/lsp';
import { DSOD300_YAML, exampleFiles, readRepoFile, repoRoot, rng } from '../helpers';

let server: ChildProcess;
let connection: ProtocolConnection;
const published: PublishDiagnosticsParams[] = [];
const summaries: SpecSummary[] = [];
let stderr = '';

async function until<T>(f: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The first published diagnostics for `uri` at `version` or later. */
const diagnosticsFor = (uri: string, version: number) => until(() => published.find((p) => p.uri === uri && (p.version ?? -1) >= version));

before(async () => {
  server = spawn(process.execPath, [join(repoRoot, 'dist/server/main.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  server.stderr!.on('data', (d) => (stderr += d));
  connection = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    published.push(p);
  });
  connection.onNotification(AnalyzedNotification, (s) => {
    summaries.push(s);
  });
  connection.listen();
  const init = await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null });
  assert.equal(init.serverInfo?.name, 'dsod-language-server');
  assert.ok(init.capabilities.hoverProvider && init.capabilities.inlayHintProvider && init.capabilities.codeActionProvider);
  await connection.sendNotification(InitializedNotification.type, {});
});

after(async () => {
  if (server.exitCode === null) {
    await connection.sendRequest(ShutdownRequest.type);
    const exited = new Promise((r) => server.once('exit', r));
    await connection.sendNotification(ExitNotification.type);
    await exited;
  }
  connection.dispose();
});

const uri = 'file:///ws/broken.dsod.yaml';
const broken = DSOD300_YAML.replace('  blocks: [6, 8, 8, 8]', '  blocks: [6, 8, 8, 8]\n  growth_rat: 32');

test('open, diagnose, change, diagnose again', async () => {
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'dsod', version: 1, text: broken } });
  const first = await diagnosticsFor(uri, 1);
  const typo = first.diagnostics.find((d) => d.code === 'schema/unknown-key')!;
  assert.equal(typo.message, 'Unknown property "growth_rat" in backbone. Did you mean "growth_rate"?');
  assert.deepEqual(typo.range, { start: { line: 12, character: 2 }, end: { line: 12, character: 12 } });
  // An incremental edit: rename the key in place.
  await connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 12, character: 2 }, end: { line: 12, character: 12 } }, text: 'growth_rate' }],
  });
  const second = await diagnosticsFor(uri, 2);
  assert.ok(second.diagnostics.some((d) => d.code === 'notation/conflict' && String(d.message).includes('growth_rate is 32')));
  assert.ok(!second.diagnostics.some((d) => String(d.code).startsWith('schema/')));
  await connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 3 }, contentChanges: [{ text: DSOD300_YAML }] });
  assert.deepEqual((await diagnosticsFor(uri, 3)).diagnostics, []);
  const summary = await until(() => summaries.find((s) => s.uri === uri && s.version === 3));
  assert.equal(summary.paramsLearned, 14_715_804);
  assert.equal(summary.defaultBoxes, 8_744);
});

test('hover, inlay hints, completion, code action, symbols and the graph over the wire', async () => {
  const line = DSOD300_YAML.split('\n').findIndex((l) => l.includes('blocks: [6'));
  const hover = await connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character: 11 } });
  assert.match((hover!.contents as { value: string }).value, /788,640/);
  const hints = await connection.sendRequest(InlayHintRequest.type, {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end: { line: 100, character: 0 } },
  });
  assert.ok(hints!.some((h) => h.label === 'params: 789k · 1.57M · 2.17M · 2.76M' && JSON.stringify(h.tooltip).includes('| block1 | 416×75×75 | 788,640 |')));
  const completion = await connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 1, character: 0 } });
  const items = Array.isArray(completion) ? completion : completion!.items;
  assert.ok(items.some((i) => i.label === 'budget'));
  const symbols = await connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } });
  assert.ok(symbols!.some((s) => s.name === 'backbone'));
  const graph = await connection.sendRequest(GraphRequest, { uri });
  assert.equal(
    graph!.graph!.nodes.reduce((n, x) => n + x.paramsLearned, 0),
    14_715_804,
  );

  const typoUri = 'file:///ws/typo.dsod.yaml';
  const text = 'dsod: 1\nprediction: { structure: dens }\n';
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: typoUri, languageId: 'dsod', version: 1, text } });
  const diagnostics = (await diagnosticsFor(typoUri, 1)).diagnostics;
  const actions = await connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri: typoUri },
    range: diagnostics[0].range,
    context: { diagnostics },
  });
  const action = actions!.find((a) => 'edit' in a && a.title === 'Change to "dense"') as { edit: { changes: Record<string, { newText: string }[]> } };
  assert.equal(action.edit.changes[typoUri][0].newText, 'dense');
});

test('2,000 random edits with requests in between: every request is answered and the server stays up', async () => {
  const r = rng(2026);
  const sources = exampleFiles().map((f) => readRepoFile(f));
  const fuzzUri = 'file:///ws/fuzz.dsod.yaml';
  let text = sources[0];
  let version = 1;
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: fuzzUri, languageId: 'dsod', version, text } });
  const tokens = ['', ':', '- ', '[', ']', '{', '}', ',', '#', '&a ', '*a', '"', '0', '-1', '1e9', 'null', 'pool', 'dense', '  ', 'DS/1-2-3-4'];
  for (let i = 0; i < 2000; i++) {
    const lines = (r.next() < 0.05 ? r.pick(sources) : text).split('\n');
    const at = r.int(0, lines.length - 1);
    switch (r.int(0, 3)) {
      case 0:
        lines.splice(at, 1);
        break;
      case 1:
        lines.splice(at, 0, lines[at]);
        break;
      case 2: {
        const l = lines[at];
        const c = r.int(0, l.length);
        lines[at] = l.slice(0, c) + r.pick(tokens) + l.slice(c + 1);
        break;
      }
      default:
        lines[at] = lines[at].replace(/[0-9]+/, String(r.int(0, 3000)));
    }
    text = lines.join('\n');
    version++;
    await connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: fuzzUri, version }, contentChanges: [{ text }] });
    const position = { line: r.int(0, lines.length), character: r.int(0, 40) };
    const range = { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } };
    switch (i % 4) {
      case 0:
        await connection.sendRequest(HoverRequest.type, { textDocument: { uri: fuzzUri }, position });
        break;
      case 1:
        await connection.sendRequest(CompletionRequest.type, { textDocument: { uri: fuzzUri }, position });
        break;
      case 2:
        await connection.sendRequest(InlayHintRequest.type, { textDocument: { uri: fuzzUri }, range });
        break;
      default:
        await connection.sendRequest(CodeActionRequest.type, { textDocument: { uri: fuzzUri }, range, context: { diagnostics: [] } });
    }
  }
  const last = await diagnosticsFor(fuzzUri, version);
  assert.ok(Array.isArray(last.diagnostics));
  assert.equal(server.exitCode, null, 'the server is still running');
  assert.doesNotMatch(stderr, /failed:/, 'no handler failed');
});
