// Pascal VOC detection metric (the devkit's VOCevaldet): per class, detections best first; each is a hit when its
// best-overlapping ground truth of that class (IoU >= 0.5) is not difficult and not yet taken, a false alarm when the
// overlap is lower or the object is taken; on a difficult object it is ignored. AP by VOC2007's 11 points and by
// VOC2010+'s area; mAP is the mean over classes that have at least one non-difficult object.
// The IoU rule is the devkit's `ovmax >= VOCopts.minoverlap`: an overlap of exactly 0.5 is a hit. py-faster-rcnn's
// voc_eval.py (and the SSD/DSOD evaluation scripts derived from it) test `ovmax > ovthresh` and call it a miss; the
// two differ only on detections at exactly the threshold.
import type { PrCurveData } from '../../protocol/run-files';
import { ap11Point, apAllPoint } from './ap';
import { boxIou, classNamesOf, rankedDetections, type ClassSpec, type EvalDetection, type EvalImage } from './types';

/** A class's precision-recall curve, as pr-curves.json stores it. */
export type PrCurve = PrCurveData;

export interface VocClassResult {
  label: number;
  name: string;
  /** Non-difficult ground-truth objects. */
  positives: number;
  detections: number;
  truePositives: number;
  /** null when the class has no non-difficult object (the devkit's division by zero). */
  ap11: number | null;
  apArea: number | null;
  curve: PrCurve;
}

export interface VocResult {
  iouThreshold: number;
  /** VOC2007 test's metric: mean 11-point AP. */
  map11: number;
  /** VOC2010+'s metric: mean all-point AP. */
  mapArea: number;
  classes: VocClassResult[];
}

export function evaluateVoc(
  images: readonly EvalImage[],
  detections: readonly (readonly EvalDetection[])[],
  classes: ClassSpec,
  o: { iouThreshold?: number } = {},
): VocResult {
  if (images.length !== detections.length) throw new Error(`evaluateVoc: ${images.length} images but ${detections.length} detection lists`);
  const thr = o.iouThreshold ?? 0.5;
  const names = classNamesOf(classes);
  const results: VocClassResult[] = [];
  for (let label = 1; label < names.length; label++) {
    const gts = images.map((im) => im.objects.filter((g) => g.label === label));
    const taken = gts.map((g) => new Uint8Array(g.length));
    const positives = gts.reduce((n, g) => n + g.filter((x) => !x.difficult).length, 0);
    const ranked = rankedDetections(detections, label);
    const recall: number[] = [];
    const precision: number[] = [];
    const score: number[] = [];
    let tp = 0;
    let fp = 0;
    for (const { image, det } of ranked) {
      let best = -Infinity;
      let bj = -1;
      gts[image].forEach((g, j) => {
        const ov = boxIou(det.box, g.box);
        if (ov > 0 && ov > best) {
          best = ov;
          bj = j;
        }
      });
      if (bj >= 0 && best >= thr) {
        // On a difficult object: neither hit nor miss. Leaving the point out changes no AP (see evaluateVoc's notes).
        if (gts[image][bj].difficult) continue;
        if (!taken[image][bj]) {
          taken[image][bj] = 1;
          tp++;
        } else fp++;
      } else fp++;
      recall.push(positives > 0 ? tp / positives : 0);
      precision.push(tp / (tp + fp));
      score.push(det.score);
    }
    results.push({
      label,
      name: names[label],
      positives,
      detections: ranked.length,
      truePositives: tp,
      ap11: positives > 0 ? ap11Point(recall, precision) : null,
      apArea: positives > 0 ? apAllPoint(recall, precision) : null,
      curve: { recall, precision, score },
    });
  }
  const counted = results.filter((r) => r.positives > 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return { iouThreshold: thr, map11: mean(counted.map((r) => r.ap11!)), mapArea: mean(counted.map((r) => r.apArea!)), classes: results };
}
