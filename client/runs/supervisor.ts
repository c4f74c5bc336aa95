// The engine processes the extension has running, by run folder, with no `vscode` import (node tests drive it):
// one process per run folder (a second one is refused with a clear message), stop one, and stop them all on
// deactivation (gracefully, then forcefully) so that no engine outlives the extension host.
import { resolve } from 'node:path';
import type { EngineCommand } from '../../protocol/engine-events';
import { EngineProcess, type EngineProcessOptions, type EngineResult } from './engineProcess';

export class RunBusyError extends Error {
  constructor(
    readonly runDir: string,
    readonly busyWith: EngineCommand,
  ) {
    super(`${runDir} is in use by a running "dsod ${busyWith}" of this window: stop it first (DSOD: Stop Run), or choose another run`);
  }
}

export interface ActiveRun {
  /** Resolved run folder. */
  runDir: string;
  command: EngineCommand;
  process: EngineProcess;
  /** Date.now() at start. */
  started: number;
}

/** Run-folder keys compare case-insensitively where the file system does. */
const keyOf = (runDir: string) => (process.platform === 'win32' || process.platform === 'darwin' ? resolve(runDir).toLowerCase() : resolve(runDir));

export class RunSupervisor {
  private readonly active = new Map<string, ActiveRun>();
  private readonly startListeners: ((run: ActiveRun) => void)[] = [];
  private readonly endListeners: ((run: ActiveRun, result: EngineResult) => void)[] = [];
  private disposed = false;

  constructor(private readonly defaults: Partial<EngineProcessOptions> = {}) {}

  onStart(l: (run: ActiveRun) => void): void {
    this.startListeners.push(l);
  }

  /** After the process exited (and after result listeners of its own). */
  onEnd(l: (run: ActiveRun, result: EngineResult) => void): void {
    this.endListeners.push(l);
  }

  /** The running processes, oldest first. */
  get runs(): ActiveRun[] {
    return [...this.active.values()];
  }

  get(runDir: string): ActiveRun | undefined {
    return this.active.get(keyOf(runDir));
  }

  /** Start an engine process working on `runDir`; throws RunBusyError when one already does. */
  start(runDir: string, o: Omit<EngineProcessOptions, 'enginePath'> & { enginePath?: string }): ActiveRun {
    if (this.disposed) throw new Error('the run manager is shutting down');
    const key = keyOf(runDir);
    const busy = this.active.get(key);
    if (busy) throw new RunBusyError(busy.runDir, busy.command);
    const enginePath = o.enginePath ?? this.defaults.enginePath;
    if (!enginePath) throw new Error('no engine path');
    const proc = new EngineProcess({ ...this.defaults, ...o, enginePath });
    const run: ActiveRun = { runDir: resolve(runDir), command: o.command, process: proc, started: Date.now() };
    this.active.set(key, run);
    void proc.result.then((result) => {
      if (this.active.get(key) === run) this.active.delete(key);
      for (const l of this.endListeners) {
        try {
          l(run, result);
        } catch {
          // a listener must not keep a run registered
        }
      }
    });
    for (const l of this.startListeners) l(run);
    return run;
  }

  /** Graceful stop of one run (SIGINT), forced after `timeoutMs`. */
  stop(runDir: string, timeoutMs?: number): Promise<EngineResult> | undefined {
    return this.get(runDir)?.process.stop(timeoutMs);
  }

  /** Stop every run: SIGINT to all at once, SIGKILL to those still alive after `timeoutMs`; resolves when all are gone. */
  async stopAll(timeoutMs?: number): Promise<EngineResult[]> {
    return Promise.all(this.runs.map((r) => r.process.stop(timeoutMs)));
  }

  /** Refuse new runs, then stop all (gracefully, then forcefully). */
  async dispose(timeoutMs?: number): Promise<void> {
    this.disposed = true;
    await this.stopAll(timeoutMs);
  }
}
