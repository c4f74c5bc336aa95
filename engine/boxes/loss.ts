// SSD's MultiBox loss in tfjs, as Caffe's MultiBoxLossLayer computes it for DSOD300_pascal.py:
//   loc  = sum over matched priors of smooth L1 (sigma 1) between predicted and target offsets
//   conf = softmax cross-entropy over matched priors and mined negatives
//   hard negative mining (MAX_NEGATIVE): per image, the unmatched priors with the highest background loss,
//          at most neg_pos_ratio (3) x that image's matches
//   both divided by the batch's number of matches (normalization VALID; at least 1); total = loc_weight x loc + conf.
import * as tf from '@tensorflow/tfjs';

export interface MultiboxLossOptions {
  /** Negatives per positive (3). */
  negPosRatio?: number;
  /** DSOD300_pascal.py: (neg_pos_ratio + 1) / 4 = 1. */
  locWeight?: number;
}

export interface MultiboxLoss {
  total: tf.Scalar;
  loc: tf.Scalar;
  conf: tf.Scalar;
  /** Matched priors in the batch (the normaliser before the max with 1). */
  positives: tf.Scalar;
}

/**
 * @param locPred  [N, P, 4] predicted offsets
 * @param confPred [N, P, C] class logits (background = class 0)
 * @param locTarget [N, P, 4] encoded targets (encodeTargets)
 * @param labels [N, P] int32: class of the matched box, 0 = background, -1 = ignore (neither positive nor negative)
 */
export function multiboxLoss(locPred: tf.Tensor, confPred: tf.Tensor, locTarget: tf.Tensor, labels: tf.Tensor, o: MultiboxLossOptions = {}): MultiboxLoss {
  const negPosRatio = o.negPosRatio ?? 3;
  const locWeight = o.locWeight ?? 1;
  const [N, P, C] = confPred.shape;
  if (locPred.rank !== 3 || locPred.shape[0] !== N || locPred.shape[1] !== P || locPred.shape[2] !== 4) {
    throw new Error(`multiboxLoss: locPred must be [${N}, ${P}, 4], got [${locPred.shape}]`);
  }
  if (labels.rank !== 2 || labels.shape[0] !== N || labels.shape[1] !== P) throw new Error(`multiboxLoss: labels must be [${N}, ${P}], got [${labels.shape}]`);
  if (locTarget.shape.join() !== locPred.shape.join()) throw new Error(`multiboxLoss: locTarget must be [${locPred.shape}], got [${locTarget.shape}]`);
  return tf.tidy(() => {
    const lab = labels.toInt();
    const posMask = lab.greater(0).toFloat(); // [N, P]
    const positives = posMask.sum() as tf.Scalar;
    const normalizer = tf.maximum(positives, 1);

    // Smooth L1 written as a Huber loss (min/abs/square): comparisons have no gradient in tfjs.
    const absErr = tf.abs(tf.sub(locPred, locTarget));
    const quad = tf.minimum(absErr, 1);
    const smoothL1 = tf.add(tf.mul(0.5, tf.square(quad)), tf.sub(absErr, quad)).sum(2); // [N, P]
    const loc = smoothL1.mul(posMask).sum().div(normalizer) as tf.Scalar;

    const logp = tf.logSoftmax(confPred); // [N, P, C]
    const ce = tf
      .oneHot(tf.maximum(lab, tf.scalar(0, 'int32')), C)
      .toFloat()
      .mul(logp)
      .sum(2)
      .neg(); // [N, P]
    const bgLoss = logp.slice([0, 0, 0], [N, P, 1]).reshape([N, P]).neg();
    const candidates = lab.equal(0).toFloat();
    const numNeg = tf.minimum(posMask.sum(1).mul(negPosRatio).floor(), candidates.sum(1)); // [N]
    const negMask = mineHardNegatives(bgLoss, candidates, numNeg);
    const conf = ce.mul(posMask.add(negMask)).sum().div(normalizer) as tf.Scalar;

    const total = tf.add(tf.mul(locWeight, loc), conf) as tf.Scalar;
    return { total, loc, conf, positives };
  });
}

/**
 * 1 for the `numNeg[n]` candidates of image n with the highest loss, else 0. A selection, not a function to
 * differentiate: wrapped in customGrad with a zero gradient so tfjs never looks for TopK's (absent) gradient.
 */
export function mineHardNegatives(loss: tf.Tensor, candidates: tf.Tensor, numNeg: tf.Tensor): tf.Tensor {
  const mine = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [l, c, k] = args as tf.Tensor[];
    const [N, P] = l.shape;
    // Non-candidates rank last: losses are >= 0, so -1 is below every candidate.
    const masked = tf.where(c.greater(0), l, tf.fill([N, P], -1));
    const order = tf.topk(masked, P, true).indices; // [N, P]: prior index by descending loss
    // rank[n, p] = position of prior p in order[n]: the inverse permutation, by sorting the indices ascending.
    const rank = tf.topk(order.neg().toFloat(), P, true).indices;
    const value = rank
      .less(k.reshape([N, 1]))
      .logicalAnd(c.greater(0))
      .toFloat();
    return { value, gradFunc: () => [tf.zerosLike(l), tf.zerosLike(c), tf.zerosLike(k)] };
  });
  return mine(loss, candidates, numNeg);
}
