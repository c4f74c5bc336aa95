// What the run manager says about a run, with no `vscode` import (node tests pin the wording): the progress line, the
// cost of a run measured in its first steps, a human line per event for the log, the `file:line:col` of errors, and a
// past run in the code lens and the quick picks, in the dashboard's words (STATE_TEXT).
import { formatDuration, formatExact as count } from '../../core/format';
import type { DoctorEvent, EngineEvent, MetricName, ProgressEvent, StartEvent } from '../../protocol/engine-events';
import { STATE_TEXT, type RunState } from '../../webview/dashboard/model';

/** "step 120/4,000 · loss 3.210 · 41.2 img/s · ETA 14m05s" */
export function progressText(p: ProgressEvent): string {
  return `step ${count(p.step)}/${count(p.steps)} · loss ${p.loss.toFixed(3)} · ${p.imgPerSec.toFixed(1)} img/s · ETA ${p.etaSec === null ? '?' : formatDuration(p.etaSec)}`;
}

/** Steps measured (after the first, which pays for compilation and warm-up) before the cost is stated. */
export const COST_STEPS = 5;

export interface CostEstimate {
  /** Steps this process will run (to the end of the schedule). */
  steps: number;
  images: number;
  /** Measured from the event times of the first steps. */
  imgPerSec: number;
  /** Seconds to the end: the engine's ETA when it has one (it knows a --minutes budget), else steps / measured speed. */
  etaSec: number;
  /** The steps the speed was measured over. */
  measuredFrom: number;
  measuredTo: number;
  text: string;
}

/**
 * Measures what a training run will cost from its start event and its first progress events: steps, images per second
 * measured in the first steps, and the time to the end. `add` returns the estimate once, when it is measured.
 */
export class CostMeter {
  private start: StartEvent | null = null;
  private first: { step: number; t: number } | null = null;
  private estimate: CostEstimate | null = null;

  constructor(private readonly stepsToMeasure = COST_STEPS) {}

  /** The stated cost (null until measured). */
  get value(): CostEstimate | null {
    return this.estimate;
  }

  /** What is known before any step ran (from the start event). */
  static before(s: StartEvent): string {
    const left = Math.max(0, s.steps - s.step);
    return `${s.resumed ? `resuming at step ${count(s.step)}: ` : ''}${count(left)} steps of batch ${s.batch} (${count(left * s.batch)} images) on ${count(s.images.train)} training images; measuring the speed…`;
  }

  add(e: EngineEvent): CostEstimate | null {
    if (e.type === 'start' && e.command === 'train') {
      this.start = e;
      this.first = null;
      this.estimate = null;
      return null;
    }
    if (e.type !== 'progress' || !this.start || this.estimate) return null;
    const t = Date.parse(e.time);
    if (!this.first) {
      this.first = { step: e.step, t };
      return null;
    }
    const steps = e.step - this.first.step;
    const seconds = (t - this.first.t) / 1000;
    if (steps < this.stepsToMeasure && e.step < e.steps) return null;
    if (!(seconds > 0) || steps <= 0) return null;
    const batch = this.start.batch;
    const imgPerSec = (steps * batch) / seconds;
    const total = Math.max(0, e.steps - this.start.step);
    const left = Math.max(0, e.steps - e.step);
    const etaSec = e.etaSec ?? (left * batch) / imgPerSec;
    const text =
      `${count(total)} steps × batch ${batch} = ${count(total * batch)} images; ` +
      `${imgPerSec.toFixed(1)} img/s measured over steps ${this.first.step + 1}-${e.step}; about ${formatDuration(etaSec)} to the end`;
    this.estimate = { steps: total, images: total * batch, imgPerSec, etaSec, measuredFrom: this.first.step + 1, measuredTo: e.step, text };
    return this.estimate;
  }
}

