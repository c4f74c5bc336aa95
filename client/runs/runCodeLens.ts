// The run code lens on a spec's first line: "Train · Evaluate · last run: 0.803 mAP" (beside the language server's
// totals lens). It reads the newest run folder of that spec under the run root (runFolders.ts: its status as the
// dashboard folds it, in the dashboard's words: runText.ts lastRunText), and while this window trains it, the live step
// instead. Train and Evaluate only in a trusted workspace.
import * as vscode from 'vscode';
import { formatExact } from '../../core/format';
import { RUN_FILES } from '../../protocol/run-files';
import { runRoot } from '../runRoot';
import { isSpecPath, runsOfSpec } from './runFolders';
import { lastRunText } from './runText';
import type { RunManager } from './runManager';

/** Lens refreshes while a run makes progress, at most this often. */
const REFRESH_MS = 2_000;

export class RunCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private watcher: vscode.FileSystemWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The run folders running when the lens was last told (a change refreshes it at once). */
  private running = '';

  static register(context: vscode.ExtensionContext, manager: RunManager): RunCodeLens {
    const lens = new RunCodeLens(manager);
    context.subscriptions.push(
      lens,
      vscode.languages.registerCodeLensProvider([{ language: 'dsod', scheme: 'file' }, { pattern: '**/*.dsod.json', scheme: 'file' }], lens),
    );
    return lens;
  }

  constructor(private readonly manager: RunManager) {
    this.disposables.push(
      manager.onDidChangeRuns(() => {
        // A run that starts or ends changes the lens at once (Train / Stop, "last run: ..."); progress at most every REFRESH_MS.
        const running = manager.active.map((r) => r.runDir).join('\n');
        if (running === this.running) return this.refreshSoon();
        this.running = running;
        this.refreshNow();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('dsod.runs.root') || e.affectsConfiguration('dsod.codeLens')) {
          this.watch();
          this.changed.fire();
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
    );
    this.watch();
  }

  /**
   * Runs made elsewhere (the CLI, another window) show up when their metrics.json or weights change, or a training
   * takes or leaves its lock.
   */
  private watch(): void {
    this.watcher?.dispose();
    const root = runRoot();
    if (!root) return;
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(root, `*/{${RUN_FILES.metrics},${RUN_FILES.weights},${RUN_FILES.lock}}`));
    this.watcher.onDidCreate(() => this.refreshSoon());
    this.watcher.onDidChange(() => this.refreshSoon());
    this.watcher.onDidDelete(() => this.refreshSoon());
  }

  private refreshNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.changed.fire();
  }

  private refreshSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.changed.fire();
    }, REFRESH_MS);
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (document.uri.scheme !== 'file' || !isSpecPath(document.uri.fsPath)) return [];
    if (!vscode.workspace.getConfiguration('dsod', document.uri).get<boolean>('codeLens', true)) return [];
    const spec = document.uri.fsPath;
    const range = new vscode.Range(0, 0, 0, 0);
    const lenses: vscode.CodeLens[] = [];
    const trusted = vscode.workspace.isTrusted;
    const root = runRoot();
    const runs = root?.scheme === 'file' ? await runsOfSpec(root.fsPath, spec) : [];
    const newest = runs[0];
    const live = newest ? this.manager.activeRun(newest.runDir) : undefined;
    if (trusted) {
      if (live) {
        lenses.push(new vscode.CodeLens(range, { title: '$(debug-stop) Stop', command: 'dsod.stopRun', arguments: [newest.runDir], tooltip: 'Stop the run (it writes a checkpoint first)' }));
      } else {
        lenses.push(new vscode.CodeLens(range, { title: '$(play) Train', command: 'dsod.train', arguments: [document.uri], tooltip: 'Train this spec in a new run folder' }));
      }
      if (runs.length) lenses.push(new vscode.CodeLens(range, { title: 'Evaluate', command: 'dsod.evaluate', arguments: [document.uri], tooltip: "Evaluate a run's weights on the held-out images" }));
    }
    if (newest) {
      let title: string;
      if (live) {
        const p = this.manager.latestProgress(live);
        title = live.command === 'train' ? (p ? `training: step ${formatExact(p.step)}/${formatExact(p.steps)} · loss ${p.loss.toFixed(3)}` : 'training: starting') : `${live.command === 'eval' ? 'evaluating' : 'running inference'}…`;
      } else {
        title = lastRunText(newest);
      }
      lenses.push(new vscode.CodeLens(range, { title, command: 'dsod.openRun', arguments: [newest.runDir], tooltip: `Open ${newest.runDir}` }));
    }
    return lenses;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
