// What an edit costs, in the editor: "DSOD: Compare with HEAD" and "DSOD: Compare with..." (another spec file, or a git
// revision) send the other side's text to the language server (`dsod/baseline`, role `compare`), which puts the change
// per stage and scale in the report and colours the graph by change; both are opened beside the spec. The lens
// "+1.2M params vs HEAD" needs HEAD's text of every open spec (role `head`): read with git when a spec is opened, when
// it is saved and when the repository's HEAD moves (a commit), cached per file and HEAD commit so that a save costs one
// `git rev-parse`. Git runs only in a
// trusted workspace (a repository's configuration can run programs), as VS Code's own git support does.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { BaselineNotification, type BaselineParams } from '../protocol/lsp';
import { headCommit, readAtRevision, revisionProblem, type GitRead } from './gitRevision';
import { isSpecDocument } from './graphPanel';

const SPEC_GLOB = '**/*.dsod.{yaml,yml,json}';

/** HEAD's text of one file, as last read: the commit it was read at says whether it is still HEAD's. */
interface HeadText {
  commit: string | null;
  read: GitRead;
}

export class Compare implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** By file path. */
  private readonly heads = new Map<string, HeadText>();
  /** The documents whose HEAD text the server has (it forgets it when the document closes). */
  private readonly sent = new Set<string>();
  /** A burst of ref changes (a commit writes several files) looks at HEAD once. */
  private timer: NodeJS.Timeout | undefined;

  static register(context: vscode.ExtensionContext, client: LanguageClient, output: vscode.LogOutputChannel, started: Promise<void>): Compare {
    const c = new Compare(client, output);
    context.subscriptions.push(
      c,
      vscode.commands.registerCommand('dsod.compareWithHead', (target?: string | vscode.Uri) => c.compareWithRevision(target, 'HEAD')),
      vscode.commands.registerCommand('dsod.compareWith', (target?: string | vscode.Uri) => c.compareWith(target)),
      vscode.commands.registerCommand('dsod.stopComparing', (target?: string | vscode.Uri) => c.stop(target)),
    );
    void started.then(() => c.watch());
    return c;
  }

  private constructor(
    private readonly client: LanguageClient,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  /** After the server started: HEAD's text for every open spec, and again on open, save and trust. */
  private watch(): void {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => void this.updateHead(d, true)),
      vscode.workspace.onDidSaveTextDocument((d) => void this.updateHead(d, false)),
      vscode.workspace.onDidCloseTextDocument((d) => this.sent.delete(d.uri.toString())),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        for (const d of vscode.workspace.textDocuments) void this.updateHead(d, true);
      }),
    );
    // A commit, checkout or reset moves HEAD without a save: look again (one `git rev-parse` per open spec; the text
    // is read again only where the commit changed).
    const refs = vscode.workspace.createFileSystemWatcher('**/.git/{HEAD,packed-refs,refs/heads/**}');
    const moved = () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        for (const d of vscode.workspace.textDocuments) void this.updateHead(d, false);
      }, 300);
    };
    this.disposables.push(refs, refs.onDidChange(moved), refs.onDidCreate(moved), refs.onDidDelete(moved));
    for (const d of vscode.workspace.textDocuments) void this.updateHead(d, true);
  }

  private notify(p: BaselineParams): void {
    void this.client.sendNotification(BaselineNotification, p).catch((e) => this.output.warn(`dsod/baseline: ${(e as Error).message}`));
  }

  /** Read HEAD's text of a spec when HEAD moved (or it was never read) and give it to the server when it changed. */
  private async updateHead(doc: vscode.TextDocument, opened: boolean): Promise<void> {
    if (doc.uri.scheme !== 'file' || !isSpecDocument(doc) || !vscode.workspace.isTrusted) return;
    const file = doc.uri.fsPath;
    const uri = doc.uri.toString();
    const commit = await headCommit(file);
    let head = this.heads.get(file);
    const fresh = !head || head.commit !== commit || commit === null;
    if (fresh) {
      head = {
        commit,
        read: commit === null ? { ok: false, message: `${path.basename(file)} is not in a git repository with a commit.` } : await readAtRevision(file, 'HEAD'),
      };
      this.heads.set(file, head);
    }
    if (!fresh && !opened && this.sent.has(uri)) return; // the server has this HEAD's text already
    const text = head!.read.ok ? head!.read.text : null;
    if (text === null && !this.sent.has(uri)) return; // nothing to say: no lens either way
    this.notify({ uri, role: 'head', label: 'HEAD', text, fileName: file });
    if (text === null) this.sent.delete(uri);
    else this.sent.add(uri);
  }

  /** The spec to compare: the command's argument, else the active editor's spec (opened, so the server checks it). */
  private async target(target: string | vscode.Uri | undefined): Promise<vscode.TextDocument | undefined> {
    if (target) return vscode.workspace.openTextDocument(typeof target === 'string' ? vscode.Uri.parse(target) : target);
    const doc = vscode.window.activeTextEditor?.document;
    if (doc && isSpecDocument(doc)) return doc;
    void vscode.window.showInformationMessage('DSOD: open a *.dsod.yaml spec to compare it.');
    return undefined;
  }

  async compareWithRevision(target: string | vscode.Uri | undefined, revision: string): Promise<void> {
    const doc = await this.target(target);
    if (!doc) return;
    const name = path.basename(doc.uri.path);
    if (doc.uri.scheme !== 'file') {
      void vscode.window.showWarningMessage(`DSOD: ${name} is not a file on disk, so git has no revision of it.`);
      return;
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(`DSOD: comparing with a git revision runs git in this folder, which needs a trusted workspace.`);
      return;
    }
    const read = await readAtRevision(doc.uri.fsPath, revision);
    if (!read.ok) {
      void vscode.window.showWarningMessage(`DSOD: cannot compare ${name} with ${revision}: ${read.message}`);
      return;
    }
    await this.show(doc, { label: revision, text: read.text, fileName: doc.uri.fsPath });
  }

  /** "DSOD: Compare with...": another spec of the workspace, one browsed to, or a git revision of this one. */
  async compareWith(target: string | vscode.Uri | undefined): Promise<void> {
    const doc = await this.target(target);
    if (!doc) return;
    type Item = vscode.QuickPickItem & { pick: 'revision' | 'browse' | vscode.Uri };
    const others = (await vscode.workspace.findFiles(SPEC_GLOB, '**/node_modules/**', 200)).filter((u) => u.toString() !== doc.uri.toString());
    const items: Item[] = [
      { label: '$(git-commit) A git revision of this spec...', description: 'HEAD~1, a branch, a tag, a commit', pick: 'revision' },
      ...others.sort((a, b) => a.path.localeCompare(b.path)).map((u): Item => ({ label: `$(file) ${vscode.workspace.asRelativePath(u)}`, pick: u })),
      { label: '$(folder-opened) Browse...', description: 'a spec file anywhere', pick: 'browse' },
    ];
    const chosen = await vscode.window.showQuickPick(items, {
      title: `Compare ${path.basename(doc.uri.path)} with`,
      placeHolder: 'another spec, or a git revision of this one',
    });
    if (!chosen) return;
    if (chosen.pick === 'revision') {
      const revision = await vscode.window.showInputBox({
        title: 'Compare with a git revision',
        prompt: 'A revision of this spec: HEAD~1, a branch, a tag or a commit',
        value: 'HEAD~1',
        validateInput: (v) => revisionProblem(v.trim()),
      });
      if (revision) await this.compareWithRevision(doc.uri, revision.trim());
      return;
    }
    let other: vscode.Uri | undefined = chosen.pick === 'browse' ? undefined : chosen.pick;
    if (!other) {
      const picked = await vscode.window.showOpenDialog({
        canSelectMany: false,
        defaultUri: vscode.Uri.joinPath(doc.uri, '..'),
        filters: { 'DSOD spec': ['yaml', 'yml', 'json'] },
        openLabel: 'Compare',
      });
      other = picked?.[0];
      if (!other) return;
    }
    let text: string;
    try {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === other!.toString());
      text = open ? open.getText() : new TextDecoder('utf-8', { fatal: true }).decode(await vscode.workspace.fs.readFile(other));
    } catch (e) {
      void vscode.window.showWarningMessage(`DSOD: cannot read ${vscode.workspace.asRelativePath(other)}: ${(e as Error).message}`);
      return;
    }
    await this.show(doc, { label: vscode.workspace.asRelativePath(other), text, fileName: other.path });
  }

  /** Give the server the other side, then show the report (with the deltas) and the graph (coloured by change). */
  private async show(doc: vscode.TextDocument, side: { label: string; text: string; fileName: string }): Promise<void> {
    const uri = doc.uri.toString();
    this.notify({ uri, role: 'compare', ...side });
    this.output.info(`comparing ${uri} with ${side.label}`);
    await vscode.commands.executeCommand('dsod.showGraph', uri);
    await vscode.commands.executeCommand('dsod.showReport', uri);
  }

  async stop(target: string | vscode.Uri | undefined): Promise<void> {
    const doc = await this.target(target);
    if (doc) this.notify({ uri: doc.uri.toString(), role: 'compare', label: '', text: null, fileName: doc.uri.path });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
