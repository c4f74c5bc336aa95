// COCO's bounding-box metric as pycocotools' COCOeval computes it (evaluate, accumulate, summarize).
// evaluate: per image, class and area range, the best 100 detections (by score, stable) are matched at each IoU
// threshold 0.50:0.05:0.95, best first, each to the free object of highest IoU >= threshold, a regular object before
// an ignored one. Ignored objects: crowd regions (iscrowd; VOC difficult, see score.ts) and, for an area range,
// objects whose area is outside it. A detection matched to an ignored object is left out, and so is an unmatched one
// whose own area is outside the range. accumulate: per class, area range and maxDets (1, 10, 100: the first N of each
// image), precision at 101 recall points and the final recall. summarize: the 12 numbers, means over the classes
// with at least one regular object in the range, -1 where there is none (pycocotools prints -1.000 then).
import { cocoPrecisionAt, COCO_IOU_THRESHOLDS, COCO_RECALL_THRESHOLDS } from './ap';
import { boxIou, classNamesOf, crowdIou, type ClassSpec, type EvalDetection, type EvalImage, type EvalObject } from './types';

/**
 * pycocotools' areaRng in pixels², both bounds included (`area < lo or area > hi` is outside): an object of exactly
 * 32² counts as small and as medium, as it does there.
 */
export const COCO_AREA_RANGES = { all: [0, 1e5 ** 2], small: [0, 32 ** 2], medium: [32 ** 2, 96 ** 2], large: [96 ** 2, 1e5 ** 2] } as const;
export type CocoArea = keyof typeof COCO_AREA_RANGES;
const AREAS = Object.keys(COCO_AREA_RANGES) as CocoArea[];

/** The official summary (COCOeval.summarize, bbox): -1 where no class has a regular object in that range. */
export interface CocoSummary {
  ap: number;
  ap50: number;
  ap75: number;
  apSmall: number;
  apMedium: number;
  apLarge: number;
  ar1: number;
  ar10: number;
  ar100: number;
  arSmall: number;
  arMedium: number;
  arLarge: number;
}

export interface CocoClassResult {
  label: number;
  name: string;
  positives: number;
  /** null when the class has no regular (non-ignored) object. */
  ap: number | null;
  ap50: number | null;
  ap75: number | null;
  /** Recall averaged over the IoU thresholds, 100 detections an image, all areas. */
  ar: number | null;
  /** Interpolated precision at the 101 recall thresholds, per IoU threshold (-1 rows when ap is null). */
  precision: number[][];
}

export interface CocoResult {
  ap: number;
  ap50: number;
  ap75: number;
  summary: CocoSummary;
  iouThresholds: number[];
  recallThresholds: number[];
  maxDets: number;
  classes: CocoClassResult[];
}

/** One image, class and area range (pycocotools' evaluateImg), detections best first. */
interface ImageEval {
  scores: number[];
  /** [threshold][detection]: matched an object (regular or ignored). */
  matched: Uint8Array[];
  /** [threshold][detection]: left out of the counts. */
  ignored: Uint8Array[];
  /** Objects that count (not ignored) in this range. */
  regular: number;
}

/** Precision at the recall thresholds and the final recall, per IoU threshold; null without regular objects. */
interface Accumulated {
  precision: number[][];
  recall: number[];
}

export function evaluateCoco(
  images: readonly EvalImage[],
  detections: readonly (readonly EvalDetection[])[],
  classes: ClassSpec,
  o: { maxDets?: number; iouThresholds?: readonly number[] } = {},
): CocoResult {
  if (images.length !== detections.length) throw new Error(`evaluateCoco: ${images.length} images but ${detections.length} detection lists`);
  const maxDets = o.maxDets ?? 100;
  const maxDetsList = [Math.min(1, maxDets), Math.min(10, maxDets), maxDets];
  const thrs = [...(o.iouThresholds ?? COCO_IOU_THRESHOLDS)];
  const names = classNamesOf(classes);
  const results: CocoClassResult[] = [];
  // acc[area][maxDets index][class index]
  const acc = AREAS.map(() => maxDetsList.map(() => [] as (Accumulated | null)[]));
  for (let label = 1; label < names.length; label++) {
    const perImage = images.map((im, i) => {
      const scale = (im.width ?? 1) * (im.height ?? 1);
      const gts = im.objects.filter((g) => g.label === label);
      const dts = detections[i]
        .filter((d) => d.label === label)
        .sort((a, b) => b.score - a.score)
        .slice(0, maxDets);
      const ious = dts.map((d) => gts.map((g) => (g.crowd ? crowdIou(d.box, g.box) : boxIou(d.box, g.box))));
      return { gts, dts, ious, gtArea: gts.map((g) => g.area ?? boxArea(g.box) * scale), dtArea: dts.map((d) => boxArea(d.box) * scale) };
    });
    AREAS.forEach((area, a) => {
      const evals = perImage.map((p) => evaluateImage(p.gts, p.ious, p.gtArea, p.dtArea, p.dts, COCO_AREA_RANGES[area], thrs));
      maxDetsList.forEach((m, k) => acc[a][k].push(accumulate(evals, m, thrs.length)));
    });
    const all = acc[0][2][label - 1];
    const positives = perImage.reduce((n, p) => n + p.gts.filter((g) => !g.difficult).length, 0);
    if (!all) {
      const none = thrs.map(() => COCO_RECALL_THRESHOLDS.map(() => -1));
      results.push({ label, name: names[label], positives, ap: null, ap50: null, ap75: null, ar: null, precision: none });
      continue;
    }
    const i50 = thresholdIndex(thrs, 0.5);
    const i75 = thresholdIndex(thrs, 0.75);
    results.push({
      label,
      name: names[label],
      positives,
      ap: meanPrecision(all.precision),
      ap50: i50 >= 0 ? meanPrecision([all.precision[i50]]) : null,
      ap75: i75 >= 0 ? meanPrecision([all.precision[i75]]) : null,
      ar: mean(all.recall),
      precision: all.precision,
    });
  }
  const over = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? mean(v) : -1;
  };
  const apOf = (a: number, rows?: (p: number[][]) => number[][]) =>
    over(acc[a][2].map((c) => (c ? meanPrecision(rows ? rows(c.precision) : c.precision) : null)));
  const arOf = (a: number, k: number) => over(acc[a][k].map((c) => (c ? mean(c.recall) : null)));
  const at = (t: number) => (p: number[][]) => [p[thresholdIndex(thrs, t)]];
  const summary: CocoSummary = {
    ap: apOf(0),
    ap50: thresholdIndex(thrs, 0.5) >= 0 ? apOf(0, at(0.5)) : -1,
    ap75: thresholdIndex(thrs, 0.75) >= 0 ? apOf(0, at(0.75)) : -1,
    apSmall: apOf(1),
    apMedium: apOf(2),
    apLarge: apOf(3),
    ar1: arOf(0, 0),
    ar10: arOf(0, 1),
    ar100: arOf(0, 2),
    arSmall: arOf(1, 2),
    arMedium: arOf(2, 2),
    arLarge: arOf(3, 2),
  };
  const counted = results.filter((r) => r.ap !== null);
  const meanOr0 = (xs: number[]) => (xs.length ? mean(xs) : 0);
  return {
    ap: meanOr0(counted.map((r) => r.ap!)),
    ap50: meanOr0(counted.map((r) => r.ap50 ?? 0)),
    ap75: meanOr0(counted.map((r) => r.ap75 ?? 0)),
    summary,
    iouThresholds: thrs,
    recallThresholds: [...COCO_RECALL_THRESHOLDS],
    maxDets,
    classes: results,
  };
}

