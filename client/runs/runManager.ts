// The run manager: "DSOD: Train", "DSOD: Evaluate", "DSOD: Run Inference", "DSOD: Stop Run", "DSOD: Resume Run".
// A run is the engine as a child process (engineProcess.ts: the extension's own runtime with dist/dsod.js and an
// argument array, events read from stdout), one run folder per run under the run root (runRoot.ts). Progress the VS
// Code way: a notification with Cancel (a graceful stop that writes a checkpoint, forced after a timeout), a status bar
// item (step, loss, ETA; click = the dashboard), the whole log in the "DSOD Runs" output channel, errors as
// notifications with "Open Log", and a diagnostic where an error points into a spec. What a run will cost (steps,
// images per second measured in its first steps, time to the end) is said as soon as it is measured.
//
// Workspace trust: a run executes the engine on the workspace's specs and data, so every run command refuses in a
// restricted workspace and says why (the language features keep working). No modal dialogs: quick picks only.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { formatDuration, formatExact } from '../../core/format';
import { splitLines } from '../../core/spec/lines';
import { readRunStatus } from '../../engine/report/run-folder';
import type { EngineCommand, EngineEvent, ErrorEvent, ProgressEvent } from '../../protocol/engine-events';
import { checkpointOfName, RUN_FILES } from '../../protocol/run-files';
import { runRoot } from '../runRoot';
import { enginePath, evalArgs, inferArgs, trainArgs } from './engineArgs';
import { ENGINE_SETTING, engineOption, EngineUnavailableError, findTorchOnce, resolveEngine, resumeEngine, type EngineResolution } from './engineChoice';
import type { EngineResult } from './engineProcess';
import { isImagePath, isSpecPath, listRuns, newRunDir, runsOfSpec, specOfRun, testImagesOfSpec, weightsOfRun, type RunStatus } from './runFolders';
import { CostMeter, eventLine, metricLabel, parseWhere, progressText, runLineText } from './runText';
import { RunBusyError, RunSupervisor, type ActiveRun } from './supervisor';

/** A Cancel or "DSOD: Stop Run" waits this long for the checkpoint before it kills the engine. */
export const STOP_TIMEOUT_MS = 30_000;
/** On deactivation (window closed, reload) VS Code gives the host a few seconds: stop, then kill, within them. */
export const DEACTIVATE_TIMEOUT_MS = 4_000;
/** Images "Run Inference" on a spec takes from its held-out split, at most. */
export const INFER_DEFAULT_LIMIT = 200;
/** Progress lines in the log: every step at first, then one every few seconds (events.jsonl keeps them all). */
const LOG_PROGRESS_EVERY_MS = 2_000;
const SHOW_COST_MS = 15_000;

export const TRUST_MESSAGE =
  'DSOD: runs are disabled in Restricted Mode. Training, evaluation and inference execute the engine on this folder\'s specs and data; trust the workspace to use them. Diagnostics, hovers and the graph keep working.';

const VERBS: Record<EngineCommand, string> = { train: 'Training', eval: 'Evaluating', infer: 'Running inference with' };

type RunArg = { runDir: string; checkpoint?: string; weights?: string; inputs?: string[] };

function isRunArg(x: unknown): x is RunArg {
  return typeof x === 'object' && x !== null && !(x instanceof vscode.Uri) && typeof (x as RunArg).runDir === 'string';
}

function asPath(x: unknown): string | undefined {
  if (x instanceof vscode.Uri) return x.scheme === 'file' ? x.fsPath : undefined;
  if (typeof x === 'string') return x.startsWith('file:') ? vscode.Uri.parse(x).fsPath : x;
  return undefined;
}

/** What one running process shows: its notification, the status bar, the log. */
interface RunView {
  run: ActiveRun;
  label: string;
  cost: CostMeter;
  costText: string | null;
  costShownUntil: number;
  lastProgress: ProgressEvent | null;
  lastLoggedProgress: number;
  reportedErrors: number;
  progress?: vscode.Progress<{ message?: string; increment?: number }>;
  percent: number;
  stopping: boolean;
  opened: boolean;
}

