// The tfjs model built from core's graph: exact parameter counts, shapes, prior order, determinism, no leaks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { defaultBoxes } from '../../core';
import { createModel, decodeWeights, encodeWeights, type DsodModel } from '../../engine/model';
import { batchNormInfer, batchNormTrain, MOVING_AVERAGE_FRACTION, runningStats } from '../../engine/model/batch-norm';
import { maxPoolCaffe } from '../../engine/model/layers';
import { analyze, DSOD300_YAML, exampleFiles, PLAIN_YAML, readRepoFile } from '../helpers';

const TINY = readRepoFile('examples/tiny.dsod.yaml');

/** A valid spec small enough for many cpu forward passes: 32x32 input, two scales. */
const MICRO = `dsod: 1
input: { size: [32, 32], channels: 3 }
classes: 3
backbone:
  notation: DS/8-8-4-1
  stem: { convs: [8, 8, 8], pool: max }
  blocks: [1, 1]
  transitions: [pool, { pool: false, channels: 8 }]
prediction: { structure: dense, scales: 3, channels: [12, 16, 8] }
priors:
  min_sizes: [6, 12, 20]
  max_sizes: [12, 20, 30]
  aspect_ratios: [[2], [2], [2]]
  steps: [4, 8, 16]
`;

/** The other readings: DenseNet's 7x7/2 entry + 3x3/2 ceil pool (32 -> 16), plain prediction, L2Norm on scale 1
 * only, heads without batch norm. */

tf.setBackend('cpu');

function withModel<T>(yaml: string, seed: number, f: (m: DsodModel) => T): T {
  const model = createModel(analyze(yaml).graph, { seed });
  try {
    return f(model);
  } finally {
    model.dispose();
  }
}

function randomInput(model: DsodModel, batch: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([batch, ...model.inputShape], -1, 1, 'float32', seed) as tf.Tensor4D;
}

test('DSOD300: 14,715,804 learned and 14,795,828 stored values, counted from the variables', () => {
  const before = tf.memory().numTensors;
  const analysis = analyze(DSOD300_YAML);
  withModel(DSOD300_YAML, 0, (model) => {
    assert.deepEqual(model.countParams(), { learned: 14_715_804, stored: 14_795_828 });
    assert.equal(model.numClasses, 21);
    assert.equal(model.numBoxes, 8_744);
    // Node by node: every conv weight is [k, k, in, out], and each node holds what core counts for it.
    const perNode = new Map<string, { learned: number; stored: number }>();
    for (const p of model.params) {
      const e = perNode.get(p.node.name) ?? { learned: 0, stored: 0 };
      e.stored += p.variable.size;
      if (p.trainable) e.learned += p.variable.size;
      perNode.set(p.node.name, e);
      if (p.role === 'weight') {
        const { kernel, out } = p.node.conv!;
        const inC = analysis.graph.nodes[p.node.inputs[0]].shape[0];
        assert.deepEqual(p.variable.shape, [kernel, kernel, inC, out], p.name);
      }
    }
    for (const l of analysis.layers) {
      const got = perNode.get(l.name) ?? { learned: 0, stored: 0 };
      assert.deepEqual(got, { learned: l.paramsLearned, stored: l.paramsStored }, l.name);
    }
  });
  assert.equal(tf.memory().numTensors, before, 'dispose frees every variable');
});

for (const file of exampleFiles()) {
  test(`${file}: learned and stored counts equal core's`, () => {
    const analysis = analyze(readRepoFile(file));
    const model = createModel(analysis.graph, { seed: 1 });
    try {
      assert.deepEqual(model.countParams(), { learned: analysis.totals.paramsLearned, stored: analysis.totals.paramsStored });
      assert.equal(model.numBoxes, analysis.totals.defaultBoxes);
    } finally {
      model.dispose();
    }
  });
}

