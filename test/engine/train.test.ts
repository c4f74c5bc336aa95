// The training loop in-process on the wasm backend: it learns, resumes exactly, stops on a diverging loss, refuses
// a batch that cannot fit, and leaks no tensors. Plus its parts: schedule, SGD, loss guard, checkpoint encoding.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { prepareWasm } from '../../engine/backend/wasm';
import type { DetectionDataset } from '../../engine/data/types';
import { decodeCheckpoint, encodeCheckpoint, listCheckpoints, readWeightsFile } from '../../engine/train/checkpoint';
import { LossGuard } from '../../engine/train/loss-guard';
import { ALLOCATOR_HEADROOM, checkMemory, estimateTrainingMemory, memoryLimit } from '../../engine/train/memory';
import { compressSchedule, learningRate } from '../../engine/train/schedule';
import { MomentumSgd } from '../../engine/train/sgd';
import { StepClock } from '../../engine/train/step-clock';
import { TrainError } from '../../engine/train/trainer';
import { validateEngineEvent, type MetricEvent, type ProgressEvent } from '../../protocol/engine-events';
import { analyze, DSOD300_YAML } from '../helpers';
import { analyzeText, loadMicroSplits, microData, microSpec, tempDir, trainMicro } from './train-fixtures';

let dir: ReturnType<typeof tempDir>;
let data: { train: DetectionDataset; test: DetectionDataset };

before(async () => {
  await prepareWasm();
  assert.ok(await tf.setBackend('wasm'));
  dir = tempDir('train');
  await microData(join(dir.path, 'data'));
  data = await loadMicroSplits(join(dir.path, 'data'));
});
after(() => dir.remove());

const progress = (events: { type: string }[]) => events.filter((e): e is ProgressEvent => e.type === 'progress');

test('the learning rate: linear warm-up, then divided by 10 at each milestone; a compressed schedule keeps them in proportion', () => {
  const s = { lr: 0.1, gamma: 0.1, milestones: [100, 200], warmup: 10, iterations: 300 };
  assertClose(
    [0, 4, 9, 99, 100, 199, 200, 299].map((step) => learningRate(s, step)),
    [0.01, 0.05, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001],
    1e-12,
  );
  assert.deepEqual(compressSchedule(s, 150), { ...s, iterations: 150, milestones: [50, 100] });
  assert.equal(compressSchedule(s, 400), s, 'a budget longer than the schedule changes nothing');
});

test("SGD: Caffe's update, h = m h + lr (g + wd w), w = w - h, and its state round-trips", async () => {
  const w = tf.variable(tf.tensor1d([1, -2]));
  const sgd = new MomentumSgd([{ name: 'w', variable: w }], { momentum: 0.9, weightDecay: 0.1 });
  const [g1, g2] = [tf.tensor1d([0.5, 0.5]), tf.tensor1d([0, 0])];
  sgd.apply([g1], 0.1); // h = 0.1 * (0.5 + 0.1 w) = [0.06, 0.03]
  assertClose(await w.data(), [0.94, -2.03]);
  sgd.apply([g2], 0.1); // h = 0.9 h + 0.1 * 0.1 w
  assertClose(await w.data(), [0.94 - (0.054 + 0.0094), -2.03 - (0.027 - 0.0203)]);
  const state = await sgd.state();
  const other = new MomentumSgd([{ name: 'w', variable: w }], { momentum: 0.9, weightDecay: 0.1 });
  other.load(state);
  assert.deepEqual(await other.state(), state);
  assert.throws(() => other.load({}), /missing w/);
  tf.dispose([g1, g2, w]);
  sgd.dispose();
  other.dispose();
});

test('the loss guard: NaN and infinity stop at once; after 10 steps, 10x the early level is an explosion', () => {
  const g = new LossGuard(null);
  const nan = g.check(NaN, 4, 0.1);
  assert.equal(nan.ok, false);
  assert.match(!nan.ok ? nan.message : '', /the loss became NaN at step 5: training diverged; lower train\.lr/);
  assert.equal(g.check(Infinity, 0, 0.1).ok, false);
  for (let i = 0; i < 10; i++) assert.ok(g.check(8, i, 0.1).ok);
  assert.equal(g.reference, 8);
  assert.ok(g.check(79, 11, 0.1).ok);
  const boom = g.check(81, 12, 0.1);
  assert.equal(!boom.ok && boom.code, 'loss-exploded');
});