export class RunManager implements vscode.Disposable {
  private readonly supervisor: RunSupervisor;
  readonly output: vscode.OutputChannel;
  private readonly diagnostics: vscode.DiagnosticCollection;
  private readonly status: vscode.StatusBarItem;
  private readonly views = new Map<ActiveRun, RunView>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a run starts, ends or makes progress (throttled by listeners). */
  readonly onDidChangeRuns = this.changed.event;
  private statusTimer: NodeJS.Timeout | undefined;
  /** The `dsod.runActive` context key (menus show Stop while a run is running). */
  private contextActive = false;
  private shuttingDown: Promise<void> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** The status bar message of the last run that ended ("stopped at step 14"): gone when the next run starts. */
  private endMessage: vscode.Disposable | undefined;

  constructor(private readonly extensionRoot: string) {
    this.supervisor = new RunSupervisor({ enginePath: enginePath(extensionRoot) });
    this.output = vscode.window.createOutputChannel('DSOD Runs');
    this.diagnostics = vscode.languages.createDiagnosticCollection('dsod-runs');
    this.status = vscode.window.createStatusBarItem('dsod.run', vscode.StatusBarAlignment.Left, 50);
    this.status.name = 'DSOD run';
    this.supervisor.onStart(() => this.changed.fire());
    this.supervisor.onEnd((run, result) => this.ended(run, result));
    this.disposables.push(this.output, this.diagnostics, this.status, this.changed);
  }