test("tiny example: a cpu forward pass gives core's shapes, per scale and concatenated, in prior order", () => {
  const analysis = analyze(TINY);
  withModel(TINY, 0, (model) => {
    const x = randomInput(model, 2, 1);
    const scales = model.forwardScales(x);
    assert.equal(scales.length, analysis.scales.length);
    scales.forEach((s, i) => {
      const a = analysis.scales[i];
      assert.deepEqual(s.loc.shape, [2, a.boxes, 4], a.name);
      assert.deepEqual(s.conf.shape, [2, a.boxes, 6], a.name);
    });
    const all = model.forward(x);
    const boxes = defaultBoxes(analysis).length / 4;
    assert.equal(boxes, analysis.totals.defaultBoxes);
    assert.deepEqual(all.loc.shape, [2, boxes, 4]);
    assert.deepEqual(all.conf.shape, [2, boxes, 6]);
    tf.dispose([x, all.loc, all.conf, ...scales.flatMap((s) => [s.loc, s.conf])]);
  });
});

test("no stem, plain prediction, L2Norm on scale 1 only, heads without BN: shapes and counts equal core's", () => {
  const analysis = analyze(PLAIN_YAML);
  withModel(PLAIN_YAML, 0, (model) => {
    assert.deepEqual(model.countParams(), { learned: analysis.totals.paramsLearned, stored: analysis.totals.paramsStored });
    assert.deepEqual(
      model.params.filter((p) => p.role === 'scale').map((p) => [p.name, p.variable.size]),
      [['head1/l2norm/scale', 6]],
    );
    const x = randomInput(model, 2, 4);
    for (const training of [false, true]) {
      const out = model.forward(x, { training });
      assert.deepEqual(out.loc.shape, [2, analysis.totals.defaultBoxes, 4]);
      assert.deepEqual(out.conf.shape, [2, analysis.totals.defaultBoxes, 4]);
      tf.dispose([out.loc, out.conf]);
    }
    x.dispose();
  });
});

test("head outputs follow Caffe's order: box (row, column, prior), then coordinate / class", () => {
  const analysis = analyze(MICRO);
  withModel(MICRO, 3, (model) => {
    const x = randomInput(model, 2, 2);
    const scales = model.forwardScales(x);
    analysis.graph.scales.forEach((s, i) => {
      const [raw] = model.forwardNodes(x, [s.loc]);
      const [, h, w, c] = raw.shape;
      const P = s.priorsPerLocation;
      assert.equal(c, 4 * P);
      const r = raw.arraySync() as number[][][][];
      const loc = scales[i].loc.arraySync() as number[][][];
      for (let b = 0; b < 2; b++)
        for (let y = 0; y < h; y++)
          for (let xx = 0; xx < w; xx++)
            for (let p = 0; p < P; p++) for (let j = 0; j < 4; j++) assert.equal(loc[b][(y * w + xx) * P + p][j], r[b][y][xx][p * 4 + j]);
      raw.dispose();
    });
    tf.dispose([x, ...scales.flatMap((s) => [s.loc, s.conf])]);
  });
});

test('no tensor leaks: inference, training forward and a gradient step', () => {
  withModel(MICRO, 0, (model) => {
    const x = randomInput(model, 2, 3);
    const before = tf.memory().numTensors;
    const out = model.forward(x);
    tf.dispose([out.loc, out.conf]);
    assert.equal(tf.memory().numTensors, before, 'inference');
    tf.tidy(() => {
      model.forward(x, { training: true });
    });
    assert.equal(tf.memory().numTensors, before, 'training forward (running statistics updated in place)');
    const { value, grads } = tf.variableGrads(() => {
      const o = model.forward(x, { training: true });
      return tf.add(tf.sum(tf.square(o.loc)), tf.sum(o.conf)) as tf.Scalar;
    }, model.trainableVariables());
    assert.equal(Object.keys(grads).length, model.trainableVariables().length);
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before, 'gradients');
    x.dispose();
  });
});

test('a seed fixes the weights and the forward pass; another seed changes them', () => {
  const run = (seed: number) =>
    withModel(MICRO, seed, (model) => {
      const x = randomInput(model, 1, 7);
      const out = model.forward(x);
      const values = [...(out.loc.dataSync() as Float32Array), ...(out.conf.dataSync() as Float32Array)];
      tf.dispose([x, out.loc, out.conf]);
      return values;
    });
  const a = run(11);
  assert.deepEqual(run(11), a);
  assert.notDeepEqual(run(12), a);
});

