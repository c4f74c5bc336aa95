// ONNX export (engine/onnx/): the model onnxruntime-node loads computes what the tfjs engine computes, on the same
// images and weights (trained-looking: batch-norm statistics, scales and offsets away from their initial values),
// for the tiny example and DSOD300; with the post-processing, the detections are the engine's; weights that do not
// fit are refused naming the tensor.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { defaultBoxes } from '../../core';
import { prepareWasm } from '../../engine/backend/wasm';
import { detectArrays } from '../../engine/boxes/detect-arrays';
import { createModel, paramLayout, type DsodModel } from '../../engine/model';
import type { WeightMap } from '../../engine/model/weights';
import { buildOnnxModel, createOnnxSession, decodeModel, detectionsFromRows, ONNX_OPSET, runOnnx, WeightsMismatch } from '../../engine/onnx';
import { analyze, DSOD300_YAML, readRepoFile, rng } from '../helpers';

before(async () => {
  await prepareWasm();
  assert.ok(await tf.setBackend('wasm'));
});

/** Weights as after training: every batch norm with real running statistics and affine terms, L2Norm scales varied. */
async function trainedLooking(model: DsodModel, seed: number): Promise<WeightMap> {
  const r = rng(seed);
  const w = await model.getWeights();
  for (const [name, t] of Object.entries(w)) {
    const role = name.slice(name.lastIndexOf('/') + 1);
    const v = t.values;
    if (role === 'factor') v[0] = 2.5 + r.next();
    else if (role === 'mean_sum') for (let i = 0; i < v.length; i++) v[i] = (r.next() - 0.5) * 0.4;
    else if (role === 'var_sum') for (let i = 0; i < v.length; i++) v[i] = 1 + 2 * r.next();
    else if (role === 'gamma') for (let i = 0; i < v.length; i++) v[i] = 0.6 + 0.8 * r.next();
    else if (role === 'beta') for (let i = 0; i < v.length; i++) v[i] = (r.next() - 0.5) * 0.2;
    else if (role === 'scale') for (let i = 0; i < v.length; i++) v[i] = 15 + 10 * r.next();
  }
  model.setWeights(w);
  return w;
}

function images(n: number, [h, w, c]: readonly number[], seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n * h * w * c);
  for (let i = 0; i < out.length; i++) out[i] = (r.next() - 0.5) * 200;
  return out;
}

/** max |a - b| over max |b|: the error relative to the output's own scale. */
function relativeError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

async function tfjsOutputs(model: DsodModel, x: Float32Array, n: number): Promise<{ loc: Float32Array; conf: Float32Array }> {
  const [h, w, c] = model.inputShape;
  const input = tf.tensor4d(x, [n, h, w, c]);
  const out = model.forward(input);
  try {
    return { loc: (await out.loc.data()) as Float32Array, conf: (await out.conf.data()) as Float32Array };
  } finally {
    tf.dispose([input, out.loc, out.conf]);
  }
}

async function compare(yaml: string, batch: number, headStd?: number): Promise<void> {
  const analysis = analyze(yaml);
  const model = createModel(analysis.graph, { seed: 7, ...(headStd ? { headStd } : {}) });
  try {
    const weights = await trainedLooking(model, 11);
    const priors = defaultBoxes(analysis);
    const bytes = buildOnnxModel(analysis.graph, weights, { priors });
    const x = images(batch, model.inputShape, 3);
    const ref = await tfjsOutputs(model, x, batch);
    const { session, provider } = await createOnnxSession(bytes);
    try {
      assert.equal(provider, 'cpu', 'no CUDA provider here: the CPU provider runs it');
      const [loc, conf, pr] = await runOnnx(session, x, [batch, ...model.inputShape], ['loc', 'conf', 'priors']);
      assert.ok(relativeError(loc, ref.loc) < 1e-4, `loc: relative error ${relativeError(loc, ref.loc)}`);
      assert.ok(relativeError(conf, ref.conf) < 1e-4, `conf: relative error ${relativeError(conf, ref.conf)}`);
      assert.deepEqual(pr, priors, 'the default boxes are a constant output, bit for bit');
    } finally {
      await session.release();
    }
  } finally {
    model.dispose();
  }
}

