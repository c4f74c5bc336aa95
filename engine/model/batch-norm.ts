// Batch normalization as DSOD's Caffe code has it: a BatchNorm layer (running statistics) and a Scale layer
// with bias (gamma, beta), on NHWC tensors, normalizing each channel over batch, height and width.
//
// Running statistics: we implement Caffe's BatchNorm semantics rather than a plain exponential moving
// average. Caffe keeps three blobs: a decayed SUM of batch means, a decayed sum of (unbiased) batch
// variances, and the decayed count `factor` (factor' = 0.999 factor + 1); inference divides the sums by the
// factor. It is the same moving average, but bias-corrected from the first step, the factor is a real stored
// value (the 2C+1 that core counts), and a Caffe DSOD caffemodel's blobs load unchanged.
// One deliberate difference: Caffe normalizes a never-trained layer (factor 0) with mean 0 and variance 0;
// we use mean 0 and variance 1, so a fresh model's inference output stays finite.
//
// Training uses a hand-written gradient (tf.customGrad): tfjs's default batch-norm gradient is built from
// broadcasts whose gradients are Tile and transposed reductions, which cost ~28% of a wasm training step.
// Channel sums: on wasm a global average pool (XNNPACK, SIMD: measured ~6x faster than a JS pass over the heap on
// a 16x48x48x32 map, which made batch norm ~30% of a tiny-example training step); on cpu the DsodChannelSums/Dots
// kernels (one JS pass each, see engine/backend/channel-sums.ts); else a matMul with a ones row (tf.sum over axes
// [0, 1, 2] transposes the whole tensor first).
import * as tf from '@tensorflow/tfjs';
import { CHANNEL_DOTS, CHANNEL_SUMS, registerChannelSumKernels } from '../backend/channel-sums';

/** Caffe BatchNormParameter.moving_average_fraction default; the DSOD code does not change it. */
export const MOVING_AVERAGE_FRACTION = 0.999;

export interface BatchNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  meanSum: tf.Variable;
  varSum: tf.Variable;
  factor: tf.Variable;
}

let kernelsReady = false;

function hasKernel(name: string): boolean {
  if (!kernelsReady) {
    registerChannelSumKernels();
    kernelsReady = true;
  }
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Per-channel sums of an NHWC tensor, as a [C] vector. */
export function channelSums(x: tf.Tensor): tf.Tensor1D {
  // On wasm, a global average pool (XNNPACK, SIMD, one read of x) is ~6x faster than the JS kernel.
  if (x.rank === 4 && tf.getBackend() === 'wasm') {
    const [n, h, w, c] = x.shape;
    return tf.tidy(() => tf.mul(tf.sum(tf.reshape(tf.avgPool(x as tf.Tensor4D, [h, w], 1, 'valid'), [n, c]), 0), h * w));
  }
  if (hasKernel(CHANNEL_SUMS)) return tf.engine().runKernel(CHANNEL_SUMS, { x }, {}) as tf.Tensor1D;
  const c = x.shape[x.rank - 1];
  const n = x.size / c;
  return tf.tidy(() => tf.matMul(tf.ones([1, n]), tf.reshape(x, [n, c])).reshape([c]));
}

/** Per-channel sums of x * y (same shapes), as a [C] vector. */
export function channelDots(x: tf.Tensor, y: tf.Tensor): tf.Tensor1D {
  if (x.rank === 4 && tf.getBackend() === 'wasm') return tf.tidy(() => channelSums(tf.mul(x, y)));
  if (hasKernel(CHANNEL_DOTS)) return tf.engine().runKernel(CHANNEL_DOTS, { x, y }, {}) as tf.Tensor1D;
  return tf.tidy(() => channelSums(tf.mul(x, y)));
}

/** Training mode: normalize with the batch's statistics; optionally fold them into the running statistics. */
export function batchNormTrain(x: tf.Tensor4D, p: BatchNormParams, eps: number, updateStats: boolean): tf.Tensor4D {
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  const op = tf.customGrad(((input: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const mean = tf.div(channelSums(input), n) as tf.Tensor1D;
    const xc = tf.sub(input, mean);
    const variance = tf.div(channelDots(xc, xc), n) as tf.Tensor1D;
    const invStd = tf.rsqrt(tf.add(variance, eps));
    const y = tf.add(tf.mul(xc, tf.mul(gamma, invStd)), beta);
    if (updateStats) updateRunningStats(p, mean, variance, n);
    save([xc, invStd, gamma]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xcS, invStdS, gammaS] = saved;
        const dBeta = channelSums(dy);
        const dyXc = channelDots(dy, xcS); // sum(dy * xhat) = invStd * dyXc
        const dGamma = tf.mul(dyXc, invStdS);
        const a = tf.mul(gammaS, invStdS);
        // dx = a * (dy - mean(dy) - xhat * mean(dy * xhat)), with xhat = xc * invStd: one fused form.
        const k = tf.div(tf.mul(tf.mul(a, invStdS), dGamma), -n);
        const c = tf.div(tf.mul(a, dBeta), -n);
        const dx = tf.add(tf.add(tf.mul(dy, a), tf.mul(xcS, k)), c);
        return [dx, dGamma, dBeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, p.gamma, p.beta) as tf.Tensor4D;
}

/** Caffe BatchNorm's forward-pass bookkeeping: decayed sums, the variance with Bessel's correction. */
function updateRunningStats(p: BatchNormParams, mean: tf.Tensor1D, variance: tf.Tensor1D, n: number): void {
  const maf = MOVING_AVERAGE_FRACTION;
  const correction = n > 1 ? n / (n - 1) : 1;
  tf.tidy(() => {
    p.meanSum.assign(tf.add(tf.mul(p.meanSum, maf), mean));
    p.varSum.assign(tf.add(tf.mul(p.varSum, maf), tf.mul(variance, correction)));
    p.factor.assign(tf.add(tf.mul(p.factor, maf), 1));
  });
}

/** The running mean and variance Caffe would use at test time (mean 0, variance 1 before any training). */
export function runningStats(p: BatchNormParams): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  return tf.tidy(() => {
    const trained = tf.cast(tf.greater(p.factor, 0), 'float32');
    const inv = tf.div(trained, tf.maximum(p.factor, 1e-30));
    return { mean: tf.mul(p.meanSum, inv) as tf.Tensor1D, variance: tf.add(tf.mul(p.varSum, inv), tf.sub(1, trained)) as tf.Tensor1D };
  });
}

/** Inference mode: the running statistics, folded into one multiply and one add per value. */
export function batchNormInfer(x: tf.Tensor4D, p: BatchNormParams, eps: number): tf.Tensor4D {
  return tf.tidy(() => {
    const { mean, variance } = runningStats(p);
    const a = tf.mul(p.gamma, tf.rsqrt(tf.add(variance, eps)));
    const b = tf.sub(p.beta, tf.mul(mean, a));
    return tf.add(tf.mul(x, a), b);
  });
}