/** A line for the output channel (progress is throttled by the caller). */
export function eventLine(e: EngineEvent): string {
  switch (e.type) {
    case 'start':
      if (e.command !== 'train') return `${e.command} ${e.name} (${e.spec})${e.runDir ? ` in ${e.runDir}` : ''}: weights of step ${e.step}, ${e.images.test} images`;
      return `train ${e.name} (${e.spec})${e.runDir ? ` in ${e.runDir}` : ''}: step ${e.step} of ${e.steps}, batch ${e.batch}, ${e.images.train} training / ${e.images.test} held-out images${e.resumed ? ' (resumed)' : ''}`;
    case 'doctor':
      return doctorLine(e);
    case 'log':
      return `${e.level === 'warn' ? 'warning: ' : ''}${e.message}`;
    case 'progress':
      return `step ${e.step}/${e.steps} epoch ${e.epoch.toFixed(2)} loss ${e.loss.toFixed(4)} (loc ${e.parts.loc.toFixed(4)}, conf ${e.parts.conf.toFixed(4)}) lr ${e.lr.toPrecision(3)} ${e.imgPerSec.toFixed(1)} img/s ETA ${e.etaSec === null ? '?' : formatDuration(e.etaSec)}`;
    case 'checkpoint':
      return `checkpoint at step ${e.step} (${e.reason}): ${e.path} (${(e.bytes / 2 ** 20).toFixed(1)} MiB)`;
    case 'metric':
      return `eval${e.step !== null ? ` at step ${e.step}` : ''}: ${e.metric} ${e.value.toFixed(4)} on ${e.images} ${e.split} images (${e.perClass.map((c) => `${c.name} ${c.ap === null ? '-' : c.ap.toFixed(3)}`).join(', ')})`;
    case 'error':
      return `error [${e.code}]${e.where ? ` at ${e.where}` : ''}: ${e.message}${e.fatal ? '' : ' (not fatal)'}`;
    case 'done':
      return `done (${e.reason}, exit ${e.exitCode})${e.step !== null ? ` at step ${e.step}` : ''} after ${formatDuration(e.elapsedSec)}${e.metric ? `; ${e.metric.metric} ${e.metric.value.toFixed(4)}` : ''}`;
    case 'detections':
      // Only between the torch engine and its bridge (never in a run's events); said plainly if one ever arrives.
      return `detections of step ${e.step} on ${e.images} images: ${e.path}`;
  }
}

/** The doctor's line: the engine (torch: its device, precision and processes), and what is missing with its fix. */
function doctorLine(e: DoctorEvent): string {
  const t = e.torch;
  const head = t
    ? `engine: torch ${t.version} on ${t.device} (${t.precision}${t.worldSize > 1 ? `, ${t.worldSize} processes` : ''}) - ${e.reason}`
    : `backend: ${e.chosen} - ${e.reason}`;
  return [head, ...(e.missing ?? []).map((m) => `  missing: ${m.problem}; fix: ${m.fix}`)].join('\n');
}

export interface Where {
  file: string;
  /** 1-based, as printed. */
  line: number;
  column: number;
}

/** `file:line:col` (or `file:line`) of an error event; a Windows drive letter stays in the file. */
export function parseWhere(where: string | null | undefined): Where | null {
  if (!where) return null;
  const m = /^(.+?):(\d+)(?::(\d+))?$/.exec(where.trim());
  if (!m) return null;
  const line = Number(m[2]);
  const column = m[3] === undefined ? 1 : Number(m[3]);
  if (!(line >= 1) || !(column >= 1)) return null;
  return { file: m[1], line, column };
}

// --- a past run: the code lens and the quick picks --------------------------------------------------------------------

/** "mAP" for the VOC metrics, "AP" for COCO's AP@[.5:.95]. */
export function metricLabel(m: MetricName): string {
  return m === 'coco' ? 'AP' : 'mAP';
}

/** A run's state in the dashboard's words; a state the table does not know (a newer engine's) as it is. */
export function stateText(state: string): string {
  return Object.hasOwn(STATE_TEXT, state) ? STATE_TEXT[state as RunState] : state;
}

/** What a run list says of a run (RunStatus, or the dashboard's RunSummary). */
export interface RunLine {
  step: number | null;
  steps: number | null;
  metric: { metric: MetricName; value: number } | null;
  state: string;
}

/** States that say what happened to a run even when it has a metric: it did not end as asked. */
const ALARMING = new Set(['running', 'interrupted', 'failed']);

/**
 * The code lens of a spec's newest run that this window is not running: its latest evaluation ("last run: 0.803 mAP",
 * followed by the state when the run is running elsewhere, was interrupted or failed), else its state at its last step
 * ("last run: stopped at step 23", "last run: interrupted (ended without a done event) at step 40").
 */
export function lastRunText(r: RunLine): string {
  const state = r.step !== null ? `${stateText(r.state)} at step ${count(r.step)}` : stateText(r.state);
  if (!r.metric) return `last run: ${state}`;
  const metric = `${r.metric.value.toFixed(3)} ${metricLabel(r.metric.metric)}`;
  return ALARMING.has(r.state) ? `last run: ${metric} · ${state}` : `last run: ${metric}`;
}

/** A run in a quick pick: "step 600/4,000 · mAP 0.803 · stopped at its step limit". */
export function runLineText(r: RunLine): string {
  const parts: string[] = [];
  if (r.step !== null) parts.push(`step ${count(r.step)}${r.steps ? `/${count(r.steps)}` : ''}`);
  if (r.metric) parts.push(`${metricLabel(r.metric.metric)} ${r.metric.value.toFixed(3)}`);
  parts.push(stateText(r.state));
  return parts.join(' · ');
}
