// The training loop: SSD's MultiBox loss on augmented batches, SGD with momentum and weight decay, the spec's
// learning-rate schedule, gradient accumulation, checkpoints (every N steps, at the end, on a signal), periodic
// evaluation on held-out images, and guards (memory before the first step, NaN or exploding loss at every step).
//
// Exact resume: a step's result depends only on the weights (running statistics included), the momentum buffers,
// the step number (learning rate) and the batch, and a batch only on (seed, position) (engine/data/batches.ts).
// Checkpoints store all of these, so a run stopped at step s and resumed computes what an uninterrupted run would.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { defaultBoxes, type Analysis } from '../../core';
import type { DoneReason, EventBody, MetricName } from '../../protocol/engine-events';
import { multiboxLoss } from '../boxes/loss';
import { BatchLoader, type Batch, type BatchOptions } from '../data/batches';
import { writeFileAtomic } from '../data/files';
import { formatProblem, type DetectionDataset } from '../data/types';
import { writePrCurves } from '../eval/curves';
import { createModel, type DsodModel } from '../model/model';
import type { WeightMap } from '../model/weights';
import { decodeCheckpoint, listCheckpoints, writeCheckpoint, writeWeightsFile, type CheckpointMeta } from './checkpoint';
import { augmentOptions } from './augment';
import { calibrationOf, DEFAULT_CALIBRATION_BATCHES, recalibrateBatchNorm, restoreStats, snapshotStats } from './bn-calibration';
import { evaluateModel } from '../eval/evaluate';
import { LossGuard } from './loss-guard';
import { checkMemory, estimateTrainingMemory, memoryLimit } from './memory';
import type { DataSource } from '../data/source';
import { TrainError } from './errors';
import { rewindRun } from './rewind';
import { ensureRunDir, readMetrics, recordMetric, RUN_FILES } from './run-files';
import { acquireRunLock } from './run-lock';
import { compressSchedule, learningRate, scheduleOf, type Schedule } from './schedule';
import { describeCleanup, removeStaleTempFiles } from './temp-files';
import { MomentumSgd } from './sgd';

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

