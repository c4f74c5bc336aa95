// How well a spec's default boxes cover a dataset's ground truth (issue 13, item 2). Pure: the engine reads the
// dataset and hands the boxes over as typed arrays.
//
// The training rule is Caffe SSD's MatchBBox (engine/boxes/match.ts): a bipartite pass (every object takes its best
// free prior, pairs by IoU, highest first) and then every free prior takes the object it overlaps most, if the IoU
// reaches the threshold. "Recall" here is the share of objects whose best prior reaches the threshold: those
// objects get a positive prior they earn, the others only the bipartite leftover.
//
// Speed: an image is never measured against all priors. A scale's boxes of one shape (one aspect ratio) all have the
// same size, so for an object the best IoU any of them can reach is known from the sizes alone (both centred); shapes
// are visited best bound first and only over the grid cells whose boxes can overlap the object, and a shape is left
// out when its bound is below the threshold and below every IoU the object still needs (its G best pairs, G the
// image's object count: the bipartite pass gives an object one of its G best priors at worst, since the other G - 1
// objects take one prior each). The result is the all-pairs computation's exactly (test/engine/priors.test.ts).
import type { Analysis } from './analysis/analyze';
import { defaultBoxes } from './analysis/analyze';
import { priorShapes, type BoxShape } from './priors';

/** The IoU an object needs with a prior to be matched by the per-prior pass (engine/boxes/targets.ts trains with it). */
export const SSD_MATCH_THRESHOLD = 0.5;

/** Caffe keeps only overlaps above this (engine/boxes/match.ts): below, a pair does not exist. */
const MIN_OVERLAP = 1e-6;

/**
 * COCO's small / medium / large limits (areas 32² and 96² px) are for its images, about 640x480. Objects here are
 * measured after the warp to the network input, so the limits are scaled by the side ratio sqrt(W·H / (640·480)): a
 * COCO "small" object warped to the input is small here too. SSD300: 17.3 px and 52.0 px sides.
 */
export const COCO_SIZE_LIMITS = { small: 32, medium: 96, referenceArea: 640 * 480 } as const;

export type SizeBucket = 'small' | 'medium' | 'large';
export const SIZE_BUCKETS: readonly SizeBucket[] = ['small', 'medium', 'large'];

export interface PriorScaleLayout {
  name: string;
  /** Feature map rows and columns. */
  rows: number;
  columns: number;
  /** Boxes per location and their shapes (input px), in Caffe's order. */
  shapes: BoxShape[];
  /** Index of the scale's first prior in `boxes`. */
  first: number;
  /** Centre spacing and offset, as a share of the input (x, y). */
  stepX: number;
  stepY: number;
  offset: number;
  /** The spec's step (px), `null`: input size / feature size. */
  step: number | null;
  minSize: number;
  maxSize: number | null;
  aspectRatios: number[];
}

export interface PriorLayout {
  inputWidth: number;
  inputHeight: number;
  /** All priors as corners, normalised, in Caffe's order (defaultBoxes). */
  boxes: Float32Array;
  scales: PriorScaleLayout[];
  flip: boolean;
  clip: boolean;
  offset: number;
}

/** The priors of an analysed spec, with the grid structure that lets an object find its candidates. */
export function priorLayout(analysis: Analysis): PriorLayout {
  const { spec } = analysis;
  const W = spec.input.width;
  const H = spec.input.height;
  let first = 0;
  const scales = analysis.scales.map((s, i) => {
    const rows = s.shape[1];
    const columns = s.shape[2];
    const step = spec.priors.steps[i];
    const shapes = priorShapes(s.minSize, s.maxSize, spec.priors.aspectRatios[i], spec.priors.flip);
    const layout: PriorScaleLayout = {
      name: s.name,
      rows,
      columns,
      shapes,
      first,
      stepX: (step ?? W / columns) / W,
      stepY: (step ?? H / rows) / H,
      offset: spec.priors.offset,
      step,
      minSize: s.minSize,
      maxSize: s.maxSize,
      aspectRatios: spec.priors.aspectRatios[i],
    };
    first += rows * columns * shapes.length;
    return layout;
  });
  return { inputWidth: W, inputHeight: H, boxes: defaultBoxes(analysis), scales, flip: spec.priors.flip, clip: spec.priors.clip, offset: spec.priors.offset };
}

/** Ground truth of a dataset: objects image after image. */
export interface GroundTruth {
  /** Corners [xmin, ymin, xmax, ymax] normalised to the image (the warp to the input keeps them), 4 numbers an object. */
  boxes: Float32Array;
  /** 1-based class label per object. */
  labels: Int32Array;
  /** Objects of image i: imageStart[i] .. imageStart[i + 1] - 1 (images + 1 entries). */
  imageStart: Int32Array;
  /** Class names by label (index 0: background). */
  classNames: readonly string[];
}

