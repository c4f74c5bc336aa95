// Seeded random editing of spec documents over a real language server, with requests interleaved: the generator
// behind test/server/fuzz.test.ts (a few thousand edits in `npm test`) and bench/fuzz.bench.ts (100,000).
// Edits are incremental, as an editor sends them: insertions and deletions of YAML-ish fragments, lone CRs and
// CRLFs, unicode, huge numbers, flow/block switches, whole-document line-ending switches, resets to an example.
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeActionRequest,
  CodeLensRequest,
  CompletionRequest,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  HoverRequest,
  InlayHintRequest,
  type Diagnostic,
  type TextDocumentContentChangeEvent,
} from 'vscode-languageserver-protocol/node';
import { GraphRequest, ReportRequest } from '../../protocol/lsp';
import { exampleFiles, readRepoFile, rng } from '../helpers';
import type { LspServer } from './lsp-harness';

const FRAGMENTS = [
  '',
  ':',
  ': ',
  '- ',
  '-',
  '[',
  ']',
  '{',
  '}',
  ',',
  ', ',
  '#',
  '# note',
  '&a ',
  '*a',
  '<<: *a',
  '"',
  "'",
  '? ',
  '!!str ',
  '!tag ',
  '|',
  '>-',
  '\t',
  '  ',
  '    ',
  '\n',
  '\r',
  '\r\n',
  '\n\n',
  '\r\r',
  '\n  - ',
  '\r  - ',
  '\r\n  ',
  '\u00e9',
  'ü',
  '\u6f22\u5b57',
  '\u{1F600}',
  '\u2028',
  '\u0085',
  '\uFEFF',
  '\u0000',
  '\uFFFD',
  '\ud800',
  '0',
  '-1',
  '1e9',
  '1e309',
  '-1e309',
  '99999999999999999999999',
  '0x7fffffff',
  '.inf',
  '-.inf',
  '.nan',
  'NaN',
  '1_000',
  '3.14159',
  '-0',
  'null',
  '~',
  'true',
  'no',
  'pool',
  'dense',
  'plain',
  'DS/64-192-48-1',
  'DS/1-2-3-4',
  'dsod: 1',
  'name: x',
  'blocks: [6, 8, 8, 8]',
  'growth_rate: 48',
  'stem: DS/64-64-128',
  'channels: [128, 256]',
  'aspect_ratios: [[2], [2, 3]]',
  '{ a: [1, 2] }',
  '[a, b]: 1',
  '? [a]\n: 1',
  'structure: dense',
  'size: 300',
  'input:\n  size: 300',
  'backbone:\n  blocks:\n    - 6',
  'prediction: { structure: plain }',
  '---',
  '...',
  '%YAML 1.2\n',
  'a'.repeat(300),
];
const JSON_FRAGMENTS = ['{', '}', '[', ']', ',', ':', '"', '"dsod"', '"name": "x"', '1e400', 'null', 'true', '\r', '\r\n', '\n', '"\u00e9"', '// c', '/*'];

export interface FuzzOptions {
  seed: number;
  edits: number;
  /** Called with each request's method and latency in ms. */
  onRequest?: (method: string, ms: number) => void;
  /** Called every `every` edits (progress, RSS samples). */
  onProgress?: (done: number) => void;
  progressEvery?: number;
}

export interface FuzzResult {
  edits: number;
  requests: number;
  /** Requests answered with an error response (or never answered because the server went away). */
  errorResponses: { method: string; message: string }[];
  /** Completions that came back empty on a line whose text completion should read (counted, not a failure). */
  emptyCompletions: number;
  /** Whether the server process exited during the run. */
  crashed: boolean;
}

const toCr = (t: string) => t.replace(/\r\n|\n/g, '\r');
const toCrlf = (t: string) => t.replace(/\r\n|\r|\n/g, '\r\n');
const toLf = (t: string) => t.replace(/\r\n|\r/g, '\n');

