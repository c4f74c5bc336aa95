// The DSOD language server: LSP handlers over the pure language service. Runs inside VS Code (IPC) or standalone
// (`node dist/server/main.js --stdio`) for any LSP client. No handler lets an exception reach the connection.
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  createConnection,
  DidChangeConfigurationNotification,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { validateLatency } from '../protocol/latency';
import { AnalyzedNotification, BaselineNotification, GraphRequest, LatencyNotification, ReportRequest, type BaselineParams } from '../protocol/lsp';
import { createLanguageService, DEFAULT_SETTINGS, type ServiceSettings } from './service';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const service = createLanguageService();
let canPullConfiguration = false;
let canRefreshLenses = false;

/** Run a handler; on a bug, log it and answer `fallback` instead of failing the request. */
function guard<A extends unknown[], R>(name: string, fallback: R, handler: (...args: A) => R): (...args: A) => R {
  return (...args: A) => {
    try {
      return handler(...args);
    } catch (e) {
      connection.console.error(`${name} failed: ${(e as Error).stack ?? e}`);
      return fallback;
    }
  };
}

connection.onInitialize((params) => {
  canPullConfiguration = params.capabilities.workspace?.configuration === true;
  canRefreshLenses = params.capabilities.workspace?.codeLens?.refreshSupport === true;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      completionProvider: { triggerCharacters: [':', ' ', '-', '[', '{', ',', '"'] },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      documentSymbolProvider: true,
      foldingRangeProvider: true,
      inlayHintProvider: true,
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'dsod-language-server', version: '0.1.0' },
  };
});

connection.onInitialized(() => {
  if (canPullConfiguration) {
    void connection.client.register(DidChangeConfigurationNotification.type, { section: 'dsod' }).catch(() => undefined);
    void refreshSettings();
  }
});

async function refreshSettings(): Promise<void> {
  if (!canPullConfiguration) return;
  try {
    const c = (await connection.workspace.getConfiguration('dsod')) ?? {};
    const next: ServiceSettings = {
      inlayHints: {
        enabled: c.inlayHints?.enabled ?? DEFAULT_SETTINGS.inlayHints.enabled,
        params: c.inlayHints?.params === 'stored' ? 'stored' : 'learned',
      },
      designHints: c.designHints ?? DEFAULT_SETTINGS.designHints,
      codeLens: c.codeLens ?? DEFAULT_SETTINGS.codeLens,
    };
    service.configure(next);
    for (const doc of documents.all()) schedule(doc.uri);
    connection.languages.inlayHint.refresh().catch(() => undefined);
  } catch (e) {
    connection.console.warn(`could not read the dsod settings: ${(e as Error).message}`);
  }
}

connection.onDidChangeConfiguration(() => void refreshSettings());

// Analyses are coalesced per document: a burst of edits analyses only the newest text, and nothing stale is published.
const scheduled = new Map<string, NodeJS.Immediate>();

function schedule(uri: string): void {
  if (scheduled.has(uri)) return;
  scheduled.set(
    uri,
    setImmediate(() => {
      scheduled.delete(uri);
      const doc = documents.get(uri);
      if (!doc) return;
      guard('analysis', undefined, () => {
        const diagnostics = service.diagnostics(doc);
        // core turns a bug of ours into an `internal` diagnostic so the editor keeps working; it is still a bug: log it.
        for (const d of diagnostics) if (d.code === 'internal') connection.console.error(`analysis of ${uri} (version ${doc.version}): ${d.message}`);
        void connection.sendDiagnostics({ uri, version: doc.version, diagnostics });
        void connection.sendNotification(AnalyzedNotification, service.summary(doc));
      })();
    }),
  );
}

documents.onDidChangeContent((e) => schedule(e.document.uri));

// The client reads the measurement files; what it sends is validated here all the same (a message is untrusted data).
connection.onNotification(
  LatencyNotification,
  guard('latency', undefined, (p: unknown) => {
    const { uri, measurement } = (p ?? {}) as { uri?: unknown; measurement?: unknown };
    if (typeof uri !== 'string') return;
    const v = measurement === null ? null : validateLatency(measurement);
    if (v && !v.ok) {
      connection.console.warn(`dsod/latency for ${uri} refused: ${v.error}`);
      return;
    }
    service.setLatency(uri, v ? v.message : null);
    if (documents.get(uri)) schedule(uri);
  }),
);
documents.onDidClose((e) => {
  const pending = scheduled.get(e.document.uri);
  if (pending) clearImmediate(pending);
  scheduled.delete(e.document.uri);
  service.forget(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

const withDoc = <P extends { textDocument: { uri: string } }, R>(name: string, fallback: R, f: (doc: TextDocument, p: P) => R) =>
  guard(name, fallback, (p: P) => {
    const doc = documents.get(p.textDocument.uri);
    return doc ? f(doc, p) : fallback;
  });

connection.onHover(withDoc('hover', null, (doc, p) => service.hover(doc, p.position)));
connection.onCompletion(withDoc('completion', [], (doc, p) => service.completion(doc, p.position)));
connection.onCodeAction(withDoc('codeAction', [], (doc, p) => service.codeActions(doc, p.range)));
connection.onDocumentSymbol(withDoc('documentSymbol', [], (doc) => service.documentSymbols(doc)));
connection.onFoldingRanges(withDoc('foldingRange', [], (doc) => service.foldingRanges(doc)));
connection.onCodeLens(withDoc('codeLens', [], (doc) => service.codeLenses(doc)));
connection.languages.inlayHint.on(withDoc('inlayHint', [], (doc, p) => service.inlayHints(doc, p.range)));

connection.onRequest(
  GraphRequest,
  guard('dsod/graph', null, (p: { uri: string }) => {
    const doc = documents.get(p.uri);
    return doc ? service.graph(doc) : null;
  }),
);
connection.onRequest(
  ReportRequest,
  guard('dsod/report', null, (p: { uri: string }) => {
    const doc = documents.get(p.uri);
    return doc ? service.report(doc) : null;
  }),
);

// The other side of a comparison, read by the client (git, another file): lenses, report and graph follow it.
connection.onNotification(
  BaselineNotification,
  guard('dsod/baseline', undefined, (p: BaselineParams) => {
    service.setBaseline(p);
    schedule(p.uri); // a new analysis notification: the client refreshes the open report and graph
    if (canRefreshLenses) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
  }),
);

documents.listen(connection);
connection.listen();