  static register(context: vscode.ExtensionContext): RunManager {
    const m = new RunManager(context.extensionPath);
    const cmd = (id: string, f: (...args: unknown[]) => Promise<unknown>) =>
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await f(...args);
        } catch (e) {
          m.fail(e);
          return undefined;
        }
      });
    context.subscriptions.push(
      m,
      cmd('dsod.train', (a, b) => m.train(a, b)),
      cmd('dsod.evaluate', (a, b) => m.evaluate(a, b)),
      cmd('dsod.runInference', (a, b) => m.runInference(a, b)),
      cmd('dsod.stopRun', (a) => m.stopRun(a)),
      cmd('dsod.resumeRun', (a) => m.resumeRun(a)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => m.changed.fire()),
    );
    return m;
  }

  /** The runs this window has running. */
  get active(): readonly ActiveRun[] {
    return this.supervisor.runs;
  }

  /** The running process of a run folder, if any. */
  activeRun(runDir: string): ActiveRun | undefined {
    return this.supervisor.get(runDir);
  }

  latestProgress(run: ActiveRun): ProgressEvent | null {
    return this.views.get(run)?.lastProgress ?? null;
  }

  // ---- commands ----

  /** "DSOD: Train" on a spec (the argument, else the active editor's): a new run folder under the run root. */
  async train(target?: unknown, _all?: unknown): Promise<string | undefined> {
    if (!this.trusted()) return undefined;
    const spec = await this.specTarget(target, 'train');
    if (!spec) return undefined;
    const root = this.root();
    if (!root) return undefined;
    const runDir = newRunDir(root, spec);
    this.launch('train', runDir, spec, trainArgs({ spec, runDir }));
    return runDir;
  }

  /**
   * "DSOD: Resume Run": continue a run from its last checkpoint (`{ runDir }`), or from a chosen one
   * (`{ runDir, checkpoint }`: `dsod train --from`). Without an argument: the newest run of the active spec, else a pick.
   */
  async resumeRun(target?: unknown): Promise<string | undefined> {
    if (!this.trusted()) return undefined;
    let run: RunStatus | null | undefined;
    let checkpoint: string | undefined;
    if (isRunArg(target)) {
      run = await this.runAt(target.runDir);
      checkpoint = target.checkpoint;
    } else {
      const path = asPath(target) ?? this.activeSpecPath();
      run = path && !isSpecPath(path) ? await readRunStatus(path) : null;
      run ??= await this.pickRun({ spec: path && isSpecPath(path) ? path : undefined, purpose: 'resume', newestOfSpec: true, needs: 'checkpoint' });
    }
    if (!run) return undefined;
    if (!run.checkpoints.length && !checkpoint) {
      void vscode.window.showWarningMessage(`DSOD: ${basename(run.runDir)} has no checkpoint to resume from yet.`);
      return undefined;
    }
    const spec = specOfRun(run);
    if (!spec) throw new Error(`${run.runDir} does not say which spec it trained (no events, no ${RUN_FILES.spec})`);
    // The engine that wrote the checkpoint reads it back: a torch run resumes on torch even with dsod.engine = tfjs.
    const runEngine = (checkpoint ? checkpointOfName(basename(checkpoint))?.engine : undefined) ?? run.engine;
    let choice: EngineResolution;
    try {
      choice = resumeEngine(runEngine, this.engineSetting(), findTorchOnce);
    } catch (e) {
      if (!(e instanceof EngineUnavailableError)) throw e;
      this.log(basename(run.runDir), `not resumed: ${e.message}`);
      void vscode.window
        .showErrorMessage(`DSOD: cannot resume ${basename(run.runDir)}: ${e.message}`, 'Open Log')
        .then((c) => c && this.output.show(true));
      return undefined;
    }
    this.launch('train', run.runDir, spec, trainArgs({ spec, runDir: run.runDir, resume: !checkpoint, from: checkpoint }), choice);
    return run.runDir;
  }

  /**
   * "DSOD: Evaluate": `dsod eval --run RUNDIR [--weights W]`, its events in the run folder. `{ runDir, weights }` from
   * the dashboard; a spec (or none: the active one) picks among its runs, newest first; a run folder is used as it is.
   */
  async evaluate(target?: unknown, _all?: unknown): Promise<string | undefined> {
    if (!this.trusted()) return undefined;
    let run: RunStatus | null | undefined;
    let weights: string | undefined;
    if (isRunArg(target)) {
      run = await this.runAt(target.runDir);
      weights = target.weights ?? target.checkpoint;
    } else {
      const path = asPath(target) ?? this.activeSpecPath();
      run = path && !isSpecPath(path) ? await readRunStatus(path) : null;
      run ??= await this.pickRun({ spec: path && isSpecPath(path) ? path : undefined, purpose: 'evaluate', needs: 'weights' });
    }
    if (!run) return undefined;
    if (!weights && !weightsOfRun(run)) {
      void vscode.window.showWarningMessage(`DSOD: ${basename(run.runDir)} has no weights yet: train it until its first checkpoint.`);
      return undefined;
    }
    const spec = specOfRun(run);
    this.launch('eval', run.runDir, spec, evalArgs({ spec: this.originalSpec(run), runDir: run.runDir, weights }));
    return run.runDir;
  }

  /**
   * "DSOD: Run Inference" on a spec (its held-out images), on image files or folders (explorer, several at once), or
   * `{ runDir, inputs }`: `dsod infer --run RUNDIR <images>`, detections in RUNDIR/inference/.
   */
  async runInference(target?: unknown, all?: unknown): Promise<string | undefined> {
    if (!this.trusted()) return undefined;
    let run: RunStatus | undefined;
    let inputs: string[];
    if (isRunArg(target)) {
      run = await this.runAt(target.runDir);
      inputs = target.inputs ?? [];
    } else {
      const paths = (Array.isArray(all) && all.length ? all : [target]).map(asPath).filter((p): p is string => !!p);
      if (!paths.length) {
        const active = this.activeSpecPath() ?? this.activeImagePath();
        if (active) paths.push(active);
      }
      const specs = paths.filter(isSpecPath);
      const media = paths.filter((p) => !isSpecPath(p));
      if (specs.length > 1) throw new Error('run inference on one spec at a time');
      run = await this.pickRun({ spec: specs[0], purpose: 'run inference with', needs: 'weights' });
      if (!run) return undefined;
      inputs = media;
    }
    if (!run) return undefined;
    if (!weightsOfRun(run)) {
      void vscode.window.showWarningMessage(`DSOD: ${basename(run.runDir)} has no weights yet: train it until its first checkpoint.`);
      return undefined;
    }
    if (!inputs.length) {
      const spec = this.originalSpec(run) ?? specOfRun(run);
      if (!spec) throw new Error(`${run.runDir}: no spec, so no held-out images: run inference on image files or folders`);
      const test = testImagesOfSpec(spec, INFER_DEFAULT_LIMIT);
      inputs = test.images;
      this.log(
        basename(run.runDir),
        `inference on ${test.images.length}${test.total > test.images.length ? ` of the ${test.total}` : ''} held-out images (${test.source})`,
      );
    }
    this.launch('infer', run.runDir, specOfRun(run), inferArgs({ spec: this.originalSpec(run), runDir: run.runDir, inputs: inputs.map((p) => resolve(p)) }));
    return run.runDir;
  }

  /** "DSOD: Stop Run": a run folder (string, Uri or `{ runDir }`), else the only running run, else a pick. */
  async stopRun(target?: unknown): Promise<EngineResult | undefined> {
    const path = isRunArg(target) ? target.runDir : asPath(target);
    let run = path ? this.supervisor.get(path) : undefined;
    if (!run) {
      const runs = this.supervisor.runs;
      if (!runs.length) {
        void vscode.window.showInformationMessage('DSOD: no run is running in this window.');
        return undefined;
      }
      if (runs.length === 1) run = runs[0];
      else {
        const picked = await vscode.window.showQuickPick(
          runs.map((r) => ({ label: basename(r.runDir), description: `${r.command}${this.progressOf(r)}`, detail: r.runDir, run: r })),
          { title: 'DSOD: Stop Run', placeHolder: 'Which run to stop (it writes a checkpoint first)' },
        );
        run = picked?.run;
      }
    }
    if (!run) return undefined;
    return this.stop(run);
  }

  /** Stop gracefully (checkpoint), then by force after STOP_TIMEOUT_MS. */
  stop(run: ActiveRun, timeoutMs = STOP_TIMEOUT_MS): Promise<EngineResult> {
    const view = this.views.get(run);
    if (view && !view.stopping) {
      view.stopping = true;
      view.progress?.report({ message: run.command === 'train' ? 'stopping: writing a checkpoint…' : 'stopping…' });
      this.log(view.label, `stop requested: SIGINT${run.command === 'train' ? ' (the engine writes a checkpoint, then exits)' : ''}; killed if still running in ${timeoutMs / 1000} s`);
      this.updateStatus();
    }
    return run.process.stop(timeoutMs);
  }

  // ---- starting a process and following it ----

  /** dsod.engine: tfjs, torch, or auto (torch where a Python with PyTorch is found). */
  private engineSetting(): string {
    return vscode.workspace.getConfiguration('dsod').get<string>(ENGINE_SETTING, 'tfjs');
  }

  /** `engine`: decided by the caller (a resumed run keeps its engine), else the setting's. */
  private launch(command: EngineCommand, runDir: string, spec: string | null, commandArgs: string[], engineChoice?: EngineResolution): ActiveRun {
    const engine = enginePath(this.extensionRoot);
    if (!existsSync(engine)) throw new Error(`the engine is missing from the extension (${engine}): reinstall DSOD Studio`);
    const choice = engineChoice ?? resolveEngine(this.engineSetting(), findTorchOnce);
    const args = [...commandArgs, ...engineOption(choice.engine)];
    let run: ActiveRun;
    try {
      run = this.supervisor.start(runDir, { command, args, cwd: this.cwd(spec ?? runDir) });
    } catch (e) {
      if (e instanceof RunBusyError) {
        void vscode.window.showWarningMessage(`DSOD: ${e.message}`);
      }
      throw e instanceof RunBusyError ? new HandledError(e.message) : e;
    }
    this.diagnostics.clear();
    this.endMessage?.dispose();
    this.endMessage = undefined;
    const label = `${basename(runDir)}${command === 'train' ? '' : ` ${command}`}`;
    const view: RunView = {
      run,
      label,
      cost: new CostMeter(),
      costText: null,
      costShownUntil: 0,
      lastProgress: null,
      lastLoggedProgress: 0,
      reportedErrors: 0,
      percent: 0,
      stopping: false,
      opened: false,
    };
    this.views.set(run, view);
    const proc = run.process;
    this.log(label, `$ ${proc.execPath} ${proc.argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
    this.log(label, `pid ${proc.pid ?? '-'}, run folder ${run.runDir}; engine ${choice.engine} (${choice.why})`);
    // In --json mode the engine repeats each error on stderr for people reading a terminal: logged once here.
    const errorsSeen = new Set<string>();
    proc.onLog((level, line) => {
      if (errorsSeen.has(line)) return;
      this.log(label, `${level === 'warn' ? '' : `${level}: `}${line}`);
    });
    proc.onEvent((e) => {
      if (e.type === 'error') errorsSeen.add(`dsod: ${e.where ? `${e.where}: ` : ''}${e.message}`);
      this.onEvent(view, e);
    });
    // eval and infer work on an existing run folder: show it at once; a training run once the engine accepted it.
    if (command !== 'train') this.openDashboard(view);
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `DSOD: ${VERBS[command]} ${basename(runDir)}`, cancellable: true },
      (progress, token) => {
        view.progress = progress;
        progress.report({ message: 'starting the engine…' });
        token.onCancellationRequested(() => void this.stop(run));
        return proc.result;
      },
    );
    this.updateStatus();
    this.changed.fire();
    return run;
  }

  private onEvent(view: RunView, e: EngineEvent): void {
    const { label } = view;
    if (e.type === 'progress') {
      view.lastProgress = e;
      const now = Date.now();
      if (e.step <= (view.cost.value ? 0 : 10) || now - view.lastLoggedProgress >= LOG_PROGRESS_EVERY_MS || e.step === e.steps) {
        view.lastLoggedProgress = now;
        this.log(label, eventLine(e));
      }
    } else {
      this.log(label, eventLine(e));
    }
    const cost = view.cost.add(e);
    switch (e.type) {
      case 'start':
        if (e.command === 'train') {
          view.percent = e.steps ? (100 * e.step) / e.steps : 0;
          view.progress?.report({ increment: view.percent, message: CostMeter.before(e) });
          this.log(label, `cost: ${CostMeter.before(e)}`);
        }
        this.openDashboard(view);
        break;
      case 'progress': {
        const pct = e.steps ? (100 * Math.min(e.step, e.steps)) / e.steps : 0;
        const increment = Math.max(0, pct - view.percent);
        view.percent = Math.max(view.percent, pct);
        if (cost) {
          view.costText = cost.text;
          view.costShownUntil = Date.now() + SHOW_COST_MS;
          this.log(label, `cost: ${cost.text}`);
        }
        const message = view.stopping
          ? 'stopping: writing a checkpoint…'
          : Date.now() < view.costShownUntil && view.costText
            ? `${view.costText}`
            : progressText(e);
        view.progress?.report({ increment, message });
        this.scheduleStatus();
        break;
      }
      case 'checkpoint':
        if (view.stopping) view.progress?.report({ message: `checkpoint written at step ${e.step}` });
        break;
      case 'metric':
        view.progress?.report({ message: `${metricLabel(e.metric)} ${e.value.toFixed(3)}${e.step !== null ? ` at step ${e.step}` : ''}` });
        this.changed.fire();
        break;
      case 'error':
        this.reportError(view, e);
        break;
    }
  }

  private ended(run: ActiveRun, result: EngineResult): void {
    const view = this.views.get(run);
    this.views.delete(run);
    const label = view?.label ?? basename(run.runDir);
    this.log(label, `${result.status}: ${result.message} (exit ${result.exitCode ?? result.signal ?? '?'})`);
    if (result.status === 'failed' && !this.shuttingDown) {
      // Errors the engine reported were shown when they came; a process that died without one is shown here.
      if (!view?.reportedErrors) this.showError(`DSOD: ${run.command} of ${basename(run.runDir)} failed: ${result.message}`, run.runDir);
    } else if (result.status === 'completed' && !this.shuttingDown) {
      const m = result.done?.metric;
      const what = run.command === 'train' ? `trained to step ${result.done?.step ?? '?'}` : run.command === 'eval' ? 'evaluated' : 'inference done';
      this.showEndMessage(`$(check) DSOD: ${basename(run.runDir)} ${what}${m ? ` · ${metricLabel(m.metric)} ${m.value.toFixed(3)}` : ''}`);
    } else if (result.status === 'stopped' && result.forced && !this.shuttingDown) {
      void vscode.window.showWarningMessage(`DSOD: ${basename(run.runDir)} ${result.message}.`, 'Open Log').then((c) => c && this.output.show(true));
    } else if (result.status === 'stopped' && !this.shuttingDown) {
      this.showEndMessage(`$(debug-pause) DSOD: ${basename(run.runDir)} ${result.message}`);
    }
    this.updateStatus();
    this.changed.fire();
  }

  private showEndMessage(text: string): void {
    this.endMessage?.dispose();
    this.endMessage = vscode.window.setStatusBarMessage(text, 15_000);
  }

  private reportError(view: RunView, e: ErrorEvent): void {
    const where = parseWhere(e.where);
    if (where) this.addDiagnostic(view, e, where);
    if (this.shuttingDown) return;
    if (e.fatal) {
      view.reportedErrors++;
      this.showError(`DSOD: ${view.run.command} failed: ${e.message}`, view.run.runDir, where ? e.where : null);
    } else {
      void vscode.window.showWarningMessage(`DSOD: ${e.message}`, 'Open Log').then((c) => c && this.output.show(true));
    }
  }

  private showError(message: string, runDir: string, where: string | null = null): void {
    const actions = ['Open Log', ...(where ? ['Go to Error'] : []), ...(existsSync(runDir) ? ['Open Run'] : [])];
    void vscode.window.showErrorMessage(message, ...actions).then(async (c) => {
      if (c === 'Open Log') this.output.show(true);
      if (c === 'Open Run') await this.openRunCommand(runDir);
      if (c === 'Go to Error' && where) {
        const w = parseWhere(where)!;
        const pos = new vscode.Position(w.line - 1, w.column - 1);
        await vscode.window.showTextDocument(vscode.Uri.file(this.absolute(w.file, runDir)), { selection: new vscode.Range(pos, pos) });
      }
    });
  }

  /** A diagnostic at the spec location an error names (cleared when the next run starts). */
  private addDiagnostic(view: RunView, e: ErrorEvent, where: { file: string; line: number; column: number }): void {
    const file = this.absolute(where.file, view.run.process.start?.spec ? dirname(view.run.process.start.spec) : this.cwd(view.run.runDir));
    if (!existsSync(file)) return;
    const line = where.line - 1;
    const col = where.column - 1;
    let end = col;
    try {
      const text = splitLines(readFileSync(file, 'utf8'))[line] ?? '';
      const token = /^[^\s:,{}[\]#]+/.exec(text.slice(col));
      end = col + (token ? token[0].length : Math.max(0, text.length - col));
    } catch {
      // the range stays empty: VS Code shows it at the position
    }
    const d = new vscode.Diagnostic(new vscode.Range(line, col, line, Math.max(end, col)), e.message, vscode.DiagnosticSeverity.Error);
    d.source = `dsod ${view.run.command}`;
    d.code = e.code;
    const uri = vscode.Uri.file(file);
    this.diagnostics.set(uri, [...(this.diagnostics.get(uri) ?? []), d]);
  }

  private openDashboard(view: RunView): void {
    if (view.opened) return;
    view.opened = true;
    void this.openRunCommand(view.run.runDir);
  }

  /** The dashboard (`dsod.openRun`, registered by the dashboard); nothing when it is not there. */
  private async openRunCommand(runDir: string): Promise<void> {
    try {
      const all = await vscode.commands.getCommands(true);
      if (all.includes('dsod.openRun')) await vscode.commands.executeCommand('dsod.openRun', runDir);
    } catch (e) {
      this.log(basename(runDir), `the dashboard could not open: ${(e as Error).message}`);
    }
  }

  // ---- status bar ----

  private scheduleStatus(): void {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.updateStatus();
      this.changed.fire();
    }, 250);
  }

  private progressOf(run: ActiveRun): string {
    const p = this.views.get(run)?.lastProgress;
    return p ? ` · step ${p.step}/${p.steps}` : '';
  }

  private updateStatus(): void {
    const runs = this.supervisor.runs;
    if (runs.length > 0 !== this.contextActive) {
      this.contextActive = runs.length > 0;
      void vscode.commands.executeCommand('setContext', 'dsod.runActive', this.contextActive);
    }
    if (!runs.length) {
      this.status.hide();
      return;
    }
    const run = runs[runs.length - 1];
    const view = this.views.get(run);
    const p = view?.lastProgress;
    const more = runs.length > 1 ? ` (+${runs.length - 1})` : '';
    const icon = view?.stopping ? '$(loading~spin)' : '$(sync~spin)';
    if (run.command === 'train' && p) {
      this.status.text = `${icon} DSOD ${formatExact(p.step)}/${formatExact(p.steps)} · loss ${p.loss.toFixed(3)} · ETA ${p.etaSec === null ? '?' : formatDuration(p.etaSec)}${more}`;
    } else {
      this.status.text = `${icon} DSOD ${run.command === 'train' ? 'starting' : run.command === 'eval' ? 'evaluating' : 'inference'}${more}`;
    }
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**${basename(run.runDir)}** (${run.command}${view?.stopping ? ', stopping' : ''})\n\n`);
    if (p) tip.appendMarkdown(`${progressText(p)}\n\n`);
    if (view?.costText) tip.appendMarkdown(`Cost: ${view.costText}\n\n`);
    tip.appendText(run.runDir);
    tip.appendMarkdown('\n\nClick to open the run.');
    this.status.tooltip = tip;
    this.status.command = { command: 'dsod.openRun', title: 'Open Run', arguments: [run.runDir] };
    this.status.show();
  }

  // ---- choosing what to run on ----

  private trusted(): boolean {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window.showWarningMessage(TRUST_MESSAGE, 'Manage Workspace Trust').then((c) => {
      if (c) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return false;
  }

  private root(): string | undefined {
    const root = runRoot();
    if (!root || root.scheme !== 'file') {
      void vscode.window.showWarningMessage('DSOD: open a folder (runs go to <folder>/runs), or set "dsod.runs.root" to an absolute path.');
      return undefined;
    }
    return root.fsPath;
  }

  private activeSpecPath(): string | undefined {
    const doc = vscode.window.activeTextEditor?.document;
    return doc && doc.uri.scheme === 'file' && (doc.languageId === 'dsod' || isSpecPath(doc.uri.fsPath)) ? doc.uri.fsPath : undefined;
  }

  private activeImagePath(): string | undefined {
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = tab && typeof tab === 'object' && 'uri' in tab ? (tab as { uri: unknown }).uri : undefined;
    return uri instanceof vscode.Uri && uri.scheme === 'file' && isImagePath(uri.fsPath) ? uri.fsPath : undefined;
  }

  /** The spec to train: the argument, else the active editor's; unsaved changes are saved first (the engine reads the file). */
  private async specTarget(target: unknown, what: string): Promise<string | undefined> {
    const path = asPath(target) ?? this.activeSpecPath();
    if (!path || !isSpecPath(path)) {
      void vscode.window.showInformationMessage(`DSOD: open a *.dsod.yaml spec to ${what} it.`);
      return undefined;
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === path);
    if (doc?.isDirty) await doc.save();
    return path;
  }

  private async runAt(dir: string): Promise<RunStatus> {
    const abs = isAbsolute(dir) ? dir : join(this.root() ?? process.cwd(), dir);
    const run = await readRunStatus(abs);
    if (!run) throw new Error(`${dir} is not a run folder`);
    return run;
  }

  /** The spec file a run trained, when it still exists (its data.root then counts). */
  private originalSpec(run: RunStatus): string | null {
    return run.spec && existsSync(run.spec) ? run.spec : null;
  }

  /**
   * A run to work on: of `spec` when given (newest first), else any under the run root. One candidate, or `newestOfSpec`
   * with a spec: no question asked; several: a quick pick, newest first.
   */
  private async pickRun(o: { spec?: string; purpose: string; newestOfSpec?: boolean; needs: 'weights' | 'checkpoint' }): Promise<RunStatus | undefined> {
    const root = this.root();
    if (!root) return undefined;
    const all = o.spec ? await runsOfSpec(root, o.spec) : await listRuns(root);
    const usable = all.filter((r) => (o.needs === 'checkpoint' ? r.checkpoints.length > 0 : weightsOfRun(r) !== null));
    const what = o.spec ? `of ${basename(o.spec)} ` : '';
    if (!usable.length) {
      const hint = o.needs === 'checkpoint' ? 'with a checkpoint' : 'with weights';
      void vscode.window.showInformationMessage(`DSOD: no run ${what}${hint} under ${root}: train first (DSOD: Train).`);
      return undefined;
    }
    if (usable.length === 1 || (o.newestOfSpec && o.spec)) return usable[0];
    const picked = await vscode.window.showQuickPick(
      usable.map((r) => ({ label: basename(r.runDir), description: describeRun(r), detail: r.runDir, run: r })),
      { title: `DSOD: pick the run to ${o.purpose}`, placeHolder: `Runs ${what}under ${root}, newest first`, matchOnDescription: true },
    );
    return picked?.run;
  }

  private cwd(path: string): string {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path)) ?? vscode.workspace.workspaceFolders?.[0];
    if (folder?.uri.scheme === 'file') return folder.uri.fsPath;
    return existsSync(path) && statSync(path).isDirectory() ? path : dirname(path);
  }

  private absolute(file: string, base: string): string {
    return isAbsolute(file) ? file : resolve(base, file);
  }

  // ---- log and errors ----

  private log(label: string, line: string): void {
    const t = new Date();
    const hh = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}:${String(t.getSeconds()).padStart(2, '0')}`;
    this.output.appendLine(`[${hh}] [${label}] ${line}`);
  }

  /** A command failed before or while starting a run. */
  fail(e: unknown): void {
    if (e instanceof HandledError) return;
    const message = (e as Error)?.message ?? String(e);
    this.log('dsod', `error: ${(e as Error)?.stack ?? message}`);
    void vscode.window.showErrorMessage(`DSOD: ${message}`, 'Open Log').then((c) => c && this.output.show(true));
  }

  // ---- shutdown ----

  /**
   * Stop every run gracefully (each writes a checkpoint), kill those still running after `timeoutMs`, and resolve once
   * every process is gone. deactivate() awaits this; a host that exits without waiting kills them synchronously.
   */
  shutdown(timeoutMs = DEACTIVATE_TIMEOUT_MS): Promise<void> {
    this.shuttingDown ??= (async () => {
      const runs = this.supervisor.runs;
      if (runs.length) this.log('dsod', `shutting down: stopping ${runs.length} run(s), forced after ${timeoutMs / 1000} s`);
      await this.supervisor.dispose(timeoutMs);
    })();
    return this.shuttingDown;
  }

  /** Synchronous last resort (process exit): SIGKILL whatever still runs. */
  killAll(): void {
    for (const r of this.supervisor.runs) void r.process.kill();
  }

  dispose(): void {
    void this.shutdown();
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.endMessage?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** An error already shown to the user. */
class HandledError extends Error {}

/** A run in the quick picks: its line as the dashboard's run list says it, its engine when not the default, and when it was made. */
export function describeRun(r: RunStatus): string {
  return `${runLineText(r)}${r.engine === 'torch' ? ' · torch engine' : ''} · ${new Date(r.created).toLocaleString()}`;
}
