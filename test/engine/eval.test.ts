// VOC (2007 11-point, 2010+ area) and COCO metrics: cases worked out by hand, and agreement on random detections
// with brute-force reference implementations written here from the protocols' definitions, not from our code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ap11Point, apAllPoint, cocoPrecisionAt, COCO_IOU_THRESHOLDS, COCO_RECALL_THRESHOLDS } from '../../engine/eval/ap';
import { evaluateCoco } from '../../engine/eval/coco';
import { prCurvesJson, thinCurve, writePrCurves } from '../../engine/eval/curves';
import type { EvalDetection, EvalImage, EvalObject } from '../../engine/eval/types';
import { evaluateVoc } from '../../engine/eval/voc';
import { rng } from '../helpers';
import { tempDir } from './data-fixtures';

const close = (a: number | null, b: number, eps = 1e-9, what = '') => assert.ok(a !== null && Math.abs(a - b) <= eps, `${what}: ${a} != ${b}`);

// ---------------------------------------------------------------- by hand

// One class. A and B are regular objects, D is difficult. Detections, best first:
// d1 on A (hit), d2 on D (ignored), d3 on nothing (false alarm), d4 on A again (duplicate: false alarm), d5 on B (hit).
// Without the ignored one: hit, miss, miss, hit -> recall .5 .5 .5 1, precision 1 .5 .333 .5 (2 positives).
const A = [0.1, 0.1, 0.3, 0.3];
const B = [0.6, 0.6, 0.9, 0.9];
const D = [0.5, 0.05, 0.7, 0.25];
const handImages: EvalImage[] = [
  {
    objects: [
      { box: A, label: 1 },
      { box: D, label: 1, difficult: true },
    ],
  },
  { objects: [{ box: B, label: 1 }] },
];
const handDets: EvalDetection[][] = [
  [
    { box: A, label: 1, score: 0.9 },
    { box: D, label: 1, score: 0.8 },
    { box: [0.35, 0.7, 0.45, 0.8], label: 1, score: 0.7 },
    { box: [0.1, 0.1, 0.3, 0.29], label: 1, score: 0.6 },
  ],
  [{ box: B, label: 1, score: 0.5 }],
];

test('VOC AP by hand: 11-point and all-point, a difficult object ignored, a duplicate counted as a false alarm', () => {
  const r = evaluateVoc(handImages, handDets, ['background', 'shape']);
  const c = r.classes[0];
  assert.equal(c.positives, 2);
  assert.equal(c.truePositives, 2);
  assert.deepEqual(c.curve.recall, [0.5, 0.5, 0.5, 1]);
  assert.deepEqual(c.curve.precision, [1, 0.5, 1 / 3, 0.5]);
  assert.deepEqual(c.curve.score, [0.9, 0.7, 0.6, 0.5]);
  // 11 points: recall >= 0 ... 0.5 (6 points) reach precision 1; 0.6 ... 1 (5 points) only 0.5.
  close(c.ap11, (6 * 1 + 5 * 0.5) / 11);
  // Area: precision made monotone is 1 up to recall 0.5, then 0.5: 0.5 x 1 + 0.5 x 0.5.
  close(c.apArea, 0.75);
  close(r.map11, 8.5 / 11);
  close(r.mapArea, 0.75);
});

test('COCO AP by hand: the same case at 101 recall points and 10 IoU thresholds', () => {
  // Every hit is exact (IoU 1), so each threshold sees the same curve; d4 overlaps A with IoU 0.95: at 0.95 it would be
  // a hit, but A is taken. Precision made monotone: 1 for recall <= 0.5 (51 points), 0.5 above (50 points).
  const r = evaluateCoco(handImages, handDets, ['background', 'shape']);
  const want = (51 + 0.5 * 50) / 101;
  close(r.ap, want);
  close(r.ap50, want);
  close(r.ap75, want);
  assert.equal(r.classes[0].positives, 2);
  assert.equal(r.classes[0].precision.length, 10);
});

