// Intersection over union of axis-aligned boxes given as corners [xmin, ymin, xmax, ymax], 4 numbers a box.

/** IoU of box i of `a` and box j of `b`. Empty or inverted boxes have no area and overlap nothing. */
export function iou(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const ax0 = a[4 * i];
  const ay0 = a[4 * i + 1];
  const ax1 = a[4 * i + 2];
  const ay1 = a[4 * i + 3];
  const bx0 = b[4 * j];
  const by0 = b[4 * j + 1];
  const bx1 = b[4 * j + 2];
  const by1 = b[4 * j + 3];
  const iw = Math.min(ax1, bx1) - Math.max(ax0, bx0);
  const ih = Math.min(ay1, by1) - Math.max(ay0, by0);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const areaA = (ax1 - ax0) * (ay1 - ay0);
  const areaB = (bx1 - bx0) * (by1 - by0);
  return inter / (areaA + areaB - inter);
}

/** IoU of every box of `a` (n boxes) with every box of `b` (m boxes): n x m, row-major (row = a box of `a`). */
export function iouMatrix(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  const n = a.length / 4;
  const m = b.length / 4;
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    const ax0 = a[4 * i];
    const ay0 = a[4 * i + 1];
    const ax1 = a[4 * i + 2];
    const ay1 = a[4 * i + 3];
    const areaA = (ax1 - ax0) * (ay1 - ay0);
    for (let j = 0; j < m; j++) {
      const iw = Math.min(ax1, b[4 * j + 2]) - Math.max(ax0, b[4 * j]);
      if (iw <= 0) continue;
      const ih = Math.min(ay1, b[4 * j + 3]) - Math.max(ay0, b[4 * j + 1]);
      if (ih <= 0) continue;
      const inter = iw * ih;
      out[i * m + j] = inter / (areaA + (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]) - inter);
    }
  }
  return out;
}