export interface CoverageCount {
  objects: number;
  /** Objects whose best prior's IoU reaches the threshold. */
  matched: number;
}

export interface PriorCoverage {
  threshold: number;
  images: number;
  objects: number;
  matched: number;
  /** Mean over objects of the best IoU any prior reaches. */
  meanBestIou: number;
  /** Size limits (sides, input px) and the counts per bucket. */
  sizeLimits: { small: number; medium: number };
  buckets: Record<SizeBucket, CoverageCount>;
  /** Per label (index 0, the background, stays empty). */
  classes: CoverageCount[];
  scales: {
    name: string;
    /** Priors per image. */
    priors: number;
    /** Priors matched over the whole dataset by the training rule (bipartite, then per prior). */
    positives: number;
    /** Objects whose best prior is on this scale. */
    bestFor: number;
  }[];
  /** Positives over the whole dataset (the sum of the scales'). */
  positives: number;
  /** Per object: the best IoU (float32, as the matcher sees it) and the prior that reaches it (-1: none overlaps). */
  bestIou: Float32Array;
  bestPrior: Int32Array;
  /** Objects whose best IoU is below the threshold, in dataset order. */
  unmatched: Int32Array;
}

/** The limits of the size buckets for an input, as sides in input pixels (see COCO_SIZE_LIMITS). */
export function sizeLimits(inputWidth: number, inputHeight: number): { small: number; medium: number } {
  const k = Math.sqrt((inputWidth * inputHeight) / COCO_SIZE_LIMITS.referenceArea);
  return { small: COCO_SIZE_LIMITS.small * k, medium: COCO_SIZE_LIMITS.medium * k };
}

/** The bucket of a box given in normalised corners, its area measured in input pixels. */
export function sizeBucket(area: number, limits: { small: number; medium: number }): SizeBucket {
  return area < limits.small * limits.small ? 'small' : area < limits.medium * limits.medium ? 'medium' : 'large';
}

interface ShapeIndex {
  scale: number;
  shape: number;
  /** Range of the actual (clipped, float32) widths and heights of this shape's priors, normalised. */
  wLo: number;
  wHi: number;
  hLo: number;
  hHi: number;
}

function shapeIndex(layout: PriorLayout): ShapeIndex[] {
  const out: ShapeIndex[] = [];
  const b = layout.boxes;
  layout.scales.forEach((s, si) => {
    const n = s.shapes.length;
    s.shapes.forEach((_, k) => {
      let wLo = Infinity;
      let wHi = 0;
      let hLo = Infinity;
      let hHi = 0;
      for (let loc = 0; loc < s.rows * s.columns; loc++) {
        const p = s.first + loc * n + k;
        const w = b[4 * p + 2] - b[4 * p];
        const h = b[4 * p + 3] - b[4 * p + 1];
        if (w < wLo) wLo = w;
        if (w > wHi) wHi = w;
        if (h < hLo) hLo = h;
        if (h > hHi) hHi = h;
      }
      out.push({ scale: si, shape: k, wLo, wHi, hLo, hHi });
    });
  });
  return out;
}

/** The highest IoU of a w x h object with any box of widths [wLo, wHi] and heights [hLo, hHi]: both centred, the prior as near the object's size as it can be. */
function shapeBound(gw: number, gh: number, s: ShapeIndex): number {
  const pw = gw < s.wLo ? s.wLo : gw > s.wHi ? s.wHi : gw;
  const ph = gh < s.hLo ? s.hLo : gh > s.hHi ? s.hHi : gh;
  const inter = Math.min(pw, gw) * Math.min(ph, gh);
  return inter / (pw * ph + gw * gh - inter);
}

export interface MeasureOptions {
  threshold?: number;
}

