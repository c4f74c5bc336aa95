// `dsod ...args --json` in a child process, as the CLI tests drive it: every stdout line parsed and validated as an
// event (invalid lines collected in `bad`), events awaited as they come, signals and closed pipes.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseEngineEventLine, type EngineEvent } from '../../protocol/engine-events';
import { repoRoot } from '../helpers';

const bin = join(repoRoot, 'dist', 'dsod.js');

export interface RunningDsod {
  events: EngineEvent[];
  /** Resolves with the first event that satisfies `pred`. */
  waitFor(pred: (e: EngineEvent) => boolean): Promise<EngineEvent>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; bad: string[] }>;
  kill(signal: NodeJS.Signals): void;
  /** Close our ends of its stdout and stderr, as when the editor that started it dies. */
  closeOutput(): void;
}

/** Spawn `dsod ...args --json`, parsing and validating every stdout line as an event. */
export function startDsod(cwd: string, args: string[]): RunningDsod {
  const child = spawn(process.execPath, [bin, ...args, '--json'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: EngineEvent[] = [];
  const bad: string[] = [];
  const waiters: { pred: (e: EngineEvent) => boolean; resolve: (e: EngineEvent) => void }[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const r = parseEngineEventLine(line);
      if (!r.ok) {
        bad.push(`${r.error}: ${line}`);
        continue;
      }
      events.push(r.event);
      for (const w of [...waiters]) {
        if (w.pred(r.event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(r.event);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (stderr += c));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; bad: string[] }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr, bad })),
  );
  return {
    events,
    waitFor: (pred) => {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return Promise.race([
        new Promise<EngineEvent>((resolve) => waiters.push({ pred, resolve })),
        exit.then((x) => Promise.reject(new Error(`dsod exited (${x.code ?? x.signal}) before the awaited event: ${x.stderr}`))),
      ]);
    },
    exit,
    kill: (signal) => child.kill(signal),
    closeOutput: () => {
      child.stdout.destroy();
      child.stderr.destroy();
    },
  };
}
