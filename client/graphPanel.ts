// The architecture graph panel ("DSOD: Show Architecture Graph"): a webview beside the editor that draws the analysed
// network of the active spec, follows the active DSOD editor, and redraws after each analysis of the server
// (`dsod/analyzed`, debounced) from `dsod/graph`. The page is dist/webview/graph.js under a strict CSP; it may load
// nothing but that folder, and every message it posts is validated before use (graphMessages.ts).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { revealSpecRange } from './revealSpec';
import type { LanguageClient } from 'vscode-languageclient/node';
import { protocolMismatch } from '../protocol/checks';
import { GraphRequest, PROTOCOL_VERSION, type GraphResult, type SpecSummary } from '../protocol/lsp';
import type { HostMessage, WebviewMessage } from '../protocol/webview';
import { graphHtml, makeNonce } from './graphHtml';
import { handleWebviewMessage, type GraphHost } from './graphMessages';

export const GRAPH_VIEW_TYPE = 'dsod.graph';
/** Typing bursts produce one analysis per keystroke; one redraw per pause is enough. */
const DEBOUNCE_MS = 150;

export const isSpecDocument = (d: vscode.TextDocument): boolean => d.languageId === 'dsod' || /\.dsod\.json$/i.test(d.uri.path);

type Rendered = Extract<WebviewMessage, { type: 'rendered' }>;

