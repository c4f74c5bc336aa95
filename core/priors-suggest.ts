// Default boxes fitted to a dataset (issue 13, item 2, `dsod priors --suggest`): per scale, min/max sizes and aspect
// ratios that raise the recall of the matching rule, the way auto-anchor tools fit YOLO's anchors (k-means of the
// box shapes, then a search on the measure itself), under the constraints that keep the network as it is: every
// scale keeps its number of boxes per location (the heads' widths depend on it), min sizes stay in scale order, a max
// size stays above its min size, ratios stay distinct and above 1 (flip adds the inverses).
// The proposal is kept only if it matches strictly more objects on the whole set than the spec does: it never lowers
// recall. Pure: the search measures with core/priors-coverage.ts.
import { priorBoxes, priorShapes } from './priors';
import { measureCoverage, type GroundTruth, type PriorCoverage, type PriorLayout } from './priors-coverage';

/** One scale's prior settings, as the spec writes them. */
export interface ScalePriors {
  minSize: number;
  maxSize: number | null;
  aspectRatios: number[];
}

export interface PriorSuggestion {
  before: ScalePriors[];
  /** The proposal; equal to `before` when none matched more objects. */
  after: ScalePriors[];
  improved: boolean;
  coverageBefore: PriorCoverage;
  coverageAfter: PriorCoverage;
  /** Measures the search ran (on `searchImages` images), for the report. */
  evaluations: number;
  searchImages: number;
}

export interface SuggestOptions {
  /** Images the search measures on (spread over the set); the result is checked on all. Default 1500. */
  searchImages?: number;
  /** Rounds of the coordinate search. Default 2. */
  rounds?: number;
}

/** The current settings of a layout, per scale. */
export function scalePriors(layout: PriorLayout): ScalePriors[] {
  return layout.scales.map((s) => ({ minSize: s.minSize, maxSize: s.maxSize, aspectRatios: [...s.aspectRatios] }));
}

/** The layout with other sizes and ratios (same grids, steps, offset, flip and clip). */
export function withPriors(layout: PriorLayout, settings: readonly ScalePriors[]): PriorLayout {
  let first = 0;
  const scales = layout.scales.map((s, i) => {
    const p = settings[i];
    const shapes = priorShapes(p.minSize, p.maxSize, p.aspectRatios, layout.flip);
    const out = { ...s, minSize: p.minSize, maxSize: p.maxSize, aspectRatios: [...p.aspectRatios], shapes, first };
    first += s.rows * s.columns * shapes.length;
    return out;
  });
  const boxes = priorBoxes(
    scales.map((s) => ({ height: s.rows, width: s.columns, minSize: s.minSize, maxSize: s.maxSize, aspectRatios: s.aspectRatios, step: s.step })),
    { imageHeight: layout.inputHeight, imageWidth: layout.inputWidth, flip: layout.flip, clip: layout.clip, offset: layout.offset },
  );
  return { ...layout, scales, boxes };
}

/** Settings that keep the network: same boxes per location, ordered sizes, distinct ratios above 1. */
export function keepsNetwork(before: readonly ScalePriors[], after: readonly ScalePriors[], flip: boolean): boolean {
  for (let i = 0; i < after.length; i++) {
    const a = after[i];
    const b = before[i];
    if (!(a.minSize > 0) || (a.maxSize === null) !== (b.maxSize === null) || (a.maxSize !== null && !(a.maxSize > a.minSize))) return false;
    if (i > 0 && a.minSize < after[i - 1].minSize) return false;
    if (priorShapes(a.minSize, a.maxSize, a.aspectRatios, flip).length !== priorShapes(b.minSize, b.maxSize, b.aspectRatios, flip).length) return false;
    if (a.aspectRatios.some((r) => !(r >= 1.05))) return false;
  }
  return true;
}

/** The images of `gt` at evenly spread indices, at most `count`. */
export function sampleImages(gt: GroundTruth, count: number): GroundTruth {
  const images = gt.imageStart.length - 1;
  if (images <= count) return gt;
  const boxes: number[] = [];
  const labels: number[] = [];
  const starts = [0];
  for (let k = 0; k < count; k++) {
    const i = Math.floor((k * images) / count);
    for (let j = gt.imageStart[i]; j < gt.imageStart[i + 1]; j++) {
      boxes.push(gt.boxes[4 * j], gt.boxes[4 * j + 1], gt.boxes[4 * j + 2], gt.boxes[4 * j + 3]);
      labels.push(gt.labels[j]);
    }
    starts.push(labels.length);
  }
  return { boxes: Float32Array.from(boxes), labels: Int32Array.from(labels), imageStart: Int32Array.from(starts), classNames: gt.classNames };
}

/** Better: more objects matched, then a higher mean best IoU. */
function better(a: PriorCoverage, b: PriorCoverage): boolean {
  return a.matched > b.matched || (a.matched === b.matched && a.meanBestIou > b.meanBestIou + 1e-9);
}

