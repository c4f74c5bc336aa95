// The engine's argument arrays for each run command, shared by the run manager and the task provider (no `vscode`).
// Paths are passed as they are, one array element each: nothing here is ever joined into a shell string.
import { join } from 'node:path';

/** The bundled engine inside the extension (or the repository). */
export function enginePath(extensionRoot: string): string {
  return join(extensionRoot, 'dist', 'dsod.js');
}

export interface TrainArgs {
  spec: string;
  runDir: string;
  /** Continue from the run's last checkpoint. */
  resume?: boolean;
  /** Continue from this checkpoint of the run (an earlier one than the last). */
  from?: string;
  /** More options (e.g. --steps N), appended. */
  extra?: string[];
}

export function trainArgs(o: TrainArgs): string[] {
  return [o.spec, '--out', o.runDir, ...(o.from ? ['--from', o.from] : o.resume ? ['--resume'] : []), ...(o.extra ?? [])];
}

export interface EvalArgs {
  /** The spec; null lets the engine use the run's own. */
  spec: string | null;
  runDir: string;
  /** Weights or checkpoint to score (default: the run's weights). */
  weights?: string;
  extra?: string[];
}

export function evalArgs(o: EvalArgs): string[] {
  return [...(o.spec ? [o.spec] : []), '--run', o.runDir, ...(o.weights ? ['--weights', o.weights] : []), ...(o.extra ?? [])];
}

export interface InferArgs {
  spec: string | null;
  runDir: string;
  /** Image files and folders. */
  inputs: string[];
  weights?: string;
  extra?: string[];
}

export function inferArgs(o: InferArgs): string[] {
  return [...(o.spec ? [o.spec] : []), '--run', o.runDir, ...(o.weights ? ['--weights', o.weights] : []), ...(o.extra ?? []), ...o.inputs];
}