test('the ONNX file is a ModelProto at opset 13 with the graph inputs and outputs documented', () => {
  const analysis = analyze(readRepoFile('examples/tiny.dsod.yaml'));
  const model = createModel(analysis.graph, { seed: 1 });
  return model.getWeights().then((w) => {
    model.dispose();
    const m = decodeModel(buildOnnxModel(analysis.graph, w, { priors: defaultBoxes(analysis), postprocess: {} })) as {
      opset_import: { version: number }[];
      graph: { input: { name: string }[]; output: { name: string }[]; node: { op_type: string }[] };
    };
    assert.equal(m.opset_import[0].version, ONNX_OPSET);
    assert.ok(ONNX_OPSET >= 13);
    assert.deepEqual(
      m.graph.input.map((i) => i.name),
      ['images'],
    );
    assert.deepEqual(
      m.graph.output.map((o) => o.name),
      ['loc', 'conf', 'priors', 'boxes', 'scores', 'detections'],
    );
    const ops = new Set(m.graph.node.map((n) => n.op_type));
    for (const op of ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Concat', 'NonMaxSuppression']) assert.ok(ops.has(op), op);
    // Caffe's convolutions have no bias: every Conv has two inputs.
    assert.ok(m.graph.node.filter((n) => n.op_type === 'Conv').every((n) => (n as unknown as { input: string[] }).input.length === 2));
  });
});

test('tiny example: onnxruntime outputs equal the tfjs model within 1e-4 relative (batch 2)', async () => {
  await compare(readRepoFile('examples/tiny.dsod.yaml'), 2);
});

test('DSOD300: onnxruntime outputs equal the tfjs model within 1e-4 relative (L2Norm, ceil pools, 1,000 nodes)', async () => {
  await compare(DSOD300_YAML, 1);
});

test('with the post-processing, the graph detections are the engine detections (decoding, softmax, top-k, per-class NMS)', async () => {
  const analysis = analyze(readRepoFile('examples/tiny.dsod.yaml'));
  const model = createModel(analysis.graph, { seed: 5 });
  try {
    const weights = await trainedLooking(model, 13);
    // Class heads far from their near-zero init: scores spread out, so no near-tie decides what NMS keeps.
    for (const slot of paramLayout(analysis.graph).filter((s) => s.node.headRole === 'conf' && s.role === 'weight')) {
      weights[slot.name].values.forEach((v, i, a) => (a[i] = v * 10));
    }
    model.setWeights(weights);
    const priors = defaultBoxes(analysis);
    const variances = analysis.spec.priors.variances;
    const bytes = buildOnnxModel(analysis.graph, weights, { priors, postprocess: { variances } });
    const batch = 2;
    const x = images(batch, model.inputShape, 9);
    const ref = await tfjsOutputs(model, x, batch);
    const expected = detectArrays(ref.loc, ref.conf, priors, model.numClasses, { variances });
    const { session } = await createOnnxSession(bytes);
    try {
      const [rows] = await runOnnx(session, x, [batch, ...model.inputShape], ['detections']);
      const got = detectionsFromRows(rows, batch);
      for (let n = 0; n < batch; n++) {
        assert.ok(expected[n].length > 10, `image ${n} has detections to compare (${expected[n].length})`);
        assert.equal(got[n].length, expected[n].length, `image ${n}: as many detections`);
        // The same set: each engine detection has its twin (class, score and corners within 1e-4), whatever the
        // order of near-equal scores.
        const left = [...got[n]];
        for (const e of expected[n]) {
          const k = left.findIndex((d) => d.label === e.label && Math.abs(d.score - e.score) < 1e-4 && d.box.every((v, j) => Math.abs(v - e.box[j]) < 1e-4));
          assert.ok(k >= 0, `image ${n}: no ONNX detection for class ${e.label} score ${e.score} box ${e.box}`);
          left.splice(k, 1);
        }
      }
    } finally {
      await session.release();
    }
  } finally {
    model.dispose();
  }
});

test('weights that do not fit the spec are refused naming the tensor', async () => {
  const analysis = analyze(readRepoFile('examples/tiny.dsod.yaml'));
  const model = createModel(analysis.graph, { seed: 1 });
  const w = await model.getWeights();
  model.dispose();
  const first = Object.keys(w)[0];
  const wrong = { ...w, [first]: { shape: [1, 2, 3], values: new Float32Array(6) } };
  assert.throws(
    () => buildOnnxModel(analysis.graph, wrong, { priors: defaultBoxes(analysis) }),
    (e: Error) => e instanceof WeightsMismatch && e.message.includes(`tensor ${first}: shape [1,2,3]`),
  );
  const missing = { ...w };
  const last = Object.keys(w).at(-1)!;
  delete missing[last];
  assert.throws(
    () => buildOnnxModel(analysis.graph, missing, { priors: defaultBoxes(analysis) }),
    (e: Error) => e instanceof WeightsMismatch && e.message.includes(`missing tensor ${last}`),
  );
});
