// A training run's entry: what is checked before the run folder is touched (the spec's batch, memory), the folder's
// lock, and whether the folder may be trained into (a run there needs --resume; --from rewinds it first). The run
// itself, SSD's MultiBox loss on augmented batches with SGD, checkpoints, evaluations and guards, is a TrainingRun
// (training-run.ts).
import type { Analysis } from '../../core';
import type { DoneReason, EventBody, MetricName } from '../../protocol/engine-events';
import type { BatchOptions } from '../data/batches';
import type { DataSource } from '../data/source';
import type { DetectionDataset } from '../data/types';
import { listCheckpoints } from './checkpoint';
import { TrainError } from './errors';
import { checkMemory, estimateTrainingMemory, memoryLimit } from './memory';
import { rewindMessage, rewindRun } from './rewind';
import { ensureRunDir, readMetrics } from './run-files';
import { acquireRunLock } from './run-lock';
import { describeCleanup, removeStaleTempFiles } from './temp-files';
import { TrainingRun } from './training-run';

export type Emit = (event: EventBody) => void;

/** Set by signal handlers (or a test); the loop checks it between steps. */
export interface StopFlag {
  requested: string | null;
}

export interface TrainOptions {
  analysis: Analysis;
  specPath: string;
  specText: string;
  runDir: string;
  train: DetectionDataset;
  /** Held-out images for evaluation; null: no evaluation. */
  test: DetectionDataset | null;
  testSplit?: string;
  /** tfjs's name of the active backend (for the memory limit). */
  tfBackend: string;
  resume: boolean;
  /** Resume from this earlier checkpoint of the run (implies resume; later checkpoints are set aside: rewind.ts). */
  from?: string | null;
  /** Where the images came from, recorded in checkpoints for `dsod eval` and `dsod infer` on the run. */
  dataSource?: DataSource | null;
  /** Stop after this optimizer step (the schedule stays the spec's). */
  maxSteps?: number | null;
  /** Stop after this many minutes of this process; a schedule that cannot fit is compressed to fit. */
  maxMinutes?: number | null;
  /** Evaluate every N steps (default: at every interval checkpoint); 0: only at the end. */
  evalEvery?: number | null;
  /** Periodic evaluations use the first N held-out images (the final one uses all). */
  evalImages?: number | null;
  metric?: MetricName;
  keepCheckpoints?: number;
  /** Micro-batches of training images that batch-norm statistics are recomputed over before each evaluation and at
   * the end (0: keep Caffe's running averages as they are). Default 50. */
  calibrationBatches?: number;
  /** Overrides the spec's train.augment preset (tests). */
  augment?: BatchOptions['augment'];
  emit: Emit;
  /** Called once the run is accepted (memory fits, the run folder is free or resumable), before its first event. */
  onAccepted?: () => void;
  stop: StopFlag;
  /** Extra memory check override (tests): bytes available to a step. */
  memoryLimitBytes?: number;
}

export interface TrainOutcome {
  reason: DoneReason;
  step: number;
  elapsedSec: number;
  exitCode: number;
  metric: { metric: MetricName; value: number } | null;
}

export { TrainError };

export async function train(o: TrainOptions): Promise<TrainOutcome> {
  const { analysis, emit } = o;
  const spec = analysis.spec;
  const t = spec.train;
  if (t.batch % t.accumulate !== 0) {
    throw new TrainError(
      'spec',
      `train.batch (${t.batch}) must be a multiple of train.accumulate (${t.accumulate}): each step accumulates equal micro-batches`,
    );
  }
  const micro = t.batch / t.accumulate;
  const limit = o.memoryLimitBytes !== undefined ? { bytes: o.memoryLimitBytes, why: 'the limit given' } : memoryLimit(o.tfBackend);
  const tooBig = checkMemory(analysis, estimateTrainingMemory(analysis, micro, t.accumulate), limit);
  if (tooBig) throw new TrainError('out-of-memory', tooBig);

  ensureRunDir(o.runDir);
  const lock = acquireRunLock(o.runDir);
  if (!lock.ok) {
    const h = lock.holder;
    const who = h.pid > 0 ? `process ${h.pid} on ${h.host} (since ${h.started})` : 'another process';
    throw new TrainError(
      'run-busy',
      `${o.runDir} is being trained by ${who}: stop that run first (Ctrl-C, kill -INT ${h.pid > 0 ? h.pid : '<pid>'}, or DSOD: Stop Run), ` +
        `or choose another --out. If no such process runs, delete ${lock.path}`,
    );
  }
  try {
    if (lock.stale) emit({ type: 'log', level: 'info', message: `took over the lock of process ${lock.stale.pid}, which no longer runs` });
    return await trainLocked(o, micro);
  } finally {
    lock.release();
  }
}

/** The run itself, once this process holds the run folder's lock. */
async function trainLocked(o: TrainOptions, micro: number): Promise<TrainOutcome> {
  const { emit } = o;
  // A damaged metrics.json is refused before anything moves: --from would trim it, an evaluation add to it.
  if (o.test || o.from) readMetrics(o.runDir);
  if (o.from) {
    const message = rewindMessage(await rewindRun(o.runDir, o.from));
    if (message) emit({ type: 'log', level: 'info', message });
  }
  const existing = listCheckpoints(o.runDir);
  if (existing.length && !o.resume && !o.from) {
    throw new TrainError(
      'run-exists',
      `${o.runDir} already holds a run (${existing[existing.length - 1].path}): pass --resume to continue it, or choose another --out`,
    );
  }
  o.onAccepted?.();
  // The spec's train.sync_bn is the torch engine's (several processes); this engine has one, whose statistics are the
  // whole batch's already.
  if (o.analysis.spec.train.syncBn)
    emit({
      type: 'log',
      level: 'info',
      message: "train.sync_bn is ignored: the tfjs engine trains in one process (its batch-norm statistics are the whole batch's already)",
    });
  // Only the lock holder gets here: no other training is writing into the folder.
  const cleaned = describeCleanup(removeStaleTempFiles(o.runDir));
  if (cleaned) emit({ type: 'log', level: 'info', message: `${o.runDir}: ${cleaned}` });
  const run = new TrainingRun(o, micro, existing);
  try {
    return await run.run();
  } finally {
    run.dispose();
  }
}
