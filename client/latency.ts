// The latest `dsod latency` measurement of each open spec, read beside it (<spec>.latency.json, protocol/latency.ts)
// and handed to the language server (dsod/latency): the server reads no files, the client already watches the
// workspace. Sent when a spec opens and whenever its measurement file is written or deleted.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { latencyFileName, validateLatency, type LatencyMeasurement } from '../protocol/latency';
import { LatencyNotification } from '../protocol/lsp';

const MAX_BYTES = 64 * 1024;

function isSpec(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && (doc.languageId === 'dsod' || doc.uri.path.endsWith('.dsod.json'));
}

function latencyUri(spec: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(spec, '..', latencyFileName(spec.path.slice(spec.path.lastIndexOf('/') + 1)));
}

async function readMeasurement(file: vscode.Uri, output: vscode.LogOutputChannel): Promise<LatencyMeasurement | null> {
  let bytes: Uint8Array;
  try {
    bytes = await vscode.workspace.fs.readFile(file);
  } catch {
    return null; // not measured yet
  }
  try {
    if (bytes.length > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
    const v = validateLatency(JSON.parse(new TextDecoder().decode(bytes)));
    if (!v.ok) throw new Error(v.error);
    return v.message;
  } catch (e) {
    output.warn(`${file.fsPath} is not a dsod latency measurement, ignored: ${(e as Error).message}`);
    return null;
  }
}

export function registerLatency(context: vscode.ExtensionContext, client: LanguageClient, output: vscode.LogOutputChannel): void {
  const send = async (doc: vscode.TextDocument) => {
    if (!isSpec(doc)) return;
    const measurement = await readMeasurement(latencyUri(doc.uri), output);
    await client.sendNotification(LatencyNotification, { uri: doc.uri.toString(), measurement });
  };
  const changed = (file: vscode.Uri) => {
    for (const doc of vscode.workspace.textDocuments) if (isSpec(doc) && latencyUri(doc.uri).toString() === file.toString()) void send(doc);
  };
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.latency.json');
  context.subscriptions.push(
    watcher,
    watcher.onDidCreate(changed),
    watcher.onDidChange(changed),
    watcher.onDidDelete(changed),
    vscode.workspace.onDidOpenTextDocument((doc) => void send(doc)),
  );
  for (const doc of vscode.workspace.textDocuments) void send(doc);
}