test('VOC overlaps in continuous coordinates equal the devkit\'s inclusive pixels with "+1"', () => {
  // The devkit: boxes in 1-based inclusive pixels, widths x2 - x1 + 1. Our loader maps pixel xmin..xmax to
  // [xmin - 1, xmax]: the same widths, so the same IoUs, exactly.
  const r = rng(5);
  for (let k = 0; k < 200; k++) {
    const box = () => {
      const x1 = r.int(1, 80);
      const y1 = r.int(1, 80);
      return [x1, y1, x1 + r.int(0, 40), y1 + r.int(0, 40)];
    };
    const a = box();
    const b = box();
    const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]) + 1;
    const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]) + 1;
    const devkit = iw > 0 && ih > 0 ? (iw * ih) / ((a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1) - iw * ih) : 0;
    const cont = (x: number[]) => [x[0] - 1, x[1] - 1, x[2], x[3]];
    const ours = evaluateVoc([{ objects: [{ box: cont(a), label: 1 }] }], [[{ box: cont(b), label: 1, score: 1 }]], 2, { iouThreshold: devkit });
    // At threshold = the devkit's IoU the detection is a hit exactly when our IoU is the same (>= on both sides).
    if (devkit > 0) assert.equal(ours.classes[0].truePositives, 1, `${a} vs ${b}: devkit IoU ${devkit}`);
  }
});

test('COCO crowd regions: IoU is intersection over the detection, and they absorb any number of detections', () => {
  const crowd: EvalObject = { box: [0, 0, 1, 1], label: 1, difficult: true, crowd: true };
  const images: EvalImage[] = [{ objects: [{ box: [0.6, 0.6, 0.8, 0.8], label: 1 }, crowd] }];
  // Three small detections inside the crowd region (IoU with it 1 by COCO's rule, 0.04 by the usual one): ignored.
  const dets: EvalDetection[][] = [
    [
      { box: [0.1, 0.1, 0.3, 0.3], label: 1, score: 0.9 },
      { box: [0.3, 0.3, 0.5, 0.5], label: 1, score: 0.8 },
      { box: [0.6, 0.6, 0.8, 0.8], label: 1, score: 0.7 },
      { box: [0.1, 0.5, 0.2, 0.6], label: 1, score: 0.6 },
    ],
  ];
  const r = evaluateCoco(images, dets, 2);
  close(r.ap, 1); // only the exact hit counts
  // Without the crowd flag, the same ignored object takes one detection; the others become false alarms.
  const plain = evaluateCoco([{ objects: [images[0].objects[0], { ...crowd, crowd: false }] }], dets, 2);
  assert.ok(plain.ap < 1);
});

test('classes without objects are left out of the mean; no detections give AP 0', () => {
  const images: EvalImage[] = [{ objects: [{ box: A, label: 1 }] }];
  const dets: EvalDetection[][] = [[{ box: B, label: 2, score: 0.9 }]];
  const voc = evaluateVoc(images, dets, ['background', 'a', 'b']);
  assert.equal(voc.classes[1].ap11, null);
  assert.equal(voc.classes[1].apArea, null);
  close(voc.classes[0].ap11, 0);
  close(voc.map11, 0);
  const coco = evaluateCoco(images, dets, ['background', 'a', 'b']);
  assert.equal(coco.classes[1].ap, null);
  close(coco.ap, 0);
  assert.throws(() => evaluateVoc(images, [], 3), /1 images but 0 detection lists/);
});

