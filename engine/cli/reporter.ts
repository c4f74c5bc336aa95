// Where engine events go: events.jsonl in the run folder, stdout as JSON lines (--json), and a human view
// (a progress bar on a terminal, plain lines otherwise). Every command emits events; this is the only printer.
import { formatEngineEvent, makeEvent, type EngineEvent, type EventBody, type ProgressEvent } from '../../protocol/engine-events';
import { appendEventLine } from '../train/run-files';

export interface Output {
  write(s: string): unknown;
}

export interface SinkOptions {
  json: boolean;
  stdout: Output;
  stderr: Output;
  /** Redraw one progress line in place (stdout is a terminal). */
  tty: boolean;
  /** Seconds between plain progress lines when not on a terminal. */
  plainEverySec?: number;
}

export class EventSink {
  private runDir: string | null = null;
  /** Lines made before the run folder was known: written there first once it is. */
  private pending: string[] = [];
  private readonly human: HumanView | null;
  readonly events: EngineEvent[] = [];

  constructor(private readonly o: SinkOptions) {
    this.human = o.json ? null : new HumanView(o);
  }

  /** The run folder this command's events go to, once known. */
  get runFolder(): string | null {
    return this.runDir;
  }

  /** The first write to events.jsonl that failed (disk full...): nothing more is written there after it. */
  writeFailure: Error | null = null;

  /** From now on, events are also appended to runDir/events.jsonl. */
  attachRunDir(runDir: string): void {
    this.runDir = runDir;
    for (const line of this.pending) this.append(line);
    this.pending = [];
  }

  /**
   * Append to events.jsonl. A failed append is said once on stderr and ends the appends (the next would fail the same
   * way: a full disk, a read-only folder); the command then ends with an `io` error (runEngineCommand). Never throws:
   * events are emitted from signal handlers too.
   */
  private append(line: string): void {
    if (!this.runDir || this.writeFailure) return;
    try {
      appendEventLine(this.runDir, line);
    } catch (e) {
      this.writeFailure = e as Error;
      this.o.stderr.write(`dsod: ${(e as Error).message}; events are no longer written to the run folder\n`);
    }
  }

  emit(body: EventBody): EngineEvent {
    const event = makeEvent(body) as EngineEvent;
    const line = formatEngineEvent(event);
    if (this.runDir) this.append(line);
    else this.pending.push(line);
    if (this.o.json) this.o.stdout.write(line + '\n');
    else this.human!.show(event);
    // Errors also go to stderr in --json mode: a person reading a log sees them without parsing JSON.
    if (this.o.json && event.type === 'error') this.o.stderr.write(`dsod: ${event.where ? `${event.where}: ` : ''}${event.message}\n`);
    if (event.type !== 'progress') this.events.push(event);
    return event;
  }

  /** Text for people only (tables), never mixed into --json output. */
  print(text: string): void {
    if (this.o.json) return;
    this.human!.line(text.replace(/\n$/, ''));
  }

  /** A line for people after the event stream ended: stdout for a person, stderr beside --json (stdout stays JSON). */
  note(text: string): void {
    if (this.o.json) this.o.stderr.write(text + '\n');
    else this.human!.line(text);
  }
}

class HumanView {
  private bar = false;
  private lastPlain = -Infinity;

  constructor(private readonly o: SinkOptions) {}

  line(text: string, stream: Output = this.o.stdout): void {
    this.clearBar();
    stream.write(text + '\n');
  }

