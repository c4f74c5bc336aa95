// `DSOD: Show Default Boxes` (issue 13, item 2): the "Default boxes" view of a spec. Only in a trusted workspace: the
// engine process (`dsod priors --view --suggest`, the bundled dist/dsod.js, an argument array, never a shell) reads
// the spec's dataset and measures; this host validates what it prints (protocol/priors.ts) and forwards it to the
// page; the language server never reads datasets. The page's "Apply" becomes a WorkspaceEdit of the spec (undoable).
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { protocolMismatch } from '../protocol/checks';
import {
  PRIORS_PROTOCOL_VERSION,
  validatePriorsViewData,
  validatePriorsWebviewMessage,
  type PriorsHostMessage,
  type PriorsViewData,
  type PriorsWebviewMessage,
} from '../protocol/priors';
import { makeNonce, pageHtml, scriptTag } from '../webview/page-html';
import { runRoot } from './runRoot';

export const PRIORS_VIEW_TYPE = 'dsod.priors';
const MAX_OUTPUT = 32 * 1024 * 1024;
export const PRIORS_TRUST_MESSAGE =
  'DSOD: the default-box view is disabled in Restricted Mode: it runs the engine on this folder to read the spec’s dataset. Trust the workspace to use it.';

export class PriorsPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  private readonly renderedEmitter = new vscode.EventEmitter<Extract<PriorsWebviewMessage, { type: 'rendered' }>>();
  /** Fires after each drawing of the page (tests wait for it). */
  readonly onDidRender = this.renderedEmitter.event;

  private constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly output?: vscode.LogOutputChannel,
  ) {}

  static register(context: vscode.ExtensionContext, output?: vscode.LogOutputChannel): PriorsPanels {
    const panels = new PriorsPanels(context.extensionUri, output);
    context.subscriptions.push(
      panels,
      vscode.commands.registerCommand('dsod.showPriors', (uri?: vscode.Uri) => panels.show(uri)),
    );
    return panels;
  }

  async show(target?: vscode.Uri): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(PRIORS_TRUST_MESSAGE);
      return;
    }
    const uri = target ?? vscode.window.activeTextEditor?.document.uri;
    if (!uri || uri.scheme !== 'file') {
      void vscode.window.showInformationMessage('DSOD: open a saved *.dsod.yaml spec to see its default boxes against its dataset.');
      return;
    }
    const key = uri.toString();
    let panel = this.panels.get(key);
    if (panel) panel.reveal(undefined, true);
    else {
      const root = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
      panel = vscode.window.createWebviewPanel(
        PRIORS_VIEW_TYPE,
        `Default boxes: ${path.basename(uri.fsPath)}`,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: true, localResourceRoots: [root] },
      );
      const nonce = makeNonce();
      panel.webview.html = pageHtml({
        title: 'DSOD Default boxes',
        nonce,
        images: 'data:',
        body: scriptTag(nonce, panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'priors.js')).toString()),
      });
      this.panels.set(key, panel);
      const p = panel;
      let data: PriorsViewData | null = null;
      const post = (m: PriorsHostMessage) => void p.webview.postMessage(m);
      const measure = async () => {
        post({ type: 'status', message: 'Measuring the default boxes against the dataset…' });
        const result = await this.measure(uri);
        if ('error' in result) post({ type: 'status', message: result.error });
        else {
          data = result.data;
          post({ type: 'priors', data });
        }
      };
      p.webview.onDidReceiveMessage(async (raw: unknown) => {
        const checked = validatePriorsWebviewMessage(raw);
        if (!checked.ok) {
          this.output?.warn(`default-box view: refused a malformed message (${checked.error})`);
          return;
        }
        const m = checked.message;
        if (m.type === 'ready') {
          const mismatch = protocolMismatch('default-box page', m.protocol, PRIORS_PROTOCOL_VERSION);
          if (mismatch) return this.output?.error(`default-box view: ${mismatch}`);
          await measure();
        } else if (m.type === 'apply') {
          if (data?.suggestion?.improved && !data.suggestion.error && (await this.apply(uri, data))) await measure();
        } else if (m.type === 'rendered') this.renderedEmitter.fire(m);
        else this.output?.[m.level](`default-box view: ${m.message}`);
      });
      p.onDidDispose(() => {
        if (this.panels.get(key) === p) this.panels.delete(key);
      });
    }
  }

  /** Run the engine on the spec; its JSON, validated, or what to tell the user. */
  private measure(uri: vscode.Uri): Promise<{ data: PriorsViewData } | { error: string }> {
    const engine = vscode.Uri.joinPath(this.extensionUri, 'dist', 'dsod.js').fsPath;
    const runs = runRoot();
    const args = [engine, 'priors', uri.fsPath, '--view', '--suggest', ...(runs ? ['--cache', path.join(runs.fsPath, '.cache', 'priors')] : [])];
    const cwd = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? path.dirname(uri.fsPath);
    this.output?.info(`default-box view: ${[process.execPath, ...args].join(' ')}`);
    return new Promise((resolve) => {
      const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        if (out.length > MAX_OUTPUT) child.kill();
      });
      child.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-16384)));
      child.on('error', (e) => resolve({ error: `The engine could not start: ${e.message}` }));
      child.on('close', (code) => {
        if (code !== 0) {
          this.output?.warn(`default-box view: dsod priors exited ${code}: ${err}`);
          return resolve({ error: `dsod priors could not measure this spec: ${err.trim().replace(/^dsod: /, '') || `exit status ${code}`}` });
        }
        let raw: unknown;
        try {
          raw = JSON.parse(out);
        } catch {
          return resolve({ error: 'dsod priors printed something that is not JSON (see the DSOD Studio output).' });
        }
        const checked = validatePriorsViewData(raw);
        if (!checked.ok) {
          this.output?.error(`default-box view: refused the engine's output (${checked.error})`);
          return resolve({ error: `The engine's answer was refused: ${checked.error}` });
        }
        resolve({ data: checked.message });
      });
    });
  }

  /** The suggestion's edits as one WorkspaceEdit of the spec (undo takes it back). */
  private async apply(uri: vscode.Uri, data: PriorsViewData): Promise<boolean> {
    // The edits are placed in the file as the engine read it: unsaved changes would move them.
    if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString() && d.isDirty)) {
      void vscode.window.showWarningMessage('DSOD: save the spec first: the suggestion was measured on the saved file.');
      return false;
    }
    const edit = new vscode.WorkspaceEdit();
    for (const e of data.suggestion!.edits) edit.replace(uri, new vscode.Range(e.start.line, e.start.character, e.end.line, e.end.character), e.newText);
    const ok = await vscode.workspace.applyEdit(edit);
    if (!ok) {
      void vscode.window.showErrorMessage('DSOD: the default-box suggestion could not be applied to the spec.');
      return false;
    }
    // The engine reads the file: save it so that the view measures what the editor shows.
    const doc = await vscode.workspace.openTextDocument(uri);
    await doc.save();
    return true;
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    this.panels.clear();
    this.renderedEmitter.dispose();
  }
}
