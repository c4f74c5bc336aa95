// Agreement of core's training-memory model (core/analysis/memory.ts, tfjs engine) with tfjs itself: the peak of
// tf.memory().numBytes (tf.profile's peakBytes) over one training step of the tiny example as engine/train takes
// it: runStep's forward and backward passes over the micro-batches, then the SGD update, on the wasm backend the
// trainer uses. The model, the momentum buffers and the batch count too, as the estimate counts them.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { trainingMemory } from '../../core';
import { prepareWasm } from '../../engine/backend/wasm';
import type { Batch, BatchLoader } from '../../engine/data/batches';
import { createModel } from '../../engine/model';
import { runStep } from '../../engine/train/run-step';
import { MomentumSgd } from '../../engine/train/sgd';
import { analyze, readRepoFile } from '../helpers';

/** The figure the issue asks for: the estimate within 5% of the measurement. */
const TOLERANCE = 0.05;

before(async () => {
  await prepareWasm();
  assert.ok(await tf.setBackend('wasm'));
});

/** Micro-batches of seeded noise with a few positives of every class: memory depends on shapes, not on values. */
function loader(shape: [number, number, number], priors: number, classes: number, size: number): BatchLoader {
  const [h, w, c] = shape;
  let seed = 1;
  const next = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return {
    next: async (): Promise<Batch> => ({
      step: 0,
      epoch: 0,
      size,
      images: Float32Array.from({ length: size * h * w * c }, () => 100 * next()),
      shape: [size, h, w, c],
      records: [],
      annotations: [],
      targets: {
        loc: Float32Array.from({ length: size * priors * 4 }, next),
        labels: Int32Array.from({ length: size * priors }, (_, i) => (i % 37 === 0 ? 1 + (i % (classes - 1)) : 0)),
        positives: Math.ceil((size * priors) / 37),
      },
    }),
  } as unknown as BatchLoader;
}

for (const [batch, accumulate] of [
  [1, 1],
  [2, 1],
  [1, 2],
]) {
  test(`tiny, micro-batch ${batch} x ${accumulate}: the peak of tf.memory().numBytes over a training step matches core's tfjs estimate within 5%`, async (t) => {
    const a = analyze(readRepoFile('examples/tiny.dsod.yaml'));
    const base = tf.memory().numBytes;
    const model = createModel(a.graph, { seed: 1 });
    const sgd = new MomentumSgd(
      model.params.filter((p) => p.trainable).map((p) => ({ name: p.name, variable: p.variable })),
      { momentum: 0.9, weightDecay: 0.0005 },
    );
    try {
      const vars = model.trainableVariables();
      const data = loader(model.inputShape, model.numBoxes, model.numClasses, batch);
      const profile = await tf.profile(async () => {
        const r = await runStep(model, vars, data, accumulate, model.numBoxes);
        assert.ok(r.ok);
        sgd.apply(r.grads, 0.01);
        tf.dispose(r.grads);
        return [];
      });
      const measured = profile.peakBytes - base;
      const m = trainingMemory(a, { engine: 'tfjs', precision: 'fp32', batch, accumulate });
      const error = Math.abs(m.total - measured) / measured;
      t.diagnostic(`agreement tiny batch ${batch}x${accumulate} tfjs: measured ${measured} B, estimate ${m.total} B, error ${(100 * error).toFixed(4)}%`);
      assert.ok(error <= TOLERANCE, `measured ${measured} B, estimated ${m.total} B: ${(100 * error).toFixed(2)}% apart`);
    } finally {
      sgd.dispose();
      model.dispose();
    }
    assert.equal(tf.memory().numBytes, base, 'the step leaks no tensor');
  });
}