/** Measure the priors against every object; see the file's head for the rule and the method. */
export function measureCoverage(layout: PriorLayout, gt: GroundTruth, options: MeasureOptions = {}): PriorCoverage {
  const threshold = options.threshold ?? SSD_MATCH_THRESHOLD;
  const priors = layout.boxes;
  const P = priors.length / 4;
  const N = gt.labels.length;
  const images = gt.imageStart.length - 1;
  const shapes = shapeIndex(layout);
  const S = shapes.length;
  const scaleOf = new Uint8Array(P);
  layout.scales.forEach((s, si) => scaleOf.fill(si, s.first, s.first + s.rows * s.columns * s.shapes.length));

  const bestIou = new Float32Array(N);
  const bestPrior = new Int32Array(N).fill(-1);
  const positivesPerScale = new Float64Array(layout.scales.length);

  // Per image scratch: candidate pairs, the matcher's per-prior state (reset through `touched`).
  let cap = 1024;
  let pPrior = new Int32Array(cap);
  let pGt = new Int32Array(cap);
  let pIou = new Float32Array(cap);
  const match = new Int32Array(P).fill(-1);
  const bestForPrior = new Float32Array(P);
  const bestGtForPrior = new Int32Array(P).fill(-1);
  const touched = new Int32Array(P);
  const order = new Int32Array(S);
  const bounds = new Float64Array(S);
  let topIou = new Float64Array(16);
  let topPrior = new Int32Array(16);
  const slack = (v: number) => v * (1 + 1e-5) + 1e-9; // bounds in float64 against IoUs rounded to float32

  const push = (p: number, g: number, v: number) => {
    if (count === cap) {
      cap *= 2;
      const a = new Int32Array(cap);
      a.set(pPrior);
      pPrior = a;
      const c = new Int32Array(cap);
      c.set(pGt);
      pGt = c;
      const f = new Float32Array(cap);
      f.set(pIou);
      pIou = f;
    }
    pPrior[count] = p;
    pGt[count] = g;
    pIou[count] = v;
    count++;
  };
  let count = 0;

  for (let img = 0; img < images; img++) {
    const g0 = gt.imageStart[img];
    const g1 = gt.imageStart[img + 1];
    const G = g1 - g0;
    if (G === 0) continue;
    count = 0;
    if (topIou.length < G) {
      topIou = new Float64Array(G);
      topPrior = new Int32Array(G);
    }
    for (let j = g0; j < g1; j++) {
      const gx0 = gt.boxes[4 * j];
      const gy0 = gt.boxes[4 * j + 1];
      const gx1 = gt.boxes[4 * j + 2];
      const gy1 = gt.boxes[4 * j + 3];
      if (!(gx1 > gx0 && gy1 > gy0)) continue; // no area: matches nothing (the matcher skips it too)
      const gw = gx1 - gx0;
      const gh = gy1 - gy0;
      const ga = gw * gh;
      // Shapes by bound, highest first (insertion sort: a few dozen shapes).
      for (let k = 0; k < S; k++) {
        const v = shapeBound(gw, gh, shapes[k]);
        let t = k;
        while (t > 0 && bounds[order[t - 1]] < v) {
          order[t] = order[t - 1];
          t--;
        }
        order[t] = k;
        bounds[k] = v;
      }
      let top = 0; // the object's best pairs so far, by IoU descending, then prior ascending
      for (let t = 0; t < S; t++) {
        const sk = shapes[order[t]];
        const bound = slack(bounds[order[t]]);
        if (bound < threshold && top === G && bound < topIou[G - 1]) break;
        if (bound <= MIN_OVERLAP) break;
        const sc = layout.scales[sk.scale];
        const n = sc.shapes.length;
        const halfW = sk.wHi / 2;
        const halfH = sk.hHi / 2;
        // Cells whose boxes can overlap the object (one cell of margin for rounding; the IoU decides).
        const x0 = Math.max(0, Math.ceil((gx0 - halfW) / sc.stepX - sc.offset) - 1);
        const x1 = Math.min(sc.columns - 1, Math.floor((gx1 + halfW) / sc.stepX - sc.offset) + 1);
        const y0 = Math.max(0, Math.ceil((gy0 - halfH) / sc.stepY - sc.offset) - 1);
        const y1 = Math.min(sc.rows - 1, Math.floor((gy1 + halfH) / sc.stepY - sc.offset) + 1);
        for (let y = y0; y <= y1; y++) {
          for (let x = x0; x <= x1; x++) {
            const p = sc.first + (y * sc.columns + x) * n + sk.shape;
            const ax0 = priors[4 * p];
            const ay0 = priors[4 * p + 1];
            const ax1 = priors[4 * p + 2];
            const ay1 = priors[4 * p + 3];
            // The matcher's arithmetic (engine/boxes/match.ts), so the float32 IoUs are equal.
            const iw = Math.min(ax1, gx1) - Math.max(ax0, gx0);
            if (iw <= 0) continue;
            const ih = Math.min(ay1, gy1) - Math.max(ay0, gy0);
            if (ih <= 0) continue;
            const inter = iw * ih;
            const v = Math.fround(inter / ((ax1 - ax0) * (ay1 - ay0) + ga - inter));
            if (!(v > MIN_OVERLAP)) continue;
            if (v >= threshold) push(p, j, v);
            // Into the object's top G (ties: the lower prior first, the matcher's order).
            if (top < G || v > topIou[top - 1] || (v === topIou[top - 1] && p < topPrior[top - 1])) {
              let i = top < G ? top++ : G - 1;
              while (i > 0 && (topIou[i - 1] < v || (topIou[i - 1] === v && topPrior[i - 1] > p))) {
                topIou[i] = topIou[i - 1];
                topPrior[i] = topPrior[i - 1];
                i--;
              }
              topIou[i] = v;
              topPrior[i] = p;
            }
          }
        }
      }
      if (top > 0) {
        bestIou[j] = topIou[0];
        bestPrior[j] = topPrior[0];
      }
      for (let i = 0; i < top; i++) if (topIou[i] < threshold) push(topPrior[i], j, topIou[i]);
    }
    if (count === 0) continue;

    // 1. Bipartite: pairs by IoU descending, then prior, then object (the matcher's order).
    const idx = new Int32Array(count);
    for (let k = 0; k < count; k++) idx[k] = k;
    idx.sort((a, b) => pIou[b] - pIou[a] || pPrior[a] - pPrior[b] || pGt[a] - pGt[b]);
    const gtTaken = new Uint8Array(G);
    let free = G;
    let nTouched = 0;
    for (let s = 0; s < count && free > 0; s++) {
      const k = idx[s];
      const p = pPrior[k];
      const g = pGt[k] - g0;
      if (match[p] !== -1 || gtTaken[g]) continue;
      match[p] = g;
      touched[nTouched++] = p;
      gtTaken[g] = 1;
      free--;
    }
    // 2. Per prior: the object it overlaps most, if at or above the threshold (ties: the lower object).
    for (let k = 0; k < count; k++) {
      const v = pIou[k];
      if (v < threshold) continue;
      const p = pPrior[k];
      const g = pGt[k] - g0;
      if (bestGtForPrior[p] === -1) touched[nTouched++] = p;
      if (bestGtForPrior[p] === -1 || v > bestForPrior[p] || (v === bestForPrior[p] && g < bestGtForPrior[p])) {
        bestForPrior[p] = v;
        bestGtForPrior[p] = g;
      }
    }
    for (let t = 0; t < nTouched; t++) {
      const p = touched[t];
      if (match[p] === -2) continue; // counted already (a prior touched by both passes)
      if (match[p] !== -1 || bestGtForPrior[p] !== -1) {
        positivesPerScale[scaleOf[p]]++;
        match[p] = -2;
      }
    }
    for (let t = 0; t < nTouched; t++) {
      const p = touched[t];
      match[p] = -1;
      bestGtForPrior[p] = -1;
      bestForPrior[p] = 0;
    }
  }

  return summarize(layout, gt, threshold, bestIou, bestPrior, scaleOf, positivesPerScale);
}

