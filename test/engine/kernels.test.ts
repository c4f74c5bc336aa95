// The wasm training kernels (engine/backend/wasm-kernels.ts) and the custom batch-norm gradient, checked
// against the cpu backend on random inputs: every replaced or added kernel, in the cases DSOD meets.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { prepareWasm } from '../../engine/backend/wasm';
import { WASM_REPLACED_KERNELS } from '../../engine/backend/wasm-kernels';
import { createModel } from '../../engine/model';
import { batchNormTrain, channelDots, channelSums } from '../../engine/model/batch-norm';
import { maxPoolCaffe } from '../../engine/model/layers';
import { analyze, PLAIN_YAML, readRepoFile, rng } from '../helpers';

before(async () => {
  await prepareWasm();
  assert.ok(await tf.setBackend('wasm'), 'the wasm backend initialises from the package files');
});

type Arrays = Float32Array[];

/** Random values from a seed, so both backends see the very same inputs. */
function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r.next();
  return out;
}

async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor[]): Promise<Arrays> {
  assert.ok(await tf.setBackend(backend));
  const ts = f();
  const out = ts.map((t) => t.dataSync() as Float32Array);
  tf.dispose(ts);
  return out;
}

/**
 * The worst, over the arrays, of max |a - b| / max |b|: each gradient judged on its own scale, but never on a
 * scale below 1e-3 of the largest array's, where a gradient that is zero in exact arithmetic (a batch norm
 * whose output feeds only other batch norms) is all rounding noise.
 */
function relError(a: Arrays, b: Arrays): number {
  return relErrorAt(a, b).error;
}

function relErrorAt(a: Arrays, b: Arrays): { error: number; at: number } {
  assert.equal(a.length, b.length);
  const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const floor = 1e-3 * Math.max(...b.map(maxAbs));
  let worst = { error: 0, at: -1 };
  a.forEach((x, k) => {
    assert.equal(x.length, b[k].length);
    let num = 0;
    for (let i = 0; i < x.length; i++) num = Math.max(num, Math.abs(x[i] - b[k][i]));
    const den = Math.max(maxAbs(b[k]), floor);
    const error = den === 0 ? num : num / den;
    if (error > worst.error) worst = { error, at: k };
  });
  return worst;
}

async function compare(label: string, f: () => tf.Tensor[], tolerance: number, t: { diagnostic(s: string): void }, names?: string[]): Promise<number> {
  const cpu = await on('cpu', f);
  const wasm = await on('wasm', f);
  const { error: err, at } = relErrorAt(wasm, cpu);
  t.diagnostic(`${label}: relative error ${err.toExponential(2)}${names && at >= 0 ? ` (worst: ${names[at]})` : ''}`);
  assert.ok(err <= tolerance, `${label}: relative error ${err} > ${tolerance}`);
  return err;
}

interface ConvCase {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  p: number;
}

const convCases: ConvCase[] = [
  { b: 2, h: 9, w: 9, ci: 12, co: 20, k: 1, s: 1, p: 0 }, // 1x1, ci < co: x transposed
  { b: 2, h: 9, w: 7, ci: 24, co: 8, k: 1, s: 1, p: 0 }, // 1x1, ci > co: dy transposed
  { b: 2, h: 10, w: 10, ci: 8, co: 6, k: 3, s: 1, p: 1 }, // dense layer 3x3
  { b: 1, h: 19, w: 19, ci: 6, co: 4, k: 3, s: 2, p: 1 }, // scale 3x3/2, odd size (19 -> 10)
  { b: 2, h: 12, w: 12, ci: 5, co: 7, k: 3, s: 2, p: 1 }, // even size (12 -> 6)
  { b: 2, h: 8, w: 9, ci: 3, co: 4, k: 3, s: 2, p: 0 }, // floor drops the last row and column
  { b: 1, h: 15, w: 15, ci: 3, co: 4, k: 7, s: 2, p: 3 }, // DenseNet's 7x7/2 entry
  { b: 3, h: 6, w: 6, ci: 4, co: 4, k: 3, s: 1, p: 0 },
  { b: 2, h: 5, w: 5, ci: 3, co: 4, k: 1, s: 1, p: 1 }, // pad > kernel - 1: the input gradient falls back to tfjs's kernel
];

