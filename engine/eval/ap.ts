// Average precision from a precision-recall curve, the three ways detection benchmarks define it.

/** VOC2007's 11-point interpolated AP: mean over t = 0, 0.1, ..., 1 of the best precision at recall >= t. */
export function ap11Point(recall: ArrayLike<number>, precision: ArrayLike<number>): number {
  let sum = 0;
  for (let k = 0; k <= 10; k++) {
    const t = k / 10;
    let p = 0;
    for (let i = 0; i < recall.length; i++) if (recall[i] >= t && precision[i] > p) p = precision[i];
    sum += p;
  }
  return sum / 11;
}

/**
 * VOC2010+'s AP (the devkit's VOCap): the area under the curve after making precision monotonically decreasing,
 * summed at the recalls where it changes.
 */
export function apAllPoint(recall: ArrayLike<number>, precision: ArrayLike<number>): number {
  const n = recall.length;
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  mrec[n + 1] = 1;
  for (let i = 0; i < n; i++) {
    mrec[i + 1] = recall[i];
    mpre[i + 1] = precision[i];
  }
  for (let i = n; i >= 0; i--) mpre[i] = Math.max(mpre[i], mpre[i + 1]);
  let ap = 0;
  for (let i = 1; i < n + 2; i++) if (mrec[i] !== mrec[i - 1]) ap += (mrec[i] - mrec[i - 1]) * mpre[i];
  return ap;
}

/** numpy.linspace(start, stop, num) with numpy's arithmetic, so thresholds equal pycocotools' bit for bit. */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

/** COCO's IoU thresholds 0.50:0.05:0.95 and recall thresholds 0:0.01:1. */
export const COCO_IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
export const COCO_RECALL_THRESHOLDS = linspace(0, 1, 101);

/**
 * COCO's interpolated precision at each recall threshold (pycocotools' accumulate): precision made monotone from the
 * right, then read at the first point whose recall reaches the threshold (0 when none does).
 */
export function cocoPrecisionAt(recall: ArrayLike<number>, precision: ArrayLike<number>, thresholds: readonly number[] = COCO_RECALL_THRESHOLDS): number[] {
  const n = recall.length;
  const pr = Float64Array.from(precision as ArrayLike<number>);
  for (let i = n - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
  return thresholds.map((t) => {
    // searchsorted(recall, t, side='left'): the first index with recall >= t.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (recall[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo < n ? pr[lo] : 0;
  });
}