const roundSize = (v: number) => Math.round(v * 10) / 10;
const roundRatio = (v: number) => Math.round(v * 100) / 100;

/**
 * Per scale, k-means (1-D, on log w/h, folded above 1 when flip adds the inverses) of the shapes of the objects whose
 * best prior is on that scale, as many centres as the scale has ratios, started at its ratios.
 */
export function clusterRatios(layout: PriorLayout, gt: GroundTruth, coverage: PriorCoverage): number[][] {
  const perScale: number[][] = layout.scales.map(() => []);
  const firsts = layout.scales.map((s) => s.first);
  const W = layout.inputWidth;
  const H = layout.inputHeight;
  for (let j = 0; j < gt.labels.length; j++) {
    const p = coverage.bestPrior[j];
    if (p < 0) continue;
    let s = firsts.length - 1;
    while (s > 0 && firsts[s] > p) s--;
    const w = (gt.boxes[4 * j + 2] - gt.boxes[4 * j]) * W;
    const h = (gt.boxes[4 * j + 3] - gt.boxes[4 * j + 1]) * H;
    const r = Math.log(w / h);
    perScale[s].push(layout.flip ? Math.abs(r) : r);
  }
  return layout.scales.map((s, i) => {
    const xs = perScale[i];
    const centres = s.aspectRatios.map((r) => Math.log(r));
    if (!xs.length || !centres.length) return [...s.aspectRatios];
    for (let it = 0; it < 20; it++) {
      const sum = centres.map(() => 0);
      const n = centres.map(() => 0);
      for (const x of xs) {
        let best = 0;
        for (let c = 1; c < centres.length; c++) if (Math.abs(x - centres[c]) < Math.abs(x - centres[best])) best = c;
        sum[best] += x;
        n[best]++;
      }
      centres.forEach((_, c) => n[c] && (centres[c] = sum[c] / n[c]));
    }
    return centres.map((c) => roundRatio(Math.exp(c)));
  });
}

/** Propose settings that match more objects; see the file's head. */
export function suggestPriors(layout: PriorLayout, gt: GroundTruth, options: SuggestOptions = {}): PriorSuggestion {
  const before = scalePriors(layout);
  const sample = sampleImages(gt, options.searchImages ?? 1500);
  let evaluations = 0;
  const measure = (settings: ScalePriors[], on: GroundTruth) => {
    evaluations++;
    return measureCoverage(withPriors(layout, settings), on);
  };
  const clone = (s: readonly ScalePriors[]) => s.map((p) => ({ ...p, aspectRatios: [...p.aspectRatios] }));
  let best = clone(before);
  let bestScore = measure(best, sample);

  const tryIt = (candidate: ScalePriors[]) => {
    if (!keepsNetwork(before, candidate, layout.flip)) return false;
    const c = measure(candidate, sample);
    if (!better(c, bestScore)) return false;
    best = candidate;
    bestScore = c;
    return true;
  };

  // 1. The clustered ratios, all scales at once, then scale by scale.
  const clustered = clusterRatios(layout, sample, bestScore);
  if (!tryIt(best.map((p, i) => ({ ...p, aspectRatios: clustered[i] })))) {
    clustered.forEach((r, i) => tryIt(best.map((p, k) => (k === i ? { ...p, aspectRatios: r } : p))));
  }
  // 2. Coordinate search on the measure: each scale's sizes (min and max together), then each of its ratios.
  const rounds = options.rounds ?? 2;
  for (let round = 0; round < rounds; round++) {
    let moved = false;
    for (let i = 0; i < before.length; i++) {
      for (const f of [0.8, 0.9, 1.1, 1.25]) {
        moved =
          tryIt(
            best.map((p, k) => (k === i ? { ...p, minSize: roundSize(p.minSize * f), maxSize: p.maxSize === null ? null : roundSize(p.maxSize * f) } : p)),
          ) || moved;
      }
      for (const f of [0.9, 1.1]) {
        moved = tryIt(best.map((p, k) => (k === i && p.maxSize !== null ? { ...p, maxSize: roundSize(p.maxSize * f) } : p))) || moved;
      }
      for (let r = 0; r < best[i].aspectRatios.length; r++) {
        for (const f of [0.8, 1.25]) {
          moved = tryIt(best.map((p, k) => (k === i ? { ...p, aspectRatios: p.aspectRatios.map((v, q) => (q === r ? roundRatio(v * f) : v)) } : p))) || moved;
        }
      }
    }
    if (!moved) break;
  }

  // 3. The whole set decides: only a proposal that matches more objects there is kept.
  const coverageBefore = measureCoverage(layout, gt);
  const full = same(best, before) ? coverageBefore : measure(best, gt);
  const improved = full.matched > coverageBefore.matched;
  return {
    before,
    after: improved ? best : clone(before),
    improved,
    coverageBefore,
    coverageAfter: improved ? full : coverageBefore,
    evaluations,
    searchImages: sample.imageStart.length - 1,
  };
}

function same(a: readonly ScalePriors[], b: readonly ScalePriors[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
