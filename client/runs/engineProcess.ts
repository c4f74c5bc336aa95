// One engine process (`dsod train | eval | infer ... --json`) as the extension runs it, with no `vscode` import so node
// tests drive it against the real engine. The engine is the extension's own runtime (process.execPath: node, or VS
// Code's Electron with ELECTRON_RUN_AS_NODE=1) with the bundled dist/dsod.js and an argument array: never a shell,
// never npx (a signal sent to npx does not reach the engine, so no checkpoint would be written).
//
// stdout is read line by line through protocol/engine-events.ts; a line that is not a valid event is logged, never
// fatal. stderr is kept for the log. Stop = SIGINT (the engine checkpoints and exits 130), then SIGKILL after a
// timeout. A process that ends without a `done` event failed, whatever its exit code, and its last events are kept.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  parseEngineEventLine,
  type DoneEvent,
  type EngineCommand,
  type EngineEvent,
  type ErrorEvent,
  type ProgressEvent,
  type StartEvent,
} from '../../protocol/engine-events';

/** How long a graceful stop may take before the process is killed (a checkpoint of a big network takes seconds). */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;
/** Progress events kept in `events` (all other events are kept, up to MAX_KEPT_EVENTS). */
const KEPT_PROGRESS = 50;
const MAX_KEPT_EVENTS = 2_000;
const STDERR_TAIL_CHARS = 64 * 1024;
/** A stdout line longer than this is not an event; it is dropped (logged) rather than grown without bound. */
const MAX_LINE_CHARS = 16 * 1024 * 1024;

export interface EngineProcessOptions {
  /** The bundled engine: <extension>/dist/dsod.js. */
  enginePath: string;
  command: EngineCommand;
  /** Everything after the command; `--json` is added before them. */
  args: string[];
  cwd?: string;
  /** The runtime (default process.execPath). */
  execPath?: string;
  /** Added to process.env (ELECTRON_RUN_AS_NODE=1 is always set). */
  env?: Record<string, string | undefined>;
  /** Default grace period of stop() before SIGKILL. */
  stopTimeoutMs?: number;
}

export type EngineStatus = 'completed' | 'stopped' | 'failed';

export interface EngineResult {
  /** completed: a done event with a finished reason (completed, step or time limit); stopped: done 'stopped' or a stop
   *  this side asked for; failed: anything else, a process that died without a done event included. */
  status: EngineStatus;
  /** One sentence for people. */
  message: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The stop asked for did not finish in time: the process was killed (its last checkpoint may be older). */
  forced: boolean;
  stopRequested: boolean;
  done: DoneEvent | null;
  start: StartEvent | null;
  lastProgress: ProgressEvent | null;
  /** The last fatal error event (or the last error event when none was fatal). */
  error: ErrorEvent | null;
  /** The last events (every kind but progress, and the last progress events). */
  events: EngineEvent[];
  /** The end of stderr. */
  stderr: string;
  /** Lines of stdout that were not valid events. */
  invalidLines: number;
}

export type EngineLogLevel = 'info' | 'warn' | 'error';

type Listener<T> = (value: T) => void;

