// The dashboard's model with the evaluations a resumed training makes of checkpoints a kill left unevaluated
// (engine/train/trainer.ts): they come right after the resumed `start`, at steps up to the resumed one, before
// training continues; the mAP chart takes them in step order and the resume purge keeps them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEvent, type EngineEvent, type EventBody } from '../../protocol/engine-events';
import { RunModel } from '../../webview/dashboard/model';

let tick = 0;
const ev = (body: EventBody): EngineEvent => makeEvent(body, new Date(Date.parse('2026-01-01T00:00:00Z') + 1000 * tick++)) as EngineEvent;
const start = (step: number) =>
  ev({
    type: 'start',
    command: 'train',
    spec: 's.dsod.yaml',
    name: 'S',
    runDir: '/r',
    step,
    steps: 100,
    batch: 8,
    accumulate: 1,
    images: { train: 10, test: 5 },
    resumed: step > 0,
  });
const progress = (step: number) =>
  ev({
    type: 'progress',
    epoch: step / 10,
    step,
    steps: 100,
    loss: 1 / step,
    parts: { loc: 0.5 / step, conf: 0.5 / step },
    lr: 0.01,
    imgPerSec: 20,
    etaSec: 1,
    elapsedSec: step,
  });
const checkpoint = (step: number) =>
  ev({ type: 'checkpoint', step, path: `/r/checkpoints/step-${String(step).padStart(8, '0')}.dsodckpt`, bytes: 100, reason: 'interval' });
const metric = (step: number, value: number) =>
  ev({ type: 'metric', metric: 'voc07', value, extras: {}, perClass: [{ name: 'a', ap: value }], step, elapsedSec: 1, split: 'test', images: 5, curves: null });

test('late evaluations after a resumed start: every checkpoint step on the mAP chart, in step order', () => {
  const m = new RunModel('/r', 'r');
  m.addAll([start(0), progress(1), progress(2), progress(3), progress(4), checkpoint(4)]); // killed before metric 4
  m.addAll([start(4), metric(4, 0.1), progress(5), progress(6), progress(7), progress(8), checkpoint(8)]); // killed before metric 8
  m.addAll([start(8), metric(8, 0.2), progress(9), progress(10), progress(11), progress(12), checkpoint(12), metric(12, 0.3)]);
  assert.deepEqual(m.metricSeries('voc07'), { step: [4, 8, 12], value: [0.1, 0.2, 0.3] });
  assert.deepEqual(m.series.step, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(m.latestEvaluation?.step, 12);
});

test('a resume from an earlier checkpoint (--from) purges the later points, and its late evaluation stays', () => {
  const m = new RunModel('/r', 'r');
  m.addAll([start(0), ...[1, 2, 3, 4].map(progress), checkpoint(4), metric(4, 0.1), ...[5, 6, 7, 8].map(progress), checkpoint(8)]);
  m.addAll([...[9, 10, 11, 12].map(progress), checkpoint(12), metric(12, 0.3)]);
  // --from 8: metric 8 was never recorded; the resumed run evaluates step 8 first, then redoes 9...
  m.addAll([start(8), metric(8, 0.2), progress(9)]);
  assert.deepEqual(m.metricSeries('voc07'), { step: [4, 8], value: [0.1, 0.2] });
  assert.deepEqual(m.series.step, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(m.latestEvaluation?.step, 8);
});
