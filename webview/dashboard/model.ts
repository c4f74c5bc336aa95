// The run dashboard's state, without a DOM or a file system: engine events (protocol/engine-events.ts) folded into
// what the page draws. Loss (total, localization, confidence), learning rate and throughput against step as flat
// columns (uPlot reads them as they are: appending a step is a push), the processes that worked on the run (train,
// eval, infer, each opened by its `start`), the backend and its doctor report, checkpoints, evaluations (mAP against
// step, per-class AP of the latest) and the run's state.
//
// A `start` of a train whose step is below the last progress step is a resume from an earlier checkpoint: every
// point, checkpoint and evaluation after that step is dropped, as TensorBoard purges (the resumed process redoes
// those steps, and their old values would draw a second, stale curve). A progress step that goes backwards without
// a start is treated the same way, so the columns always increase.
//
// Pure: the page (webview/dashboard/), the report writer and the run list (engine/report/) and the tests use it.
import type {
  CheckpointEvent,
  CheckpointReason,
  DoctorEvent,
  DoneEvent,
  DoneReason,
  EngineCommand,
  EngineEvent,
  EngineName,
  ErrorEvent,
  LogEvent,
  MetricEvent,
  MetricName,
  ProgressEvent,
  StartEvent,
} from '../../protocol/engine-events';
import type { CheckpointFile, MetricRecordData } from '../../protocol/dashboard';
import { checkpointOfName } from '../../protocol/run-files';

/** Loss, learning rate and throughput per optimizer step, increasing steps. */
export interface StepSeries {
  step: number[];
  loss: number[];
  loc: number[];
  conf: number[];
  lr: number[];
  imgPerSec: number[];
}

export type ProcessState = 'running' | 'interrupted' | DoneReason;

export interface RunProcess {
  /** null for events that came without a `start` (an engine older than the run folder contract). */
  command: EngineCommand | null;
  start: StartEvent | null;
  /** Time of the first event of the process. */
  startedAt: string;
  doctor: DoctorEvent | null;
  done: DoneEvent | null;
  errors: ErrorEvent[];
  state: ProcessState;
  /** Last progress step of this process. */
  lastStep: number | null;
  /** A resume from an earlier checkpoint: the last step shown before it, whose later points were dropped. */
  purgedFrom: number | null;
}

export interface Evaluation {
  metric: MetricName;
  value: number;
  step: number | null;
  perClass: { name: string; ap: number | null }[];
  extras: Record<string, number>;
  split: string;
  images: number;
  /** Which process made it: train (periodic and final evaluations), eval, or metrics.json when no event has it. */
  source: EngineCommand | 'file';
  time: string | null;
}

export interface CheckpointInfo {
  step: number;
  path: string;
  /** The file name, how checkpoints are matched between events and the folder (which may have moved). */
  file: string;
  /** The engine that wrote it (and the only one that reads it); null: not a name of CHECKPOINT_KINDS. */
  engine: EngineName | null;
  bytes: number;
  reason: CheckpointReason | null;
  time: string | null;
  /** The file is in the folder (the trainer keeps the last few); unknown files are assumed present. */
  exists: boolean;
}

export type RunState = 'empty' | ProcessState;

/** What a reader knows besides the events: whether anything can still be writing the run. */
export interface Liveness {
  /** A live process holds the run's lock (only a training takes it). */
  training: boolean;
  /** Something follows the folder as it grows (the VS Code panel); false for report.html and the run list. */
  following: boolean;
}

/**
 * A process's state as a reader should see it: one that never said `done` was killed when nothing can be writing it
 * any more: a training that holds no lock, or, for eval and infer (which take none), a folder nobody follows.
 */
export function shownState(p: RunProcess, isLast: boolean, live: Liveness): ProcessState {
  if (p.state !== 'running' || !isLast) return p.state;
  const gone = p.command === 'train' ? !live.training : !live.following;
  return gone ? 'interrupted' : 'running';
}

/** What an `add` changed, so the page redraws only that. */
export interface ModelChanges {
  /** New points at the end of the step series. */
  progress: boolean;
  /** Points were dropped (a resume from an earlier checkpoint): the series must be redrawn whole. */
  purged: boolean;
  processes: boolean;
  checkpoints: boolean;
  evaluations: boolean;
  logs: boolean;
}

export const noChanges = (): ModelChanges => ({ progress: false, purged: false, processes: false, checkpoints: false, evaluations: false, logs: false });

