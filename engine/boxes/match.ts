// Matching default boxes (priors) to ground truth as Caffe SSD's MatchBBox does for DSOD300_pascal.py
// (match_type PER_PREDICTION, overlap_threshold 0.5):
//  1. bipartite: repeatedly take the (prior, ground truth) pair of highest IoU among unmatched priors and unmatched
//     ground truths, so every ground truth gets its own best prior, even below the threshold;
//  2. per prediction: every prior still unmatched takes the ground truth it overlaps most, if IoU >= threshold.
// Ties go to the lower prior index, then the lower ground-truth index (Caffe's loop order).
//
// Only overlapping pairs matter (a pair that does not overlap has IoU 0 and never matches), so the IoUs are computed
// for those alone: ground truths go into a grid of cells, and each prior looks only at the ground truths in the cells
// it covers. The bipartite rounds become one pass over the overlapping pairs sorted by IoU (highest first, ties in
// Caffe's loop order): the first pair whose prior and ground truth are both still free is the pair a round would
// take. Cost: about the number of overlapping pairs (times a log), instead of priors x objects x objects; the result
// is the dense algorithm's exactly (IoUs are rounded to float32 as its matrix stores them; test/engine keeps the
// dense algorithm as a reference).

export interface PriorMatch {
  /** Per prior: the matched ground-truth index, or -1. */
  gt: Int32Array;
  /** Per prior: its highest IoU with any ground truth (0 when there is none): mining uses it. */
  overlap: Float32Array;
}

/** Caffe keeps only overlaps above this in its overlap map: a ground truth touching no prior gets no match. */
const MIN_OVERLAP = 1e-6;

export function matchPriors(priors: ArrayLike<number>, gt: ArrayLike<number>, threshold = 0.5): PriorMatch {
  const P = priors.length / 4;
  const G = gt.length / 4;
  const match = new Int32Array(P).fill(-1);
  const overlap = new Float32Array(P);
  if (G === 0) return { gt: match, overlap };
  const pairs = overlappingPairs(priors, gt);
  const { prior: pi, gt: pj, iou: po, count: K } = pairs;

  // Per prior (pairs are in prior order, then ground-truth order): its highest IoU.
  for (let k = 0; k < K; k++) if (po[k] > overlap[pi[k]]) overlap[pi[k]] = po[k];

  // 1. Bipartite: pairs by IoU, highest first; equal IoUs in (prior, ground truth) order, the order pairs are in.
  const sorted = byIouDescending(po, K, MIN_OVERLAP);
  const n = sorted.length;
  const gtFree = new Uint8Array(G).fill(1);
  let free = G;
  for (let s = 0; s < n && free > 0; s++) {
    const k = sorted[s];
    if (match[pi[k]] !== -1 || !gtFree[pj[k]]) continue;
    match[pi[k]] = pj[k];
    gtFree[pj[k]] = 0;
    free--;
  }

  // 2. Per prediction: a prior's pairs are consecutive, in ground-truth order; the first highest wins.
  for (let k = 0; k < K;) {
    const i = pi[k];
    let best = -1;
    let bj = -1;
    for (; k < K && pi[k] === i; k++) {
      const o = po[k];
      if (o > MIN_OVERLAP && o >= threshold && o > best) {
        best = o;
        bj = pj[k];
      }
    }
    if (match[i] === -1 && bj >= 0) match[i] = bj;
  }
  return { gt: match, overlap };
}

/**
 * Indices k < count with iou[k] > min, sorted by iou descending, equal values in index order: a stable LSD radix sort
 * on the float32 bits (for positive floats the bit patterns order as the values do), two passes of 16 bits.
 */
function byIouDescending(iou: Float32Array, count: number, min: number): Uint32Array {
  const bits = new Uint32Array(iou.buffer, iou.byteOffset, iou.length);
  let a = new Uint32Array(count);
  let n = 0;
  for (let k = 0; k < count; k++) if (iou[k] > min) a[n++] = k;
  a = a.subarray(0, n);
  if (n < 8192) return a.sort((x, y) => iou[y] - iou[x] || x - y); // small: a comparison sort is quicker
  let b = new Uint32Array(n);
  const counts = new Uint32Array(65537);
  for (const shift of [0, 16]) {
    counts.fill(0);
    for (let t = 0; t < n; t++) counts[0xffff - ((bits[a[t]] >>> shift) & 0xffff) + 1]++;
    for (let c = 0; c < 65536; c++) counts[c + 1] += counts[c];
    for (let t = 0; t < n; t++) {
      const k = a[t];
      b[counts[0xffff - ((bits[k] >>> shift) & 0xffff)]++] = k;
    }
    [a, b] = [b, a];
  }
  return a;
}

