// Batch-norm statistics as the run had them when it evaluated. A checkpoint written mid-run carries Caffe's running
// averages; before each evaluation the run recomputed them for its current weights (train/bn-calibration.ts) over
// the first N micro-batches of its training images, in order, without augmentation. Repeating that here, with the
// same images and batches, gives the run's own number exactly. Weights recalibrated already (a finished run's last
// checkpoint) and plain .dsodw files (which say nothing) are used as stored.
import type { DetectionDataset } from '../data/types';
import type { DsodModel } from '../model/model';
import { calibrationOf, recalibrateBatchNorm } from '../train/bn-calibration';
import type { CheckpointMeta } from '../train/checkpoint';
import { DataSourceError, loadSplit, type DataSource } from '../data/source';
import type { LoadedSpec } from './spec-file';

export { calibrationOf };

export function needsRecalibration(meta: CheckpointMeta | null): meta is CheckpointMeta {
  return meta !== null && meta.statsRecalibrated !== true && calibrationOf(meta).batches > 0;
}

/** The run's training images (the data its checkpoint records, else `fallback`'s training split). */
export async function calibrationImages(meta: CheckpointMeta, fallback: DataSource | null, spec: LoadedSpec): Promise<DetectionDataset> {
  const source = meta.data ? { ...meta.data } : fallback;
  try {
    if (!source) throw new DataSourceError("the run's training images are unknown: no --data, no data.root in the spec, none recorded in the checkpoint");
    return await loadSplit(source, 'train', spec.analysis.spec);
  } catch (e) {
    if (!(e instanceof DataSourceError)) throw e;
    throw new DataSourceError(
      `${e.message} (a mid-run checkpoint's batch-norm statistics are recomputed from the run's training images, as the run did before evaluating; --stored-stats uses them as stored)`,
    );
  }
}

/** Recompute the statistics as the run did; the number of images used. */
export async function recalibrateLikeTheRun(model: DsodModel, meta: CheckpointMeta, train: DetectionDataset): Promise<number> {
  return recalibrateBatchNorm(model, train, calibrationOf(meta));
}
