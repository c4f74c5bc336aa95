// One optimizer step's arithmetic: forward and backward passes over its micro-batches, SSD's MultiBox loss, the mean
// gradient. The optimizer update and the loss guard are the run's (training-run.ts).
import * as tf from '@tensorflow/tfjs';
import { multiboxLoss } from '../boxes/loss';
import type { Batch, BatchLoader } from '../data/batches';
import type { DsodModel } from '../model/model';

export type StepResult = { ok: true; loss: number; loc: number; conf: number; grads: tf.Tensor[] } | { ok: false; message: string };

/** Forward and backward over `accumulate` micro-batches; the gradients are their mean (Caffe's iter_size). */
export async function runStep(model: DsodModel, vars: tf.Variable[], loader: BatchLoader, accumulate: number, priorCount: number): Promise<StepResult> {
  let sum: tf.Tensor[] | null = null;
  let loss = 0;
  let loc = 0;
  let conf = 0;
  for (let k = 0; k < accumulate; k++) {
    const batch: Batch | null = await loader.next();
    if (!batch || batch.size === 0 || !batch.targets) {
      if (sum) tf.dispose(sum);
      return { ok: false, message: 'the training data ran out of readable images' };
    }
    const n = batch.size;
    const x = tf.tensor4d(batch.images, batch.shape);
    const locT = tf.tensor3d(batch.targets.loc, [n, priorCount, 4]);
    const labels = tf.tensor2d(batch.targets.labels, [n, priorCount], 'int32');
    let parts: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(x, { training: true });
      const l = multiboxLoss(out.loc, out.conf, locT, labels);
      parts = [tf.keep(l.loc), tf.keep(l.conf)];
      return l.total;
    }, vars);
    const [v, lv, cv] = await Promise.all([value.data(), parts[0].data(), parts[1].data()]);
    tf.dispose([x, locT, labels, value, ...parts]);
    loss += v[0] / accumulate;
    loc += lv[0] / accumulate;
    conf += cv[0] / accumulate;
    const g = vars.map((w) => grads[w.name]);
    if (!sum) sum = g;
    else {
      const prev: tf.Tensor[] = sum;
      sum = tf.tidy(() => prev.map((s, i) => tf.add(s, g[i])));
      tf.dispose([...prev, ...g]);
    }
  }
  const grads = accumulate === 1 ? sum! : tf.tidy(() => sum!.map((s) => tf.div(s, accumulate)));
  if (accumulate > 1) tf.dispose(sum!);
  return { ok: true, loss, loc, conf, grads };
}
