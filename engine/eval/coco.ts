// COCO's bounding-box metric (pycocotools COCOeval, area "all", maxDets 100): at each IoU threshold 0.50:0.05:0.95,
// per image and class the detections (best 100) are matched greedily, best first, each to the unmatched
// ground truth of highest IoU >= threshold (a regular object before an ignored one); detections on ignored objects
// (iscrowd, or VOC difficult) are left out; precision is read at 101 recall points. AP = mean over thresholds,
// recall points and classes with at least one regular object; AP50 and AP75 at one threshold.
import { cocoPrecisionAt, COCO_IOU_THRESHOLDS, COCO_RECALL_THRESHOLDS } from './ap';
import { boxIou, classNamesOf, crowdIou, type ClassSpec, type EvalDetection, type EvalImage } from './types';

export interface CocoClassResult {
  label: number;
  name: string;
  positives: number;
  /** null when the class has no regular (non-ignored) object. */
  ap: number | null;
  ap50: number | null;
  ap75: number | null;
  /** Interpolated precision at the 101 recall thresholds, per IoU threshold (-1 rows when ap is null). */
  precision: number[][];
}

export interface CocoResult {
  ap: number;
  ap50: number;
  ap75: number;
  iouThresholds: number[];
  recallThresholds: number[];
  maxDets: number;
  classes: CocoClassResult[];
}

export function evaluateCoco(
  images: readonly EvalImage[],
  detections: readonly (readonly EvalDetection[])[],
  classes: ClassSpec,
  o: { maxDets?: number; iouThresholds?: readonly number[] } = {},
): CocoResult {
  if (images.length !== detections.length) throw new Error(`evaluateCoco: ${images.length} images but ${detections.length} detection lists`);
  const maxDets = o.maxDets ?? 100;
  const thrs = [...(o.iouThresholds ?? COCO_IOU_THRESHOLDS)];
  const names = classNamesOf(classes);
  const T = thrs.length;
  const results: CocoClassResult[] = [];
  for (let label = 1; label < names.length; label++) {
    // Per threshold: (score, hit) of every detection that is not ignored, over all images.
    const scored: { score: number; order: number; hit: Uint8Array; ignored: Uint8Array }[] = [];
    let positives = 0;
    let order = 0;
    images.forEach((im, i) => {
      // Regular objects first, ignored ones after (pycocotools sorts gt by its ignore flag, stably).
      const gts = im.objects.filter((g) => g.label === label);
      const gt = [...gts.filter((g) => !g.difficult), ...gts.filter((g) => g.difficult)];
      const nRegular = gts.filter((g) => !g.difficult).length;
      positives += nRegular;
      const dts = detections[i]
        .filter((d) => d.label === label)
        .sort((a, b) => b.score - a.score)
        .slice(0, maxDets);
      const ious = dts.map((d) => gt.map((g) => (g.crowd ? crowdIou(d.box, g.box) : boxIou(d.box, g.box))));
      const hit = dts.map(() => new Uint8Array(T));
      const ignored = dts.map(() => new Uint8Array(T));
      thrs.forEach((t, ti) => {
        const gtTaken = new Uint8Array(gt.length);
        dts.forEach((_, di) => {
          let iou = Math.min(t, 1 - 1e-10);
          let m = -1;
          for (let gi = 0; gi < gt.length; gi++) {
            if (gtTaken[gi] && !gt[gi].crowd) continue;
            // Once matched to a regular object, stop at the first ignored one (they come last).
            if (m > -1 && m < nRegular && gi >= nRegular) break;
            if (ious[di][gi] < iou) continue;
            iou = ious[di][gi];
            m = gi;
          }
          if (m === -1) return;
          gtTaken[m] = 1;
          if (m >= nRegular) ignored[di][ti] = 1;
          else hit[di][ti] = 1;
        });
      });
      dts.forEach((d, di) => scored.push({ score: d.score, order: order++, hit: hit[di], ignored: ignored[di] }));
    });
    if (positives === 0) {
      results.push({ label, name: names[label], positives, ap: null, ap50: null, ap75: null, precision: thrs.map(() => COCO_RECALL_THRESHOLDS.map(() => -1)) });
      continue;
    }
    scored.sort((a, b) => b.score - a.score || a.order - b.order);
    const precision = thrs.map((_, ti) => {
      const recall: number[] = [];
      const prec: number[] = [];
      let tp = 0;
      let fp = 0;
      for (const s of scored) {
        if (s.ignored[ti]) continue;
        if (s.hit[ti]) tp++;
        else fp++;
        recall.push(tp / positives);
        prec.push(tp / (tp + fp));
      }
      return cocoPrecisionAt(recall, prec);
    });
    const meanOf = (rows: number[][]) => rows.reduce((n, r) => n + r.reduce((a, b) => a + b, 0), 0) / (rows.length * COCO_RECALL_THRESHOLDS.length);
    const at = (t: number) => thrs.findIndex((x) => Math.abs(x - t) < 1e-9);
    const i50 = at(0.5);
    const i75 = at(0.75);
    results.push({
      label,
      name: names[label],
      positives,
      ap: meanOf(precision),
      ap50: i50 >= 0 ? meanOf([precision[i50]]) : null,
      ap75: i75 >= 0 ? meanOf([precision[i75]]) : null,
      precision,
    });
  }
  const counted = results.filter((r) => r.ap !== null);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    ap: mean(counted.map((r) => r.ap!)),
    ap50: mean(counted.map((r) => r.ap50 ?? 0)),
    ap75: mean(counted.map((r) => r.ap75 ?? 0)),
    iouThresholds: thrs,
    recallThresholds: [...COCO_RECALL_THRESHOLDS],
    maxDets,
    classes: results,
  };
}