for (const c of convCases) {
  const label = `conv ${c.k}x${c.k}/${c.s} pad ${c.p}, x [${c.b},${c.h},${c.w},${c.ci}] -> ${c.co}`;
  test(`${label}: wasm input and filter gradients equal cpu's`, async (t) => {
    const oh = Math.floor((c.h + 2 * c.p - c.k) / c.s) + 1;
    const ow = Math.floor((c.w + 2 * c.p - c.k) / c.s) + 1;
    const seed = c.h * 100 + c.k * 10 + c.ci;
    const xv = values(c.b * c.h * c.w * c.ci, seed);
    const wv = values(c.k * c.k * c.ci * c.co, seed + 1);
    const rv = values(c.b * oh * ow * c.co, seed + 2);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [c.p, c.p],
      [c.p, c.p],
      [0, 0],
    ];
    await compare(
      label,
      () => {
        const x = tf.tensor4d(xv, [c.b, c.h, c.w, c.ci]);
        const w = tf.tensor4d(wv, [c.k, c.k, c.ci, c.co]);
        const r = tf.tensor4d(rv, [c.b, oh, ow, c.co]);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.p === 0 ? 'valid' : pad), r)));
        const out = g([x, w]);
        tf.dispose([x, w, r]);
        return out;
      },
      1e-5,
      t,
    );
  });
}

test("conv2d with 'same' padding and stride 2 (tfjs pads bottom/right more): wasm gradients equal cpu's", async (t) => {
  const xv = values(2 * 11 * 10 * 3, 5);
  const wv = values(3 * 3 * 3 * 5, 6);
  await compare(
    'same 3x3/2',
    () => {
      const x = tf.tensor4d(xv, [2, 11, 10, 3]);
      const w = tf.tensor4d(wv, [3, 3, 3, 5]);
      const out = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([x, w]);
      tf.dispose([x, w]);
      return out;
    },
    1e-5,
    t,
  );
});

const poolCases: { label: string; shape: [number, number, number, number]; k: number; s: number; lo: number; hi: number; relu?: boolean; same?: boolean }[] = [
  { label: 'all windows negative, 2x2/2 even', shape: [2, 8, 8, 5], k: 2, s: 2, lo: -3, hi: -0.1 },
  { label: 'negative, ceil mode 75 -> 38', shape: [1, 75, 75, 3], k: 2, s: 2, lo: -2, hi: -1 },
  { label: 'mixed signs, ceil mode 19 -> 10', shape: [2, 19, 19, 4], k: 2, s: 2, lo: -1, hi: 1 },
  { label: 'ceil mode 5 -> 3 and 3 -> 2', shape: [2, 5, 3, 4], k: 2, s: 2, lo: -1, hi: 0.5 },
  { label: 'ties at zero after a ReLU', shape: [2, 9, 9, 3], k: 2, s: 2, lo: -1, hi: 1, relu: true },
  { label: 'overlapping 3x3/2 windows (no-stem entry), ceil', shape: [1, 12, 12, 3], k: 3, s: 2, lo: -2, hi: 0 },
  { label: "tfjs 'same' padding, 3x3/2", shape: [2, 7, 8, 3], k: 3, s: 2, lo: -2, hi: 0, same: true },
];

for (const c of poolCases) {
  test(`max pool gradient, ${c.label}: wasm equals cpu`, async (t) => {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const xv = values(n, n, c.lo, c.hi);
    await compare(
      `max pool ${c.label}`,
      () => {
        const x = tf.tensor4d(xv, c.shape);
        const g = tf.grad((a: tf.Tensor) => {
          const input = c.relu ? tf.relu(a) : a;
          const y = c.same ? tf.maxPool(input as tf.Tensor4D, c.k, c.s, 'same') : maxPoolCaffe(input as tf.Tensor4D, c.k, c.s, 0);
          return tf.sum(tf.mul(y, tf.range(1, y.size + 1).reshape(y.shape)));
        });
        const out = [g(x), c.same ? tf.maxPool(x, c.k, c.s, 'same') : maxPoolCaffe(x, c.k, c.s, 0)];
        x.dispose();
        return out;
      },
      0, // routing is exact: the same input value moves to the same place
      t,
    );
  });
}