test('the memory check: DSOD300 fits the wasm heap at batch 1; batch 2 is refused with the counted figures and the plan', () => {
  const a = analyze(DSOD300_YAML);
  const limit = memoryLimit('wasm');
  assert.equal(checkMemory(a, estimateTrainingMemory(a, 1), limit), null);
  const two = estimateTrainingMemory(a, 2);
  assert.ok(two.total > 4 * 2 ** 30 * (1 - ALLOCATOR_HEADROOM));
  const msg = checkMemory(a, two, limit);
  assert.match(
    msg ?? '',
    /micro-batch 2 needs about 3\.\d\d GiB: \d\.\d\d GiB kept for the backward pass .*capped at 4 GiB \(wasm32\), 15% of it left to the allocator\. at most 1 image per micro-batch fit.*\(e\.g\. batch 128 with accumulate 128\)/,
  );
});

test('checkpoints encode and decode exactly, and a truncated one is refused', () => {
  const c = {
    meta: {
      format: 1 as const,
      step: 7,
      position: 14,
      seed: 3,
      elapsedSec: 1.5,
      schedule: { lr: 0.1, gamma: 0.1, milestones: [5], warmup: 0, iterations: 9 },
      lossReference: null,
      spec: { name: 'x', hash: 'abc' },
      batch: 4,
      accumulate: 2,
      augment: 'flip',
      created: 'now',
    },
    weights: { a: { shape: [2], values: new Float32Array([1.5, -0]) } },
    optimizer: { a: { shape: [2], values: new Float32Array([NaN, 3]) } },
  };
  const bytes = encodeCheckpoint(c);
  assert.deepEqual(decodeCheckpoint(bytes), c);
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'f.dsodckpt'), /f\.dsodckpt: not a DSOD checkpoint \(truncated\)/);
});

test('a few steps of the micro spec on its synthetic set decrease the loss; events validate; no tensor leaks', async () => {
  const before = tf.memory().numTensors;
  const { outcome, events } = await trainMicro({
    specText: microSpec('{ batch: 8, lr: 0.05, warmup: 2, milestones: [100], iterations: 40, checkpoint_every: 20, seed: 1 }'),
    runDir: join(dir.path, 'learn'),
    ...data,
  });
  assert.equal(outcome.reason, 'completed');
  assert.equal(outcome.step, 40);
  assert.equal(tf.memory().numTensors, before, 'every tensor of the run is freed');
  for (const e of events) assert.deepEqual(validateEngineEvent(JSON.parse(JSON.stringify(e))), { ok: true, event: JSON.parse(JSON.stringify(e)) });
  const losses = progress(events).map((e) => e.loss);
  assert.equal(losses.length, 40);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(losses.slice(-5)) < 0.6 * mean(losses.slice(0, 5)), `loss ${mean(losses.slice(0, 5)).toFixed(2)} -> ${mean(losses.slice(-5)).toFixed(2)}`);
  assert.deepEqual(
    events.filter((e) => e.type === 'checkpoint').map((e) => [e.step, e.reason]),
    [
      [20, 'interval'],
      [40, 'end'],
    ],
  );
  const metrics = events.filter((e): e is MetricEvent => e.type === 'metric');
  assert.deepEqual(
    metrics.map((m) => [m.step, m.images]),
    [
      [20, 8],
      [40, data.test.records.length],
    ],
    'a periodic evaluation on the first 8 held-out images, the final one on all',
  );
  assert.ok(metrics.every((m) => m.value >= 0 && m.value <= 1 && m.perClass.length === 5));
  const saved = JSON.parse(readFileSync(join(dir.path, 'learn', 'metrics.json'), 'utf8'));
  assert.deepEqual(
    saved.evaluations.map((e: { step: number }) => e.step),
    [20, 40],
  );
  assert.equal(events[events.length - 1].type, 'metric');
});

test('resume is exact: 3 steps, a checkpoint, then 3 more give bitwise the weights and losses of 6 uninterrupted steps', async () => {
  const spec = microSpec('{ batch: 8, accumulate: 2, lr: 0.05, warmup: 2, milestones: [4], iterations: 6, checkpoint_every: 3, seed: 5 }');
  const whole = await trainMicro({ specText: spec, runDir: join(dir.path, 'whole'), ...data, test: null });
  const first = await trainMicro({ specText: spec, runDir: join(dir.path, 'parts'), ...data, test: null, maxSteps: 3 });
  assert.equal(first.outcome.reason, 'step-limit');
  assert.equal(listCheckpoints(join(dir.path, 'parts')).at(-1)!.step, 3);
  const refused = trainMicro({ specText: spec, runDir: join(dir.path, 'parts'), ...data, test: null });
  await assert.rejects(refused, (e: TrainError) => e.code === 'run-exists' && /pass --resume to continue it/.test(e.message));
  const second = await trainMicro({ specText: spec, runDir: join(dir.path, 'parts'), ...data, test: null, resume: true });
  assert.equal(second.outcome.reason, 'completed');
  assert.deepEqual(
    progress(second.events).map((e) => e.step),
    [4, 5, 6],
  );
  assert.deepEqual(
    progress(second.events).map((e) => [e.loss, e.lr]),
    progress(whole.events)
      .slice(3)
      .map((e) => [e.loss, e.lr]),
  );
  const a = readWeightsFile(join(dir.path, 'whole', 'weights.dsodw')).weights;
  const b = readWeightsFile(join(dir.path, 'parts', 'weights.dsodw')).weights;
  assert.deepEqual(Object.keys(a), Object.keys(b));
  for (const name of Object.keys(a)) assert.deepEqual(b[name].values, a[name].values, name);
  const ckpt = decodeCheckpoint(readFileSync(listCheckpoints(join(dir.path, 'parts')).at(-1)!.path));
  assert.equal(ckpt.meta.position, 12, 'two micro-batches a step');
});

