// Matching default boxes (priors) to ground truth as Caffe SSD's MatchBBox does for DSOD300_pascal.py
// (match_type PER_PREDICTION, overlap_threshold 0.5):
//  1. bipartite: repeatedly take the (prior, ground truth) pair of highest IoU among unmatched priors and unmatched
//     ground truths, so every ground truth gets its own best prior, even below the threshold;
//  2. per prediction: every prior still unmatched takes the ground truth it overlaps most, if IoU >= threshold.
// Ties go to the lower prior index, then the lower ground-truth index (Caffe's loop order).
import { iouMatrix } from './iou';

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
  const ov = iouMatrix(priors, gt); // P x G
  for (let i = 0; i < P; i++) {
    let m = 0;
    for (let j = 0; j < G; j++) if (ov[i * G + j] > m) m = ov[i * G + j];
    overlap[i] = m;
  }

  // 1. Bipartite. Each round scans the priors that still overlap an unmatched ground truth.
  const gtFree = new Uint8Array(G).fill(1);
  for (let round = 0; round < G; round++) {
    let best = -1;
    let bi = -1;
    let bj = -1;
    for (let i = 0; i < P; i++) {
      if (match[i] !== -1) continue;
      for (let j = 0; j < G; j++) {
        const o = ov[i * G + j];
        if (gtFree[j] && o > MIN_OVERLAP && o > best) {
          best = o;
          bi = i;
          bj = j;
        }
      }
    }
    if (bi < 0) break;
    match[bi] = bj;
    gtFree[bj] = 0;
  }

  // 2. Per prediction.
  for (let i = 0; i < P; i++) {
    if (match[i] !== -1) continue;
    let best = -1;
    let bj = -1;
    for (let j = 0; j < G; j++) {
      const o = ov[i * G + j];
      if (o > MIN_OVERLAP && o >= threshold && o > best) {
        best = o;
        bj = j;
      }
    }
    if (bj >= 0) match[i] = bj;
  }
  return { gt: match, overlap };
}
