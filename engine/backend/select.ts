// Backend selection at run time, with a "doctor" report of what was tried and why the winner won: the first
// that loads and runs in BACKEND_ORDER, or exactly the one asked for with --backend (never a silent fallback).
import * as tf from '@tensorflow/tfjs';
import { EngineError } from '../errors';
import { BACKEND_ORDER, BackendUnavailable, defaultLoaders, INSTALL_HINTS, type BackendChoice, type BackendLoader } from './loaders';

export interface BackendAttempt {
  name: BackendChoice;
  ok: boolean;
  /** What loaded (versions, device) or why not ("@tensorflow/tfjs-node-gpu is not installed"). */
  detail: string;
  ms: number;
}

export interface DoctorReport {
  chosen: BackendChoice;
  /** tfjs's name for it, as tf.getBackend() reports. */
  tfBackend: string;
  requested: BackendChoice | 'auto';
  reason: string;
  /** In the order tried; backends after the chosen one are not tried. */
  attempts: BackendAttempt[];
  /** CPU threads the chosen backend computes with, where it says (wasm). */
  threads?: number;
}

export class BackendError extends EngineError {
  constructor(
    message: string,
    readonly attempts: BackendAttempt[] = [],
  ) {
    super('backend', message);
  }
}

export interface SelectOptions {
  /** A --backend value; `auto`, empty or absent for automatic selection. */
  requested?: string | null;
  loaders?: Partial<Record<BackendChoice, BackendLoader>>;
  /** Switch tfjs to a registered backend and prove it computes; tf.setBackend + 1 + 1 by default. */
  activate?: (tfBackend: string) => Promise<void>;
  now?: () => number;
}

export function isBackendChoice(s: string): s is BackendChoice {
  return (BACKEND_ORDER as readonly string[]).includes(s);
}

async function activateTf(tfBackend: string): Promise<void> {
  if (!(await tf.setBackend(tfBackend))) throw new BackendUnavailable(`tfjs could not initialise the '${tfBackend}' backend`);
  const t = tf.add(tf.scalar(1), tf.scalar(1));
  const v = (await t.data())[0];
  tf.dispose(t);
  if (v !== 2) throw new BackendUnavailable(`the '${tfBackend}' backend computed 1 + 1 = ${v}`);
}

export async function selectBackend(options: SelectOptions = {}): Promise<DoctorReport> {
  const requested = (options.requested ?? 'auto').trim() || 'auto';
  if (requested !== 'auto' && !isBackendChoice(requested)) {
    throw new BackendError(`unknown backend "${requested}": choose one of ${BACKEND_ORDER.join(', ')} (or auto)`);
  }
  const loaders = { ...defaultLoaders(), ...options.loaders };
  const activate = options.activate ?? activateTf;
  const now = options.now ?? (() => performance.now());
  const order = requested === 'auto' ? BACKEND_ORDER : [requested];
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    const start = now();
    try {
      const loaded = await loaders[name]();
      await activate(loaded.tfBackend);
      attempts.push({ name, ok: true, detail: loaded.detail, ms: Math.round(now() - start) });
      const skipped = attempts.filter((a) => !a.ok).map((a) => a.name);
      const reason =
        requested !== 'auto'
          ? `requested with --backend ${name}`
          : skipped.length === 0
            ? 'the fastest backend, available'
            : `the fastest available (${skipped.join(', ')} could not load)`;
      const report: DoctorReport = { chosen: name, tfBackend: loaded.tfBackend, requested: requested as BackendChoice | 'auto', reason, attempts };
      if (loaded.threads !== undefined) report.threads = loaded.threads;
      return report;
    } catch (e) {
      // A configuration error (a bad $DSOD_WASM_THREADS) stops selection: falling back would hide it.
      if (e instanceof EngineError) throw e;
      const detail = e instanceof BackendUnavailable ? e.message : `failed: ${String((e as Error)?.message ?? e).split('\n')[0]}`;
      attempts.push({ name, ok: false, detail, ms: Math.round(now() - start) });
    }
  }
  if (requested !== 'auto') {
    const name = requested as BackendChoice;
    throw new BackendError(
      `--backend ${name} is not available: ${attempts[0].detail}. To use it: ${INSTALL_HINTS[name]}; or drop --backend to pick the fastest available.`,
      attempts,
    );
  }
  throw new BackendError(`no tfjs backend works here: ${attempts.map((a) => `${a.name}: ${a.detail}`).join('; ')}`, attempts);
}

/** The report as terminal lines: the choice first, then one line per backend tried. */
export function formatDoctor(report: DoctorReport): string {
  const lines = [`backend: ${report.chosen} - ${report.reason}`];
  for (const a of report.attempts) lines.push(`  ${a.ok ? '✓' : '✗'} ${a.name}: ${a.detail}`);
  return lines.join('\n');
}