interface Pairs {
  prior: Int32Array;
  gt: Int32Array;
  /** IoU as float32 (what a dense P x G Float32Array would hold). */
  iou: Float32Array;
  count: number;
}

/**
 * Every (prior, ground truth) pair whose intersection has a positive width and height, with its IoU, in prior order
 * and, within a prior, ground-truth order. Other pairs have IoU 0 (iouMatrix's convention).
 */
function overlappingPairs(priors: ArrayLike<number>, gt: ArrayLike<number>): Pairs {
  const P = priors.length / 4;
  const G = gt.length / 4;
  // A grid of n x n cells over [0, 1]^2 (coordinates outside go to the border cells); a ground truth is listed in
  // every cell its box touches. Any two boxes that overlap share the cell of their intersection's corner.
  // (A few objects: one cell, every object a candidate of every prior.)
  const n = G <= 16 ? 1 : Math.min(64, Math.round(Math.sqrt(G)));
  const cell = (v: number) => {
    const c = Math.floor(v * n);
    return c < 0 ? 0 : c >= n ? n - 1 : c;
  };
  const valid = (x0: number, y0: number, x1: number, y1: number) => x1 > x0 && y1 > y0; // false for NaN too
  const start = new Int32Array(n * n + 1);
  let items = EMPTY;
  for (let pass = 0; pass < 2; pass++) {
    // Pass 0 counts, pass 1 fills (CSR layout).
    const fill = pass === 1 ? new Int32Array(start.subarray(0, n * n)) : null;
    for (let j = 0; j < G; j++) {
      const x0 = gt[4 * j];
      const y0 = gt[4 * j + 1];
      const x1 = gt[4 * j + 2];
      const y1 = gt[4 * j + 3];
      if (!valid(x0, y0, x1, y1)) continue;
      const cx1 = cell(x1);
      const cy1 = cell(y1);
      for (let cy = cell(y0); cy <= cy1; cy++)
        for (let cx = cell(x0); cx <= cx1; cx++) {
          if (fill) items[fill[cy * n + cx]++] = j;
          else start[cy * n + cx + 1]++;
        }
    }
    if (pass === 0) {
      for (let c = 0; c < n * n; c++) start[c + 1] += start[c];
      items = new Int32Array(start[n * n]);
    }
  }
  let cap = Math.max(1024, 4 * P);
  let prior = new Int32Array(cap);
  let gtIndex = new Int32Array(cap);
  let iou = new Float32Array(cap);
  let count = 0;
  const seen = new Int32Array(G).fill(-1);
  const candidates: number[] = [];
  for (let i = 0; i < P; i++) {
    const ax0 = priors[4 * i];
    const ay0 = priors[4 * i + 1];
    const ax1 = priors[4 * i + 2];
    const ay1 = priors[4 * i + 3];
    if (Number.isNaN(ax0) || Number.isNaN(ay0) || Number.isNaN(ax1) || Number.isNaN(ay1)) continue;
    candidates.length = 0;
    const cx0 = cell(ax0);
    const cx1 = cell(ax1);
    const cy1 = cell(ay1);
    for (let cy = cell(ay0); cy <= cy1; cy++)
      for (let cx = cx0; cx <= cx1; cx++)
        for (let t = start[cy * n + cx], end = start[cy * n + cx + 1]; t < end; t++) {
          const j = items[t];
          if (seen[j] !== i) {
            seen[j] = i;
            candidates.push(j);
          }
        }
    if (candidates.length === 0) continue;
    if (n > 1) candidates.sort((a, b) => a - b);
    const areaA = (ax1 - ax0) * (ay1 - ay0);
    for (const j of candidates) {
      // The same arithmetic as iouMatrix, so the float32 values are the same.
      const iw = Math.min(ax1, gt[4 * j + 2]) - Math.max(ax0, gt[4 * j]);
      if (iw <= 0) continue;
      const ih = Math.min(ay1, gt[4 * j + 3]) - Math.max(ay0, gt[4 * j + 1]);
      if (ih <= 0) continue;
      const inter = iw * ih;
      if (count === cap) {
        cap *= 2;
        prior = grow(prior, cap);
        gtIndex = grow(gtIndex, cap);
        const f = new Float32Array(cap);
        f.set(iou);
        iou = f;
      }
      prior[count] = i;
      gtIndex[count] = j;
      iou[count] = inter / (areaA + (gt[4 * j + 2] - gt[4 * j]) * (gt[4 * j + 3] - gt[4 * j + 1]) - inter);
      count++;
    }
  }
  return { prior, gt: gtIndex, iou, count };
}

const EMPTY: Int32Array = new Int32Array(0);

function grow(a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}