test('AP helpers at the edges: empty curves, perfect curves, numpy.linspace thresholds', () => {
  assert.equal(ap11Point([], []), 0);
  assert.equal(apAllPoint([], []), 0);
  close(ap11Point([0.5, 1], [1, 1]), 1);
  close(apAllPoint([0.5, 1], [1, 1]), 1);
  assert.deepEqual(
    cocoPrecisionAt([], []),
    COCO_RECALL_THRESHOLDS.map(() => 0),
  );
  assert.equal(COCO_IOU_THRESHOLDS.length, 10);
  assert.equal(COCO_IOU_THRESHOLDS[0], 0.5);
  assert.equal(COCO_IOU_THRESHOLDS[9], 0.95);
  assert.equal(COCO_RECALL_THRESHOLDS.length, 101);
  assert.equal(COCO_RECALL_THRESHOLDS[100], 1);
  // pycocotools' arrays as numpy computes them (checked with numpy): 0.9 is 0.8999999999999999, 0.57 is
  // 0.5700000000000001. A recall of exactly 0.57 does not reach that threshold, in pycocotools and here.
  assert.deepEqual(COCO_IOU_THRESHOLDS, NUMPY_IOU_THRESHOLDS);
  assert.equal(COCO_RECALL_THRESHOLDS[57], 0.5700000000000001);
  assert.equal(COCO_RECALL_THRESHOLDS[7], 0.07);
});

// ---------------------------------------------------------------- references

/** np.linspace(.5, 0.95, 10), printed by numpy: pycocotools' IoU thresholds. */
const NUMPY_IOU_THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95];

function iouRef(a: readonly number[], b: readonly number[]): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h;
  return u > 0 ? (w * h) / u : 0;
}

/**
 * Brute force, from the VOC protocol's definition: for every cut-off k, match the k best detections from scratch and
 * count hits and false alarms; AP11 = mean over t of the best precision at recall >= t; AP (area) = sum over each
 * object found of 1/npos x the best precision at any cut-off that finds at least that many.
 */
function vocReference(images: EvalImage[], dets: EvalDetection[][], label: number, thr: number): { ap11: number; apArea: number } | null {
  const npos = images.reduce((n, im) => n + im.objects.filter((o) => o.label === label && !o.difficult).length, 0);
  if (npos === 0) return null;
  const all = dets.flatMap((list, image) => list.filter((d) => d.label === label).map((d) => ({ image, d }))).sort((a, b) => b.d.score - a.d.score);
  const points: { recall: number; precision: number }[] = [];
  for (let k = 1; k <= all.length; k++) {
    const taken = new Set<string>();
    let tp = 0;
    let fp = 0;
    for (const { image, d } of all.slice(0, k)) {
      const gts = images[image].objects.map((o, j) => ({ o, j })).filter((x) => x.o.label === label);
      let best: { o: EvalObject; j: number } | null = null;
      let bestIou = 0;
      for (const g of gts) {
        const v = iouRef(d.box, g.o.box);
        if (v > bestIou) {
          bestIou = v;
          best = g;
        }
      }
      if (best && bestIou >= thr) {
        if (best.o.difficult) continue;
        const key = `${image}/${best.j}`;
        if (taken.has(key)) fp++;
        else {
          taken.add(key);
          tp++;
        }
      } else fp++;
    }
    if (tp + fp > 0) points.push({ recall: tp / npos, precision: tp / (tp + fp) });
  }
  const bestAt = (r: number) => Math.max(0, ...points.filter((p) => p.recall >= r).map((p) => p.precision));
  let ap11 = 0;
  for (let t = 0; t <= 10; t++) ap11 += bestAt(t / 10) / 11;
  const found = Math.round(Math.max(0, ...points.map((p) => p.recall)) * npos);
  let apArea = 0;
  for (let j = 1; j <= found; j++) apArea += bestAt(j / npos) / npos;
  return { ap11, apArea };
}

/**
 * Brute force, from COCO's definition: per image, best 100 detections; per threshold, each detection (best first)
 * takes the free regular object of highest IoU >= t, else an ignored one (a crowd can be taken again), else it is a
 * false alarm; detections on ignored objects are dropped. Precision at recall r = best precision of any cut-off
 * reaching r; AP = mean over thresholds and the 101 recall points.
 */
