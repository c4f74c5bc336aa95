// The run dashboard's model without a browser: the recorded run (a training killed at step 100 and resumed from its
// step-80 checkpoint, two evaluations, an inference) folded into series, processes, checkpoints and evaluations; the
// resume purge; several processes in one stream; smoothing; the AP table's order; aligned columns for overlays.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeEvent, type EngineEvent, type EventBody } from '../../protocol/engine-events';
import { alignColumns } from '../../webview/dashboard/align';
import { Ema, RunModel, shownState, smooth, upperBound } from '../../webview/dashboard/model';
import { apRows, sortRows } from '../../webview/dashboard/rows';
import { recordedEvents } from './dashboard-fixture';

const T0 = Date.parse('2026-01-01T00:00:00Z');
let tick = 0;
const ev = (body: EventBody): EngineEvent => makeEvent(body, new Date(T0 + 1000 * tick++)) as EngineEvent;
const start = (command: 'train' | 'eval' | 'infer', step: number, resumed = step > 0) =>
  ev({
    type: 'start',
    command,
    spec: 's.dsod.yaml',
    name: 'S',
    runDir: '/r',
    step,
    steps: 100,
    batch: 8,
    accumulate: 1,
    images: { train: 10, test: 5 },
    resumed,
  });
const progress = (step: number, loss = 10 / step, etaSec: number | null = 100 - step) =>
  ev({
    type: 'progress',
    epoch: step / 10,
    step,
    steps: 100,
    loss,
    parts: { loc: loss / 4, conf: (3 * loss) / 4 },
    lr: 0.01,
    imgPerSec: 20,
    etaSec,
    elapsedSec: step,
  });
const checkpoint = (step: number) =>
  ev({ type: 'checkpoint', step, path: `/r/checkpoints/step-${String(step).padStart(8, '0')}.dsodckpt`, bytes: 100, reason: 'interval' });
const metric = (step: number | null, value: number, perClass = [{ name: 'a', ap: value }]) =>
  ev({ type: 'metric', metric: 'voc07', value, extras: {}, perClass, step, elapsedSec: 1, split: 'test', images: 5, curves: null });
const done = (reason: 'completed' | 'failed' | 'stopped', step: number | null) =>
  ev({ type: 'done', reason, step, elapsedSec: 1, exitCode: reason === 'failed' ? 1 : 0, metric: null });

describe('the recorded run', () => {
  const events = recordedEvents();
  const m = new RunModel('/home/user/project/runs/tiny', 'tiny');
  const changes = m.addAll(events);

  test("one point per step, 1..600: the killed process's steps 81..100 are replaced by the resumed ones", () => {
    assert.equal(m.series.step.length, 600);
    assert.deepEqual(
      m.series.step,
      Array.from({ length: 600 }, (_, i) => i + 1),
    );
    for (const col of Object.values(m.series)) assert.equal(col.length, 600);
    assert.ok(changes.purged && changes.progress);
    // The loss at step 90 is the resumed process's, not the killed one's.
    const resumedAt = events.findIndex((e) => e.type === 'start' && e.resumed);
    const redone = events.slice(resumedAt).find((e) => e.type === 'progress' && e.step === 90) as Extract<EngineEvent, { type: 'progress' }>;
    assert.equal(m.series.loss[89], redone.loss);
  });

  test('processes: three trains (the first interrupted, the second resumed from step 80), two evals and an inference', () => {
    assert.deepEqual(
      m.processes.map((p) => [p.command, p.start?.step, p.state]),
      [
        ['train', 0, 'interrupted'],
        ['train', 80, 'step-limit'],
        ['train', 160, 'step-limit'],
        ['eval', 520, 'completed'],
        ['eval', 600, 'completed'],
        ['infer', 600, 'completed'],
      ],
    );
    assert.equal(m.processes[1].purgedFrom, 100);
    assert.equal(m.processes[0].lastStep, 100);
    assert.ok(
      m.processes.every((p) => p.doctor?.chosen === 'wasm'),
      'each process has its own backend report',
    );
    assert.equal(m.state, 'step-limit', "the last training's: the evaluations and the inference after it do not make the run completed");
    assert.equal(m.running, null);
    assert.equal(m.etaSec, null, 'no ETA once nothing runs');
    assert.equal(m.step, 600);
    assert.equal(m.steps, 4000);
    assert.equal(m.trainProcess, m.processes[2]);
  });

  test('evaluations: mAP every 40 steps; the evaluation processes of steps 520 and 600 count over the training ones', () => {
    const s = m.metricSeries('voc07');
    assert.deepEqual(
      s.step,
      Array.from({ length: 15 }, (_, i) => 40 * (i + 1)),
    );
    const evals = events.filter((e): e is Extract<EngineEvent, { type: 'metric' }> => e.type === 'metric');
    const evalProcess = evals.slice(-2);
    assert.equal(s.value[s.step.indexOf(520)], evalProcess[0].value);
    assert.equal(s.value[s.step.indexOf(600)], evalProcess[1].value);
    assert.equal(m.latestEvaluation?.source, 'eval');
    assert.equal(m.latestEvaluation?.value, evalProcess[1].value);
    assert.equal(m.previousEvaluation?.step, 560);
    assert.deepEqual(m.metricNames, ['voc07']);
    // The first (killed) process evaluated at 40 and 80 only: nothing of it after step 80 survives.
    assert.equal(m.evaluations.filter((e) => e.step === 80).length, 1);
  });

  test('checkpoints: every one announced, marked removed where the folder no longer has it', () => {
    assert.deepEqual(
      m.checkpoints.map((c) => c.step),
      Array.from({ length: 15 }, (_, i) => 40 * (i + 1)),
    );
    assert.ok(
      m.checkpoints.every((c) => c.exists),
      'no listing yet: assumed present',
    );
    m.setCheckpointFiles(
      [520, 560, 600].map((s) => ({ path: `/moved/tiny/checkpoints/step-${String(s).padStart(8, '0')}.dsodckpt`, step: s, engine: 'tfjs' as const, bytes: 7 })),
    );
    assert.deepEqual(
      m.checkpoints.filter((c) => c.exists).map((c) => [c.step, c.path]),
      [520, 560, 600].map((s) => [s, `/moved/tiny/checkpoints/step-${String(s).padStart(8, '0')}.dsodckpt`]),
      'matched by file name; the path where the file is now',
    );
  });
});

