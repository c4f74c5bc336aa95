// "DSOD: Export to TF.js" and "DSOD: Export to ONNX" on a spec: ask for the weights with a file picker (starting at the
// newest run's weights), then where the model goes, and run `dsod export --tfjs|--onnx` (the bundled engine, an argument
// array) under a progress notification. Trusted workspaces only: the export executes the engine on the workspace's files.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { exportModelArgs, latestWeightsOfSpec, MODEL_EXPORTS, type ModelExport } from './exportModelArgs';
import { runRoot } from './runRoot';
import { enginePath } from './runs/engineArgs';
import { isSpecPath } from './runs/runFolders';

const TRUST_MESSAGE =
  "DSOD: exports are disabled in Restricted Mode: they execute the engine on this folder's specs and weights. Trust the workspace to use them.";

/** Options a caller (a test, another command) may pass instead of answering the pickers. */
export interface ExportModelOptions {
  weights?: string;
  out?: string;
}

export function registerModelExports(context: vscode.ExtensionContext): void {
  for (const format of Object.values(MODEL_EXPORTS)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(format.command, (target?: unknown, options?: ExportModelOptions) =>
        exportModel(context.extensionPath, format, target, options),
      ),
    );
  }
}

/** Resolves to the folder or file written, or undefined when refused, cancelled or failed (failures are shown). */
export async function exportModel(extensionRoot: string, format: ModelExport, target?: unknown, options: ExportModelOptions = {}): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(TRUST_MESSAGE, 'Manage Workspace Trust').then((c) => {
      if (c) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return undefined;
  }
  const spec = specOf(target);
  if (!spec) {
    void vscode.window.showInformationMessage(`DSOD: open a *.dsod.yaml spec to export it to ${format.label}.`);
    return undefined;
  }
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === spec);
  if (doc?.isDirty) await doc.save();

  let weights = options.weights;
  if (!weights) {
    const root = runRoot();
    const latest = await latestWeightsOfSpec(root?.scheme === 'file' ? root.fsPath : undefined, spec);
    const picked = await vscode.window.showOpenDialog({
      title: 'DSOD: the weights to export (a checkpoint or weights file of this spec)',
      defaultUri: vscode.Uri.file(latest ?? (root?.scheme === 'file' && existsSync(root.fsPath) ? root.fsPath : spec)),
      canSelectMany: false,
      openLabel: 'Export These Weights',
      filters: { 'DSOD weights': ['dsodw', 'dsodckpt'] },
    });
    weights = picked?.[0]?.fsPath;
    if (!weights) return undefined;
  }
  let out = options.out;
  if (!out) {
    out = await vscode.window.showInputBox({
      title: `DSOD: where the ${format.label} model goes`,
      prompt: format.outPrompt,
      value: format.defaultOut(spec),
    });
    if (!out) return undefined;
  }

  const args = exportModelArgs(format, { spec, weights, out });
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DSOD: exporting to ${format.label}…` }, () =>
    runEngine(enginePath(extensionRoot), args),
  );
  if (result.code !== 0) {
    const reason = result.stderr.split('\n').find((l) => l.startsWith('dsod: ')) ?? result.stderr.trim().split('\n')[0] ?? `exit status ${result.code}`;
    void vscode.window.showErrorMessage(`DSOD: export to ${format.label} failed: ${reason.replace(/^dsod: /, '')}`);
    return undefined;
  }
  void vscode.window.showInformationMessage(`DSOD: ${format.label} model written to ${out}`, 'Reveal in Explorer').then((c) => {
    if (c) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(out));
  });
  return out;
}

function specOf(target: unknown): string | undefined {
  const uri = target instanceof vscode.Uri ? target : vscode.window.activeTextEditor?.document.uri;
  return uri && uri.scheme === 'file' && isSpecPath(uri.fsPath) ? uri.fsPath : undefined;
}

/** The extension's own runtime runs the bundled engine (ELECTRON_RUN_AS_NODE), as the run manager does. */
function runEngine(engine: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [engine, ...args],
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stderr: String(stderr) });
      },
    );
  });
}