export function mergeChanges(a: ModelChanges, b: ModelChanges): ModelChanges {
  return {
    progress: a.progress || b.progress,
    purged: a.purged || b.purged,
    processes: a.processes || b.processes,
    checkpoints: a.checkpoints || b.checkpoints,
    evaluations: a.evaluations || b.evaluations,
    logs: a.logs || b.logs,
  };
}

export const anyChange = (c: ModelChanges): boolean => Object.values(c).some(Boolean);

const MAX_LOGS = 500;

const fileName = (p: string): string => p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);

/** First index whose value is > x, in an increasing array. */
export function upperBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class RunModel {
  readonly series: StepSeries = { step: [], loss: [], loc: [], conf: [], lr: [], imgPerSec: [] };
  readonly processes: RunProcess[] = [];
  readonly logs: LogEvent[] = [];
  /** Every event folded so far (progress included), for counts. */
  events = 0;
  lastProgress: ProgressEvent | null = null;
  lastEventTime: string | null = null;
  private readonly checkpointEvents = new Map<string, CheckpointInfo>();
  private checkpointFiles: Map<string, CheckpointFile> | null = null;
  /** Checkpoints announced since the files were last listed: present until a listing says otherwise. */
  private readonly freshCheckpoints = new Set<string>();
  private readonly eventEvaluations: Evaluation[] = [];
  private fileEvaluations: Evaluation[] = [];
  private pendingDoctor: DoctorEvent | null = null;

  constructor(
    readonly runDir: string,
    public name: string,
  ) {}

  /** Fold events in order; returns what changed. */
  addAll(events: readonly EngineEvent[]): ModelChanges {
    let c = noChanges();
    for (const e of events) c = mergeChanges(c, this.add(e));
    return c;
  }

  add(e: EngineEvent): ModelChanges {
    const c = noChanges();
    this.events++;
    this.lastEventTime = e.time;
    switch (e.type) {
      case 'start':
        this.startProcess(e, c);
        break;
      case 'doctor': {
        const p = this.current();
        if (p && !p.done && !p.doctor && p.start) p.doctor = e;
        else this.pendingDoctor = e;
        c.processes = true;
        break;
      }
      case 'progress':
        this.progress(e, c);
        break;
      case 'checkpoint':
        this.checkpoint(e);
        c.checkpoints = true;
        break;
      case 'metric':
        this.metric(e);
        c.evaluations = true;
        break;
      case 'log':
        this.logs.push(e);
        if (this.logs.length > MAX_LOGS) this.logs.splice(0, this.logs.length - MAX_LOGS);
        c.logs = true;
        break;
      case 'error':
        this.ensureProcess(e.time).errors.push(e);
        c.processes = true;
        c.logs = true;
        break;
      case 'done': {
        const p = this.ensureProcess(e.time);
        p.done = e;
        p.state = e.reason;
        c.processes = true;
        break;
      }
    }
    return c;
  }

  private current(): RunProcess | undefined {
    return this.processes[this.processes.length - 1];
  }

  /** The process events without a `start` belong to: the open one, or a new one of unknown command. */
  private ensureProcess(time: string): RunProcess {
    const p = this.current();
    if (p && !p.done) return p;
    return this.openProcess(null, null, time);
  }

  private openProcess(command: EngineCommand | null, start: StartEvent | null, time: string): RunProcess {
    const before = this.current();
    if (before && !before.done) before.state = 'interrupted'; // a new process began and this one never said done
    const p: RunProcess = { command, start, startedAt: time, doctor: null, done: null, errors: [], state: 'running', lastStep: null, purgedFrom: null };
    if (this.pendingDoctor) {
      p.doctor = this.pendingDoctor;
      this.pendingDoctor = null;
    }
    this.processes.push(p);
    return p;
  }

  private startProcess(e: StartEvent, c: ModelChanges): void {
    const p = this.openProcess(e.command, e, e.time);
    c.processes = true;
    if (e.command !== 'train') return;
    const last = this.series.step[this.series.step.length - 1];
    if (last !== undefined && e.step < last) {
      p.purgedFrom = last;
      this.purgeAfter(e.step, c);
    }
  }

  /** Drop every point, checkpoint and evaluation after `step`. */
  private purgeAfter(step: number, c: ModelChanges): void {
    const keep = upperBound(this.series.step, step);
    if (keep < this.series.step.length) {
      for (const col of Object.values(this.series) as number[][]) col.length = keep;
      c.purged = true;
    }
    for (const [k, cp] of this.checkpointEvents) {
      if (cp.step <= step) continue;
      this.checkpointEvents.delete(k);
      c.checkpoints = true;
    }
    const before = this.eventEvaluations.length;
    const kept = this.eventEvaluations.filter((ev) => ev.step === null || ev.step <= step);
    if (kept.length !== before) {
      this.eventEvaluations.length = 0;
      this.eventEvaluations.push(...kept);
      c.evaluations = true;
    }
    this.lastProgress = this.lastProgress && this.lastProgress.step <= step ? this.lastProgress : null;
  }

  private progress(e: ProgressEvent, c: ModelChanges): void {
    const p = this.ensureProcess(e.time);
    if (!p.command) p.command = 'train';
    const s = this.series;
    const last = s.step[s.step.length - 1];
    if (last !== undefined && e.step <= last) this.purgeAfter(e.step - 1, c);
    s.step.push(e.step);
    s.loss.push(e.loss);
    s.loc.push(e.parts.loc);
    s.conf.push(e.parts.conf);
    s.lr.push(e.lr);
    s.imgPerSec.push(e.imgPerSec);
    p.lastStep = e.step;
    this.lastProgress = e;
    c.progress = true;
  }

  private checkpoint(e: CheckpointEvent): void {
    const file = fileName(e.path);
    this.freshCheckpoints.add(file);
    this.checkpointEvents.set(file, {
      step: e.step,
      path: e.path,
      file,
      engine: checkpointOfName(file)?.engine ?? null,
      bytes: e.bytes,
      reason: e.reason,
      time: e.time,
      exists: true,
    });
  }

  private metric(e: MetricEvent): void {
    const p = this.ensureProcess(e.time);
    if (!p.command) p.command = 'eval';
    this.eventEvaluations.push({
      metric: e.metric,
      value: e.value,
      step: e.step,
      perClass: e.perClass,
      extras: e.extras,
      split: e.split,
      images: e.images,
      source: p.command,
      time: e.time,
    });
  }

  /** metrics.json: used when the events hold no evaluation (a folder whose events.jsonl was lost or trimmed). */
  setMetricRecords(records: readonly MetricRecordData[]): void {
    this.fileEvaluations = records.map((r) => ({ ...r, source: 'file' as const, time: null }));
  }

  /** The checkpoint files in the folder now (null: unknown, every checkpoint event is taken as present). */
  setCheckpointFiles(files: readonly CheckpointFile[] | null): void {
    this.checkpointFiles = files ? new Map(files.map((f) => [fileName(f.path), f])) : null;
    this.freshCheckpoints.clear();
  }

  // --- what the page reads ------------------------------------------------------------------------------------------

  get evaluations(): Evaluation[] {
    return this.eventEvaluations.length ? this.eventEvaluations : this.fileEvaluations;
  }

  /** The latest evaluation, in the order they were made. */
  get latestEvaluation(): Evaluation | null {
    const all = this.evaluations;
    return all.length ? all[all.length - 1] : null;
  }

  /** The evaluation before the latest one of the same metric (for the per-class change), by step. */
  get previousEvaluation(): Evaluation | null {
    const latest = this.latestEvaluation;
    if (!latest) return null;
    const same = this.evaluations.filter(
      (e) => e !== latest && e.metric === latest.metric && e.step !== null && (latest.step === null || e.step < latest.step),
    );
    if (!same.length) return null;
    return same.reduce((a, b) => ((b.step as number) >= (a.step as number) ? b : a));
  }

  /** The metrics evaluated, the latest's first. */
  get metricNames(): MetricName[] {
    const names = [...new Set(this.evaluations.map((e) => e.metric))];
    const latest = this.latestEvaluation?.metric;
    return latest ? [latest, ...names.filter((n) => n !== latest)] : names;
  }

  /** A metric against step, increasing steps; of two evaluations at one step the later one counts. */
  metricSeries(metric: MetricName): { step: number[]; value: number[] } {
    const byStep = new Map<number, number>();
    for (const e of this.evaluations) if (e.metric === metric && e.step !== null) byStep.set(e.step, e.value);
    const steps = [...byStep.keys()].sort((a, b) => a - b);
    return { step: steps, value: steps.map((s) => byStep.get(s)!) };
  }

  /** Checkpoints by step (events, and files the events did not announce), each marked present or not. */
  get checkpoints(): CheckpointInfo[] {
    const out = new Map<string, CheckpointInfo>();
    for (const [k, cp] of this.checkpointEvents) {
      const file = this.checkpointFiles?.get(k);
      // The file's path where it is now (the folder may have moved since the event was written).
      out.set(k, { ...cp, path: file?.path ?? cp.path, exists: !this.checkpointFiles || file !== undefined || this.freshCheckpoints.has(k) });
    }
    if (this.checkpointFiles)
      for (const [k, f] of this.checkpointFiles)
        if (!out.has(k)) out.set(k, { step: f.step, path: f.path, file: k, engine: f.engine, bytes: f.bytes, reason: null, time: null, exists: true });
    return [...out.values()].sort((a, b) => a.step - b.step);
  }

  /** The last train process (the run's schedule and backend), else the last process. */
  get trainProcess(): RunProcess | null {
    for (let i = this.processes.length - 1; i >= 0; i--) if (this.processes[i].command === 'train') return this.processes[i];
    return null;
  }

  /** The backend of the latest process that reported one. */
  get doctor(): DoctorEvent | null {
    for (let i = this.processes.length - 1; i >= 0; i--) if (this.processes[i].doctor) return this.processes[i].doctor;
    return this.pendingDoctor;
  }

  /**
   * The process the run's state is read from: the last one, except that an evaluation or an inference that ended well
   * leaves the state to the last training (a training stopped at step 23 and then evaluated is stopped, not completed).
   */
  private stateProcess(): RunProcess | undefined {
    const p = this.current();
    if (!p || p.command === 'train' || (p.state !== 'completed' && p.state !== 'stopped')) return p;
    return this.trainProcess ?? p;
  }

  get state(): RunState {
    const p = this.stateProcess();
    return p ? p.state : 'empty';
  }

  /** The run's state as a reader should see it (shownState of the process the state is read from). */
  shownState(live: Liveness): RunState {
    const p = this.stateProcess();
    return p ? shownState(p, p === this.current(), live) : 'empty';
  }

  /** The last process, when it is still running. */
  get running(): RunProcess | null {
    const p = this.current();
    return p && p.state === 'running' ? p : null;
  }

  /** The schedule's steps (the last train start or progress). */
  get steps(): number | null {
    return this.lastProgress?.steps ?? this.trainProcess?.start?.steps ?? null;
  }

  get step(): number | null {
    const s = this.series.step;
    return s.length ? s[s.length - 1] : null;
  }

  /** Seconds to the end of the schedule, while a train process runs and has measured it. */
  get etaSec(): number | null {
    const p = this.running;
    return p && p.command === 'train' && this.lastProgress ? this.lastProgress.etaSec : null;
  }

  /** Every error of every process, oldest first. */
  get errors(): ErrorEvent[] {
    return this.processes.flatMap((p) => p.errors);
  }
}