describe('folding events', () => {
  test("a train start below the last step drops the later points, checkpoints and evaluations (TensorBoard's purge)", () => {
    const m = new RunModel('/r', 'r');
    m.addAll([start('train', 0), ...[1, 2, 3, 4, 5, 6, 7, 8].map((s) => progress(s)), checkpoint(4), metric(4, 0.1), checkpoint(8), metric(8, 0.2)]);
    assert.equal(m.series.step.length, 8);
    const c = m.addAll([start('train', 4), progress(5, 99)]);
    assert.ok(c.purged);
    assert.deepEqual(m.series.step, [1, 2, 3, 4, 5]);
    assert.equal(m.series.loss[4], 99);
    assert.deepEqual(
      m.checkpoints.map((x) => x.step),
      [4],
    );
    assert.deepEqual(m.metricSeries('voc07'), { step: [4], value: [0.1] });
    assert.equal(m.processes[0].state, 'interrupted');
    assert.equal(m.processes[1].purgedFrom, 8);
  });

  test('a resume from the last step purges nothing; eval and infer starts never purge', () => {
    const m = new RunModel('/r', 'r');
    m.addAll([start('train', 0), progress(1), progress(2), done('stopped', 2), start('train', 2), progress(3), done('completed', 3)]);
    assert.deepEqual(m.series.step, [1, 2, 3]);
    m.addAll([start('eval', 1), metric(1, 0.3), done('completed', 1), start('infer', 3), done('completed', null)]);
    assert.deepEqual(m.series.step, [1, 2, 3]);
    assert.deepEqual(
      m.processes.map((p) => [p.command, p.state]),
      [
        ['train', 'stopped'],
        ['train', 'completed'],
        ['eval', 'completed'],
        ['infer', 'completed'],
      ],
    );
  });

  test('a progress step that goes backwards without a start still keeps the columns increasing', () => {
    const m = new RunModel('/r', 'r');
    m.addAll([progress(1), progress(2), progress(3), progress(2, 7)]);
    assert.deepEqual(m.series.step, [1, 2]);
    assert.equal(m.series.loss[1], 7);
    assert.equal(m.processes[0].command, 'train', 'events without a start open a process');
  });

  test('running, ETA, and a failure with its error', () => {
    const m = new RunModel('/r', 'r');
    m.addAll([start('train', 0), progress(1, 5, null)]);
    assert.equal(m.state, 'running');
    assert.equal(m.etaSec, null, 'not measurable yet');
    m.add(progress(2, 5, 42));
    assert.equal(m.etaSec, 42);
    m.addAll([ev({ type: 'error', code: 'loss-not-finite', message: 'the loss is NaN', where: null, fatal: true }), done('failed', 2)]);
    assert.equal(m.state, 'failed');
    assert.equal(m.etaSec, null);
    assert.deepEqual(
      m.errors.map((e) => e.code),
      ['loss-not-finite'],
    );
  });

  test('a process without done: running while something can still write it, interrupted when nothing can', () => {
    const m = new RunModel('/r', 'S');
    m.addAll([start('train', 0), progress(1)]);
    assert.equal(m.state, 'running');
    assert.equal(m.shownState({ training: true, following: true }), 'running');
    assert.equal(m.shownState({ training: false, following: true }), 'interrupted', 'a trainer holds the lock while it lives');
    m.addAll([done('stopped', 1), start('eval', 1)]);
    assert.equal(m.shownState({ training: false, following: true }), 'running', 'eval takes no lock: a follower waits for it');
    assert.equal(m.shownState({ training: false, following: false }), 'interrupted');
    assert.equal(shownState(m.processes[0], false, { training: false, following: false }), 'stopped', 'an ended process is what it said');
  });

  test('a stopped training stays stopped when it is evaluated; a failed evaluation shows', () => {
    const m = new RunModel('/r', 'r');
    m.addAll([start('train', 0), progress(1), progress(2), done('stopped', 2)]);
    const live = { training: false, following: true };
    m.addAll([start('eval', 2)]);
    assert.equal(m.shownState(live), 'running', 'while the evaluation runs');
    m.addAll([metric(2, 0.01), done('completed', 2)]);
    assert.equal(m.state, 'stopped');
    assert.equal(m.shownState(live), 'stopped');
    m.addAll([start('infer', 2), done('completed', null)]);
    assert.equal(m.shownState(live), 'stopped');
    m.addAll([start('eval', 2), done('failed', null)]);
    assert.equal(m.shownState(live), 'failed');
  });

  test('the doctor report goes to the process it came before', () => {
    const m = new RunModel('/r', 'r');
    const doctor = (chosen: string) => ev({ type: 'doctor', chosen, tfBackend: chosen, requested: 'auto', reason: 'r', attempts: [] });
    m.addAll([doctor('wasm'), start('train', 0), progress(1), doctor('cpu'), start('eval', 1)]);
    assert.deepEqual(
      m.processes.map((p) => p.doctor?.chosen),
      ['wasm', 'cpu'],
    );
    assert.equal(m.doctor?.chosen, 'cpu');
  });

  test('metrics.json counts only when the events hold no evaluation', () => {
    const m = new RunModel('/r', 'r');
    const record = { metric: 'voc' as const, value: 0.5, extras: {}, perClass: [], step: 10, elapsedSec: 1, split: 'test', images: 3 };
    m.setMetricRecords([record]);
    assert.deepEqual(m.metricSeries('voc'), { step: [10], value: [0.5] });
    assert.equal(m.latestEvaluation?.source, 'file');
    m.add(metric(20, 0.6));
    assert.deepEqual(m.metricNames, ['voc07']);
  });

  test('a checkpoint announced after the last folder listing counts as present until the next listing', () => {
    const m = new RunModel('/r', 'r');
    m.setCheckpointFiles([]);
    m.add(checkpoint(10));
    assert.equal(m.checkpoints[0].exists, true);
    m.setCheckpointFiles([]);
    assert.equal(m.checkpoints[0].exists, false);
  });
});