export class GraphPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private uri: string | undefined;
  private ready = false;
  private lastVersion = -1;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly renderedEmitter = new vscode.EventEmitter<Rendered>();
  /** Fires after each redraw the webview reports (used by tests). */
  readonly onDidRender = this.renderedEmitter.event;

  /** Create the controller, its command and its panel serializer. */
  static register(context: vscode.ExtensionContext, client: LanguageClient, output: vscode.LogOutputChannel): GraphPanel {
    const graph = new GraphPanel(context.extensionUri, client, output);
    context.subscriptions.push(
      graph,
      vscode.commands.registerCommand('dsod.showGraph', (target?: string | vscode.Uri) => graph.show(target)),
      vscode.window.registerWebviewPanelSerializer(GRAPH_VIEW_TYPE, { deserializeWebviewPanel: async (panel) => graph.revive(panel) }),
    );
    return graph;
  }

  private constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: LanguageClient,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      this.renderedEmitter,
      vscode.window.onDidChangeActiveTextEditor((e) => this.follow(e)),
    );
  }

  private get root(): vscode.Uri {
    return vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
  }

  /** Open (or reveal) the panel beside the editor for `target`, by default the active spec. */
  async show(target?: string | vscode.Uri): Promise<void> {
    const active = vscode.window.activeTextEditor?.document;
    const uri = target?.toString() ?? (active && isSpecDocument(active) ? active.uri.toString() : this.uri);
    if (!uri) {
      void vscode.window.showInformationMessage('DSOD: open a *.dsod.yaml spec to see its architecture graph.');
      return;
    }
    this.setDocument(uri);
    if (this.panel) {
      this.panel.reveal(undefined, true);
      void this.refresh();
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      GRAPH_VIEW_TYPE,
      this.title(),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [this.root] },
    );
    this.attach(panel);
  }

  /** A panel VS Code restored after a reload: follow the active spec, or the first visible one. */
  private revive(panel: vscode.WebviewPanel): void {
    const doc = [vscode.window.activeTextEditor, ...vscode.window.visibleTextEditors].find((e) => e && isSpecDocument(e.document))?.document;
    if (doc) this.setDocument(doc.uri.toString());
    this.attach(panel);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.panel = panel;
    this.ready = false;
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.root] };
    panel.webview.html = graphHtml({ scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(this.root, 'graph.js')).toString(), nonce: makeNonce() });
    panel.title = this.title();
    const host = this.host();
    // The panel's listeners live as long as the panel: each reopen adds its own and its close removes them (not the
    // controller's lifetime list, which would grow by two with every reopen).
    const own: vscode.Disposable[] = [];
    panel.webview.onDidReceiveMessage((raw: unknown) => void handleWebviewMessage(raw, host).catch((e) => this.output.error(`graph view: ${e}`)), null, own);
    panel.onDidDispose(
      () => {
        if (this.panel === panel) this.panel = undefined;
        this.ready = false;
        for (const d of own.splice(0)) d.dispose();
      },
      null,
      own,
    );
  }

  /** The active editor changed: follow it when it is a spec. */
  follow(editor: vscode.TextEditor | undefined): void {
    if (!this.panel || !editor || !isSpecDocument(editor.document)) return;
    const uri = editor.document.uri.toString();
    if (uri === this.uri) return;
    this.setDocument(uri);
    void this.refresh();
  }

  /** The server analysed a document (its `dsod/analyzed` notification): redraw soon if it is the one shown. */
  onAnalyzed(summary: SpecSummary): void {
    if (!this.panel || summary.uri !== this.uri) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, DEBOUNCE_MS);
  }

  private setDocument(uri: string): void {
    if (uri !== this.uri) this.lastVersion = -1;
    this.uri = uri;
    if (this.panel) this.panel.title = this.title();
  }

  private fileName(): string {
    return this.uri ? path.posix.basename(vscode.Uri.parse(this.uri).path) : '';
  }

  private title(): string {
    return this.uri ? `Graph: ${this.fileName()}` : 'DSOD Graph';
  }

  private post(message: HostMessage): void {
    void this.panel?.webview.postMessage(message);
  }

  /** Ask the server for the graph of the followed document and send it to the page. */
  private async refresh(): Promise<void> {
    const uri = this.uri;
    if (!this.panel || !this.ready || !uri) return;
    let result: GraphResult | null;
    try {
      result = await this.client.sendRequest(GraphRequest, { uri });
    } catch (e) {
      this.output.warn(`dsod/graph failed for ${uri}: ${(e as Error).message}`);
      this.post({ type: 'status', message: 'The language server did not answer; showing the last graph.' });
      return;
    }
    if (uri !== this.uri) return; // the panel moved to another document meanwhile
    if (!result) {
      this.post({ type: 'status', message: 'Waiting for the language server to analyse this document…' });
      return;
    }
    const mismatch = protocolMismatch('language server', result.protocol, PROTOCOL_VERSION);
    if (mismatch) {
      this.output.error(`dsod/graph: ${mismatch}`);
      this.post({ type: 'status', message: `The graph cannot be shown: ${mismatch}.` });
      return;
    }
    if (result.version < this.lastVersion) return; // an older answer overtaken by a newer one
    this.lastVersion = result.version;
    this.post({ type: 'graph', title: this.fileName(), result });
  }

  private host(): GraphHost {
    return {
      currentUri: () => this.uri,
      ready: () => {
        this.ready = true;
        this.lastVersion = -1;
        void this.refresh();
      },
      reveal: (uri, range) => revealSpecRange(uri, range),
      save: (format, name, data) => this.save(format, name, data),
      rendered: (m) => {
        this.output.trace(`graph view: drew ${m.nodes} nodes, ${m.edges} edges (v${m.version}, ${m.layout} layout) in ${m.ms.toFixed(1)} ms`);
        this.renderedEmitter.fire(m);
      },
      log: (level, message) => this.output[level](message),
    };
  }

  private async save(format: 'svg' | 'png', name: string, data: string): Promise<void> {
    const doc = this.uri ? vscode.Uri.parse(this.uri) : undefined;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? (doc?.scheme === 'file' ? vscode.Uri.joinPath(doc, '..') : undefined);
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
      filters: format === 'svg' ? { 'SVG image': ['svg'] } : { 'PNG image': ['png'] },
      saveLabel: 'Export',
      title: 'Export the architecture graph',
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, Buffer.from(data, format === 'svg' ? 'utf8' : 'base64'));
    void vscode.window.showInformationMessage(`DSOD: graph exported to ${target.scheme === 'file' ? target.fsPath : target.toString()}`);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
