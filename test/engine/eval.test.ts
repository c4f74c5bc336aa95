// VOC (2007 11-point, 2010+ area) and COCO metrics: cases worked out by hand, and agreement on random detections
// with brute-force reference implementations written here from the protocols' definitions, not from our code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ap11Point, apAllPoint, cocoPrecisionAt, COCO_IOU_THRESHOLDS, COCO_RECALL_THRESHOLDS } from '../../engine/eval/ap';
import { evaluateCoco, type CocoSummary } from '../../engine/eval/coco';
import { fixed3, formatCocoSummary } from '../../engine/eval/coco-summary';
import { prCurvesJson, thinCurve, writePrCurves } from '../../engine/eval/curves';
import type { EvalDetection, EvalImage, EvalObject } from '../../engine/eval/types';
import { scoreDetections } from '../../engine/eval/score';
import { evaluateVoc } from '../../engine/eval/voc';
import { rng } from '../helpers';
import { tempDir } from './data-fixtures';
import { cocoReference, NUMPY_IOU_THRESHOLDS, randomCase, vocReference } from './eval-references';

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

// ---------------------------------------------------------------- references (eval-references.ts)

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

// ---------------------------------------------------------------- COCO's 12 numbers, VOC's IoU rule, difficult under COCO

test("COCO summary by hand: small, medium and large objects, the 12 numbers in pycocotools' printout", () => {
  // One 200x200 image, one class. S (20x20 = 400 px², small) is missed; M (50x50 = 2,500, medium) is found with IoU 0.62
  // (a hit at 0.50, 0.55, 0.60 only); L (100x100 = 10,000, large) exactly; one false alarm of 10x10 (small).
  const px = (b: number[]) => b.map((v) => v / 200);
  const images: EvalImage[] = [
    {
      width: 200,
      height: 200,
      objects: [
        { box: px([10, 10, 30, 30]), label: 1 },
        { box: px([50, 50, 100, 100]), label: 1 },
        { box: px([100, 100, 200, 200]), label: 1 },
      ],
    },
  ];
  const dets: EvalDetection[][] = [
    [
      { box: px([100, 100, 200, 200]), label: 1, score: 0.9 },
      { box: px([50, 50, 100, 81]), label: 1, score: 0.8 }, // 50x31 inside M: IoU 1550 / 2500 = 0.62
      { box: px([150, 10, 160, 20]), label: 1, score: 0.7 },
    ],
  ];
  const s = evaluateCoco(images, dets, ['background', 'shape']).summary;
  // All areas: at 0.50-0.60 (3 thresholds) hit, hit, miss -> precision 1 up to recall 2/3 (67 of the 101 recall points);
  // above (7 thresholds) hit, miss, miss -> 1 up to recall 1/3 (34 points).
  close(s.ap, (3 * 67 + 7 * 34) / 1010);
  close(s.ap50, 67 / 101);
  close(s.ap75, 34 / 101);
  // Small: only S counts and nothing finds it; the 10x10 false alarm is small, so it counts against.
  close(s.apSmall, 0);
  // Medium: M found at 3 of 10 thresholds; L's detection sits on an ignored (large) object, the small false alarm is
  // outside the range: both left out.
  close(s.apMedium, 0.3);
  close(s.apLarge, 1);
  // Recall: the best detection alone finds L (1/3 at every threshold); all of them add M at 3 thresholds.
  close(s.ar1, 1 / 3);
  close(s.ar10, (3 * (2 / 3) + 7 * (1 / 3)) / 10);
  close(s.ar100, (3 * (2 / 3) + 7 * (1 / 3)) / 10);
  close(s.arSmall, 0);
  close(s.arMedium, 0.3);
  close(s.arLarge, 1);
  assert.equal(
    formatCocoSummary(s),
    [
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.435',
      ' Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.663',
      ' Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.337',
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.000',
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.300',
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 1.000',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.333',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.433',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.433',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.000',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.300',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 1.000',
    ].join('\n'),
  );
  // No large object anywhere: pycocotools reports -1 for that range, not 0.
  const noLarge = evaluateCoco([{ ...images[0], objects: images[0].objects.slice(0, 2) }], dets, ['background', 'shape']).summary;
  assert.equal(noLarge.apLarge, -1);
  assert.equal(noLarge.arLarge, -1);
  assert.match(formatCocoSummary(noLarge), /area= large \| maxDets=100 \] = -1\.000$/);
  // Python's '{:0.3f}' rounds exact ties to even: 0.0625 -> 0.062, 0.1875 -> 0.188; others as toFixed.
  assert.deepEqual([fixed3(0.0625), fixed3(0.1875), fixed3(0.4346), fixed3(-1)], ['0.062', '0.188', '0.435', '-1.000']);
});