function cocoReference(images: EvalImage[], dets: EvalDetection[][], label: number): { ap: number; ap50: number; ap75: number } | null {
  const npos = images.reduce((n, im) => n + im.objects.filter((o) => o.label === label && !o.difficult).length, 0);
  if (npos === 0) return null;
  const thresholds = NUMPY_IOU_THRESHOLDS;
  const perThreshold = thresholds.map((t) => {
    const outcomes: { score: number; hit: boolean }[] = [];
    images.forEach((im, i) => {
      const mine = dets[i]
        .filter((d) => d.label === label)
        .sort((a, b) => b.score - a.score)
        .slice(0, 100);
      const gts = im.objects.filter((o) => o.label === label);
      const taken = new Set<EvalObject>();
      for (const d of mine) {
        const overlap = (g: EvalObject) => {
          if (!g.crowd) return iouRef(d.box, g.box);
          const w = Math.max(0, Math.min(d.box[2], g.box[2]) - Math.max(d.box[0], g.box[0]));
          const h = Math.max(0, Math.min(d.box[3], g.box[3]) - Math.max(d.box[1], g.box[1]));
          return (w * h) / ((d.box[2] - d.box[0]) * (d.box[3] - d.box[1]));
        };
        const pickFrom = (pool: EvalObject[]) => {
          let best: EvalObject | null = null;
          let v = Math.min(t, 1 - 1e-10);
          for (const g of pool) if (overlap(g) >= v && (g.crowd || !taken.has(g))) [best, v] = [g, overlap(g)];
          return best;
        };
        const regular = pickFrom(gts.filter((g) => !g.difficult));
        if (regular) {
          taken.add(regular);
          outcomes.push({ score: d.score, hit: true });
          continue;
        }
        const ignored = pickFrom(gts.filter((g) => g.difficult));
        if (ignored) taken.add(ignored);
        else outcomes.push({ score: d.score, hit: false });
      }
    });
    outcomes.sort((a, b) => b.score - a.score);
    const curve = outcomes.map((_, k) => {
      const tp = outcomes.slice(0, k + 1).filter((o) => o.hit).length;
      return { recall: tp / npos, precision: tp / (k + 1) };
    });
    // Recall points as numpy's linspace(0, 1, 101) makes them: i x 0.01.
    const at = Array.from({ length: 101 }, (_, i) => Math.max(0, ...curve.filter((c) => c.recall >= (i === 100 ? 1 : i * 0.01)).map((c) => c.precision)));
    return at.reduce((a, b) => a + b, 0) / 101;
  });
  return { ap: perThreshold.reduce((a, b) => a + b, 0) / 10, ap50: perThreshold[0], ap75: perThreshold[5] };
}

/** Random images and detections: jittered copies of objects (hits at various IoUs), duplicates, and noise. */
function randomCase(seed: number): { images: EvalImage[]; dets: EvalDetection[][]; classes: number } {
  const r = rng(seed);
  const classes = 4;
  const box = (): number[] => {
    const x = r.next() * 0.8;
    const y = r.next() * 0.8;
    return [x, y, x + 0.05 + r.next() * 0.3, y + 0.05 + r.next() * 0.3];
  };
  const jitter = (b: readonly number[], s: number) => {
    const out = b.map((v) => v + (r.next() - 0.5) * s);
    return [Math.min(out[0], out[2] - 0.01), Math.min(out[1], out[3] - 0.01), Math.max(out[2], out[0] + 0.01), Math.max(out[3], out[1] + 0.01)];
  };
  const images: EvalImage[] = [];
  const dets: EvalDetection[][] = [];
  const n = r.int(1, 25);
  for (let i = 0; i < n; i++) {
    const objects: EvalObject[] = Array.from({ length: r.int(0, 6) }, () => {
      const o: EvalObject = { box: box(), label: r.int(1, classes - 1), difficult: r.next() < 0.15 };
      if (o.difficult && r.next() < 0.3) o.crowd = true;
      return o;
    });
    const list: EvalDetection[] = [];
    for (const o of objects) {
      const copies = r.next() < 0.8 ? r.int(1, 3) : 0;
      for (let c = 0; c < copies; c++)
        list.push({ box: jitter(o.box, r.next() * 0.15), label: r.next() < 0.9 ? o.label : r.int(1, classes - 1), score: r.next() });
    }
    for (let k = r.int(0, 4); k > 0; k--) list.push({ box: box(), label: r.int(1, classes - 1), score: r.next() });
    images.push({ objects });
    dets.push(list);
  }
  return { images, dets, classes };
}