/** `key: [a, b]` to a block list under the key, or a block list back to a flow one. */
function flowBlockSwitch(text: string, r: ReturnType<typeof rng>): string {
  if (r.next() < 0.5) {
    const flows = [...text.matchAll(/^( *)(- +)?([\w-]+): *\[([^[\]\r\n]*)\]/gm)];
    if (flows.length === 0) return text;
    const m = r.pick(flows);
    const indent = m[1] + (m[2] ? '  ' : '') + '  ';
    const items = m[4]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const block = `${m[1]}${m[2] ?? ''}${m[3]}:${items.map((i) => `\n${indent}- ${i}`).join('')}`;
    return text.slice(0, m.index) + block + text.slice(m.index! + m[0].length);
  }
  const blocks = [...text.matchAll(/^( *)([\w-]+):[ \t]*\r?\n((?:\1 +- [^\r\n]*\r?\n)+)/gm)];
  if (blocks.length === 0) return text;
  const m = r.pick(blocks);
  const items = m[3]
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s*-\s*/, '').trim())
    .filter(Boolean);
  return text.slice(0, m.index) + `${m[1]}${m[2]}: [${items.join(', ')}]\n` + text.slice(m.index! + m[0].length);
}

/** Run `options.edits` random edits over two documents (YAML and JSON) on `server`, with requests in between. */
export async function fuzz(server: LspServer, options: FuzzOptions): Promise<FuzzResult> {
  const r = rng(options.seed);
  const sources = exampleFiles().map((f) => readRepoFile(f));
  const jsonSource = JSON.stringify({ dsod: 1, name: 'j', input: { size: 300 }, backbone: { stem: 'DS/64-64-128', blocks: [6, 8, 8, 8] } }, null, 2);
  const docs = [
    { doc: TextDocument.create(`file:///fuzz/s${options.seed}.dsod.yaml`, 'dsod', 1, sources[0]), json: false, history: [] as string[] },
    { doc: TextDocument.create(`file:///fuzz/s${options.seed}.dsod.json`, 'dsod', 1, jsonSource), json: true, history: [] as string[] },
  ];
  for (const { doc } of docs) {
    await server.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: doc.uri, languageId: 'dsod', version: doc.version, text: doc.getText() },
    });
  }
  const result: FuzzResult = { edits: 0, requests: 0, errorResponses: [], emptyCompletions: 0, crashed: false };
  let exited = server.process.exitCode !== null;
  // A request still pending when the server dies is never answered: it fails with the exit instead.
  let onExit = (_code: number | null, _signal: NodeJS.Signals | null) => {};
  const exit = new Promise<never>((_, reject) => {
    onExit = (code, signal) => {
      exited = true;
      reject(new Error(`the server exited (${signal ?? code})`));
    };
    server.process.once('exit', onExit);
  });
  exit.catch(() => undefined);

  const lastDiagnostics = (uri: string): Diagnostic[] => [...server.published].reverse().find((p) => p.uri === uri)?.diagnostics ?? [];

  for (let i = 0; i < options.edits && !exited; i++) {
    const slot = r.next() < 0.8 ? docs[0] : docs[1];
    const { doc, json } = slot;
    const text = doc.getText();
    const offset = () => r.int(0, text.length);
    const fragment = () => (json && r.next() < 0.6 ? r.pick(JSON_FRAGMENTS) : r.pick(FRAGMENTS));
    let change: TextDocumentContentChangeEvent;
    const roll = r.next();
    if (roll < 0.1 && slot.history.length > 0) {
      // Undo: back to an earlier text, as an editor's undo sends it.
      change = { text: slot.history.pop()! };
    } else if (text.length > 20_000 || roll < 0.14) {
      const base = json ? jsonSource : r.pick(sources);
      change = { text: r.next() < 0.3 ? toCr(base) : r.next() < 0.5 ? toCrlf(base) : base };
    } else if (roll < 0.45) {
      const at = doc.positionAt(offset());
      change = { range: { start: at, end: at }, text: fragment() };
    } else if (roll < 0.65) {
      const start = offset();
      change = { range: { start: doc.positionAt(start), end: doc.positionAt(start + r.int(1, 40)) }, text: '' };
    } else if (roll < 0.75) {
      const start = offset();
      change = { range: { start: doc.positionAt(start), end: doc.positionAt(start + r.int(1, 10)) }, text: fragment() };
    } else if (roll < 0.8) {
      change = { text: r.pick([toCr, toCrlf, toLf])(text) };
    } else if (roll < 0.85) {
      change = { text: flowBlockSwitch(text, r) };
    } else if (roll < 0.9) {
      const numbers = [...text.matchAll(/\d+/g)];
      if (numbers.length === 0) continue;
      const m = r.pick(numbers);
      const huge = r.pick(['0', '1', '99999999999999999999999', '1e309', '4294967296', '-5', '3.5', String(r.int(0, 5000))]);
      change = { range: { start: doc.positionAt(m.index!), end: doc.positionAt(m.index! + m[0].length) }, text: huge };
    } else {
      // Duplicate or delete a whole line, line break included.
      const line = r.int(0, doc.lineCount - 1);
      const start = { line, character: 0 };
      const end = { line: line + 1, character: 0 };
      const whole = doc.getText({ start, end });
      change = r.next() < 0.5 ? { range: { start, end: start }, text: whole } : { range: { start, end }, text: '' };
    }
    if (r.next() < 0.3) slot.history.push(text);
    if (slot.history.length > 20) slot.history.shift();
    slot.doc = TextDocument.update(doc, [change], doc.version + 1);
    result.edits++;
    await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: slot.doc.uri, version: slot.doc.version },
      contentChanges: [change],
    });

    const uri = slot.doc.uri;
    const textDocument = { uri };
    const lines = slot.doc.lineCount;
    const position = () => ({ line: r.int(0, lines), character: r.int(0, r.next() < 0.9 ? 40 : 400) });
    const range = () => {
      const a = position();
      const b = { line: a.line + r.int(0, 40), character: r.int(0, 80) };
      return { start: a, end: b };
    };
    for (let k = r.next() < 0.3 ? 2 : 1; k > 0; k--) {
      const kind = r.int(0, 9);
      const started = performance.now();
      let method = '';
      try {
        switch (kind) {
          case 0:
            method = 'hover';
            await Promise.race([exit, server.connection.sendRequest(HoverRequest.type, { textDocument, position: position() })]);
            break;
          case 1:
          case 2: {
            method = 'completion';
            const items = await Promise.race([exit, server.connection.sendRequest(CompletionRequest.type, { textDocument, position: position() })]);
            if ((Array.isArray(items) ? items : (items?.items ?? [])).length === 0) result.emptyCompletions++;
            break;
          }
          case 3:
            method = 'inlayHint';
            await Promise.race([exit, server.connection.sendRequest(InlayHintRequest.type, { textDocument, range: range() })]);
            break;
          case 4:
            method = 'codeLens';
            await Promise.race([exit, server.connection.sendRequest(CodeLensRequest.type, { textDocument })]);
            break;
          case 5: {
            method = 'codeAction';
            const diagnostics = lastDiagnostics(uri);
            const d = diagnostics.length && r.next() < 0.7 ? r.pick(diagnostics) : null;
            await Promise.race([
              exit,
              server.connection.sendRequest(CodeActionRequest.type, { textDocument, range: d ? d.range : range(), context: { diagnostics: d ? [d] : [] } }),
            ]);
            break;
          }
          case 6:
            method = 'documentSymbol';
            await Promise.race([exit, server.connection.sendRequest(DocumentSymbolRequest.type, { textDocument })]);
            break;
          case 7:
            method = 'foldingRange';
            await Promise.race([exit, server.connection.sendRequest(FoldingRangeRequest.type, { textDocument })]);
            break;
          case 8:
            method = 'dsod/graph';
            await Promise.race([exit, server.connection.sendRequest(GraphRequest, { uri })]);
            break;
          default:
            method = 'dsod/report';
            await Promise.race([exit, server.connection.sendRequest(ReportRequest, { uri })]);
            break;
        }
      } catch (e) {
        result.errorResponses.push({ method, message: String((e as Error).message ?? e) });
        if (exited) break;
      }
      result.requests++;
      options.onRequest?.(method, performance.now() - started);
    }
    if (options.onProgress && (i + 1) % (options.progressEvery ?? 1000) === 0) options.onProgress(i + 1);
  }
  server.process.off('exit', onExit);
  result.crashed = exited;
  if (!exited) {
    // Every document's newest version is analysed and published.
    for (const { doc } of docs) await server.diagnosticsFor(doc.uri, doc.version, 30_000);
    for (const { doc } of docs) await server.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: doc.uri } });
  }
  return result;
}