test('slice, split and concat (replaced copy kernels): wasm equals cpu, any rank, axis and dtype', async (t) => {
  const r = rng(42);
  const cases: (() => tf.Tensor[])[] = [];
  for (let k = 0; k < 40; k++) {
    const rank = r.int(1, 5);
    const shape = Array.from({ length: rank }, () => r.int(1, 6));
    const n = shape.reduce((a, b) => a * b, 1);
    const dtype = r.next() < 0.3 ? 'int32' : 'float32';
    const data = values(n, 100 + k, -50, 50);
    const begin = shape.map((d) => r.int(0, d - 1));
    const size = shape.map((d, i) => r.int(1, d - begin[i]));
    const axis = r.int(0, rank - 1);
    const cut = r.int(0, shape[axis]);
    const other = [...shape];
    other[axis] = r.int(1, 4);
    const data2 = values(
      other.reduce((a, b) => a * b, 1),
      200 + k,
      -50,
      50,
    );
    cases.push(() => {
      const make = (v: Float32Array, sh: number[]) => (dtype === 'int32' ? tf.tensor(Int32Array.from(v, Math.round), sh, 'int32') : tf.tensor(v, sh));
      const x = make(data, shape);
      const y = make(data2, other);
      const parts = cut > 0 && cut < shape[axis] ? tf.split(x, [cut, shape[axis] - cut], axis) : [];
      const out = [tf.slice(x, begin, size), ...parts, tf.concat([x, y, x], axis)];
      tf.dispose([x, y]);
      return out.map((o) => tf.cast(o, 'float32'));
    });
  }
  await compare('40 random slices, splits and concatenations', () => cases.flatMap((f) => f()), 0, t);
});

test('split and concat large enough to grow wasm memory mid-kernel stay exact', async (t) => {
  // 24 MB in, 24 MB out: allocating the outputs may grow the heap, which detaches older views of it.
  const rows = 6000;
  const cols = 1000;
  const data = values(rows * cols, 77);
  assert.ok(await tf.setBackend('wasm'));
  const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
  const heapBefore = heapBytes();
  await compare(
    'split/concat of a 6000 x 1000 matrix along its last axis',
    () => {
      const x = tf.tensor2d(data, [rows, cols]);
      const [a, b] = tf.split(x, [cols - 48, 48], 1);
      const c = tf.concat([b, a], 1);
      x.dispose();
      return [a, b, c];
    },
    0,
    t,
  );
  assert.ok(await tf.setBackend('wasm'));
  t.diagnostic(`wasm heap ${(heapBefore / 2 ** 20).toFixed(0)} MiB -> ${(heapBytes() / 2 ** 20).toFixed(0)} MiB`);
});

test('per-channel sums and dot products (batch-norm kernels) equal tf.sum on cpu', async (t) => {
  const shape = [3, 7, 5, 11];
  const n = 3 * 7 * 5 * 11;
  const xv = values(n, 31, -4, 4);
  const yv = values(n, 32, -1, 3);
  const reference = await on('cpu', () => {
    const x = tf.tensor(xv, shape);
    const y = tf.tensor(yv, shape);
    const out = [tf.sum(x, [0, 1, 2]), tf.sum(tf.mul(x, y), [0, 1, 2])];
    tf.dispose([x, y]);
    return out;
  });
  for (const backend of ['cpu', 'wasm'] as const) {
    const got = await on(backend, () => {
      const x = tf.tensor(xv, shape);
      const y = tf.tensor(yv, shape);
      const out = [channelSums(x), channelDots(x, y)];
      tf.dispose([x, y]);
      return out;
    });
    const err = relError(got, reference);
    t.diagnostic(`channel sums/dots on ${backend}: relative error ${err.toExponential(2)}`);
    assert.ok(err < 1e-6, `${backend}: ${err}`);
    assert.ok(tf.getKernel('DsodChannelSums', backend), `the ${backend} kernel is the one tested`);
  }
});

test('the replaced kernels are the ones registered on wasm', () => {
  for (const name of WASM_REPLACED_KERNELS) {
    const k = tf.getKernel(name, 'wasm');
    assert.ok(k, name);
    assert.ok(!/tfjs-backend-wasm/.test(String(k.kernelFunc)), `${name} is still tfjs's`);
  }
});

/** The reference: batch norm written with tfjs ops and differentiated by tfjs. */
function referenceBatchNorm(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta);
}

