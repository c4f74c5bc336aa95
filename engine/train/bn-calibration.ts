// Batch-norm statistics recomputed for the current weights before an evaluation ("precise BN").
//
// Why: Caffe's running averages forget slowly (moving-average fraction 0.999: a statistic from 700 steps ago still
// weighs half). Over DSOD300's 100k iterations that lag is harmless; over the tiny example's few thousand steps the
// weights move faster than the averages follow, and inference normalises with stale statistics. Measured on the tiny
// example: see the report. The statistics are reset and re-accumulated, with Caffe's own update, over a fixed set of
// training images (the first N, resized, in order), so they depend only on the weights: a resumed run recalibrates
// to the same values bit for bit.
import * as tf from '@tensorflow/tfjs';
import { BatchLoader } from '../data/batches';
import type { DetectionDataset } from '../data/types';
import type { DsodModel } from '../model/model';
import type { WeightMap } from '../model/weights';
import type { CheckpointMeta } from './checkpoint';

const STAT_ROLES = new Set(['mean_sum', 'var_sum', 'factor']);

/** The trainer's default number of calibration micro-batches (also for checkpoints that predate the record). */
export const DEFAULT_CALIBRATION_BATCHES = 50;

/** How a checkpoint's run recomputed the statistics before evaluating it (`dsod eval` and a resumed run repeat it). */
export function calibrationOf(meta: Pick<CheckpointMeta, 'calibration' | 'batch' | 'accumulate'>): { batches: number; batchSize: number } {
  return meta.calibration ?? { batches: DEFAULT_CALIBRATION_BATCHES, batchSize: meta.batch / meta.accumulate };
}

function statParams(model: DsodModel) {
  return model.params.filter((p) => STAT_ROLES.has(p.role));
}

/** A copy of the running statistics (to evaluate with recalibrated ones, then put the training ones back). */
export async function snapshotStats(model: DsodModel): Promise<WeightMap> {
  const out: WeightMap = {};
  for (const p of statParams(model)) out[p.name] = { shape: [...p.variable.shape], values: (await p.variable.data()) as Float32Array };
  return out;
}

export function restoreStats(model: DsodModel, snap: WeightMap): void {
  for (const p of statParams(model)) {
    const s = snap[p.name];
    tf.tidy(() => p.variable.assign(tf.tensor(s.values, s.shape, 'float32')));
  }
}

/** Reset every running statistic and re-accumulate it over `batches` micro-batches of the first training images. */
export async function recalibrateBatchNorm(model: DsodModel, data: DetectionDataset, o: { batches: number; batchSize: number }): Promise<number> {
  for (const p of statParams(model)) tf.tidy(() => p.variable.assign(tf.zerosLike(p.variable)));
  const [height, width] = model.inputShape;
  const loader = new BatchLoader(data, { batchSize: o.batchSize, width, height, augment: false, steps: o.batches });
  let images = 0;
  try {
    for (;;) {
      const batch = await loader.next();
      if (!batch) break;
      if (batch.size === 0) continue;
      tf.tidy(() => {
        const x = tf.tensor4d(batch.images, batch.shape);
        model.forward(x, { training: true, updateStats: true });
      });
      images += batch.size;
    }
  } finally {
    loader.close();
  }
  return images;
}