test('a diverging run (lr 1e30) stops with an error event and exit status 1, keeping the last checkpoint', async () => {
  const spec = microSpec('{ batch: 8, lr: 1e30, warmup: 0, milestones: [100], iterations: 50, checkpoint_every: 1, seed: 1 }');
  const { outcome, events } = await trainMicro({ specText: spec, runDir: join(dir.path, 'nan'), ...data, test: null });
  assert.equal(outcome.reason, 'failed');
  assert.equal(outcome.exitCode, 1);
  const error = events.find((e) => e.type === 'error');
  assert.ok(error && error.type === 'error' && error.fatal);
  assert.match(error.code, /^loss-(not-finite|exploded)$/);
  assert.match(error.message, /at step \d+.*lower train\.lr.*The last checkpoint \(step \d+\) is intact\./);
  assert.ok(outcome.step < 50);
});

test('a batch that cannot fit is refused before the first step, with the number', async () => {
  const spec = microSpec('{ batch: 65536, lr: 0.1, iterations: 5 }');
  const a = analyzeText(spec);
  await assert.rejects(
    trainMicro({ specText: spec, runDir: join(dir.path, 'huge'), ...data, test: null, memoryLimitBytes: 2 ** 30 }),
    (e: TrainError) =>
      e.code === 'out-of-memory' && e.message.includes(`micro-batch 65536 needs about`) && /at most \d+ images per micro-batch fit/.test(e.message),
  );
  assert.ok(estimateTrainingMemory(a, 65536).total > 2 ** 30);
  assert.deepEqual(listCheckpoints(join(dir.path, 'huge')), []);
});

function assertClose(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) < tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

test("step timing: a process's first step (compilation) leaves the ETA window once a second is timed; the budget's average skips the first two", () => {
  const clock = new StepClock();
  clock.record(10, 1); // compiling
  assert.equal(clock.secPerStep, 10);
  assert.equal(clock.settled, false);
  clock.record(1, 2);
  assert.equal(clock.secPerStep, 1, 'the compiling step is out of the window');
  clock.record(1, 3);
  assert.equal(clock.steady.steps, 1, 'only step 3 counts for the budget');
  for (let s = 4; s <= 30; s++) clock.record(s <= 10 ? 1 : 2, s);
  assert.equal(clock.settled, true);
  assert.equal(clock.secPerStep, 2, 'the window holds the last 20 steps');
  assert.deepEqual(clock.steady, { steps: 28, secPerStep: (8 * 1 + 20 * 2) / 28 });
  // A resumed process: its first steps are past step 2, so each counts for the budget from the start.
  const resumed = new StepClock();
  resumed.record(5, 41);
  assert.deepEqual(resumed.steady, { steps: 1, secPerStep: 5 });
});

test('--minutes: the schedule is compressed to what fits the budget (milestones in proportion), and the run stops in time', async () => {
  const spec = microSpec('{ batch: 8, lr: 0.05, warmup: 2, milestones: [60000, 90000], iterations: 100000, checkpoint_every: 100000, seed: 1 }');
  const started = performance.now();
  const { outcome, events } = await trainMicro({ specText: spec, runDir: join(dir.path, 'minutes'), ...data, test: null, maxMinutes: 0.04 });
  assert.ok(performance.now() - started < 10_000);
  assert.ok(outcome.reason === 'time-limit' || outcome.reason === 'completed', outcome.reason);
  const fit = events.find((e) => e.type === 'log' && e.message.startsWith('--minutes 0.04:'));
  assert.ok(fit && fit.type === 'log', 'the fitted schedule is reported');
  const [, reachable] = /(\d+) of the spec's 100000 steps fit; schedule compressed \(milestones (\d+), (\d+)\)/.exec(fit.message) ?? [];
  assert.ok(Number(reachable) > 12 && Number(reachable) < 100000, fit.message);
  const last = progress(events).at(-1)!;
  assert.equal(last.steps, Number(reachable));
  const ckpt = decodeCheckpoint(readFileSync(listCheckpoints(join(dir.path, 'minutes')).at(-1)!.path));
  assert.equal(ckpt.meta.scheduleFitted, true);
  assert.equal(ckpt.meta.schedule.iterations, Number(reachable));
});
