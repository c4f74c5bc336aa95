// From network outputs to detections, as Caffe SSD's DetectionOutput layer does for DSOD300_pascal.py: decode the
// offsets against the priors, softmax the logits, then per class (background excluded): scores above the confidence
// threshold (0.01), the top 400, NMS at IoU 0.45; finally the 200 best over all classes.
import * as tf from '@tensorflow/tfjs';
import { SSD_VARIANCES, type Variances } from './encode';

export interface Detection {
  /** Normalised corners [xmin, ymin, xmax, ymax]. */
  box: [number, number, number, number];
  /** Class id, 1-based (0 is the background and never detected). */
  label: number;
  score: number;
}

export interface DetectOptions {
  variances?: Variances;
  nmsThreshold?: number;
  /** Candidates per class before NMS. */
  topK?: number;
  /** Detections per image after NMS, over all classes. */
  keepTopK?: number;
  confidenceThreshold?: number;
  /** Clip the returned boxes to the image (NMS runs on the unclipped boxes, as in Caffe). Default true. */
  clip?: boolean;
}

export const SSD_DETECT = { nmsThreshold: 0.45, topK: 400, keepTopK: 200, confidenceThreshold: 0.01 } as const;

/** Decode [..., P, 4] offsets against [P, 4] corner priors into [..., P, 4] corner boxes (CENTER_SIZE coding). */
export function decodeBoxesTensor(priors: tf.Tensor, loc: tf.Tensor, v: Variances = SSD_VARIANCES): tf.Tensor {
  return tf.tidy(() => {
    const [px0, py0, px1, py1] = tf.split(priors, 4, -1);
    const pw = px1.sub(px0);
    const ph = py1.sub(py0);
    const pcx = px0.add(px1).mul(0.5);
    const pcy = py0.add(py1).mul(0.5);
    const [tx, ty, tw, th] = tf.split(loc, 4, -1);
    const cx = tx.mul(v[0]).mul(pw).add(pcx);
    const cy = ty.mul(v[1]).mul(ph).add(pcy);
    const hw = tw.mul(v[2]).exp().mul(pw).mul(0.5);
    const hh = th.mul(v[3]).exp().mul(ph).mul(0.5);
    return tf.concat([cx.sub(hw), cy.sub(hh), cx.add(hw), cy.add(hh)], -1);
  });
}

/**
 * Detections for each image of a batch.
 * @param locPred [N, P, 4] (or [P, 4]) predicted offsets
 * @param confPred [N, P, C] (or [P, C]) class logits
 * @param priors [P, 4] corner priors (core's defaultBoxes)
 */
export async function detect(locPred: tf.Tensor, confPred: tf.Tensor, priors: tf.Tensor | Float32Array, o: DetectOptions = {}): Promise<Detection[][]> {
  const nms = o.nmsThreshold ?? SSD_DETECT.nmsThreshold;
  const topK = o.topK ?? SSD_DETECT.topK;
  const keepTopK = o.keepTopK ?? SSD_DETECT.keepTopK;
  const threshold = o.confidenceThreshold ?? SSD_DETECT.confidenceThreshold;
  const clip = o.clip ?? true;
  const P = confPred.shape[confPred.rank - 2];
  const C = confPred.shape[confPred.rank - 1];
  if (locPred.shape[locPred.rank - 2] !== P || locPred.shape[locPred.rank - 1] !== 4)
    throw new Error(`detect: locPred must be [N, ${P}, 4], got [${locPred.shape}]`);
  const priorCount = priors instanceof Float32Array ? priors.length / 4 : priors.shape[0];
  if (priorCount !== P) throw new Error(`detect: ${priorCount} priors for ${P} predictions`);

  const [boxes, scores] = tf.tidy(() => {
    const pr = priors instanceof Float32Array ? tf.tensor2d(priors, [P, 4]) : priors;
    const loc = locPred.reshape([-1, P, 4]);
    // [N, C, P]: one contiguous row of scores per class.
    return [decodeBoxesTensor(pr, loc, o.variances), tf.softmax(confPred.reshape([-1, P, C])).transpose([0, 2, 1])];
  });
  const N = boxes.shape[0];
  const out: Detection[][] = [];
  try {
    for (let n = 0; n < N; n++) {
      const imageBoxes = tf.tidy(() => boxes.slice([n, 0, 0], [1, P, 4]).reshape([P, 4]));
      const found: Detection[] = [];
      try {
        for (let c = 1; c < C; c++) {
          const [candBoxes, candScores] = tf.tidy(() => {
            const s = scores.slice([n, c, 0], [1, 1, P]).reshape([P]);
            const { values, indices } = tf.topk(s, Math.min(topK, P), true);
            return [tf.gather(imageBoxes, indices), values];
          });
          try {
            // tf.image suppresses at IoU >= threshold, Caffe at IoU > threshold: the same except on exact ties, which
            // matter at threshold 1 (identical boxes): there Caffe suppresses nothing, so NMS is skipped.
            let idx: ArrayLike<number>;
            if (nms >= 1) {
              // topk sorted the scores: the kept ones are a prefix.
              const sc = await candScores.data();
              let n = 0;
              while (n < sc.length && sc[n] > threshold) n++;
              idx = Array.from({ length: n }, (_, i) => i);
            } else {
              const keep = await tf.image.nonMaxSuppressionAsync(candBoxes as tf.Tensor2D, candScores as tf.Tensor1D, candScores.shape[0], nms, threshold);
              idx = await keep.data();
              keep.dispose();
            }
            if (idx.length === 0) continue;
            const [b, s] = await Promise.all([candBoxes.data(), candScores.data()]);
            for (const i of Array.from(idx)) {
              const box: [number, number, number, number] = [b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]];
              found.push({ box: clip ? (box.map((x) => Math.min(1, Math.max(0, x))) as Detection['box']) : box, label: c, score: s[i] });
            }
          } finally {
            tf.dispose([candBoxes, candScores]);
          }
        }
      } finally {
        imageBoxes.dispose();
      }
      // Stable: equal scores keep class order, as Caffe's stable sort of (score, label, index) pairs would.
      found.sort((a, b) => b.score - a.score);
      out.push(keepTopK >= 0 ? found.slice(0, keepTopK) : found);
    }
  } finally {
    tf.dispose([boxes, scores]);
  }
  return out;
}
