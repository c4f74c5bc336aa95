// The analysis report (`DSOD: Show Analysis Report`, the totals code lens): a webview panel beside the spec, one per
// spec, with the stage and scale tables and the summary of `dsod analyze` as the language server computes them
// (`dsod/report`). It follows its spec as it is edited (after each `dsod/analyzed`, debounced). The page is
// dist/webview/report.js under a strict CSP; every message it posts is validated before use (reportMessages.ts).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { revealSpecRange } from './revealSpec';
import type { LanguageClient } from 'vscode-languageclient/node';
import { protocolMismatch } from '../protocol/checks';
import { PROTOCOL_VERSION, ReportRequest, type ReportData } from '../protocol/lsp';
import type { ReportHostMessage, ReportWebviewMessage } from '../protocol/report';
import { makeNonce, reportHtml } from '../webview/report/html';
import { handleReportMessage } from './reportMessages';

export const REPORT_VIEW_TYPE = 'dsod.report';
/** Typing bursts produce one analysis per keystroke; one redraw per pause is enough. */
const DEBOUNCE_MS = 150;

/** The open report of one spec. */
class ReportPanel {
  ready = false;
  private lastVersion = -1;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly uri: string,
    readonly panel: vscode.WebviewPanel,
    private readonly client: LanguageClient,
    private readonly output: vscode.LogOutputChannel | undefined,
  ) {}

  post(message: ReportHostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  /** The spec was analysed again: refresh after the typing pauses. */
  soon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, DEBOUNCE_MS);
  }

  /** Ask the server for the report and send it to the page. */
  async refresh(): Promise<void> {
    if (!this.ready) return;
    let report: ReportData | null;
    try {
      report = await this.client.sendRequest(ReportRequest, { uri: this.uri });
    } catch (e) {
      this.output?.warn(`dsod/report failed for ${this.uri}: ${(e as Error).message}`);
      this.post({ type: 'status', message: 'The language server did not answer; showing the last report.' });
      return;
    }
    if (!report) {
      // The server answers null for a spec with errors and for a document it does not have open.
      const open = vscode.workspace.textDocuments.some((d) => d.uri.toString() === this.uri);
      this.post({
        type: 'status',
        message: open
          ? 'This spec has errors (see the Problems panel); the report returns when they are fixed.'
          : 'The spec is not open in an editor: open it to bring the report up to date.',
      });
      return;
    }
    const mismatch = protocolMismatch('language server', report.protocol, PROTOCOL_VERSION);
    if (mismatch) {
      this.output?.error(`dsod/report: ${mismatch}`);
      this.post({ type: 'status', message: `The report cannot be shown: ${mismatch}.` });
      return;
    }
    if (report.version < this.lastVersion) return; // an older answer overtaken by a newer one
    this.lastVersion = report.version;
    this.post({ type: 'report', report });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

export class ReportView implements vscode.Disposable {
  /** Open reports, by the spec they show. */
  private readonly panels = new Map<string, ReportPanel>();
  private readonly renderedEmitter = new vscode.EventEmitter<Extract<ReportWebviewMessage, { type: 'rendered' }>>();
  /** Fires after each report the page draws (used by tests). */
  readonly onDidRender = this.renderedEmitter.event;

  private constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: LanguageClient,
    private readonly output?: vscode.LogOutputChannel,
  ) {}

  static register(context: vscode.ExtensionContext, client: LanguageClient, output?: vscode.LogOutputChannel): ReportView {
    const view = new ReportView(context.extensionUri, client, output);
    context.subscriptions.push(
      view,
      vscode.commands.registerCommand('dsod.showReport', (uri?: string | vscode.Uri) => view.show(uri)),
    );
    return view;
  }

  private get root(): vscode.Uri {
    return vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
  }

  /** Open (or reveal) the report of a spec (the active one by default) beside the editor. */
  async show(target?: string | vscode.Uri): Promise<void> {
    const spec = target?.toString() ?? vscode.window.activeTextEditor?.document.uri.toString();
    if (!spec) {
      void vscode.window.showInformationMessage('DSOD: open a *.dsod.yaml spec to see its analysis report.');
      return;
    }
    const open = this.panels.get(spec);
    if (open) {
      open.panel.reveal(undefined, true);
      void open.refresh();
      return;
    }
    const name = path.posix.basename(vscode.Uri.parse(spec).path);
    const panel = vscode.window.createWebviewPanel(
      REPORT_VIEW_TYPE,
      `Report: ${name}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [this.root] },
    );
    const report = new ReportPanel(spec, panel, this.client, this.output);
    this.panels.set(spec, report);
    panel.webview.html = reportHtml({ scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(this.root, 'report.js')).toString(), nonce: makeNonce() });
    panel.webview.onDidReceiveMessage(
      (raw: unknown) =>
        void handleReportMessage(raw, {
          currentUri: () => spec,
          ready: () => {
            report.ready = true;
            void report.refresh();
          },
          reveal: (uri, range) => revealSpecRange(uri, range),
          rendered: (m) => this.renderedEmitter.fire(m),
          log: (level, message) => (this.output ? this.output[level](message) : undefined),
        }).catch((e) => this.output?.error(`report view: ${e}`)),
    );
    panel.onDidDispose(() => {
      report.dispose();
      if (this.panels.get(spec) === report) this.panels.delete(spec);
    });
  }

  /** The spec was analysed again (its `dsod/analyzed` notification): refresh its open report. */
  refresh(spec: string): void {
    this.panels.get(spec)?.soon();
  }

  dispose(): void {
    for (const p of this.panels.values()) p.panel.dispose();
    this.panels.clear();
    this.renderedEmitter.dispose();
  }
}