// --- smoothing ---------------------------------------------------------------------------------------------------------

/**
 * TensorBoard's smoothing: an exponential moving average with the start-up bias removed (the first points are not
 * pulled toward 0). Incremental: `push` is O(1), so a live chart extends its smoothed curve per event.
 */
export class Ema {
  private last = 0;
  private n = 0;
  constructor(readonly weight: number) {}
  push(v: number): number {
    if (this.weight <= 0) return v;
    this.last = this.last * this.weight + (1 - this.weight) * v;
    this.n++;
    return this.last / (1 - Math.pow(this.weight, this.n));
  }
}

export function smooth(values: readonly number[], weight: number): number[] {
  const ema = new Ema(weight);
  return values.map((v) => ema.push(v));
}

// --- formatting (shared by the page and the report) ----------------------------------------------------------------------

export const STATE_TEXT: Record<RunState, string> = {
  empty: 'no events yet',
  running: 'running',
  interrupted: 'interrupted (ended without a done event)',
  completed: 'completed',
  stopped: 'stopped',
  'time-limit': 'stopped at its time limit',
  'step-limit': 'stopped at its step limit',
  failed: 'failed',
};

export const METRIC_LABELS: Record<MetricName, string> = { voc07: 'VOC07 mAP (11-point)', voc: 'VOC mAP (all-point)', coco: 'COCO AP@[.5:.95]' };