test('batch norm: the custom gradient equals the autodiff of the plain formula (cpu), and wasm equals cpu', async (t) => {
  const shape: [number, number, number, number] = [3, 5, 4, 6];
  const n = 3 * 5 * 4 * 6;
  const xv = values(n, 1, -2, 3);
  const rv = values(n, 2);
  const gv = values(6, 3, 0.5, 2);
  const bv = values(6, 4);
  const grads = (custom: boolean) => () => {
    const x = tf.tensor4d(xv, shape);
    const r = tf.tensor4d(rv, shape);
    const gamma = tf.tensor1d(gv);
    const beta = tf.tensor1d(bv);
    const stats = { meanSum: tf.variable(tf.zeros([6]), false), varSum: tf.variable(tf.zeros([6]), false), factor: tf.variable(tf.zeros([1]), false) };
    const out = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const y = custom
        ? batchNormTrain(a as tf.Tensor4D, { gamma: g as tf.Variable, beta: b as tf.Variable, ...stats }, 1e-3, false)
        : referenceBatchNorm(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3);
      return tf.sum(tf.mul(tf.square(y), r));
    })([x, gamma, beta]);
    tf.dispose([x, r, gamma, beta, ...Object.values(stats)]);
    return out;
  };
  const reference = await on('cpu', grads(false));
  const customCpu = await on('cpu', grads(true));
  const customWasm = await on('wasm', grads(true));
  const e1 = relError(customCpu, reference);
  const e2 = relError(customWasm, reference);
  t.diagnostic(`batch norm gradient: custom vs autodiff (cpu) ${e1.toExponential(2)}; custom on wasm vs autodiff on cpu ${e2.toExponential(2)}`);
  assert.ok(e1 < 1e-5, `custom vs autodiff: ${e1}`);
  assert.ok(e2 < 1e-5, `wasm vs cpu: ${e2}`);
});

/** The other readings: DenseNet's 7x7/2 entry + 3x3/2 ceil pool (32 -> 16), plain prediction, L2Norm on scale 1
 * only, heads without batch norm. */

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

for (const [label, spec, size] of [
  ['dense, stem', MICRO, 32],
  ['plain, no stem', PLAIN_YAML, 64],
] as const) {
  test(`a whole DSOD (${label}): wasm forward and every parameter gradient equal cpu's`, async (t) => {
    const graph = analyze(spec).graph;
    const xv = values(2 * size * size * 3, 9);
    const names: string[] = [];
    const run = () => {
      const model = createModel(graph, { seed: 4 });
      const x = tf.tensor4d(xv, [2, size, size, 3]);
      // A random linear loss: no gradient is zero by symmetry (sum(y^2) would zero the heads' beta gradients).
      const rl = tf.tensor3d(values(2 * model.numBoxes * 4, 10), [2, model.numBoxes, 4]);
      const rc = tf.tensor3d(values(2 * model.numBoxes * model.numClasses, 11), [2, model.numBoxes, model.numClasses]);
      const { value, grads } = tf.variableGrads(() => {
        const o = model.forward(x, { training: true });
        return tf.add(tf.sum(tf.mul(o.loc, rl)), tf.sum(tf.mul(o.conf, rc))) as tf.Scalar;
      }, model.trainableVariables());
      const trainable = model.params.filter((p) => p.trainable);
      names.splice(0, names.length, 'loss', ...trainable.map((p) => p.name), 'inference loc', 'inference conf');
      const out = [value, ...trainable.map((p) => grads[p.variable.name])];
      const inference = model.forward(x);
      out.push(inference.loc, inference.conf);
      tf.dispose([x, rl, rc]);
      model.dispose();
      return out;
    };
    // 1e-3, not the kernels' 1e-5: rounding differences compound over ~40 layers, and the stem's batch-norm
    // gradients are zero in exact arithmetic (every consumer of the stem is a training-mode batch norm, which
    // undoes any per-channel scale), so what both backends compute there is rounding noise (~1e-7 of the largest).
    await compare(`DSOD ${label} (${size}x${size}) loss, gradients and inference outputs`, run, 1e-3, t, names);
  });
}

test('timing: the tiny example forward pass (batch 1, inference) on cpu and wasm', async (t) => {
  const graph = analyze(readRepoFile('examples/tiny.dsod.yaml')).graph;
  for (const backend of ['cpu', 'wasm'] as const) {
    assert.ok(await tf.setBackend(backend));
    const model = createModel(graph, { seed: 0 });
    const x = tf.randomUniform([1, ...model.inputShape]) as tf.Tensor4D;
    const once = () => {
      const o = model.forward(x);
      o.conf.dataSync();
      tf.dispose([o.loc, o.conf]);
    };
    once();
    const reps = backend === 'cpu' ? 2 : 10;
    const start = performance.now();
    for (let i = 0; i < reps; i++) once();
    t.diagnostic(`tiny forward, ${backend}: ${((performance.now() - start) / reps).toFixed(1)} ms/image`);
    x.dispose();
    model.dispose();
  }
});