/** Steps after which a --minutes budget is fitted (the first steps include one-time compilation). */
const FIT_AFTER_STEPS = 12;
const SKIP_TIMING_STEPS = 2;

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
  const tooBig = checkMemory(estimateTrainingMemory(analysis, micro), limit, t.accumulate);
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
  const { analysis, emit } = o;
  const spec = analysis.spec;
  const t = spec.train;
  if (o.from) {
    const r = await rewindRun(o.runDir, o.from);
    if (r.step < r.reached)
      emit({
        type: 'log',
        level: 'info',
        message:
          `continuing from step ${r.step} of the ${r.reached} the run had reached: ${r.moved} later checkpoint${r.moved === 1 ? '' : 's'} moved to ${r.movedTo}, ` +
          `${r.droppedEvaluations} later evaluation${r.droppedEvaluations === 1 ? '' : 's'} dropped from metrics.json (their events stay in events.jsonl)`,
      });
  }
  const existing = listCheckpoints(o.runDir);
  if (existing.length && !o.resume && !o.from) {
    throw new TrainError(
      'run-exists',
      `${o.runDir} already holds a run (${existing[existing.length - 1].path}): pass --resume to continue it, or choose another --out`,
    );
  }
  o.onAccepted?.();
  // Only the lock holder gets here: no other training is writing into the folder.
  const cleaned = describeCleanup(removeStaleTempFiles(o.runDir));
  if (cleaned) emit({ type: 'log', level: 'info', message: `${o.runDir}: ${cleaned}` });
  const specHash = createHash('sha256').update(o.specText).digest('hex').slice(0, 16);
  const priors = defaultBoxes(analysis);
  const model = createModel(analysis.graph, { seed: t.seed });
  const trainable = model.params.filter((p) => p.trainable);
  const vars = trainable.map((p) => p.variable);
  const sgd = new MomentumSgd(trainable, { momentum: t.momentum, weightDecay: t.weightDecay });
  let loader: BatchLoader | null = null;
  const calibrationBatches = o.calibrationBatches ?? DEFAULT_CALIBRATION_BATCHES;
  // What `dsod eval` and `dsod infer` need to redo this run's evaluations: its data, and its recalibration.
  const runRecord: Pick<CheckpointMeta, 'data' | 'calibration'> = {
    ...(o.dataSource ? { data: { format: o.dataSource.format, root: o.dataSource.root, train: o.dataSource.train, test: o.dataSource.test } } : {}),
    calibration: { batches: calibrationBatches, batchSize: micro },
  };
  try {
    let meta: CheckpointMeta = {
      format: 1,
      step: 0,
      position: 0,
      seed: t.seed,
      elapsedSec: 0,
      schedule: scheduleOf(t),
      lossReference: null,
      spec: { name: spec.name, hash: specHash },
      batch: t.batch,
      accumulate: t.accumulate,
      augment: t.augment,
      created: new Date().toISOString(),
      ...runRecord,
    };
    let fitted = false;
    const latest = existing[existing.length - 1];
    const resume = o.resume || !!o.from;
    /** The resumed checkpoint's weights (put back after evaluating earlier checkpoints). */
    let resumed: { weights: WeightMap; meta: CheckpointMeta } | null = null;
    if (resume && latest) {
      const c = decodeCheckpoint(readFileSync(latest.path), latest.path);
      resumed = { weights: c.weights, meta: c.meta };
      const was = `batch ${c.meta.batch}, accumulate ${c.meta.accumulate}, augment ${c.meta.augment}`;
      const now = `batch ${t.batch}, accumulate ${t.accumulate}, augment ${t.augment}`;
      if (was !== now) {
        throw new TrainError(
          'resume',
          `${latest.path} was trained with ${was}; the spec now says ${now}: a resumed run must see the same batches; start a new run (another --out) to change them`,
        );
      }
      try {
        model.setWeights(c.weights);
        sgd.load(c.optimizer);
      } catch (e) {
        throw new TrainError('resume', `${latest.path} does not fit this spec's network: ${(e as Error).message}`);
      }
      if (c.meta.spec.hash !== specHash)
        emit({ type: 'log', level: 'warn', message: `the spec changed since ${latest.path} was written; the network still fits, continuing` });
      // The spec's schedule wins unless a --minutes budget fitted one (that decision is part of the run).
      fitted = c.meta.scheduleFitted === true;
      meta = { ...c.meta, schedule: fitted ? c.meta.schedule : scheduleOf(t), spec: { name: spec.name, hash: specHash }, ...runRecord };
      emit({ type: 'log', level: 'info', message: `resuming from ${latest.path} (step ${meta.step}, ${meta.elapsedSec.toFixed(0)} s of training)` });
    } else if (resume) {
      emit({ type: 'log', level: 'info', message: `no checkpoint in ${join(o.runDir, RUN_FILES.checkpoints)}: starting a new run` });
    }
    await writeFileAtomic(join(o.runDir, RUN_FILES.spec), o.specText);

    const [height, width] = model.inputShape;
    loader = new BatchLoader(o.train, {
      batchSize: micro,
      width,
      height,
      seed: t.seed,
      priors,
      targets: { variances: spec.priors.variances },
      startStep: meta.position,
      prefetch: Math.max(2, t.accumulate + 1),
      augment: o.augment ?? augmentOptions(t.augment),
      onSkip: (p) => emit({ type: 'log', level: 'warn', message: `training data: ${formatProblem(p)}` }),
    });
    reportProblems(o.train, 'training', emit);
    if (o.test) reportProblems(o.test, 'test', emit);
    const testImages = o.test?.records.length ?? 0;
    emit({
      type: 'start',
      command: 'train',
      spec: o.specPath,
      name: spec.name,
      runDir: o.runDir,
      step: meta.step,
      steps: meta.schedule.iterations,
      batch: t.batch,
      accumulate: t.accumulate,
      images: { train: loader.imageCount, test: testImages },
      resumed: meta.step > 0,
    });

    const guard = new LossGuard(meta.lossReference);
    const processStart = performance.now();
    const elapsedBase = meta.elapsedSec;
    const elapsed = () => elapsedBase + (performance.now() - processStart) / 1000;
    const processSeconds = () => (performance.now() - processStart) / 1000;
    const budgetSec = o.maxMinutes ? o.maxMinutes * 60 : Infinity;
    const evalEvery = o.evalEvery ?? t.checkpointEvery;
    const metric = o.metric ?? 'voc07';
    let lastMetric: TrainOutcome['metric'] = null;
    let lastEvalStep = -1;
    let lastEvalPartial = false;
    let lastCheckpointStep = latest && resume ? meta.step : -1;
    const stepTimes: number[] = [];
    let warmupDropped = false;
    let timedSteps = 0;
    let timedSeconds = 0;

    const saveCheckpoint = async (reason: 'interval' | 'end' | 'signal' | 'limit', recalibrated = false) => {
      if (lastCheckpointStep === meta.step && !recalibrated) return;
      meta = { ...meta, elapsedSec: elapsed(), lossReference: guard.reference, statsRecalibrated: recalibrated, created: new Date().toISOString() };
      const weights = await model.getWeights();
      const written = await writeCheckpoint(o.runDir, { meta, weights, optimizer: await sgd.state() }, o.keepCheckpoints ?? 3);
      await writeWeightsFile(join(o.runDir, RUN_FILES.weights), weights);
      lastCheckpointStep = meta.step;
      emit({ type: 'checkpoint', step: meta.step, path: written.path, bytes: written.bytes, reason });
    };

    const recalibrate = () => recalibrateBatchNorm(model, o.train, { batches: calibrationBatches, batchSize: micro });

    /** `late`: the periodic evaluation of an earlier checkpoint (loaded into the model) that a kill lost. */
    const evaluate = async (final: boolean, late?: { meta: CheckpointMeta }) => {
      if (!o.test) return;
      const maxImages = final ? undefined : (o.evalImages ?? undefined);
      // A periodic evaluation sees recalibrated statistics, then training continues with its own (a run's state does
      // not depend on when it was evaluated); the final statistics were recalibrated for good before the checkpoint.
      // A late one recalibrates as the run that wrote the checkpoint did (what `dsod eval` repeats: cli/statistics.ts).
      const calibration = late ? calibrationOf(late.meta) : { batches: calibrationBatches, batchSize: micro };
      const training = !final && calibration.batches > 0 ? await snapshotStats(model) : null;
      if (training) await recalibrateBatchNorm(model, o.train, calibration);
      const r = await evaluateModel(model, o.test, priors, {
        metric,
        variances: spec.priors.variances,
        ...(maxImages ? { maxImages } : {}),
        shouldStop: () => o.stop.requested !== null,
        onSkip: (p) => emit({ type: 'log', level: 'warn', message: `test data: ${formatProblem(p)}` }),
      });
      if (training) restoreStats(model, training);
      if (!r) return;
      const step = late ? late.meta.step : meta.step;
      // pr-curves.json holds the latest step's curves: a late evaluation of an earlier step does not replace them.
      const curves = !late || !readMetrics(o.runDir).some((e) => e.step !== null && e.step > step) ? join(o.runDir, RUN_FILES.curves) : null;
      if (curves) await writePrCurves(curves, { voc: r.voc, ...(r.coco ? { coco: r.coco } : {}) });
      const record = {
        metric: r.metric,
        value: r.value,
        extras: { ...r.extras, evalSeconds: r.seconds },
        perClass: r.perClass,
        step,
        elapsedSec: late ? late.meta.elapsedSec : elapsed(),
        split: o.testSplit ?? 'test',
        images: r.images,
      };
      // A late one keeps the later evaluations metrics.json may hold, and goes in step order.
      await recordMetric(o.runDir, record, { keepOthers: !!late });
      emit({ type: 'metric', ...record, curves });
      lastMetric = { metric: r.metric, value: r.value };
    };

    const finish = async (reason: DoneReason, checkpoint: 'end' | 'signal' | 'limit', withEval: boolean): Promise<TrainOutcome> => {
      // The weights a run leaves carry statistics of those weights (not after a signal: stopping must be quick, and the
      // run is not over).
      const calibrate = withEval && calibrationBatches > 0 && !(meta.statsRecalibrated && lastCheckpointStep === meta.step);
      if (calibrate) {
        const images = await recalibrate();
        emit({ type: 'log', level: 'info', message: `batch-norm statistics recomputed over ${images} training images` });
      }
      await saveCheckpoint(checkpoint, calibrate);
      if (withEval && o.test && (lastMetric === null || lastEvalStep !== meta.step || lastEvalPartial)) await evaluate(true);
      const exitCode = reason === 'stopped' ? (o.stop.requested === 'SIGINT' ? 130 : 143) : 0;
      return { reason, step: meta.step, elapsedSec: elapsed(), exitCode, metric: lastMetric };
    };

    // Evaluations a kill lost: one between a checkpoint and its evaluation leaves the checkpoint without it, and the
    // resumed run starts after that step. Each checkpoint step still on disk that --eval-every says to evaluate, and
    // that metrics.json has no evaluation of, is evaluated now, in step order, with the checkpoint's weights and the
    // run's recalibration: the number the uninterrupted run reports. (The last step of a run that is ending now gets
    // its final evaluation from finish().)
    if (resumed && o.test && evalEvery > 0) {
      const split = o.testSplit ?? 'test';
      const have = new Set(readMetrics(o.runDir).filter((e) => e.metric === metric && e.split === split).map((e) => e.step));
      const onDisk = new Map(listCheckpoints(o.runDir).map((c) => [c.step, c.path]));
      const ending = meta.step >= meta.schedule.iterations || (o.maxSteps != null && meta.step >= o.maxSteps);
      const late: number[] = [];
      const gone: number[] = [];
      for (let s = evalEvery; s <= meta.step; s += evalEvery) {
        if (have.has(s) || (s === meta.step && ending)) continue;
        if (onDisk.has(s)) late.push(s);
        else if (s % t.checkpointEvery === 0) gone.push(s);
      }
      if (gone.length) {
        const shown = gone.length > 20 ? `${gone.slice(0, 20).join(', ')}, ... (${gone.length} in all)` : gone.join(', ');
        emit({
          type: 'log',
          level: 'warn',
          message:
            `metrics.json has no ${metric} evaluation of step${gone.length === 1 ? '' : 's'} ${shown}, and ${gone.length === 1 ? 'its checkpoint is' : 'their checkpoints are'} ` +
            `no longer in ${join(o.runDir, RUN_FILES.checkpoints)} (a run keeps its last ${o.keepCheckpoints ?? 3}): ${gone.length === 1 ? 'it' : 'they'} cannot be evaluated`,
        });
      }
      if (late.length) {
        emit({
          type: 'log',
          level: 'info',
          message: `evaluating the checkpoint${late.length === 1 ? '' : 's'} of step${late.length === 1 ? '' : 's'} ${late.join(', ')}, whose evaluation an interrupted run did not record`,
        });
        for (const s of late) {
          if (o.stop.requested) break;
          const path = onDisk.get(s)!;
          let c = resumed;
          if (s !== meta.step) {
            try {
              c = decodeCheckpoint(readFileSync(path), path);
              model.setWeights(c.weights);
            } catch (e) {
              const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
              emit({ type: 'log', level: 'warn', message: `step ${s} cannot be evaluated: its checkpoint ${path} is unreadable (${why})` });
              continue;
            }
          } else model.setWeights(c.weights);
          await evaluate(false, { meta: c.meta });
          lastEvalStep = s;
          lastEvalPartial = (o.evalImages ?? Infinity) < testImages;
        }
        model.setWeights(resumed.weights);
      }
    }

    for (;;) {
      // A macrotask turn each step: with every image cached, batches and tfjs reads resolve as microtasks only, and
      // signal handlers (SIGINT, SIGTERM) would never get to run.
      await new Promise((r) => setImmediate(r));
      if (o.stop.requested) return await finish('stopped', 'signal', false);
      if (meta.step >= meta.schedule.iterations) return await finish('completed', 'end', true);
      if (o.maxSteps != null && meta.step >= o.maxSteps) return await finish('step-limit', 'limit', true);
      if (processSeconds() >= budgetSec) return await finish('time-limit', 'limit', true);

      const stepStart = performance.now();
      const lr = learningRate(meta.schedule, meta.step);
      const r = await runStep(model, vars, loader, t.accumulate, priors.length / 4);
      if (!r.ok) {
        emit({ type: 'error', code: 'data', message: r.message, where: null, fatal: true });
        return { reason: 'failed', step: meta.step, elapsedSec: elapsed(), exitCode: 1, metric: lastMetric };
      }
      const verdict = guard.check(r.loss, meta.step, lr);
      if (!verdict.ok) {
        tf.dispose(r.grads);
        const kept = lastCheckpointStep >= 0 ? ` The last checkpoint (step ${lastCheckpointStep}) is intact.` : '';
        emit({ type: 'error', code: verdict.code, message: verdict.message + '.' + kept, where: null, fatal: true });
        return { reason: 'failed', step: meta.step, elapsedSec: elapsed(), exitCode: 1, metric: lastMetric };
      }
      sgd.apply(r.grads, lr);
      tf.dispose(r.grads);
      meta = { ...meta, step: meta.step + 1, position: meta.position + t.accumulate };

      const seconds = (performance.now() - stepStart) / 1000;
      stepTimes.push(seconds);
      // The first step of a process pays for compilation (3.5 steps' time for the tiny spec on wasm): it leaves the window
      // once a later step is measured, else it would inflate the ETA and deflate img/s for 20 steps.
      if (!warmupDropped && stepTimes.length === 2) {
        stepTimes.shift();
        warmupDropped = true;
      }
      if (stepTimes.length > 20) stepTimes.shift();
      if (stepTimes.length > SKIP_TIMING_STEPS || meta.step > SKIP_TIMING_STEPS) {
        timedSteps++;
        timedSeconds += seconds;
      }
      const secPerStep = stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length;
      if (!fitted && o.maxMinutes && timedSteps >= FIT_AFTER_STEPS) {
        fitted = true;
        // Keep a tenth of the budget for evaluations and checkpoints.
        const room = budgetSec * 0.9 - processSeconds();
        const reachable = meta.step + Math.max(0, Math.floor(room / (timedSeconds / timedSteps)));
        if (reachable < meta.schedule.iterations) {
          meta = { ...meta, schedule: compressSchedule(meta.schedule, reachable), scheduleFitted: true };
          emit({
            type: 'log',
            level: 'info',
            message: `--minutes ${o.maxMinutes}: at ${(timedSeconds / timedSteps).toFixed(2)} s a step, ${reachable} of the spec's ${t.iterations} steps fit; schedule compressed (milestones ${meta.schedule.milestones.join(', ')})`,
          });
        }
      }
      const stepsLeft = Math.min(meta.schedule.iterations, o.maxSteps ?? Infinity) - meta.step;
      const eta = stepTimes.length >= 3 ? Math.min(stepsLeft * secPerStep, Math.max(0, budgetSec - processSeconds())) : null;
      emit({
        type: 'progress',
        epoch: (meta.position * micro) / Math.max(1, loader.imageCount),
        step: meta.step,
        steps: meta.schedule.iterations,
        loss: r.loss,
        parts: { loc: r.loc, conf: r.conf },
        lr,
        imgPerSec: t.batch / secPerStep,
        etaSec: eta,
        elapsedSec: elapsed(),
      });

      const atEnd = meta.step >= meta.schedule.iterations || (o.maxSteps != null && meta.step >= o.maxSteps);
      if (!atEnd && meta.step % t.checkpointEvery === 0) await saveCheckpoint('interval');
      if (!atEnd && evalEvery > 0 && meta.step % evalEvery === 0 && o.test) {
        await evaluate(false);
        lastEvalStep = meta.step;
        lastEvalPartial = (o.evalImages ?? Infinity) < testImages;
      }
    }
  } finally {
    loader?.close();
    sgd.dispose();
    model.dispose();
  }
}