function evaluateImage(
  gtsIn: readonly EvalObject[],
  iousIn: number[][],
  gtAreaIn: number[],
  dtArea: number[],
  dts: readonly EvalDetection[],
  [lo, hi]: readonly [number, number],
  thrs: readonly number[],
): ImageEval {
  const outside = (area: number) => area < lo || area > hi;
  // Regular objects first, ignored ones after (pycocotools sorts gt by its ignore flag, stably).
  const ignore = gtsIn.map((g, j) => g.difficult === true || outside(gtAreaIn[j]));
  const order = [...gtsIn.keys()].filter((j) => !ignore[j]).concat([...gtsIn.keys()].filter((j) => ignore[j]));
  const nRegular = ignore.filter((x) => !x).length;
  const crowd = order.map((j) => gtsIn[j].crowd === true);
  const matched = thrs.map(() => new Uint8Array(dts.length));
  const ignored = thrs.map(() => new Uint8Array(dts.length));
  thrs.forEach((t, ti) => {
    const taken = new Uint8Array(order.length);
    dts.forEach((_, di) => {
      let iou = Math.min(t, 1 - 1e-10);
      let m = -1;
      for (let gi = 0; gi < order.length; gi++) {
        if (taken[gi] && !crowd[gi]) continue;
        // Once matched to a regular object, stop at the first ignored one (they come last).
        if (m > -1 && m < nRegular && gi >= nRegular) break;
        const v = iousIn[di][order[gi]];
        if (v < iou) continue;
        iou = v;
        m = gi;
      }
      if (m === -1) {
        if (outside(dtArea[di])) ignored[ti][di] = 1;
        return;
      }
      taken[m] = 1;
      matched[ti][di] = 1;
      if (m >= nRegular) ignored[ti][di] = 1;
    });
  });
  return { scores: dts.map((d) => d.score), matched, ignored, regular: nRegular };
}

/** pycocotools' accumulate for one class, area range and maxDets: the first `maxDet` detections of each image. */
function accumulate(evals: readonly ImageEval[], maxDet: number, T: number): Accumulated | null {
  const positives = evals.reduce((n, e) => n + e.regular, 0);
  if (positives === 0) return null;
  const ranked: { score: number; e: ImageEval; d: number }[] = [];
  for (const e of evals) for (let d = 0; d < Math.min(maxDet, e.scores.length); d++) ranked.push({ score: e.scores[d], e, d });
  ranked.sort((a, b) => b.score - a.score); // stable: equal scores keep image order (numpy's mergesort there)
  const precision: number[][] = [];
  const recall: number[] = [];
  for (let t = 0; t < T; t++) {
    const rc: number[] = [];
    const pr: number[] = [];
    let tp = 0;
    let fp = 0;
    for (const { e, d } of ranked) {
      if (e.ignored[t][d]) continue;
      if (e.matched[t][d]) tp++;
      else fp++;
      rc.push(tp / positives);
      pr.push(tp / (tp + fp));
    }
    precision.push(cocoPrecisionAt(rc, pr));
    recall.push(tp / positives);
  }
  return { precision, recall };
}

function boxArea(b: readonly number[]): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

function thresholdIndex(thrs: readonly number[], t: number): number {
  return thrs.findIndex((x) => Math.abs(x - t) < 1e-9);
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function meanPrecision(rows: readonly number[][]): number {
  return rows.reduce((n, r) => n + r.reduce((a, b) => a + b, 0), 0) / (rows.length * COCO_RECALL_THRESHOLDS.length);
}
