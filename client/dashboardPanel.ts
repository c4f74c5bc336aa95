// The run dashboard ("DSOD: Open Run..."): a webview per run folder that draws the run from its files and follows
// events.jsonl while it grows. Everything is rebuilt from the folder (engine/report/run-folder.ts), so the panel works
// when it is closed and reopened mid-run, when it is hidden (VS Code drops a hidden webview; the page says `ready`
// again and gets a fresh snapshot) and after a reload (the serializer gets the run folder from the page's state).
// The page is dist/webview/dashboard.js under a strict CSP; every message it posts is validated before use
// (dashboardMessages.ts), and its checkpoint buttons become `dsod.resumeRun` / `dsod.evaluate` of the run manager.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DashboardHostMessage, GalleryData } from '../protocol/dashboard';
import { RunFollower } from '../engine/report/follow';
import { dashboardHtml, DASHBOARD_VIEW_TYPE, makeNonce } from '../engine/report/html';
import { emptySnapshot, isRunFolder, listRuns, readArtifacts, readRunSnapshot } from '../engine/report/run-folder';
import { handleDashboardMessage, type DashboardHost } from './dashboardMessages';
import { runRoot } from './runRoot';
import { runLineText } from './runs/runText';

const OVERLAY_OPTIONS = { gallery: false } as const;

/** A run folder from a command argument: a path or a Uri (a file inside the run means its folder). */
function runDirOf(target: unknown): string | undefined {
  const p = target instanceof vscode.Uri ? (target.scheme === 'file' ? target.fsPath : undefined) : typeof target === 'string' ? target : undefined;
  if (!p) return undefined;
  const abs = path.resolve(p);
  return /\.(jsonl|json|html|yaml|dsodw)$/i.test(abs) ? path.dirname(abs) : abs;
}

export class DashboardPanels implements vscode.Disposable {
  private readonly panels = new Set<RunPanel>();

