// The detection output of detect.ts, computed in plain JavaScript on the network's outputs read back once per
// batch. Same steps and rules (softmax, CENTER_SIZE decoding, per class: score > threshold, top k, greedy NMS that
// drops a box at IoU >= threshold with a kept one, then the best keepTopK over classes), but no tfjs op per image
// and class: on the wasm backend, detect.ts spent ~50 ms an image in small ops for the tiny example, this ~2 ms.
// Evaluation and inference use this; test/engine/detect-arrays.test.ts checks it against detect.ts.
import { SSD_DETECT, type Detection, type DetectOptions } from './detect';
import { SSD_VARIANCES } from './encode';

/**
 * @param loc [N, P, 4] offsets, flattened
 * @param conf [N, P, C] logits, flattened
 * @param priors [P, 4] corner priors
 */
export function detectArrays(loc: Float32Array, conf: Float32Array, priors: Float32Array, classes: number, o: DetectOptions = {}): Detection[][] {
  const nms = o.nmsThreshold ?? SSD_DETECT.nmsThreshold;
  const topK = o.topK ?? SSD_DETECT.topK;
  const keepTopK = o.keepTopK ?? SSD_DETECT.keepTopK;
  const threshold = o.confidenceThreshold ?? SSD_DETECT.confidenceThreshold;
  const clip = o.clip ?? true;
  const v = o.variances ?? SSD_VARIANCES;
  const P = priors.length / 4;
  const C = classes;
  const N = conf.length / (P * C);
  if (!Number.isInteger(N) || loc.length !== N * P * 4)
    throw new Error(`detectArrays: ${loc.length / 4} boxes and ${conf.length / C} score rows for ${P} priors`);
  const out: Detection[][] = [];
  const boxes = new Float32Array(P * 4);
  const scores = new Float32Array(P * C);
  for (let n = 0; n < N; n++) {
    decode(priors, loc, n * P * 4, v, boxes);
    softmaxRows(conf, n * P * C, P, C, scores);
    const found: Detection[] = [];
    for (let c = 1; c < C; c++) {
      // Candidates above the threshold, best first (ties: lower prior first), at most topK.
      const cand: number[] = [];
      for (let i = 0; i < P; i++) if (scores[i * C + c] > threshold) cand.push(i);
      cand.sort((a, b) => scores[b * C + c] - scores[a * C + c] || a - b);
      if (cand.length > topK) cand.length = topK;
      const kept: number[] = [];
      for (const i of cand) {
        let keep = true;
        if (nms < 1) {
          for (let k = kept.length - 1; k >= 0; k--) {
            if (iou(boxes, i, kept[k]) >= nms) {
              keep = false;
              break;
            }
          }
        }
        if (keep) kept.push(i);
      }
      for (const i of kept) {
        const b: Detection['box'] = [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]];
        found.push({ box: clip ? (b.map((x) => Math.min(1, Math.max(0, x))) as Detection['box']) : b, label: c, score: scores[i * C + c] });
      }
    }
    found.sort((a, b) => b.score - a.score);
    out.push(keepTopK >= 0 ? found.slice(0, keepTopK) : found);
  }
  return out;
}

function decode(priors: Float32Array, loc: Float32Array, at: number, v: readonly number[], out: Float32Array): void {
  const P = priors.length / 4;
  for (let i = 0; i < P; i++) {
    const px0 = priors[4 * i];
    const py0 = priors[4 * i + 1];
    const pw = priors[4 * i + 2] - px0;
    const ph = priors[4 * i + 3] - py0;
    const cx = loc[at + 4 * i] * v[0] * pw + (px0 + pw / 2);
    const cy = loc[at + 4 * i + 1] * v[1] * ph + (py0 + ph / 2);
    const hw = Math.exp(loc[at + 4 * i + 2] * v[2]) * pw * 0.5;
    const hh = Math.exp(loc[at + 4 * i + 3] * v[3]) * ph * 0.5;
    out[4 * i] = cx - hw;
    out[4 * i + 1] = cy - hh;
    out[4 * i + 2] = cx + hw;
    out[4 * i + 3] = cy + hh;
  }
}

function softmaxRows(x: Float32Array, at: number, rows: number, C: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = at + r * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (x[base + c] > max) max = x[base + c];
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(x[base + c] - max);
      out[r * C + c] = e;
      sum += e;
    }
    for (let c = 0; c < C; c++) out[r * C + c] /= sum;
  }
}

/** tf.image's IoU: empty boxes overlap nothing. */
function iou(b: Float32Array, i: number, j: number): number {
  const ai = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
  const aj = (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]);
  if (ai <= 0 || aj <= 0) return 0;
  const iw = Math.min(b[4 * i + 2], b[4 * j + 2]) - Math.max(b[4 * i], b[4 * j]);
  const ih = Math.min(b[4 * i + 3], b[4 * j + 3]) - Math.max(b[4 * i + 1], b[4 * j + 1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / (ai + aj - inter);
}
