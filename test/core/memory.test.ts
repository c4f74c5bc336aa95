// core's training-memory model (core/analysis/memory.ts) on its own: how its parts add up, how it scales with the
// batch and the precision, and fitBatch's plan. Its agreement with the frameworks is tested against torch
// (test/engine/torch-memory.test.ts) and tfjs (test/engine/train-memory.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitBatch, trainingMemory, type MemoryEngine } from '../../core';
import { analyze, check, DSOD300_YAML, readRepoFile } from '../helpers';

const dsod300 = analyze(DSOD300_YAML);
const tiny = analyze(readRepoFile('examples/tiny.dsod.yaml'));
const engines: MemoryEngine[] = ['tfjs', 'torch'];

test('the stages add up to the totals, and every stage of the analysis has its row (plus the loss)', () => {
  for (const engine of engines) {
    const m = trainingMemory(dsod300, { engine, batch: 2 });
    assert.equal(
      m.stages.reduce((n, s) => n + s.saved, 0),
      m.saved,
    );
    assert.equal(
      m.stages.reduce((n, s) => n + s.backward, 0),
      m.backward,
    );
    assert.deepEqual(
      m.stages.map((s) => s.name),
      [...dsod300.stages.map((s) => s.name), 'loss'],
    );
    assert.equal(m.weights, dsod300.totals.paramsStored * 4);
    assert.equal(m.gradients, dsod300.totals.paramsLearned * 4);
    assert.ok(m.inferencePeak < m.total, `${engine}: inference ${m.inferencePeak} below training ${m.total}`);
  }
});

test('memory grows linearly with the micro-batch; defaults are the spec train.batch / train.accumulate', () => {
  for (const engine of engines) {
    const at = (batch: number) => trainingMemory(tiny, { engine, batch, accumulate: 1 }).total;
    assert.equal(at(3) - at(2), at(2) - at(1));
    assert.ok(at(2) > at(1));
  }
  const m = trainingMemory(tiny);
  assert.equal(m.batch, tiny.spec.train.batch / tiny.spec.train.accumulate);
  assert.equal(m.engine, 'tfjs');
});

test('accumulating: tfjs keeps a running gradient sum (one more float per learned value); torch adds into .grad', () => {
  const learned = tiny.totals.paramsLearned * 4;
  const tf1 = trainingMemory(tiny, { engine: 'tfjs', batch: 2, accumulate: 1 });
  const tf2 = trainingMemory(tiny, { engine: 'tfjs', batch: 2, accumulate: 4 });
  assert.equal(tf2.optimizer - tf1.optimizer, learned);
  assert.equal(tf2.total - tf1.total, learned);
  assert.equal(
    trainingMemory(tiny, { engine: 'torch', batch: 2, accumulate: 4 }).total,
    trainingMemory(tiny, { engine: 'torch', batch: 2, accumulate: 1 }).total,
  );
});

test('bf16 halves the float activations torch saves (indices, masks and batch-norm statistics keep their size); tfjs is float32 only', () => {
  const fp32 = trainingMemory(dsod300, { engine: 'torch', precision: 'fp32', batch: 1 });
  const bf16 = trainingMemory(dsod300, { engine: 'torch', precision: 'bf16', batch: 1 });
  assert.ok(bf16.saved < fp32.saved && bf16.saved > fp32.saved / 2, `${bf16.saved} vs ${fp32.saved}`);
  assert.equal(bf16.weights, fp32.weights, 'float32 master weights');
  assert.throws(() => trainingMemory(dsod300, { engine: 'tfjs', precision: 'bf16' }), /float32 only/);
});

test('fitBatch: the largest micro-batch fits and one more does not; the plan reaches train.batch with a divisor', () => {
  for (const engine of engines) {
    const budget = 8 * 2 ** 30;
    const fit = fitBatch(dsod300, budget, { engine });
    const at = (batch: number, accumulate: number) => trainingMemory(dsod300, { engine, batch, accumulate }).total;
    assert.ok(fit.largest >= 1);
    assert.ok(at(fit.largest, 2) <= budget && at(fit.largest + 1, 2) > budget, `${engine}: ${fit.largest}`);
    const plan = fit.plan!;
    assert.equal(plan.microBatch * plan.accumulate, dsod300.spec.train.batch);
    assert.ok(plan.microBatch <= fit.largest);
    assert.ok(plan.memory <= budget);
    // The smallest accumulation: one fewer step of accumulation would need a micro-batch that does not fit or divide.
    for (let k = 1; k < plan.accumulate; k++) assert.ok(dsod300.spec.train.batch % k !== 0 || dsod300.spec.train.batch / k > fit.largest);
  }
  const none = fitBatch(dsod300, 2 ** 20, { engine: 'torch' });
  assert.deepEqual({ largest: none.largest, plan: none.plan }, { largest: 0, plan: null });
  const all = fitBatch(tiny, 2 ** 40, { engine: 'torch' });
  assert.deepEqual(all.plan && [all.plan.microBatch, all.plan.accumulate], [tiny.spec.train.batch, 1]);
});

test('budget.train_memory: over is an error at the limit; a design hint whose change would break it is not given', () => {
  const lite = 'dsod: 1\nbackbone: { notation: DS/64-64-16-1 }\ntrain: { batch: 8 }\n';
  const liteStep = trainingMemory(analyze(lite), { engine: 'torch' }).total;
  const wideStep = trainingMemory(analyze(lite.replace('DS/64-64-16-1', 'DS/64-192-48-1')), { engine: 'torch' }).total;
  assert.ok(wideStep > liteStep);
  const codes = (text: string) => check(text).diagnostics.map((d) => d.code);
  const between = Math.round((liteStep + wideStep) / 2);
  assert.deepEqual(codes(`${lite}budget: { train_memory: ${between}B, engine: torch }\n`), []);
  assert.deepEqual(codes(`${lite}budget: { train_memory: ${wideStep + 1}B, engine: torch }\n`), ['principle/growth-rate']);
  const over = check(`${lite}budget: { train_memory: ${liteStep - 1}B, engine: torch }\n`).diagnostics.filter((d) => d.code === 'budget/train-memory');
  assert.equal(over.length, 1);
  assert.match(
    over[0].message,
    /one training step \(torch, fp32, micro-batch 8\) takes .* At most 7 images per micro-batch fit: train\.batch 8 as 4 x accumulate 2/,
  );
});
