// One training run, once its folder is locked and accepted (trainer.ts): the model, optimizer, batches and
// bookkeeping as state, and each step of the run a method: resuming a checkpoint, evaluating what an interrupted
// run left unevaluated, the optimizer step, fitting a --minutes budget, checkpointing, evaluating, finishing.
//
// Exact resume: a step's result depends only on the weights (running statistics included), the momentum buffers,
// the step number (learning rate) and the batch, and a batch only on (seed, position) (engine/data/batches.ts).
// Checkpoints store all of these, so a run stopped at step s and resumed computes what an uninterrupted run would.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { defaultBoxes, type NormalizedSpec } from '../../core';
import type { DoneReason, MetricName } from '../../protocol/engine-events';
import { BatchLoader } from '../data/batches';
import { writeFileAtomic } from '../data/files';
import { formatProblem, type DetectionDataset } from '../data/types';
import { writePrCurves } from '../eval/curves';
import { EXIT, signalExitStatus, type EngineErrorCode } from '../errors';
import { evaluateModel } from '../eval/evaluate';
import { createModel, type DsodModel } from '../model/model';
import type { WeightMap } from '../model/weights';
import { augmentOptions } from './augment';
import { calibrationOf, DEFAULT_CALIBRATION_BATCHES, recalibrateBatchNorm, restoreStats, snapshotStats } from './bn-calibration';
import { decodeCheckpoint, listCheckpoints, specTextHash, writeCheckpoint, writeWeightsFile, type CheckpointMeta } from './checkpoint';
import { TrainError } from './errors';
import { LossGuard } from './loss-guard';
import { readMetrics, recordMetric, RUN_FILES } from './run-files';
import { compressSchedule, learningRate, scheduleOf } from './schedule';
import { MomentumSgd } from './sgd';
import { runStep } from './run-step';
import { StepClock } from './step-clock';
import type { Emit, TrainOptions, TrainOutcome } from './trainer';

/** Timed steps after which a --minutes budget is fitted (StepClock leaves out those that include compilation). */
const FIT_AFTER_STEPS = 12;

type CheckpointReason = 'interval' | 'end' | 'signal' | 'limit';

export class TrainingRun {
  private readonly spec: NormalizedSpec;
  private readonly t: NormalizedSpec['train'];
  private readonly emit: Emit;
  private readonly specHash: string;
  private readonly priors: Float32Array;
  private readonly model: DsodModel;
  private readonly vars: tf.Variable[];
  private readonly sgd: MomentumSgd;
  private readonly calibrationBatches: number;
  /** What `dsod eval` and `dsod infer` need to redo this run's evaluations: its data, and its recalibration. */
  private readonly runRecord: Pick<CheckpointMeta, 'data' | 'calibration'>;
  private readonly evalEvery: number;
  private readonly metric: MetricName;
  private readonly budgetSec: number;
  private readonly clock = new StepClock();
  private loader: BatchLoader | null = null;
  private guard: LossGuard;
  private meta: CheckpointMeta;
  /** Whether a --minutes budget has fitted the schedule (in this process or, recorded in the checkpoint, an earlier one). */
  private fitted = false;
  /** The resumed checkpoint's weights (put back after evaluating earlier checkpoints). */
  private resumed: { weights: WeightMap; meta: CheckpointMeta } | null = null;
  private lastCheckpointStep = -1;
  private lastMetric: TrainOutcome['metric'] = null;
  private lastEvalStep = -1;
  private lastEvalPartial = false;
  private testImages = 0;
  private processStart = 0;
  private elapsedBase = 0;

