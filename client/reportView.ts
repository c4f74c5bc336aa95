// The analysis report as a read-only virtual document (`dsod-report:` scheme) that follows its spec as it is edited.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ReportRequest } from '../protocol/lsp';

export const REPORT_SCHEME = 'dsod-report';

export class ReportView implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** Open report documents, by the spec they show. */
  private readonly open = new Map<string, vscode.Uri>();

  constructor(private readonly client: LanguageClient) {}

  static register(context: vscode.ExtensionContext, client: LanguageClient): ReportView {
    const view = new ReportView(client);
    context.subscriptions.push(
      view.changed,
      vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, view),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (d.uri.scheme === REPORT_SCHEME) view.open.delete(d.uri.query);
      }),
      vscode.commands.registerCommand('dsod.showReport', (uri?: string | vscode.Uri) => view.show(uri)),
    );
    return view;
  }

  /** Open the report of a spec (the active one by default) beside the editor. */
  async show(target?: string | vscode.Uri): Promise<void> {
    const spec = target?.toString() ?? vscode.window.activeTextEditor?.document.uri.toString();
    if (!spec) return;
    const name = vscode.workspace.asRelativePath(vscode.Uri.parse(spec), false);
    // The spec's URI travels in the query; the path is what the tab shows.
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${name} (report)`, query: spec });
    this.open.set(spec, uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  }

  /** The spec was analysed again: refresh its open report. */
  refresh(spec: string): void {
    const uri = this.open.get(spec);
    if (uri) this.changed.fire(uri);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const report = await this.client.sendRequest(ReportRequest, { uri: uri.query });
    return report ?? 'This spec has errors (see the Problems panel); the report returns when they are fixed.\n';
  }
}
