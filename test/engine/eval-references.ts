// Brute-force reference evaluators, written from the protocols' definitions and not from our code, and random cases
// to compare against: shared by eval.test.ts (the evaluator) and eval-cli.test.ts (`dsod eval --detections`).
import type { EvalDetection, EvalImage, EvalObject } from '../../engine/eval/types';
import { rng } from '../helpers';

/** np.linspace(.5, 0.95, 10), printed by numpy: pycocotools' IoU thresholds. */
export const NUMPY_IOU_THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95];

export function iouRef(a: readonly number[], b: readonly number[]): number {
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
export function vocReference(images: EvalImage[], dets: EvalDetection[][], label: number, thr: number): { ap11: number; apArea: number } | null {
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

export interface CocoRefOptions {
  /** Area range in pixels², both ends included (pycocotools' areaRng); default all. */
  range?: readonly [number, number];
  /** Detections per image that count (matching is done with the best 100, as pycocotools does). */
  maxDets?: number;
}

/**
 * Brute force, from COCO's definition: per image, best 100 detections; per threshold, each detection (best first)
 * takes the free regular object of highest IoU >= t, else an ignored one (a crowd can be taken again), else it is a
 * false alarm; detections on ignored objects are dropped. With an area range, objects outside it are ignored and so
 * are unmatched detections outside it; with maxDets only each image's first N detections count. Precision at recall
 * r = best precision of any cut-off reaching r; AP = mean over thresholds and the 101 recall points; AR = mean over
 * thresholds of the final recall. Areas: the object's `area`, else its box times the image's width and height.
 */
export function cocoReference(
  images: EvalImage[],
  dets: EvalDetection[][],
  label: number,
  o: CocoRefOptions = {},
): { ap: number; ap50: number; ap75: number; ar: number } | null {
  const [lo, hi] = o.range ?? [0, 1e10];
  const scale = (im: EvalImage) => (im.width ?? 1) * (im.height ?? 1);
  const boxArea = (b: readonly number[]) => (b[2] - b[0]) * (b[3] - b[1]);
  const outside = (a: number) => a < lo || a > hi;
  const ignoredGt = (im: EvalImage, g: EvalObject) => g.difficult === true || outside(g.area ?? boxArea(g.box) * scale(im));
  const npos = images.reduce((n, im) => n + im.objects.filter((g) => g.label === label && !ignoredGt(im, g)).length, 0);
  if (npos === 0) return null;
  const perThreshold = NUMPY_IOU_THRESHOLDS.map((t) => {
    const outcomes: { score: number; hit: boolean }[] = [];
    images.forEach((im, i) => {
      const mine = dets[i]
        .filter((d) => d.label === label)
        .sort((a, b) => b.score - a.score)
        .slice(0, 100);
      const gts = im.objects.filter((g) => g.label === label);
      const taken = new Set<EvalObject>();
      mine.forEach((d, rank) => {
        const overlap = (g: EvalObject) => {
          if (!g.crowd) return iouRef(d.box, g.box);
          const w = Math.max(0, Math.min(d.box[2], g.box[2]) - Math.max(d.box[0], g.box[0]));
          const h = Math.max(0, Math.min(d.box[3], g.box[3]) - Math.max(d.box[1], g.box[1]));
          return (w * h) / boxArea(d.box);
        };
        const pickFrom = (pool: EvalObject[]) => {
          let best: EvalObject | null = null;
          let v = Math.min(t, 1 - 1e-10);
          for (const g of pool) if (overlap(g) >= v && (g.crowd || !taken.has(g))) [best, v] = [g, overlap(g)];
          return best;
        };
        const counts = rank < (o.maxDets ?? 100);
        const regular = pickFrom(gts.filter((g) => !ignoredGt(im, g)));
        if (regular) {
          taken.add(regular);
          if (counts) outcomes.push({ score: d.score, hit: true });
          return;
        }
        const ignored = pickFrom(gts.filter((g) => ignoredGt(im, g)));
        if (ignored) taken.add(ignored);
        else if (counts && !outside(boxArea(d.box) * scale(im))) outcomes.push({ score: d.score, hit: false });
      });
    });
    outcomes.sort((a, b) => b.score - a.score);
    const curve = outcomes.map((_, k) => {
      const tp = outcomes.slice(0, k + 1).filter((x) => x.hit).length;
      return { recall: tp / npos, precision: tp / (k + 1) };
    });
    // Recall points as numpy's linspace(0, 1, 101) makes them: i x 0.01.
    const at = Array.from({ length: 101 }, (_, i) => Math.max(0, ...curve.filter((c) => c.recall >= (i === 100 ? 1 : i * 0.01)).map((c) => c.precision)));
    return { ap: at.reduce((a, b) => a + b, 0) / 101, recall: outcomes.filter((x) => x.hit).length / npos };
  });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { ap: mean(perThreshold.map((p) => p.ap)), ap50: perThreshold[0].ap, ap75: perThreshold[5].ap, ar: mean(perThreshold.map((p) => p.recall)) };
}

export interface RandomCase {
  images: EvalImage[];
  dets: EvalDetection[][];
  classes: number;
}

/**
 * Random images and detections: jittered copies of objects (hits at various IoUs), duplicates, and noise.
 * `crowd`: which difficult objects are crowd regions (VOC has none; COCO's ignored objects all are). `sized`: images
 * get a pixel size (80 to 400), so objects fall in COCO's small, medium and large ranges.
 */
export function randomCase(seed: number, o: { crowd?: 'some' | 'none' | 'all'; sized?: boolean } = {}): RandomCase {
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
      const g: EvalObject = { box: box(), label: r.int(1, classes - 1), difficult: r.next() < 0.15 };
      if (g.difficult && r.next() < 0.3 ? (o.crowd ?? 'some') !== 'none' : g.difficult && o.crowd === 'all') g.crowd = true;
      return g;
    });
    const list: EvalDetection[] = [];
    for (const g of objects) {
      const copies = r.next() < 0.8 ? r.int(1, 3) : 0;
      for (let c = 0; c < copies; c++)
        list.push({ box: jitter(g.box, r.next() * 0.15), label: r.next() < 0.9 ? g.label : r.int(1, classes - 1), score: r.next() });
    }
    for (let k = r.int(0, 4); k > 0; k--) list.push({ box: box(), label: r.int(1, classes - 1), score: r.next() });
    const im: EvalImage = { objects };
    if (o.sized) Object.assign(im, { width: r.int(80, 400), height: r.int(80, 400) });
    images.push(im);
    dets.push(list);
  }
  return { images, dets, classes };
}
