// Boxes, matching, coding, the MultiBox loss and detection output, on cases small enough to work out by hand.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { detect, decodeBoxesTensor } from '../../engine/boxes/detect';
import { decodeBoxes, encodeBox, SSD_VARIANCES } from '../../engine/boxes/encode';
import { iou, iouMatrix } from '../../engine/boxes/iou';
import { multiboxLoss } from '../../engine/boxes/loss';
import { matchPriors } from '../../engine/boxes/match';
import { encodeTargets } from '../../engine/boxes/targets';
import { rng } from '../helpers';
import { tinyPriors } from './data-fixtures';

before(async () => {
  await tf.setBackend('cpu');
});

const close = (a: number, b: number, eps = 1e-6, what = '') => assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${what} ${a} != ${b}`);
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) close(a[i], b[i], eps, `[${i}]`);
};

/** Run fn and check that it leaves no tensor behind (tensors it returns are disposed by `keep`). */
async function noLeak<T>(fn: () => Promise<T> | T, keep: (r: T) => tf.Tensor[] = () => []): Promise<T> {
  const before = tf.memory().numTensors;
  const r = await fn();
  tf.dispose(keep(r));
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  return r;
}

test('IoU by hand: identical, disjoint, touching, half overlap, nested', () => {
  const b = (...xs: number[]) => Float32Array.from(xs);
  close(iou(b(0, 0, 2, 2), 0, b(0, 0, 2, 2), 0), 1);
  assert.equal(iou(b(0, 0, 1, 1), 0, b(2, 2, 3, 3), 0), 0);
  assert.equal(iou(b(0, 0, 1, 1), 0, b(1, 0, 2, 1), 0), 0); // an edge in common is no overlap
  close(iou(b(0, 0, 2, 2), 0, b(1, 0, 3, 2), 0), 2 / 6); // intersection 2, union 4 + 4 - 2
  close(iou(b(0, 0, 4, 4), 0, b(1, 1, 2, 2), 0), 1 / 16);
  const m = iouMatrix(b(0, 0, 2, 2, 0, 0, 4, 4), b(1, 0, 3, 2, 1, 1, 2, 2, 5, 5, 6, 6));
  closeAll(m, [2 / 6, 1 / 4, 0, 4 / 16, 1 / 16, 0]);
});

// Five priors and two ground truths; every IoU below is worked out in the comments.
const P5 = Float32Array.from([0, 0, 0.5, 0.5, 0.1, 0.1, 0.6, 0.6, 0.5, 0.5, 1, 1, 0, 0.5, 0.5, 1, 0.4, 0.4, 0.6, 0.6]);

test('matching by hand: the best prior is forced even below 0.5; others need IoU >= 0.5', () => {
  // g0 = p0 exactly (IoU 1); with p1: 0.16 / 0.34 = 0.4706 (< 0.5, so p1 stays background).
  // g1 = [.45,.45,.65,.65]: p4 0.0225 / 0.0575 = 0.3913 is its best: forced although < 0.5.
  const gt = Float32Array.from([0, 0, 0.5, 0.5, 0.45, 0.45, 0.65, 0.65]);
  const m = matchPriors(P5, gt);
  assert.deepEqual([...m.gt], [0, -1, -1, -1, 1]);
  closeAll(m.overlap, [1, 0.16 / 0.34, 0.0225 / 0.2675, 0.0075 / 0.2825, 0.0225 / 0.0575], 1e-5);
});

test('matching by hand: two ground truths wanting the same prior (bipartite, as Caffe)', () => {
  // g0 = p0 (IoU 1); g2 = [.05,.05,.5,.5] also prefers p0 (0.81) but p0 is taken: it gets its next best, p1
  // (0.16 / 0.2925 = 0.547). Per-prediction matching then adds nothing else.
  const gt = Float32Array.from([0, 0, 0.5, 0.5, 0.05, 0.05, 0.5, 0.5]);
  assert.deepEqual([...matchPriors(P5, gt).gt], [0, 1, -1, -1, -1]);
});

test('matching: IoU exactly 0.5 matches, just below does not; no ground truth, no match', () => {
  const priors = Float32Array.from([0, 0, 1, 1, 0, 0, 1, 0.5, 0, 0, 1, 0.49]);
  const m = matchPriors(priors, Float32Array.from([0, 0, 1, 1]));
  assert.deepEqual([...m.gt], [0, 0, -1]);
  assert.deepEqual([...matchPriors(priors, new Float32Array(0)).gt], [-1, -1, -1]);
  // A ground truth that touches no prior gets none (Caffe keeps only overlaps > 1e-6).
  assert.deepEqual([...matchPriors(priors, Float32Array.from([2, 2, 3, 3])).gt], [-1, -1, -1]);
});

test('center-size encoding with variances by hand, and decoding inverts it', () => {
  // prior: centre (0.2, 0.2), size 0.2 x 0.2; box: centre (0.25, 0.25), size 0.2 x 0.3.
  const prior = Float32Array.from([0.1, 0.1, 0.3, 0.3]);
  const box = Float32Array.from([0.15, 0.1, 0.35, 0.4]);
  const t = new Float32Array(4);
  encodeBox(prior, 0, box, 0, SSD_VARIANCES, t, 0);
  closeAll(t, [0.05 / 0.2 / 0.1, 0.05 / 0.2 / 0.1, Math.log(1) / 0.2, Math.log(1.5) / 0.2]); // 2.5, 2.5, 0, 2.0273
  closeAll(decodeBoxes(prior, t), box);
  const r = rng(3);
  const priors = Float32Array.from({ length: 400 }, (_, i) => (i % 4 < 2 ? r.next() * 0.5 : 0.5 + r.next() * 0.5));
  const loc = Float32Array.from({ length: 400 }, () => r.next() * 4 - 2);
  const js = decodeBoxes(priors, loc);
  const viaTf = tf.tidy(() => decodeBoxesTensor(tf.tensor2d(priors, [100, 4]), tf.tensor3d(loc, [1, 100, 4])).dataSync());
  closeAll(viaTf, js, 1e-5);
});

test("targets on the tiny example's 3,060 priors: every object matched, offsets decode back to it", () => {
  const priors = tinyPriors();
  assert.equal(priors.length / 4, 3060);
  const boxes = Float32Array.from([0.1, 0.1, 0.3, 0.25, 0.4, 0.35, 0.95, 0.9, 0.02, 0.6, 0.1, 0.7]);
  const labels = Int32Array.from([1, 4, 2]);
  const t = encodeTargets(priors, boxes, labels);
  const decoded = decodeBoxes(priors, t.loc);
  const seen = new Set<number>();
  for (let i = 0; i < 3060; i++) {
    if (t.labels[i] === 0) {
      assert.deepEqual([...t.loc.subarray(4 * i, 4 * i + 4)], [0, 0, 0, 0]);
      continue;
    }
    const j = [...labels].indexOf(t.labels[i]);
    seen.add(j);
    closeAll(decoded.subarray(4 * i, 4 * i + 4), boxes.subarray(4 * j, 4 * j + 4), 1e-5);
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2]);
  assert.equal(t.positives, [...t.labels].filter((l) => l > 0).length);
  // Leaving difficult objects out of matching (use_difficult_gt: false).
  const easy = encodeTargets(priors, boxes, labels, { useDifficult: false, difficult: Uint8Array.from([0, 1, 0]) });
  assert.ok(![...easy.labels].includes(4));
});

test('MultiBox loss by hand: smooth L1, cross-entropy, 3 hard negatives per positive', async () => {
  // One image, 5 priors, 3 classes. Prior 0 is a positive of class 1; priors 1-4 are candidates with logits
  // [0, a, 0], a = 0, 1, 2, 3: background loss log(2 + e^a), so mining takes priors 4, 3, 2 (3 x 1 positive).
  const conf = [0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0];
  const locPred = [0.5, -2, 0, 1, 9, 9, 9, 9, -7, 3, 1, 1, 5, 5, 5, 5, 2, 2, 2, 2];
  const labels = [1, 0, 0, 0, 0];
  const inputs = [tf.tensor3d(locPred, [1, 5, 4]), tf.tensor3d(conf, [1, 5, 3]), tf.zeros([1, 5, 4]), tf.tensor2d(labels, [1, 5], 'int32')] as const;
  await noLeak(
    () => multiboxLoss(...inputs),
    (l) => [l.total, l.loc, l.conf, l.positives],
  );
  const l = multiboxLoss(...inputs);
  const [total, loc, confLoss, positives] = [l.total, l.loc, l.conf, l.positives].map((x) => x.dataSync()[0]);
  tf.dispose([l.total, l.loc, l.conf, l.positives, ...inputs]);
  // |0.5| -> 0.125, |-2| -> 1.5, 0 -> 0, |1| -> 0.5: 2.125 over 1 match.
  close(loc, 2.125);
  const expectedConf = Math.log(2 + Math.exp(2)) - 2 + Math.log(2 + Math.exp(1)) + Math.log(2 + Math.exp(2)) + Math.log(2 + Math.exp(3));
  close(confLoss, expectedConf, 1e-5);
  close(total, 2.125 + expectedConf, 1e-5);
  assert.equal(positives, 1);
});

test("MultiBox loss: normalised by the batch's matches; no negatives from an image without positives; -1 ignored", () => {
  // Image 0: priors 0 (class 2) and 1 (class 1) positive, prior 3 ignored, 6 candidates; 3 x 2 = 6 negatives: all.
  // Image 1: no positive, so no negative either. All logits 0: every cross-entropy is log 3.
  const P = 9;
  const labels = [2, 1, 0, -1, 0, 0, 0, 0, 0, ...Array(P).fill(0)];
  const [total, conf, loc] = tf.tidy(() => {
    const l = multiboxLoss(tf.zeros([2, P, 4]), tf.zeros([2, P, 3]), tf.ones([2, P, 4]), tf.tensor2d(labels, [2, P], 'int32'));
    return [l.total, l.conf, l.loc].map((x) => x.dataSync()[0]);
  });
  close(conf, (8 * Math.log(3)) / 2, 1e-5);
  close(loc, (2 * 4 * 0.5) / 2); // |0 - 1| = 1 -> 0.5 per coordinate, 8 coordinates, 2 matches
  close(total, loc + conf, 1e-5);
  // No positives at all: zero loss, normaliser 1 (Caffe's max(1, N)).
  const zero = tf.tidy(() => multiboxLoss(tf.zeros([1, 4, 4]), tf.randomNormal([1, 4, 3]), tf.ones([1, 4, 4]), tf.zeros([1, 4], 'int32')).total.dataSync()[0]);
  assert.equal(zero, 0);
});

test('MultiBox loss gradient: softmax - one-hot on positives and mined negatives, zero elsewhere; no leaks', () => {
  const P = 8;
  const C = 4;
  const r = rng(9);
  const confVals = Array.from({ length: P * C }, () => r.next() * 4 - 2);
  const labels = [3, 0, 0, 0, 0, 0, 0, 0]; // 1 positive: 3 of the 7 candidates are mined
  const before = tf.memory().numTensors;
  // tf.variable copies its initial value: those copies are disposed at once.
  const conf = tf.tidy(() => tf.variable(tf.tensor3d(confVals, [1, P, C])));
  const loc = tf.tidy(() => tf.variable(tf.zeros([1, P, 4])));
  const locTarget = tf.zeros([1, P, 4]);
  const lab = tf.tensor2d(labels, [1, P], 'int32');
  const { value, grads } = tf.variableGrads(() => multiboxLoss(loc, conf, locTarget, lab).total, [conf, loc]);
  const g = grads[conf.name].dataSync();
  // Expected, computed directly: background losses rank the candidates.
  const probs = Array.from({ length: P }, (_, i) => {
    const z = confVals.slice(i * C, i * C + C);
    const m = Math.max(...z);
    const e = z.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  });
  const mined = [1, 2, 3, 4, 5, 6, 7].sort((a, b) => probs[a][0] - probs[b][0]).slice(0, 3);
  for (let i = 0; i < P; i++) {
    const target = i === 0 ? 3 : mined.includes(i) ? 0 : -1;
    for (let c = 0; c < C; c++) {
      const want = target < 0 ? 0 : probs[i][c] - (c === target ? 1 : 0);
      close(g[i * C + c], want, 1e-5, `d/dconf[${i}, ${c}]`);
    }
  }
  tf.dispose([value, ...Object.values(grads), conf, loc, locTarget, lab]);
  assert.equal(tf.memory().numTensors, before);
});

test('detection output by hand: per-class NMS at 0.45, confidence 0.01, keep top k', async () => {
  // Zero offsets decode to the priors themselves. b1 overlaps b0 with IoU 0.905, b3 is b0 again.
  const priors = Float32Array.from([0.1, 0.1, 0.5, 0.5, 0.12, 0.1, 0.52, 0.5, 0.6, 0.6, 0.9, 0.9, 0.1, 0.1, 0.5, 0.5]);
  // Logits = log probabilities, so the softmax gives these back.
  const probs = [
    [0.1, 0.8, 0.1],
    [0.2, 0.7, 0.1],
    [0.5, 0.005, 0.495],
    [0.1, 0.3, 0.6],
  ];
  const run = (o = {}) =>
    noLeak(async () => {
      const loc = tf.zeros([1, 4, 4]);
      const conf = tf.tensor3d(probs.flat().map(Math.log), [1, 4, 3]);
      try {
        return await detect(loc, conf, priors, o);
      } finally {
        tf.dispose([loc, conf]);
      }
    });
  const [dets] = await run();
  // class 1: b0 (0.8) suppresses b1 (0.7) and b3 (0.3); b2 (0.005) is under the threshold.
  // class 2: b3 (0.6) suppresses b1 and b0 (0.1 each); b2 (0.495) does not overlap.
  assert.deepEqual(
    dets.map((d) => [d.label, Number(d.score.toFixed(3)), d.box.map((x) => Number(x.toFixed(3)))]),
    [
      [1, 0.8, [0.1, 0.1, 0.5, 0.5]],
      [2, 0.6, [0.1, 0.1, 0.5, 0.5]],
      [2, 0.495, [0.6, 0.6, 0.9, 0.9]],
    ],
  );
  assert.equal((await run({ keepTopK: 2 }))[0].length, 2);
  // NMS off (threshold 1; Caffe suppresses only IoU > threshold): every candidate above 0.01 survives, the identical
  // boxes b0 and b3 too: 3 of class 1, 4 of class 2.
  assert.equal((await run({ nmsThreshold: 1 }))[0].length, 7);
  // top k 1 per class before NMS.
  assert.deepEqual(
    (await run({ topK: 1 }))[0].map((d) => d.label),
    [1, 2],
  );
});

test('detection output decodes offsets, clips to the image, and handles a batch', async () => {
  const priors = Float32Array.from([0.8, 0.8, 1.0, 1.0, 0.0, 0.0, 0.2, 0.2]);
  const loc = tf.tensor3d([10, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Math.log(2) / 0.2, Math.log(2) / 0.2], [2, 2, 4]);
  const conf = tf.tensor3d([0, 5, 0, 5, 0, 0, 5, 0, 0, 0, 5, 0], [2, 2, 3]);
  const dets = await detect(loc, conf, priors);
  tf.dispose([loc, conf]);
  // Image 0, prior 0 moved by 10 x 0.1 x 0.2 = 0.2 right and down: (1.0..1.2) clipped to 1.
  assert.deepEqual(dets[0].length, 1);
  closeAll(dets[0][0].box, [1, 1, 1, 1]);
  // Image 1, prior 1 doubled around its centre (0.1, 0.1): (-0.1..0.3), clipped at 0; unclipped on request.
  closeAll(dets[1][0].box, [0, 0, 0.3, 0.3], 1e-5);
  const loc2 = tf.tensor3d([0, 0, 0, 0, 0, 0, Math.log(2) / 0.2, Math.log(2) / 0.2], [1, 2, 4]);
  const conf2 = tf.tensor3d([0, 0, 0, 0, 5, 0], [1, 2, 3]);
  const raw = await detect(loc2, conf2, priors, { clip: false });
  tf.dispose([loc2, conf2]);
  closeAll(raw[0][0].box, [-0.1, -0.1, 0.3, 0.3], 1e-5);
});
