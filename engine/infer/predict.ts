// One inference forward pass read back to the CPU: the raw head outputs, in Caffe's prior order, for detection.
import * as tf from '@tensorflow/tfjs';
import type { DsodModel } from '../model/model';

/** Box offsets [N·P·4] and class scores [N·P·C] for a batch of NHWC images; every tensor is disposed. */
export async function predictArrays(
  model: DsodModel,
  images: Float32Array,
  shape: [number, number, number, number],
): Promise<{ loc: Float32Array; conf: Float32Array }> {
  const x = tf.tensor4d(images, shape);
  const out = model.forward(x);
  try {
    const [loc, conf] = (await Promise.all([out.loc.data(), out.conf.data()])) as [Float32Array, Float32Array];
    return { loc, conf };
  } finally {
    tf.dispose([x, out.loc, out.conf]);
  }
}

/** What detection needs of a network, whatever runs it (the tfjs model, an onnxruntime session). */
export interface Predictor {
  /** [height, width, channels] of one input image. */
  inputShape: [number, number, number];
  /** Classes per prior, background included. */
  numClasses: number;
  predict(images: Float32Array, shape: [number, number, number, number]): Promise<{ loc: Float32Array; conf: Float32Array }>;
}

export function tfjsPredictor(model: DsodModel): Predictor {
  return { inputShape: model.inputShape, numClasses: model.numClasses, predict: (images, shape) => predictArrays(model, images, shape) };
}