  /**
   * `micro`: images a forward pass (train.batch / train.accumulate); `existing`: the run's checkpoints when it was
   * accepted (the latest is resumed with o.resume or o.from).
   */
  constructor(
    private readonly o: TrainOptions,
    private readonly micro: number,
    private readonly existing: ReturnType<typeof listCheckpoints>,
  ) {
    this.spec = o.analysis.spec;
    this.t = this.spec.train;
    this.emit = o.emit;
    this.specHash = specTextHash(o.specText);
    this.priors = defaultBoxes(o.analysis);
    this.model = createModel(o.analysis.graph, { seed: this.t.seed });
    const trainable = this.model.params.filter((p) => p.trainable);
    this.vars = trainable.map((p) => p.variable);
    this.sgd = new MomentumSgd(trainable, { momentum: this.t.momentum, weightDecay: this.t.weightDecay });
    this.calibrationBatches = o.calibrationBatches ?? DEFAULT_CALIBRATION_BATCHES;
    const d = o.dataSource;
    this.runRecord = {
      ...(d ? { data: { format: d.format, root: d.root, train: d.train, test: d.test } } : {}),
      calibration: { batches: this.calibrationBatches, batchSize: micro },
    };
    this.evalEvery = o.evalEvery ?? this.t.checkpointEvery;
    this.metric = o.metric ?? 'voc07';
    this.budgetSec = o.maxMinutes ? o.maxMinutes * 60 : Infinity;
    this.meta = {
      format: 1,
      step: 0,
      position: 0,
      seed: this.t.seed,
      elapsedSec: 0,
      schedule: scheduleOf(this.t),
      lossReference: null,
      spec: { name: this.spec.name, hash: this.specHash },
      batch: this.t.batch,
      accumulate: this.t.accumulate,
      augment: this.t.augment,
      created: new Date().toISOString(),
      ...this.runRecord,
    };
    this.guard = new LossGuard(null);
  }

  /** The whole run: resume, start, evaluate what a kill lost, then steps until the run ends. */
  async run(): Promise<TrainOutcome> {
    this.resume();
    await this.start();
    await this.evaluateLost();
    for (;;) {
      // A macrotask turn each step: with every image cached, batches and tfjs reads resolve as microtasks only, and
      // signal handlers (SIGINT, SIGTERM) would never get to run.
      await new Promise((r) => setImmediate(r));
      const end = this.endReason();
      if (end) return await this.finish(...end);
      const failed = await this.step();
      if (failed) return failed;
      await this.afterStep();
    }
  }

  dispose(): void {
    this.loader?.close();
    this.sgd.dispose();
    this.model.dispose();
  }

  /** Continue the run's latest checkpoint (with o.resume or o.from): its weights, momentum, position and schedule. */
  private resume(): void {
    const { o, t, emit } = this;
    const latest = this.existing[this.existing.length - 1];
    const resume = o.resume || !!o.from;
    if (resume && latest) {
      const c = decodeCheckpoint(readFileSync(latest.path), latest.path);
      this.resumed = { weights: c.weights, meta: c.meta };
      const was = `batch ${c.meta.batch}, accumulate ${c.meta.accumulate}, augment ${c.meta.augment}`;
      const now = `batch ${t.batch}, accumulate ${t.accumulate}, augment ${t.augment}`;
      if (was !== now) {
        throw new TrainError(
          'resume',
          `${latest.path} was trained with ${was}; the spec now says ${now}: a resumed run must see the same batches; start a new run (another --out) to change them`,
        );
      }
      try {
        this.model.setWeights(c.weights);
        this.sgd.load(c.optimizer);
      } catch (e) {
        throw new TrainError('resume', `${latest.path} does not fit this spec's network: ${(e as Error).message}`);
      }
      if (c.meta.spec.hash !== this.specHash)
        emit({ type: 'log', level: 'warn', message: `the spec changed since ${latest.path} was written; the network still fits, continuing` });
      // The spec's schedule wins unless a --minutes budget fitted one (that decision is part of the run).
      this.fitted = c.meta.scheduleFitted === true;
      this.meta = {
        ...c.meta,
        schedule: this.fitted ? c.meta.schedule : scheduleOf(t),
        spec: { name: this.spec.name, hash: this.specHash },
        ...this.runRecord,
      };
      this.lastCheckpointStep = this.meta.step;
      emit({ type: 'log', level: 'info', message: `resuming from ${latest.path} (step ${this.meta.step}, ${this.meta.elapsedSec.toFixed(0)} s of training)` });
    } else if (resume) {
      emit({ type: 'log', level: 'info', message: `no checkpoint in ${join(o.runDir, RUN_FILES.checkpoints)}: starting a new run` });
    }
  }

