// What every engine command (train, eval, infer, demo) shares: the event sink, backend selection with its doctor
// event, errors turned into one `error` event and one `done` event with the exit code, and signal handling.
// Exit statuses and error codes: engine/errors.ts.
import { selectBackend, type DoctorReport } from '../backend';
import { EngineError, EXIT, exitStatusOf, signalExitStatus } from '../errors';
import type { StopFlag } from '../train/trainer';
import type { DoneReason, MetricName } from '../../protocol/engine-events';
import { writeReport } from '../report/report';
import { EventSink, type Output } from './reporter';
import { catchStopSignals, handleStopSignals, releaseStopSignals, takePendingSignal } from './signals';
import { SpecError } from './spec-file';

export interface Io {
  stdout: Output & { isTTY?: boolean };
  stderr: Output;
}

export interface CommandEnd {
  reason: DoneReason;
  step: number | null;
  exitCode: number;
  metric: { metric: MetricName; value: number } | null;
}

/** Set once the reader of our output went away (EPIPE: the editor that started us died); writes are dropped after. */
let outputGone = false;
/** What a closed output means while a training runs: a stop with a checkpoint (installStopHandlers sets it). */
let onOutputGone: (() => void) | null = null;

export function processIo(): Io {
  const guarded = (s: NodeJS.WriteStream): Output => ({ write: (text: string) => (outputGone ? true : s.write(text)) });
  return { stdout: Object.assign(guarded(process.stdout), { isTTY: process.stdout.isTTY }), stderr: guarded(process.stderr) };
}

/**
 * stdout or stderr lost its reader. `dsod analyze --json | head` simply ends; a training stops as on SIGTERM, writing
 * its checkpoint first, so a run whose editor was killed loses nothing.
 */
export function outputClosed(): void {
  if (outputGone) return;
  outputGone = true;
  if (onOutputGone) onOutputGone();
  else process.exit(process.exitCode ?? 0);
}

export function isOutputClosed(): boolean {
  return outputGone;
}

export function createSink(io: Io, json: boolean): EventSink {
  return new EventSink({ json, stdout: io.stdout, stderr: io.stderr, tty: io.stdout.isTTY === true });
}

/** Run a command body; whatever it throws becomes an error event, and a done event always ends the stream. */
export async function runEngineCommand(sink: EventSink, body: () => Promise<CommandEnd>): Promise<number> {
  const started = performance.now();
  const stoppedBy = (signal: NodeJS.Signals): CommandEnd => ({ reason: 'stopped', step: null, exitCode: signalExitStatus(signal), metric: null });
  // A signal while the body runs with no stop of its own (eval, infer, synth, report; a training installs its own,
  // graceful one): say so, end the stream with `done`, exit. A second one exits at once.
  let stopping = false;
  const restore = handleStopSignals((signal) => {
    if (stopping) process.exit(signalExitStatus(signal));
    stopping = true;
    const end = stoppedBy(signal);
    sink.emit({ type: 'log', level: 'info', message: `${signal}: stopping` });
    sink.emit({ type: 'done', reason: end.reason, step: null, elapsedSec: (performance.now() - started) / 1000, exitCode: end.exitCode, metric: null });
    exitFlushed(end.exitCode);
  });
  let end: CommandEnd;
  try {
    // A signal during start-up (before this command could act): nothing has started, so nothing to save.
    const early = takePendingSignal();
    if (early) sink.emit({ type: 'log', level: 'info', message: `${early}: stopped before starting` });
    end = early ? stoppedBy(early) : await body();
  } catch (e) {
    const { code, exitCode, where } = classify(e);
    if (e instanceof SpecError) for (const l of e.lines) sink.print(l);
    sink.emit({ type: 'error', code, message: (e as Error).message ?? String(e), where, fatal: true });
    if (code === 'internal' && (e as Error).stack) sink.emit({ type: 'log', level: 'debug', message: (e as Error).stack! });
    end = { reason: 'failed', step: null, exitCode, metric: null };
  } finally {
    restore();
  }
  // events.jsonl could not be written (the sink stopped trying): the run folder is incomplete, so the command failed.
  if (sink.writeFailure && end.exitCode !== EXIT.io) {
    const { code, exitCode, where } = classify(sink.writeFailure);
    sink.emit({ type: 'error', code, message: sink.writeFailure.message, where, fatal: true });
    end = { ...end, reason: 'failed', exitCode };
  }
  sink.emit({ type: 'done', reason: end.reason, step: end.step, elapsedSec: (performance.now() - started) / 1000, exitCode: end.exitCode, metric: end.metric });
  // After a write the disk refused (full, read-only), report.html would fail the same way: not tried.
  if (end.exitCode !== EXIT.io) await refreshReport(sink);
  return end.exitCode;
}

/**
 * A command that worked on a run folder leaves its report.html current (after `done`, so that the report shows how
 * the command ended) and says where it is. A report that cannot be written is a warning, never a failed command.
 */
async function refreshReport(sink: EventSink): Promise<void> {
  const runDir = sink.runFolder;
  if (!runDir) return;
  try {
    sink.note(`report: ${await writeReport(runDir)}`);
  } catch (e) {
    sink.note(`dsod: warning: report.html not written: ${(e as Error).message}`);
  }
}

/** Exit once stdout and stderr are flushed (pipes are asynchronous on macOS); at the latest after a second. */
function exitFlushed(code: number): void {
  setTimeout(() => process.exit(code), 1000).unref();
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

function classify(e: unknown): { code: string; exitCode: number; where: string | null } {
  if (e instanceof EngineError) return { code: e.code, exitCode: e.exitStatus, where: e.where };
  return { code: 'internal', exitCode: exitStatusOf('internal'), where: null };
}

/** Select the backend (--backend or the fastest available) and report it. */
export async function chooseBackend(sink: EventSink, requested: string | undefined): Promise<DoctorReport> {
  const report = await selectBackend({ requested: requested ?? 'auto' });
  sink.emit({
    type: 'doctor',
    chosen: report.chosen,
    tfBackend: report.tfBackend,
    requested: report.requested,
    reason: report.reason,
    attempts: report.attempts,
    ...(report.threads !== undefined ? { threads: report.threads } : {}),
  });
  return report;
}

/**
 * SIGINT/SIGTERM ask the loop to stop (it checkpoints, then exits 130/143); a second signal exits at once,
 * which atomic writes make safe (at worst a temporary file is left beside the last checkpoint).
 */
export function installStopHandlers(stop: StopFlag, onFirst?: (signal: string) => void): () => void {
  const handler = (signal: NodeJS.Signals) => {
    if (stop.requested) process.exit(signalExitStatus(signal));
    stop.requested = signal;
    onFirst?.(signal);
  };
  // The `dsod` process catches signals from its start (signals.ts); a caller in another process (tests) from now.
  const installed = catchStopSignals();
  const restore = handleStopSignals(handler);
  const early = takePendingSignal();
  if (early) handler(early);
  onOutputGone = () => {
    if (!stop.requested) handler('SIGTERM');
  };
  return () => {
    restore();
    if (installed) releaseStopSignals(false);
    onOutputGone = null;
  };
}
