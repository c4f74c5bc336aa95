// The extension host side: starts the language server, shows the active spec's totals, owns the commands.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { AnalyzedNotification, ReportRequest, type SpecSummary } from '../protocol/lsp';
import { GraphPanel } from './graphPanel';
import { StatusBar } from './statusBar';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('DSOD Studio', { log: true });
  const serverModule = context.asAbsolutePath('dist/server/main.js');
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { language: 'dsod' },
      { scheme: 'file', pattern: '**/*.dsod.json' },
      { scheme: 'untitled', language: 'dsod' },
    ],
    outputChannel: output,
    synchronize: { configurationSection: 'dsod' },
  };
  client = new LanguageClient('dsod', 'DSOD Studio', serverOptions, clientOptions);

  const status = new StatusBar();
  context.subscriptions.push(
    status,
    output,
    vscode.window.onDidChangeActiveTextEditor(() => status.show(vscode.window.activeTextEditor?.document.uri.toString())),
    vscode.commands.registerCommand('dsod.showReport', (uri?: string | vscode.Uri) => showReport(uri)),
  );
  const graph = GraphPanel.register(context, client, output);
  client.onNotification(AnalyzedNotification, (summary: SpecSummary) => {
    graph.onAnalyzed(summary);
    status.update(summary);
    status.show(vscode.window.activeTextEditor?.document.uri.toString());
  });
  await client.start();
  output.info('DSOD language server started.');
}

/** Open the `dsod analyze` report of a spec (the active one by default) beside the editor. */
async function showReport(target?: string | vscode.Uri): Promise<void> {
  const uri = target?.toString() ?? vscode.window.activeTextEditor?.document.uri.toString();
  if (!client || !uri) return;
  const report = await client.sendRequest(ReportRequest, { uri });
  if (report === null) {
    void vscode.window.showWarningMessage('DSOD: this spec has errors; fix them to see its report (Problems panel).');
    return;
  }
  const doc = await vscode.workspace.openTextDocument({ content: report, language: 'plaintext' });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