test('initialisation: xavier bodies, Gaussian 0.01 heads, gamma 1, beta 0, L2Norm scale from the spec', () => {
  withModel(TINY, 5, (model) => {
    for (const p of model.params) {
      const v = p.variable.dataSync() as Float32Array;
      if (p.role === 'weight') {
        if (p.node.stageKind === 'head') {
          const std = Math.sqrt(v.reduce((s, a) => s + a * a, 0) / v.length);
          assert.ok(Math.abs(std - 0.01) < 0.002, `${p.name}: std ${std}`);
        } else {
          const [k, , inC] = p.variable.shape;
          const bound = Math.sqrt(3 / (k * k * inC));
          assert.ok(
            v.every((a) => Math.abs(a) <= bound),
            p.name,
          );
          assert.ok(Math.max(...v.map(Math.abs)) > 0.9 * bound, p.name);
        }
      } else {
        const expected = { gamma: 1, beta: 0, mean_sum: 0, var_sum: 0, factor: 0, scale: 20 }[p.role];
        assert.ok(
          v.every((a) => a === expected),
          p.name,
        );
      }
    }
  });
});

test('head convolutions are found by their stage, not their names: renamed layers still start as Gaussian 0.01', () => {
  const graph = analyze(TINY).graph;
  const renamed = { ...graph, nodes: graph.nodes.map((n) => ({ ...n, name: `layer${n.id}` })) };
  const model = createModel(renamed, { seed: 5 });
  try {
    const heads = model.params.filter((p) => p.role === 'weight' && p.node.stageKind === 'head');
    assert.ok(heads.length > 0);
    for (const p of heads) {
      const v = p.variable.dataSync() as Float32Array;
      const std = Math.sqrt(v.reduce((s, a) => s + a * a, 0) / v.length);
      assert.ok(Math.abs(std - 0.01) < 0.002, `${p.name}: std ${std}`);
    }
  } finally {
    model.dispose();
  }
});