  /** The spec beside the run, the batch loader, data problems and the `start` event; the clock starts. */
  private async start(): Promise<void> {
    const { o, t, spec, meta, emit } = this;
    await writeFileAtomic(join(o.runDir, RUN_FILES.spec), o.specText);
    const [height, width] = this.model.inputShape;
    const loader = new BatchLoader(o.train, {
      batchSize: this.micro,
      width,
      height,
      seed: t.seed,
      priors: this.priors,
      targets: { variances: spec.priors.variances },
      startStep: meta.position,
      prefetch: Math.max(2, t.accumulate + 1),
      augment: o.augment ?? augmentOptions(t.augment),
      onSkip: (p) => emit({ type: 'log', level: 'warn', message: `training data: ${formatProblem(p)}` }),
    });
    this.loader = loader;
    reportProblems(o.train, 'training', emit);
    if (o.test) reportProblems(o.test, 'test', emit);
    this.testImages = o.test?.records.length ?? 0;
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
      images: { train: loader.imageCount, test: this.testImages },
      resumed: meta.step > 0,
    });
    this.guard = new LossGuard(meta.lossReference);
    this.processStart = performance.now();
    this.elapsedBase = meta.elapsedSec;
  }

  /** Seconds of training of the whole run (earlier processes included). */
  private elapsed(): number {
    return this.elapsedBase + this.processSeconds();
  }

  /** Seconds of training in this process (what --minutes limits). */
  private processSeconds(): number {
    return (performance.now() - this.processStart) / 1000;
  }

  /** Whether the step reached is the run's last: the schedule's end or --steps. */
  private atLastStep(): boolean {
    const { meta, o } = this;
    return meta.step >= meta.schedule.iterations || (o.maxSteps != null && meta.step >= o.maxSteps);
  }

  /** Why the run ends before its next step (with the checkpoint's reason and whether to evaluate), or null. */
  private endReason(): [DoneReason, 'end' | 'signal' | 'limit', boolean] | null {
    const { o, meta } = this;
    if (o.stop.requested) return ['stopped', 'signal', false];
    if (meta.step >= meta.schedule.iterations) return ['completed', 'end', true];
    if (o.maxSteps != null && meta.step >= o.maxSteps) return ['step-limit', 'limit', true];
    if (this.processSeconds() >= this.budgetSec) return ['time-limit', 'limit', true];
    return null;
  }

  /**
   * One optimizer step: the gradients of train.accumulate micro-batches, checked by the loss guard, applied. Returns
   * the failed run's outcome (data ran out, loss diverged) or null; the progress event and what follows a step are
   * afterStep's.
   */
  private async step(): Promise<TrainOutcome | null> {
    const { meta, t } = this;
    const stepStart = performance.now();
    const lr = learningRate(meta.schedule, meta.step);
    const r = await runStep(this.model, this.vars, this.loader!, t.accumulate, this.priors.length / 4);
    if (!r.ok) return this.failed('data', r.message);
    const verdict = this.guard.check(r.loss, meta.step, lr);
    if (!verdict.ok) {
      tf.dispose(r.grads);
      const kept = this.lastCheckpointStep >= 0 ? ` The last checkpoint (step ${this.lastCheckpointStep}) is intact.` : '';
      return this.failed(verdict.code, verdict.message + '.' + kept);
    }
    this.sgd.apply(r.grads, lr);
    tf.dispose(r.grads);
    this.meta = { ...meta, step: meta.step + 1, position: meta.position + t.accumulate };
    this.clock.record((performance.now() - stepStart) / 1000, this.meta.step);
    this.fitBudget();
    this.emitProgress(r, lr);
    return null;
  }

  /** A run that failed after it started stepping: its error event, and exit status 1 whatever the code (errors.ts). */
  private failed(code: EngineErrorCode, message: string): TrainOutcome {
    this.emit({ type: 'error', code, message, where: null, fatal: true });
    return { reason: 'failed', step: this.meta.step, elapsedSec: this.elapsed(), exitCode: EXIT.failed, metric: this.lastMetric };
  }

  /**
   * --minutes: once enough steps are timed, compress the schedule to the steps that fit (once per run: a resumed run
   * keeps the fitted schedule its checkpoint records).
   */
  private fitBudget(): void {
    const { o, t } = this;
    const steady = this.clock.steady;
    if (this.fitted || !o.maxMinutes || steady.steps < FIT_AFTER_STEPS) return;
    this.fitted = true;
    // Keep a tenth of the budget for evaluations and checkpoints.
    const room = this.budgetSec * 0.9 - this.processSeconds();
    const reachable = this.meta.step + Math.max(0, Math.floor(room / steady.secPerStep));
    if (reachable >= this.meta.schedule.iterations) return;
    this.meta = { ...this.meta, schedule: compressSchedule(this.meta.schedule, reachable), scheduleFitted: true };
    this.emit({
      type: 'log',
      level: 'info',
      message: `--minutes ${o.maxMinutes}: at ${steady.secPerStep.toFixed(2)} s a step, ${reachable} of the spec's ${t.iterations} steps fit; schedule compressed (milestones ${this.meta.schedule.milestones.join(', ')})`,
    });
  }

  private emitProgress(r: { loss: number; loc: number; conf: number }, lr: number): void {
    const { meta, o, clock } = this;
    const secPerStep = clock.secPerStep;
    const stepsLeft = Math.min(meta.schedule.iterations, o.maxSteps ?? Infinity) - meta.step;
    const eta = clock.settled ? Math.min(stepsLeft * secPerStep, Math.max(0, this.budgetSec - this.processSeconds())) : null;
    this.emit({
      type: 'progress',
      epoch: (meta.position * this.micro) / Math.max(1, this.loader!.imageCount),
      step: meta.step,
      steps: meta.schedule.iterations,
      loss: r.loss,
      parts: { loc: r.loc, conf: r.conf },
      lr,
      imgPerSec: this.t.batch / secPerStep,
      etaSec: eta,
      elapsedSec: this.elapsed(),
    });
  }

  /** The interval checkpoint and the periodic evaluation that fall on the step just taken (the last step's are finish's). */
  private async afterStep(): Promise<void> {
    const { meta, t, o } = this;
    if (this.atLastStep()) return;
    if (meta.step % t.checkpointEvery === 0) await this.saveCheckpoint('interval');
    if (this.evalEvery > 0 && meta.step % this.evalEvery === 0 && o.test) await this.evaluatePeriodic(meta.step);
  }

  /** A checkpoint (and weights.dsodw) of the step reached, unless one was written at this step already. */
  private async saveCheckpoint(reason: CheckpointReason, recalibrated = false): Promise<void> {
    const { o } = this;
    if (this.lastCheckpointStep === this.meta.step && !recalibrated) return;
    this.meta = {
      ...this.meta,
      elapsedSec: this.elapsed(),
      lossReference: this.guard.reference,
      statsRecalibrated: recalibrated,
      created: new Date().toISOString(),
    };
    const { meta } = this;
    const weights = await this.model.getWeights();
    const written = await writeCheckpoint(o.runDir, { meta, weights, optimizer: await this.sgd.state() }, o.keepCheckpoints ?? 3);
    await writeWeightsFile(join(o.runDir, RUN_FILES.weights), weights);
    this.lastCheckpointStep = meta.step;
    this.emit({ type: 'checkpoint', step: meta.step, path: written.path, bytes: written.bytes, reason });
  }

  /** A periodic evaluation of `step` (on the first --eval-images images); `late`: of an earlier checkpoint's weights. */
  private async evaluatePeriodic(step: number, late?: { meta: CheckpointMeta }): Promise<void> {
    await this.evaluate(false, late);
    this.lastEvalStep = step;
    this.lastEvalPartial = (this.o.evalImages ?? Infinity) < this.testImages;
  }

  /**
   * Evaluate the model on the held-out images: the metric event, metrics.json and (for the latest step) pr-curves.json.
   * `late`: the periodic evaluation of an earlier checkpoint (loaded into the model) that a kill lost.
   */
  private async evaluate(final: boolean, late?: { meta: CheckpointMeta }): Promise<void> {
    const { o, model, emit } = this;
    if (!o.test) return;
    const maxImages = final ? undefined : (o.evalImages ?? undefined);
    // A periodic evaluation sees recalibrated statistics, then training continues with its own (a run's state does
    // not depend on when it was evaluated); the final statistics were recalibrated for good before the checkpoint.
    // A late one recalibrates as the run that wrote the checkpoint did (what `dsod eval` repeats: cli/statistics.ts).
    const calibration = late ? calibrationOf(late.meta) : { batches: this.calibrationBatches, batchSize: this.micro };
    const training = !final && calibration.batches > 0 ? await snapshotStats(model) : null;
    if (training) await recalibrateBatchNorm(model, o.train, calibration);
    const r = await evaluateModel(model, o.test, this.priors, {
      metric: this.metric,
      variances: this.spec.priors.variances,
      ...(maxImages ? { maxImages } : {}),
      shouldStop: () => o.stop.requested !== null,
      onSkip: (p) => emit({ type: 'log', level: 'warn', message: `test data: ${formatProblem(p)}` }),
    });
    if (training) restoreStats(model, training);
    if (!r) return;
    const step = late ? late.meta.step : this.meta.step;
    // pr-curves.json holds the latest step's curves: a late evaluation of an earlier step does not replace them.
    const curves = !late || !readMetrics(o.runDir).some((e) => e.step !== null && e.step > step) ? join(o.runDir, RUN_FILES.curves) : null;
    if (curves) await writePrCurves(curves, { voc: r.voc, ...(r.coco ? { coco: r.coco } : {}) });
    const record = {
      metric: r.metric,
      value: r.value,
      extras: { ...r.extras, evalSeconds: r.seconds },
      perClass: r.perClass,
      step,
      elapsedSec: late ? late.meta.elapsedSec : this.elapsed(),
      split: o.testSplit ?? 'test',
      images: r.images,
    };
    // A late one keeps the later evaluations metrics.json may hold, and goes in step order.
    await recordMetric(o.runDir, record, { keepOthers: !!late });
    emit({ type: 'metric', ...record, curves });
    this.lastMetric = { metric: r.metric, value: r.value };
  }

  /**
   * Evaluations a kill lost: one between a checkpoint and its evaluation leaves the checkpoint without it, and the
   * resumed run starts after that step. Each checkpoint step still on disk that --eval-every says to evaluate, and
   * that metrics.json has no evaluation of, is evaluated now, in step order, with the checkpoint's weights and the
   * run's recalibration: the number the uninterrupted run reports. (The last step of a run that is ending now gets
   * its final evaluation from finish().)
   */
  private async evaluateLost(): Promise<void> {
    const { o, t, meta, metric, evalEvery, resumed, emit } = this;
    if (!resumed || !o.test || evalEvery <= 0) return;
    const split = o.testSplit ?? 'test';
    const have = new Set(
      readMetrics(o.runDir)
        .filter((e) => e.metric === metric && e.split === split)
        .map((e) => e.step),
    );
    const onDisk = new Map(listCheckpoints(o.runDir).map((c) => [c.step, c.path]));
    const ending = this.atLastStep();
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
    if (!late.length) return;
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
          this.model.setWeights(c.weights);
        } catch (e) {
          const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
          emit({ type: 'log', level: 'warn', message: `step ${s} cannot be evaluated: its checkpoint ${path} is unreadable (${why})` });
          continue;
        }
      } else this.model.setWeights(c.weights);
      await this.evaluatePeriodic(s, { meta: c.meta });
    }
    this.model.setWeights(resumed.weights);
  }

  /**
   * End the run: recalibrate the statistics the weights leave with, the last checkpoint, the final evaluation (unless
   * the last periodic one was of this step, on every image).
   */
  private async finish(reason: DoneReason, checkpoint: 'end' | 'signal' | 'limit', withEval: boolean): Promise<TrainOutcome> {
    const { o, emit } = this;
    // The weights a run leaves carry statistics of those weights (not after a signal: stopping must be quick, and the
    // run is not over).
    const calibrate = withEval && this.calibrationBatches > 0 && !(this.meta.statsRecalibrated && this.lastCheckpointStep === this.meta.step);
    if (calibrate) {
      const images = await recalibrateBatchNorm(this.model, o.train, { batches: this.calibrationBatches, batchSize: this.micro });
      emit({ type: 'log', level: 'info', message: `batch-norm statistics recomputed over ${images} training images` });
    }
    await this.saveCheckpoint(checkpoint, calibrate);
    if (withEval && o.test && (this.lastMetric === null || this.lastEvalStep !== this.meta.step || this.lastEvalPartial)) await this.evaluate(true);
    const exitCode = reason === 'stopped' ? signalExitStatus(o.stop.requested) : EXIT.ok;
    return { reason, step: this.meta.step, elapsedSec: this.elapsed(), exitCode, metric: this.lastMetric };
  }
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