describe('helpers', () => {
  test("smoothing: TensorBoard's debiased EMA; weight 0 is the raw curve; incremental equals batch", () => {
    for (const v of smooth([3, 3, 3], 0.9)) assert.ok(Math.abs(v - 3) < 1e-12, 'no pull toward 0 at the start');
    assert.deepEqual(smooth([1, 5, 2], 0), [1, 5, 2]);
    const xs = Array.from({ length: 50 }, (_, i) => Math.sin(i) + i / 10);
    const e = new Ema(0.6);
    assert.deepEqual(
      xs.map((x) => e.push(x)),
      smooth(xs, 0.6),
    );
    const s = smooth([0, 10], 0.5);
    assert.equal(s[0], 0);
    assert.ok(s[1] > 5 && s[1] < 10);
  });

  test('aligned columns for overlays: the union of steps, null where a run has no point', () => {
    const a = alignColumns([
      { x: [1, 2, 3], ys: [[10, 20, 30]] },
      {
        x: [2, 4],
        ys: [
          [5, 6],
          [7, 8],
        ],
      },
    ]);
    assert.deepEqual(a.x, [1, 2, 3, 4]);
    assert.deepEqual(a.ys, [
      [10, 20, 30, null],
      [null, 5, null, 6],
      [null, 7, null, 8],
    ]);
  });

  test('the AP table: rows with the change since the previous evaluation; sorting keeps classes without AP last', () => {
    const latest = {
      metric: 'voc07' as const,
      value: 0.5,
      step: 20,
      perClass: [
        { name: 'b', ap: 0.5 },
        { name: 'a', ap: 0.9 },
        { name: 'c', ap: null },
      ],
      extras: {},
      split: 't',
      images: 1,
      source: 'train' as const,
      time: null,
    };
    const prev = {
      ...latest,
      step: 10,
      perClass: [
        { name: 'b', ap: 0.6 },
        { name: 'a', ap: 0.4 },
      ],
    };
    const rows = apRows(latest, prev, null);
    assert.deepEqual(
      rows.map((r) => [r.name, r.delta === null ? null : Number(r.delta.toFixed(6))]),
      [
        ['b', -0.1],
        ['a', 0.5],
        ['c', null],
      ],
    );
    assert.deepEqual(
      sortRows(rows, 'ap', 'desc').map((r) => r.name),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      sortRows(rows, 'ap', 'asc').map((r) => r.name),
      ['b', 'a', 'c'],
    );
    assert.deepEqual(
      sortRows(rows, 'name', 'desc').map((r) => r.name),
      ['c', 'b', 'a'],
    );
    assert.deepEqual(
      sortRows(rows, 'delta', 'asc').map((r) => r.name),
      ['b', 'a', 'c'],
    );
  });

  test('upperBound', () => {
    assert.equal(upperBound([1, 2, 4, 8], 4), 3);
    assert.equal(upperBound([1, 2, 4, 8], 0), 0);
    assert.equal(upperBound([], 3), 0);
  });
});