  show(e: EngineEvent): void {
    switch (e.type) {
      case 'start':
        if (e.command !== 'train') {
          const what = e.command === 'eval' ? 'evaluating' : 'detecting with';
          this.line(`${what} ${e.name || e.spec}${e.step ? ` (step ${e.step})` : ''} on ${e.images.test} images${e.runDir ? `; run folder ${e.runDir}` : ''}`);
          break;
        }
        this.line(
          `${e.resumed ? 'resuming' : 'training'} ${e.name} (${e.spec}) at step ${e.step} of ${e.steps}: batch ${e.batch}` +
            `${e.accumulate > 1 ? ` (${e.accumulate} x ${e.batch / e.accumulate})` : ''}, ${e.images.train} training images, ${e.images.test} held out` +
            `${e.runDir ? `; run folder ${e.runDir}` : ''}`,
        );
        break;
      case 'doctor': {
        const t = e.torch;
        if (t)
          this.line(
            `engine: torch ${t.version} on ${t.device} (${t.precision}${t.worldSize > 1 ? `, ${t.worldSize} processes, ${t.distributed}` : ''}, ` +
              `${t.threads} threads; python ${t.python} ${t.pythonVersion}) - ${e.reason}`,
          );
        else this.line(`backend: ${e.chosen} - ${e.reason}`);
        for (const a of e.attempts) this.line(`  ${a.ok ? '✓' : '✗'} ${a.name}: ${a.detail}`);
        for (const m of e.missing ?? []) this.line(`  missing: ${m.problem}. Fix: ${m.fix}`);
        break;
      }
      case 'detections':
        // The torch engine's hand-over to the bridge, which emits the metric in its place (never shown).
        break;
      case 'log':
        if (e.level !== 'debug') this.line(e.level === 'warn' ? `warning: ${e.message}` : e.message, e.level === 'warn' ? this.o.stderr : this.o.stdout);
        break;
      case 'progress':
        this.progress(e);
        break;
      case 'checkpoint':
        this.line(`checkpoint at step ${e.step}: ${e.path} (${(e.bytes / 2 ** 20).toFixed(1)} MiB)`);
        break;
      case 'metric': {
        const name = METRIC_NAMES[e.metric];
        const per = e.perClass.map((c) => `${c.name} ${c.ap === null ? '-' : c.ap.toFixed(3)}`).join(', ');
        this.line(`eval${e.step !== null ? ` at step ${e.step}` : ''}: ${name} ${e.value.toFixed(4)} on ${e.images} ${e.split} images (${per})`);
        break;
      }
      case 'error':
        this.line(`dsod: ${e.where ? `${e.where}: ` : ''}${e.message}`, this.o.stderr);
        break;
      case 'done': {
        const m = e.metric ? `; ${METRIC_NAMES[e.metric.metric]} ${e.metric.value.toFixed(4)}` : '';
        this.line(`done (${e.reason})${e.step !== null ? ` at step ${e.step}` : ''} after ${duration(e.elapsedSec)}${m}`);
        break;
      }
    }
  }

  private progress(e: ProgressEvent): void {
    const text =
      `step ${e.step}/${e.steps} epoch ${e.epoch.toFixed(2)} loss ${e.loss.toFixed(3)} (loc ${e.parts.loc.toFixed(3)}, conf ${e.parts.conf.toFixed(3)}) ` +
      `lr ${e.lr.toPrecision(3)} ${e.imgPerSec.toFixed(1)} img/s ETA ${e.etaSec === null ? '?' : duration(e.etaSec)}`;
    if (this.o.tty) {
      const width = 24;
      const done = Math.round((width * Math.min(e.step, e.steps)) / Math.max(1, e.steps));
      this.o.stdout.write(`\r\x1b[K[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${text}`);
      this.bar = true;
      return;
    }
    const now = performance.now() / 1000;
    if (e.step === 1 || e.step === e.steps || now - this.lastPlain >= (this.o.plainEverySec ?? 10)) {
      this.lastPlain = now;
      this.o.stdout.write(text + '\n');
    }
  }

  private clearBar(): void {
    if (this.bar) this.o.stdout.write('\r\x1b[K');
    this.bar = false;
  }
}

export const METRIC_NAMES = { voc07: 'VOC07 mAP (11-point)', voc: 'VOC mAP (all-point)', coco: 'COCO AP@[.5:.95]' } as const;

export function duration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