type StepResult = { ok: true; loss: number; loc: number; conf: number; grads: tf.Tensor[] } | { ok: false; message: string };

/** Forward and backward over `accumulate` micro-batches; the gradients are their mean (Caffe's iter_size). */
async function runStep(model: DsodModel, vars: tf.Variable[], loader: BatchLoader, accumulate: number, priorCount: number): Promise<StepResult> {
  let sum: tf.Tensor[] | null = null;
  let loss = 0;
  let loc = 0;
  let conf = 0;
  for (let k = 0; k < accumulate; k++) {
    const batch: Batch | null = await loader.next();
    if (!batch || batch.size === 0 || !batch.targets) {
      if (sum) tf.dispose(sum);
      return { ok: false, message: 'the training data ran out of readable images' };
    }
    const n = batch.size;
    const x = tf.tensor4d(batch.images, batch.shape);
    const locT = tf.tensor3d(batch.targets.loc, [n, priorCount, 4]);
    const labels = tf.tensor2d(batch.targets.labels, [n, priorCount], 'int32');
    let parts: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(x, { training: true });
      const l = multiboxLoss(out.loc, out.conf, locT, labels);
      parts = [tf.keep(l.loc), tf.keep(l.conf)];
      return l.total;
    }, vars);
    const [v, lv, cv] = await Promise.all([value.data(), parts[0].data(), parts[1].data()]);
    tf.dispose([x, locT, labels, value, ...parts]);
    loss += v[0] / accumulate;
    loc += lv[0] / accumulate;
    conf += cv[0] / accumulate;
    const g = vars.map((w) => grads[w.name]);
    if (!sum) sum = g;
    else {
      const prev: tf.Tensor[] = sum;
      sum = tf.tidy(() => prev.map((s, i) => tf.add(s, g[i])));
      tf.dispose([...prev, ...g]);
    }
  }
  const grads = accumulate === 1 ? sum! : tf.tidy(() => sum!.map((s) => tf.div(s, accumulate)));
  if (accumulate > 1) tf.dispose(sum!);
  return { ok: true, loss, loc, conf, grads };
}

function reportProblems(ds: DetectionDataset, what: string, emit: Emit): void {
  const p = ds.report.problems;
  if (!p.length) return;
  const shown = p.slice(0, 10).map(formatProblem).join('\n  ');
  emit({
    type: 'log',
    level: 'warn',
    message: `${what} data: skipped ${ds.report.skippedImages} images and ${ds.report.skippedObjects} objects (${p.length} problems):\n  ${shown}${p.length > 10 ? `\n  ... and ${p.length - 10} more` : ''}`,
  });
}