/** What the engine's argument array is, for logs: quoted only where a shell would need it (nothing runs a shell). */
export function describeCommandLine(execPath: string, args: readonly string[]): string {
  return [execPath, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export class EngineProcess {
  readonly command: EngineCommand;
  readonly execPath: string;
  /** The argument array given to the runtime: [dsod.js, command, --json, ...args]. */
  readonly argv: readonly string[];
  /** Resolves once the process has exited and its output is read; never rejects. */
  readonly result: Promise<EngineResult>;

  private readonly child: ChildProcess;
  private readonly eventListeners: Listener<EngineEvent>[] = [];
  private readonly logListeners: ((level: EngineLogLevel, line: string) => void)[] = [];
  private readonly kept: EngineEvent[] = [];
  private progressKept = 0;
  private stdoutBuffer = '';
  private stderrBuffer = '';
  private stderrTail = '';
  private invalid = 0;
  private startEvent: StartEvent | null = null;
  private doneEvent: DoneEvent | null = null;
  private lastProgressEvent: ProgressEvent | null = null;
  private lastError: ErrorEvent | null = null;
  private stopAsked = false;
  private killed = false;
  private exited = false;
  private spawnError: Error | null = null;
  private killTimer: NodeJS.Timeout | undefined;
  private killDeadline = Infinity;
  private readonly stopTimeoutMs: number;

  constructor(o: EngineProcessOptions) {
    this.command = o.command;
    this.execPath = o.execPath ?? process.execPath;
    this.stopTimeoutMs = o.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    // --json first: options may come anywhere, and a `--` among the arguments would make a later one a positional.
    this.argv = [o.enginePath, o.command, '--json', ...o.args.filter((a) => a !== '--json')];
    this.child = spawn(this.execPath, this.argv as string[], {
      cwd: o.cwd,
      env: { ...process.env, ...o.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.on('data', (chunk: string) => this.onStderr(chunk));
    this.result = new Promise<EngineResult>((resolve) => {
      this.child.once('error', (e) => {
        // spawn failed (no such runtime): 'close' may never come.
        this.spawnError = e;
        if (this.child.pid === undefined) {
          this.exited = true;
          resolve(this.finish(null, null));
        }
      });
      this.child.once('close', (code, signal) => {
        this.exited = true;
        if (this.stdoutBuffer) this.onLine(this.stdoutBuffer);
        this.stdoutBuffer = '';
        if (this.stderrBuffer) this.emitLog('warn', this.stderrBuffer);
        this.stderrBuffer = '';
        resolve(this.finish(code, signal));
      });
    });
    this.result.then(() => clearTimeout(this.killTimer));
  }

  /** The process id (undefined when the runtime could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  get stopRequested(): boolean {
    return this.stopAsked;
  }

  /** The start event, once it came. */
  get start(): StartEvent | null {
    return this.startEvent;
  }

  get lastProgress(): ProgressEvent | null {
    return this.lastProgressEvent;
  }

  /** Every valid event, in order, as it arrives. */
  onEvent(listener: Listener<EngineEvent>): void {
    this.eventListeners.push(listener);
  }

  /** stderr lines (warn) and stdout lines that are not events (warn), for the log. */
  onLog(listener: (level: EngineLogLevel, line: string) => void): void {
    this.logListeners.push(listener);
  }

  /**
   * Graceful stop: SIGINT (the engine writes a checkpoint, emits `done` and exits 130), then SIGKILL when it has not
   * exited after `timeoutMs`. Resolves with the result. Calling it again shortens the grace period, never extends it.
   */
  stop(timeoutMs: number = this.stopTimeoutMs): Promise<EngineResult> {
    if (this.exited) return this.result;
    if (!this.stopAsked) {
      this.stopAsked = true;
      this.signal('SIGINT');
    }
    const deadline = Date.now() + Math.max(0, timeoutMs);
    if (this.killTimer === undefined || deadline < this.killDeadline) {
      clearTimeout(this.killTimer);
      this.killDeadline = deadline;
      this.killTimer = setTimeout(() => this.kill(), Math.max(0, timeoutMs));
      this.killTimer.unref?.();
    }
    return this.result;
  }

  /** Forced stop: SIGKILL now (no checkpoint). */
  kill(): Promise<EngineResult> {
    if (!this.exited) {
      this.stopAsked = true;
      this.killed = true;
      this.signal('SIGKILL');
    }
    return this.result;
  }

  /** Stop gracefully, then forcefully after `timeoutMs`; resolves once the process is gone. */
  async dispose(timeoutMs: number = this.stopTimeoutMs): Promise<void> {
    await this.stop(timeoutMs);
  }

  private signal(s: NodeJS.Signals): void {
    try {
      this.child.kill(s);
    } catch {
      // already gone
    }
  }

  private onStdout(chunk: string): void {
    this.stdoutBuffer += chunk;
    let nl: number;
    while ((nl = this.stdoutBuffer.indexOf('\n')) >= 0) {
      const line = this.stdoutBuffer.slice(0, nl);
      this.stdoutBuffer = this.stdoutBuffer.slice(nl + 1);
      this.onLine(line);
    }
    if (this.stdoutBuffer.length > MAX_LINE_CHARS) {
      this.emitLog('warn', `engine stdout: dropped ${this.stdoutBuffer.length} characters without a line end`);
      this.stdoutBuffer = '';
    }
  }

  private onLine(raw: string): void {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) return;
    const r = parseEngineEventLine(line);
    if (!r.ok) {
      this.invalid++;
      this.emitLog('warn', `engine stdout: not an event (${r.error}): ${line.length > 500 ? `${line.slice(0, 500)}…` : line}`);
      return;
    }
    const e = r.event;
    switch (e.type) {
      case 'start':
        this.startEvent = e;
        break;
      case 'progress':
        this.lastProgressEvent = e;
        break;
      case 'error':
        if (e.fatal || !this.lastError?.fatal) this.lastError = e;
        break;
      case 'done':
        this.doneEvent = e;
        break;
    }
    this.keep(e);
    for (const l of this.eventListeners) {
      try {
        l(e);
      } catch (err) {
        this.emitLog('error', `event listener failed: ${(err as Error).stack ?? err}`);
      }
    }
  }

  private keep(e: EngineEvent): void {
    if (e.type === 'progress') {
      this.progressKept++;
      if (this.progressKept > KEPT_PROGRESS) {
        const i = this.kept.findIndex((k) => k.type === 'progress');
        if (i >= 0) this.kept.splice(i, 1);
        this.progressKept--;
      }
    }
    this.kept.push(e);
    if (this.kept.length > MAX_KEPT_EVENTS) {
      // Keep the start and doctor events: they say what ran.
      const i = this.kept.findIndex((k) => k.type !== 'start' && k.type !== 'doctor');
      const [dropped] = this.kept.splice(i, 1);
      if (dropped.type === 'progress') this.progressKept--;
    }
  }

  private onStderr(chunk: string): void {
    this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    this.stderrBuffer += chunk;
    let nl: number;
    while ((nl = this.stderrBuffer.indexOf('\n')) >= 0) {
      const line = this.stderrBuffer.slice(0, nl).replace(/\r$/, '');
      this.stderrBuffer = this.stderrBuffer.slice(nl + 1);
      if (line.trim()) this.emitLog('warn', line);
    }
    if (this.stderrBuffer.length > STDERR_TAIL_CHARS) {
      this.emitLog('warn', this.stderrBuffer);
      this.stderrBuffer = '';
    }
  }

  private emitLog(level: EngineLogLevel, line: string): void {
    for (const l of this.logListeners) {
      try {
        l(level, line);
      } catch {
        // a log listener must not break the process reader
      }
    }
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): EngineResult {
    const done = this.doneEvent;
    const step = this.lastProgressEvent?.step ?? done?.step ?? this.startEvent?.step ?? null;
    const at = step !== null && this.command === 'train' ? ` at step ${step}` : '';
    const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
    let status: EngineStatus;
    let message: string;
    if (this.spawnError && this.child.pid === undefined) {
      status = 'failed';
      message = `the engine could not be started (${this.execPath}): ${this.spawnError.message}`;
    } else if (done) {
      if (done.reason === 'stopped') {
        status = 'stopped';
        message = `stopped${at} (a checkpoint was written)`;
      } else if (done.reason === 'failed') {
        status = 'failed';
        message = this.lastError ? this.lastError.message : `failed${at} (${how})`;
      } else {
        status = 'completed';
        message = `${done.reason === 'completed' ? 'completed' : `reached its ${done.reason === 'time-limit' ? 'time' : 'step'} limit`}${at}`;
      }
    } else if (this.stopAsked) {
      // Stopped on request before it could report: killed after the grace period, or a command (eval, infer) that
      // stops at once on SIGINT.
      status = 'stopped';
      message = this.killed ? `stopped by force${at}: it did not stop within the grace period; the last checkpoint may be older` : `stopped${at}`;
    } else {
      status = 'failed';
      const last = this.lastError ? `: ${this.lastError.message}` : '';
      const tail = this.stderrTail.trim().split('\n').slice(-1)[0];
      message = `the engine ${how}${at} without finishing${last || (tail ? `: ${tail}` : '')}`;
    }
    return {
      status,
      message,
      exitCode: code,
      signal,
      forced: this.killed,
      stopRequested: this.stopAsked,
      done,
      start: this.startEvent,
      lastProgress: this.lastProgressEvent,
      error: this.lastError,
      events: [...this.kept],
      stderr: this.stderrTail,
      invalidLines: this.invalid,
    };
  }
}