test('VOC AP agrees with a brute-force reference on random detections (11-point and area, IoU 0.5 and 0.7)', () => {
  let compared = 0;
  for (let seed = 0; seed < 60; seed++) {
    const { images, dets, classes } = randomCase(seed);
    for (const thr of [0.5, 0.7]) {
      const ours = evaluateVoc(images, dets, classes, { iouThreshold: thr });
      for (let label = 1; label < classes; label++) {
        const ref = vocReference(images, dets, label, thr);
        const c = ours.classes[label - 1];
        if (!ref) {
          assert.equal(c.ap11, null);
          continue;
        }
        close(c.ap11, ref.ap11, 1e-9, `seed ${seed} class ${label} thr ${thr} 11-point`);
        close(c.apArea, ref.apArea, 1e-9, `seed ${seed} class ${label} thr ${thr} area`);
        compared++;
      }
    }
  }
  assert.ok(compared > 200, `${compared}`);
});

test('COCO AP, AP50, AP75 agree with a brute-force reference on random detections, crowds included', () => {
  let compared = 0;
  for (let seed = 100; seed < 150; seed++) {
    const { images, dets, classes } = randomCase(seed);
    const ours = evaluateCoco(images, dets, classes);
    const refs: { ap: number; ap50: number; ap75: number }[] = [];
    for (let label = 1; label < classes; label++) {
      const ref = cocoReference(images, dets, label);
      const c = ours.classes[label - 1];
      if (!ref) {
        assert.equal(c.ap, null);
        continue;
      }
      close(c.ap, ref.ap, 1e-9, `seed ${seed} class ${label} AP`);
      close(c.ap50, ref.ap50, 1e-9, `seed ${seed} class ${label} AP50`);
      close(c.ap75, ref.ap75, 1e-9, `seed ${seed} class ${label} AP75`);
      refs.push(ref);
      compared++;
    }
    if (refs.length) close(ours.ap, refs.reduce((n, x) => n + x.ap, 0) / refs.length, 1e-9, `seed ${seed} mean`);
  }
  assert.ok(compared > 100, `${compared}`);
});

test('precision-recall curves: one JSON for plotting, thinned, written atomically', async () => {
  const { images, dets, classes } = randomCase(12);
  assert.ok(images.reduce((n, im) => n + im.objects.length, 0) > 20);
  const voc = evaluateVoc(images, dets, classes);
  const coco = evaluateCoco(images, dets, classes);
  const json = prCurvesJson({ voc, coco });
  assert.equal(json.version, 1);
  assert.equal(json.voc!.classes.length, classes - 1);
  assert.equal(json.coco!.recallThresholds.length, 101);
  const withAp = json.coco!.classes.find((c) => c.ap !== null)!;
  assert.equal(withAp.at50!.length, 101);
  assert.equal(withAp.mean!.length, 101);
  const long = {
    recall: Array.from({ length: 5000 }, (_, i) => i / 4999),
    precision: Array.from({ length: 5000 }, () => 1),
    score: Array.from({ length: 5000 }, (_, i) => 1 - i / 5000),
  };
  const thin = thinCurve(long, 100);
  assert.equal(thin.recall.length, 100);
  assert.equal(thin.recall[0], 0);
  assert.equal(thin.recall[99], 1);
  const dir = tempDir('curves');
  try {
    const file = join(dir.path, 'pr.json');
    await writePrCurves(file, { voc, coco });
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), JSON.parse(JSON.stringify(json)));
  } finally {
    dir.remove();
  }
});
