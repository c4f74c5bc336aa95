// "DSOD: Export to Caffe": the spec's train, test and deploy prototxts and solver, written by the bundled engine
// (`dsod export --caffe SPEC --out FOLDER`, an argument array, never a shell) into a folder next to the spec or one
// the user picks. The engine writes all four files or none; its error (with the spec's line) is shown as it is.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isSpecDocument } from './graphPanel';
import { enginePath } from './runs/engineArgs';

/** What an export ended with (the command's result, for tests and callers). */
export interface CaffeExportResult {
  ok: boolean;
  folder: string | null;
  message: string;
}

/** The folder next to a spec: `dsod300.dsod.yaml` -> `dsod300-caffe`. */
export function besideFolder(specPath: string): string {
  const base = path.basename(specPath).replace(/\.dsod\.(ya?ml|json)$/i, '');
  return path.join(path.dirname(specPath), `${base}-caffe`);
}

export function registerCaffeExport(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dsod.exportCaffe', (target?: string | vscode.Uri, folder?: string) =>
      exportCaffe(context.extensionPath, output, target, folder),
    ),
  );
}

async function exportCaffe(extensionRoot: string, output: vscode.LogOutputChannel, target?: string | vscode.Uri, folder?: string): Promise<CaffeExportResult> {
  const uri = typeof target === 'string' ? vscode.Uri.parse(target) : (target ?? vscode.window.activeTextEditor?.document.uri);
  const doc = uri ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString()) : undefined;
  if (!uri || uri.scheme !== 'file' || (doc && !isSpecDocument(doc))) {
    const message = 'Export to Caffe: open a saved DSOD spec (*.dsod.yaml) first.';
    void vscode.window.showWarningMessage(message);
    return { ok: false, folder: null, message };
  }
  if (doc?.isDirty) {
    // The engine reads the file: what is exported must be what the editor shows.
    const save = 'Save and Export';
    const pick = folder ? save : await vscode.window.showWarningMessage('The spec has unsaved changes.', { modal: true }, save);
    if (pick !== save || !(await doc.save())) return { ok: false, folder: null, message: 'not saved' };
  }
  const spec = uri.fsPath;
  let out = folder;
  if (!out) {
    const beside = besideFolder(spec);
    const choice = await vscode.window.showQuickPick(
      [
        { label: `Next to the spec: ${path.basename(beside)}/`, description: path.dirname(beside), folder: beside },
        { label: 'Choose a folder…', folder: null },
      ],
      { title: 'Export to Caffe: where should the four files go?' },
    );
    if (!choice) return { ok: false, folder: null, message: 'cancelled' };
    out =
      choice.folder ??
      (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Export here' }))?.[0]?.fsPath;
    if (!out) return { ok: false, folder: null, message: 'cancelled' };
  }
  const run = await runEngine(extensionRoot, ['export', '--caffe', spec, '--out', out]);
  if (run.stderr) output.info(`dsod export --caffe ${spec}:\n${run.stderr.trimEnd()}`);
  if (run.code !== 0) {
    // The engine's first line, `<spec>:line:col: error: <why>`: the why first (a toast shows one line), then where.
    const first = (run.stderr.trim().split('\n')[0] ?? '').replace(/^dsod: /, '');
    const located = /^(.*?):(\d+):(\d+): error: (.*)$/.exec(first);
    const reason = located ? located[4].replace(/^Caffe cannot express this spec: /, '') : first;
    const why = located ? `${reason} (${path.basename(located[1])}:${located[2]}:${located[3]})` : reason;
    const message = `Caffe export failed: ${why || `exit status ${run.code}`}`;
    void vscode.window.showErrorMessage(message);
    return { ok: false, folder: out, message };
  }
  const message = `Exported ${path.basename(spec)} to Caffe: train, test, deploy and solver prototxts in ${out}.`;
  const warning = run.stderr.split('\n').find((l) => l.includes(': warning: '));
  void vscode.window
    .showInformationMessage(warning ? `${message} Note: ${warning.split(': warning: ')[1]}` : message, 'Open deploy.prototxt')
    .then((action) => {
      if (action) void vscode.window.showTextDocument(vscode.Uri.file(path.join(out, 'deploy.prototxt')));
    });
  return { ok: true, folder: out, message };
}

/** The bundled engine run to its end: exit status, stdout and stderr. */
function runEngine(extensionRoot: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [enginePath(extensionRoot), ...args], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', (e) => resolve({ code: null, stdout, stderr: `${stderr}${e.message}\n` }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