test('weights round-trip through the plain map and its byte encoding; mismatches are refused', async () => {
  const yaml = MICRO;
  const a = createModel(analyze(yaml).graph, { seed: 1 });
  const b = createModel(analyze(yaml).graph, { seed: 2 });
  try {
    const x = randomInput(a, 1, 9);
    tf.tidy(() => {
      a.forward(x, { training: true }); // non-trivial running statistics
    });
    const map = decodeWeights(encodeWeights(await a.getWeights()));
    b.setWeights(map);
    const ya = a.forward(x);
    const yb = b.forward(x);
    assert.deepEqual(yb.conf.dataSync(), ya.conf.dataSync());
    tf.dispose([x, ya.loc, ya.conf, yb.loc, yb.conf]);
    const name = 'stem/conv1/weight';
    const bad = { ...map, [name]: { shape: [1, 2, 3, 4], values: new Float32Array(24) } };
    assert.throws(() => b.setWeights(bad), /stem\/conv1\/weight: shape \[1,2,3,4\]/);
    const { [name]: _dropped, ...missing } = map;
    assert.throws(() => b.setWeights(missing), /missing stem\/conv1\/weight/);
    assert.throws(() => decodeWeights(new Uint8Array(10)), /not a DSOD weights file/);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('input shape is checked', () => {
  withModel(MICRO, 0, (model) => {
    const x = tf.zeros([1, 31, 32, 3]) as tf.Tensor4D;
    assert.throws(() => model.forward(x), /input must be \[batch, 32, 32, 3\] \(NHWC\), got \[1,31,32,3\]/);
    x.dispose();
  });
});

test('max pooling rounds up as Caffe does, and windows hanging over the edge see only the input', () => {
  for (const [size, out] of [
    [75, 38],
    [19, 10],
    [5, 3],
    [3, 2],
    [4, 2],
  ]) {
    const x = tf.randomUniform([1, size, size, 2], -3, -1, 'float32', size) as tf.Tensor4D; // all negative
    const y = maxPoolCaffe(x, 2, 2, 0);
    assert.deepEqual(y.shape, [1, out, out, 2]);
    const xv = x.arraySync()[0];
    const yv = y.arraySync()[0];
    for (let i = 0; i < out; i++)
      for (let j = 0; j < out; j++)
        for (let c = 0; c < 2; c++) {
          let m = -Infinity;
          for (let a = 2 * i; a < Math.min(2 * i + 2, size); a++) for (let b = 2 * j; b < Math.min(2 * j + 2, size); b++) m = Math.max(m, xv[a][b][c]);
          assert.equal(yv[i][j][c], m);
        }
    tf.dispose([x, y]);
  }
  // DenseNet's entry pool: 3x3/2, no padding (the `stem: false` reading).
  const x = tf.zeros([1, 150, 150, 1]) as tf.Tensor4D;
  const y = maxPoolCaffe(x, 3, 2, 0);
  assert.deepEqual(y.shape, [1, 75, 75, 1]);
  tf.dispose([x, y]);
});

test("batch norm keeps Caffe's running statistics: decayed sums, a factor, Bessel's correction", () => {
  const c = 3;
  const p = {
    gamma: tf.variable(tf.tensor1d([1, 2, 0.5])),
    beta: tf.variable(tf.tensor1d([0, 1, -1])),
    meanSum: tf.variable(tf.zeros([c]), false),
    varSum: tf.variable(tf.zeros([c]), false),
    factor: tf.variable(tf.zeros([1]), false),
  };
  const x1 = tf.randomNormal([2, 3, 4, c], 1, 2, 'float32', 1) as tf.Tensor4D;
  const x2 = tf.randomNormal([2, 3, 4, c], -1, 3, 'float32', 2) as tf.Tensor4D;
  const n = 24;
  const stats = (x: tf.Tensor) => {
    const m = tf.moments(x, [0, 1, 2]);
    return { mean: m.mean.dataSync() as Float32Array, variance: m.variance.dataSync() as Float32Array };
  };
  const s1 = stats(x1);
  const s2 = stats(x2);
  // Never trained: mean 0, variance 1.
  const fresh = runningStats(p);
  assert.deepEqual([...fresh.mean.dataSync(), ...fresh.variance.dataSync()], [0, 0, 0, 1, 1, 1]);
  // Training mode normalizes with the batch statistics.
  const y = batchNormTrain(x1, p, 1e-5, true);
  const ys = stats(y);
  for (let k = 0; k < c; k++) {
    assert.ok(Math.abs(ys.mean[k] - [0, 1, -1][k]) < 1e-5);
    assert.ok(Math.abs(Math.sqrt(ys.variance[k]) - [1, 2, 0.5][k]) < 1e-4);
  }
  batchNormTrain(x2, p, 1e-5, true);
  const f = MOVING_AVERAGE_FRACTION;
  const close = (got: ArrayLike<number>, want: number[]) =>
    want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= 1e-5 * Math.max(1, Math.abs(w)), `${got[i]} vs ${w}`));
  close(p.factor.dataSync(), [f + 1]);
  close(
    p.meanSum.dataSync(),
    [0, 1, 2].map((k) => f * s1.mean[k] + s2.mean[k]),
  );
  close(
    p.varSum.dataSync(),
    [0, 1, 2].map((k) => ((f * s1.variance[k] + s2.variance[k]) * n) / (n - 1)),
  );
  // Inference divides the sums by the factor.
  const run = runningStats(p);
  close(
    run.mean.dataSync(),
    [0, 1, 2].map((k) => (f * s1.mean[k] + s2.mean[k]) / (f + 1)),
  );
  const yi = batchNormInfer(x1, p, 1e-5);
  const mean = run.mean.dataSync();
  const variance = run.variance.dataSync();
  const xv = x1.dataSync();
  const yv = yi.dataSync();
  const g = [1, 2, 0.5];
  const bt = [0, 1, -1];
  close(
    yv,
    [...xv].map((v, i) => ((v - mean[i % c]) / Math.sqrt(variance[i % c] + 1e-5)) * g[i % c] + bt[i % c]),
  );
  tf.dispose([x1, x2, y, yi, fresh.mean, fresh.variance, run.mean, run.variance, ...Object.values(p)]);
});
