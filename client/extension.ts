// The extension host side: starts the language server, shows the active spec's totals, owns the commands.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { AnalyzedNotification, type SpecSummary } from '../protocol/lsp';
import { registerCaffeExport } from './caffeExport';
import { Compare } from './compare';
import { DashboardPanels } from './dashboardPanel';
import { registerModelExports } from './exportModel';
import { GraphPanel } from './graphPanel';
import { PriorsPanels } from './priorsPanel';
import { registerLatency } from './latency';
import { ReportView } from './reportView';
import { registerRuns, type Runs } from './runs';
import { StatusBar } from './statusBar';

let client: LanguageClient | undefined;
let runs: Runs | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('DSOD Studio', { log: true });
  const serverModule = context.asAbsolutePath('dist/server/main.js');
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'dsod' },
      { scheme: 'untitled', language: 'dsod' },
      { scheme: 'file', pattern: '**/*.dsod.json' },
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
  );
  const graph = GraphPanel.register(context, client, output);
  const reports = ReportView.register(context, client, output);
  DashboardPanels.register(context, output);
  registerCaffeExport(context, output);
  PriorsPanels.register(context, output);
  registerModelExports(context);
  let serverStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (serverStarted = resolve));
  runs = registerRuns(context, started);
  Compare.register(context, client, output, started);
  client.onNotification(AnalyzedNotification, (summary: SpecSummary) => {
    graph.onAnalyzed(summary);
    reports.refresh(summary.uri);
    status.update(summary);
    status.show(vscode.window.activeTextEditor?.document.uri.toString());
  });
  try {
    await client.start();
  } finally {
    serverStarted();
  }
  registerLatency(context, client, output);
  output.info('DSOD language server started.');
}

export async function deactivate(): Promise<void> {
  // Engine processes first: each writes a checkpoint, and none outlives the window.
  await Promise.all([runs?.shutdown(), client?.stop()]);
  runs = undefined;
  client = undefined;
}