function summarize(
  layout: PriorLayout,
  gt: GroundTruth,
  threshold: number,
  bestIou: Float32Array,
  bestPrior: Int32Array,
  scaleOf: Uint8Array,
  positivesPerScale: Float64Array,
): PriorCoverage {
  const N = gt.labels.length;
  const limits = sizeLimits(layout.inputWidth, layout.inputHeight);
  const buckets: Record<SizeBucket, CoverageCount> = {
    small: { objects: 0, matched: 0 },
    medium: { objects: 0, matched: 0 },
    large: { objects: 0, matched: 0 },
  };
  const classes: CoverageCount[] = gt.classNames.map(() => ({ objects: 0, matched: 0 }));
  const bestFor = new Float64Array(layout.scales.length);
  const unmatched: number[] = [];
  let matched = 0;
  let sumIou = 0;
  const px = layout.inputWidth * layout.inputHeight;
  for (let j = 0; j < N; j++) {
    const b = gt.boxes;
    const area = (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]) * px;
    const hit = bestIou[j] >= threshold ? 1 : 0;
    const bucket = buckets[sizeBucket(area, limits)];
    bucket.objects++;
    bucket.matched += hit;
    const c = classes[gt.labels[j]];
    if (c) {
      c.objects++;
      c.matched += hit;
    }
    matched += hit;
    sumIou += bestIou[j];
    if (!hit) unmatched.push(j);
    if (bestPrior[j] >= 0) bestFor[scaleOf[bestPrior[j]]]++;
  }
  const scales = layout.scales.map((s, i) => ({
    name: s.name,
    priors: s.rows * s.columns * s.shapes.length,
    positives: positivesPerScale[i],
    bestFor: bestFor[i],
  }));
  return {
    threshold,
    images: gt.imageStart.length - 1,
    objects: N,
    matched,
    meanBestIou: N ? sumIou / N : 0,
    sizeLimits: limits,
    buckets,
    classes,
    scales,
    positives: scales.reduce((n, s) => n + s.positives, 0),
    bestIou,
    bestPrior,
    unmatched: Int32Array.from(unmatched),
  };
}
