// Training targets per prior: the class to predict (0 = background) and the encoded offsets of its matched box.
// Computed on the CPU in the data pipeline (cheap: priors x objects IoUs), so the training step gets plain tensors.
import { encodeBox, SSD_VARIANCES, type Variances } from './encode';
import { matchPriors } from './match';

export interface TargetOptions {
  /** IoU a prior needs to match a ground truth (besides each ground truth's best prior). */
  threshold?: number;
  variances?: Variances;
  /** SSD trains on difficult objects (use_difficult_gt: true). With false they are left out of matching. */
  useDifficult?: boolean;
}

export interface PriorTargets {
  /** 4 a prior; 0 for unmatched priors. */
  loc: Float32Array;
  /** Per prior: the class id of its match, 0 for background. */
  labels: Int32Array;
  positives: number;
}

/**
 * Targets for one image. `boxes` are normalised corners (4 a box), `labels` 1-based class ids. Writes into `into`
 * at prior offset `at` when given (a batch buffer), else into new arrays.
 */
export function encodeTargets(
  priors: Float32Array,
  boxes: Float32Array,
  labels: Int32Array,
  o: TargetOptions & { difficult?: Uint8Array } = {},
  into?: { loc: Float32Array; labels: Int32Array; at: number },
): PriorTargets {
  const P = priors.length / 4;
  const v = o.variances ?? SSD_VARIANCES;
  let gtBoxes = boxes;
  let gtLabels = labels;
  if (o.useDifficult === false && o.difficult) {
    const keep = [...labels.keys()].filter((i) => !o.difficult![i]);
    gtBoxes = Float32Array.from(keep.flatMap((i) => [...boxes.subarray(4 * i, 4 * i + 4)]));
    gtLabels = Int32Array.from(keep.map((i) => labels[i]));
  }
  const m = matchPriors(priors, gtBoxes, o.threshold ?? 0.5);
  const at = into?.at ?? 0;
  const loc = into ? into.loc : new Float32Array(P * 4);
  const out = into ? into.labels : new Int32Array(P);
  let positives = 0;
  if (into) {
    loc.fill(0, 4 * at, 4 * (at + P));
    out.fill(0, at, at + P);
  }
  for (let i = 0; i < P; i++) {
    const j = m.gt[i];
    if (j < 0) continue;
    out[at + i] = gtLabels[j];
    encodeBox(priors, i, gtBoxes, j, v, loc, at + i);
    positives++;
  }
  return { loc: into ? loc.subarray(4 * at, 4 * (at + P)) : loc, labels: into ? out.subarray(at, at + P) : out, positives };
}
