// The layer operations of core's graph on NHWC tensors, with Caffe's arithmetic.
import * as tf from '@tensorflow/tfjs';
import { poolOutSize } from '../../core';

/** Convolution without bias, symmetric zero padding, output size floor((in + 2 pad - k) / stride) + 1 (Caffe's). */
export function conv(x: tf.Tensor4D, weight: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  const padding: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ];
  return tf.conv2d(x, weight, stride, pad === 0 ? 'valid' : padding);
}

/**
 * Max pooling with Caffe's ceil rounding. tfjs pools round down ('valid'), so the input is padded with -Infinity
 * (left/top by `pad`, right/bottom by what the last window needs) and pooled 'valid': a padded value never wins a
 * window, since Caffe's last window always starts inside the input. Where Caffe drops a window that would
 * start in the padding, the unused rows are sliced off instead.
 */
export function maxPoolCaffe(x: tf.Tensor4D, kernel: number, stride: number, pad: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const oh = poolOutSize(h, kernel, stride, pad);
  const ow = poolOutSize(w, kernel, stride, pad);
  const extraH = (oh - 1) * stride + kernel - h - pad;
  const extraW = (ow - 1) * stride + kernel - w - pad;
  return tf.tidy(() => {
    let y = x;
    if (extraH < 0 || extraW < 0) y = tf.slice(y, [0, 0, 0, 0], [-1, h + Math.min(extraH, 0), w + Math.min(extraW, 0), -1]);
    if (pad > 0 || extraH > 0 || extraW > 0) {
      y = tf.pad(
        y,
        [
          [0, 0],
          [pad, Math.max(extraH, 0)],
          [pad, Math.max(extraW, 0)],
          [0, 0],
        ],
        -Infinity,
      );
    }
    return tf.maxPool(y, kernel, stride, 'valid');
  });
}

/** SSD's Normalize layer (across_spatial false, eps 1e-10): x / sqrt(sum over channels of x^2 + eps) x scale[c]. */
export const L2NORM_EPS = 1e-10;
export function l2Normalize(x: tf.Tensor4D, scale: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.sum(tf.square(x), -1, true), L2NORM_EPS))), scale));
}

/** Caffe's Concat along channels: the channel axis is the last one in NHWC. */
export function concatChannels(xs: tf.Tensor4D[]): tf.Tensor4D {
  return tf.concat(xs, 3);
}