test("COCO areas: the annotation's area decides the range (not its box), and both bounds are included", () => {
  const at = (area: number | undefined, box = [0, 0, 1, 1]) => {
    const images: EvalImage[] = [{ width: 64, height: 64, objects: [{ box, label: 1, ...(area !== undefined ? { area } : {}) }] }];
    return evaluateCoco(images, [[{ box, label: 1, score: 1 }]], 2).summary;
  };
  // A 64x64 box (4,096 px², medium) whose segment covers 500 px² is small.
  assert.deepEqual([at(500).apSmall, at(500).apMedium], [1, -1]);
  assert.deepEqual([at(undefined).apSmall, at(undefined).apMedium], [-1, 1]);
  // Exactly 32² is small and medium, exactly 96² medium and large (pycocotools: `area < lo or area > hi` is outside).
  assert.deepEqual([at(32 ** 2).apSmall, at(32 ** 2).apMedium, at(32 ** 2).apLarge], [1, 1, -1]);
  assert.deepEqual([at(96 ** 2).apSmall, at(96 ** 2).apMedium, at(96 ** 2).apLarge], [-1, 1, 1]);
});

test('the COCO summary agrees with the brute-force reference per area range and maxDets on random sized images', () => {
  const ranges = { all: [0, 1e10], small: [0, 1024], medium: [1024, 9216], large: [9216, 1e10] } as const;
  const rows: [keyof CocoSummary, keyof typeof ranges, number, 'ap' | 'ap50' | 'ap75' | 'ar'][] = [
    ['ap', 'all', 100, 'ap'],
    ['ap50', 'all', 100, 'ap50'],
    ['ap75', 'all', 100, 'ap75'],
    ['apSmall', 'small', 100, 'ap'],
    ['apMedium', 'medium', 100, 'ap'],
    ['apLarge', 'large', 100, 'ap'],
    ['ar1', 'all', 1, 'ar'],
    ['ar10', 'all', 10, 'ar'],
    ['ar100', 'all', 100, 'ar'],
    ['arSmall', 'small', 100, 'ar'],
    ['arMedium', 'medium', 100, 'ar'],
    ['arLarge', 'large', 100, 'ar'],
  ];
  const seen = { small: 0, medium: 0, large: 0 };
  for (let seed = 200; seed < 240; seed++) {
    const { images, dets, classes } = randomCase(seed, { sized: true });
    const s = evaluateCoco(images, dets, classes).summary;
    for (const [key, range, maxDets, field] of rows) {
      const refs = Array.from({ length: classes - 1 }, (_, k) => cocoReference(images, dets, k + 1, { range: ranges[range], maxDets })).filter(
        (x) => x !== null,
      );
      const want = refs.length ? refs.reduce((n, x) => n + x[field], 0) / refs.length : -1;
      close(s[key], want, 1e-9, `seed ${seed} ${key}`);
      if (range !== 'all' && refs.length) seen[range]++;
    }
  }
  assert.ok(seen.small > 20 && seen.medium > 20 && seen.large > 20, JSON.stringify(seen));
});

test("VOC: an IoU of exactly 0.5 is a hit (the devkit's >=; py-faster-rcnn's voc_eval.py uses > and would miss it)", () => {
  const gt: EvalImage[] = [{ objects: [{ box: [0, 0, 2, 1], label: 1 }] }];
  const half = evaluateVoc(gt, [[{ box: [0, 0, 1, 1], label: 1, score: 1 }]], 2); // 1 / 2: exactly 0.5 in binary
  assert.equal(half.classes[0].truePositives, 1);
  close(half.map11, 1);
  const below = evaluateVoc(gt, [[{ box: [0, 0, 0.999, 1], label: 1, score: 1 }]], 2);
  assert.equal(below.classes[0].truePositives, 0);
});

test('--metric coco on VOC data: a difficult object is an iscrowd region (never a miss, absorbs the detections on it)', () => {
  // A regular object R and a difficult one D. Two small detections inside D (IoU with D 0.04, but all of each
  // detection's area is inside it) and one exact detection on R.
  const R = [0.6, 0.6, 0.8, 0.8];
  const D = [0, 0, 0.5, 0.5];
  const images: EvalImage[] = [
    {
      objects: [
        { box: R, label: 1 },
        { box: D, label: 1, difficult: true },
      ],
    },
  ];
  const onD: EvalDetection[] = [
    { box: [0.1, 0.1, 0.2, 0.2], label: 1, score: 0.9 },
    { box: [0.3, 0.3, 0.4, 0.4], label: 1, score: 0.8 },
  ];
  const dets: EvalDetection[][] = [[...onD, { box: R, label: 1, score: 0.7 }]];
  const scored = scoreDetections(images, dets, ['background', 'shape'], 'coco');
  close(scored.value, 1); // as if the detections on D were not there
  close(scoreDetections(images, [[dets[0][2]]], ['background', 'shape'], 'coco').value, 1);
  assert.equal(scored.coco!.classes[0].positives, 1);
  // The same as a COCO set with D written as iscrowd = 1 (what VOC -> COCO conversions write).
  const asCrowd = evaluateCoco([{ objects: [images[0].objects[0], { box: D, label: 1, difficult: true, crowd: true }] }], dets, 2);
  close(scored.value, asCrowd.ap);
  // The VOC metrics are unchanged: a detection whose best overlap is D (IoU >= 0.5) is ignored; these are false alarms.
  assert.equal(scored.voc.classes[0].truePositives, 1);
});