  /** The command, the serializer, and their disposal. */
  static register(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): DashboardPanels {
    const panels = new DashboardPanels(context.extensionUri, output);
    context.subscriptions.push(
      panels,
      vscode.commands.registerCommand('dsod.openRun', (target?: string | vscode.Uri) => panels.open(target)),
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => panels.revive(panel, state),
      }),
    );
    return panels;
  }

  private constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  get root(): vscode.Uri {
    return vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
  }

  /** Show a run (a folder path or Uri), or ask which one. */
  async open(target?: unknown): Promise<void> {
    const runDir = runDirOf(target) ?? (await this.pick());
    if (!runDir) return;
    const shown = this.find(runDir);
    if (shown) {
      shown.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      DASHBOARD_VIEW_TYPE,
      `Run: ${path.basename(runDir)}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [this.root] },
    );
    this.attach(panel, runDir);
  }

  find(runDir: string): RunPanel | undefined {
    return [...this.panels].find((p) => path.resolve(p.runDir ?? '') === path.resolve(runDir));
  }

  /** A panel VS Code restored after a reload: the run folder the page last showed. */
  private revive(panel: vscode.WebviewPanel, state: unknown): void {
    const saved = typeof state === 'object' && state !== null ? (state as { runDir?: unknown }).runDir : undefined;
    this.attach(panel, typeof saved === 'string' && path.isAbsolute(saved) ? saved : undefined);
  }

  private attach(panel: vscode.WebviewPanel, runDir: string | undefined): void {
    const p = new RunPanel(panel, runDir, this, this.output);
    this.panels.add(p);
    panel.onDidDispose(() => {
      p.dispose();
      this.panels.delete(p);
    });
  }

  /** The runs under the run root, newest first, with their name, step and mAP; "Browse..." for any folder. */
  private async pick(): Promise<string | undefined> {
    const root = runRoot();
    const runs = root?.scheme === 'file' ? await listRuns(root.fsPath) : [];
    type Item = vscode.QuickPickItem & { runDir?: string };
    const items: Item[] = runs.map((r) => ({
      label: r.name,
      description: `${path.basename(r.runDir)} · ${runLineText(r)}`,
      detail: r.runDir,
      runDir: r.runDir,
    }));
    items.push({ label: '$(folder-opened) Browse...', description: 'a run folder anywhere' });
    const chosen = await vscode.window.showQuickPick(items, {
      title: 'DSOD: Open Run',
      placeHolder: runs.length ? 'Runs, newest first' : root ? `No runs under ${root.fsPath} yet` : 'Open a folder, or browse to a run folder',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!chosen) return undefined;
    if (chosen.runDir) return chosen.runDir;
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, defaultUri: root, openLabel: 'Open Run' });
    return picked?.[0]?.fsPath;
  }

  dispose(): void {
    for (const p of this.panels) p.panel.dispose();
    this.panels.clear();
  }
}

/** One panel: the run it shows, its follower, and the page's messages. */
class RunPanel implements vscode.Disposable {
  private follower: RunFollower | null = null;
  private ready = false;
  private known: string[] = [];
  /** The gallery last sent: its images are not read again while the inference record is unchanged. */
  private gallery: GalleryData | null = null;
  /** Bumped on every (re)load, so answers of an older load are dropped. */
  private generation = 0;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    public runDir: string | undefined,
    private readonly owner: DashboardPanels,
    private readonly output: vscode.LogOutputChannel,
  ) {
    panel.webview.options = { enableScripts: true, localResourceRoots: [owner.root] };
    panel.webview.html = dashboardHtml({
      nonce: makeNonce(),
      title: 'DSOD Run',
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(owner.root, 'dashboard.js')).toString(),
    });
    this.setTitle(runDir ? path.basename(runDir) : undefined);
    panel.webview.onDidReceiveMessage(
      (raw: unknown) => void handleDashboardMessage(raw, this.host()).catch((e) => this.output.error(`run dashboard: ${e}`)),
      null,
      this.disposables,
    );
    // A hidden webview is dropped (no retainContextWhenHidden): stop following; the page's next `ready` starts again.
    panel.onDidChangeViewState(
      () => {
        if (!panel.visible) this.stopFollowing();
      },
      null,
      this.disposables,
    );
  }

  /** The run folder's name: unique, where two runs of one spec share the spec's name (shown in the page's header). */
  private setTitle(name: string | undefined): void {
    this.panel.title = name ? `Run: ${name}` : 'DSOD Run';
  }

  private post(m: DashboardHostMessage): void {
    void this.panel.webview.postMessage(m);
  }

  private stopFollowing(): void {
    this.follower?.dispose();
    this.follower = null;
    this.ready = false;
  }

  /** Read the folder, send it, and follow it from where the read ended. */
  private async load(): Promise<void> {
    const gen = ++this.generation;
    this.follower?.dispose();
    this.follower = null;
    const runDir = this.runDir;
    if (!runDir) {
      this.post({ type: 'status', message: 'Choose a run in the list below (or run DSOD: Open Run...).' });
      return;
    }
    let snapshot;
    try {
      snapshot = (await isRunFolder(runDir)) ? await readRunSnapshot(runDir) : emptySnapshot(runDir);
    } catch (e) {
      this.output.warn(`run dashboard: reading ${runDir}: ${(e as Error).message}`);
      snapshot = emptySnapshot(runDir);
    }
    if (gen !== this.generation || !this.ready) return;
    this.gallery = snapshot.gallery;
    this.setTitle(path.basename(snapshot.runDir));
    this.post({ type: 'snapshot', role: 'main', run: snapshot, live: true });
    this.follower = new RunFollower(runDir, snapshot.eventsBytes, {
      events: (events, skipped) => {
        this.post({ type: 'events', runDir, events, skipped });
        // The run list's state, step and mAP change when a process starts or ends or an evaluation is recorded.
        if (events.some((e) => e.type === 'start' || e.type === 'done' || e.type === 'metric')) void this.sendRuns();
      },
      artifacts: () => void this.sendArtifacts(runDir, gen),
      reset: () => void this.load(),
    });
  }

  private async sendArtifacts(runDir: string, gen: number): Promise<void> {
    const a = await readArtifacts(runDir, {}, this.gallery);
    this.gallery = a.gallery;
    if (gen === this.generation && this.ready) this.post({ type: 'artifacts', runDir, ...a });
  }

  private async sendRuns(): Promise<void> {
    const root = runRoot();
    const runs = root?.scheme === 'file' ? await listRuns(root.fsPath) : [];
    this.known = runs.map((r) => r.runDir);
    this.post({ type: 'runs', root: root?.scheme === 'file' ? root.fsPath : null, runs });
  }

  private host(): DashboardHost {
    return {
      currentRun: () => this.runDir,
      knownRuns: () => this.known,
      ready: () => {
        this.ready = true;
        void this.load();
        void this.sendRuns();
      },
      resume: async (runDir, checkpoint) => {
        await vscode.commands.executeCommand('dsod.resumeRun', { runDir, checkpoint });
      },
      evaluate: async (runDir, weights) => {
        await vscode.commands.executeCommand('dsod.evaluate', { runDir, weights });
      },
      open: async (runDir) => {
        const other = this.owner.find(runDir);
        if (other && other !== this) {
          other.panel.reveal();
          return;
        }
        this.runDir = runDir;
        await this.load();
      },
      overlay: async (runDir) => {
        try {
          const run = await readRunSnapshot(runDir, OVERLAY_OPTIONS);
          this.post({ type: 'snapshot', role: 'overlay', run, live: false });
        } catch (e) {
          this.post({ type: 'status', message: `Cannot compare with ${runDir}: ${(e as Error).message}` });
        }
      },
      listRuns: () => this.sendRuns(),
      rendered: (m) => this.output.trace(`run dashboard: drew ${m.events} events (step ${m.step ?? '-'}) in ${m.ms.toFixed(1)} ms`),
      log: (level, message) => this.output[level](message),
    };
  }

  dispose(): void {
    this.stopFollowing();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
