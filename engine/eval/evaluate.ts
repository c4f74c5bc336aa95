// Evaluate a model on held-out images: inference-mode forward passes in batches, SSD's detection output
// (decode + per-class NMS), then the VOC (and on request COCO) metric (eval/score.ts). Shared by `dsod train`
// (periodic and final evaluations) and `dsod eval`.
import type { Detection, DetectOptions } from '../boxes/detect';
import { detectArrays } from '../boxes/detect-arrays';
import { formatShare } from '../../core/format';
import { BatchLoader } from '../data/batches';
import { formatProblem, type DataProblem, type DetectionDataset, type ImageRecord } from '../data/types';
import type { CocoResult } from './coco';
import { scoreDetections } from './score';
import type { VocResult } from './voc';
import type { DsodModel } from '../model/model';
import { predictArrays } from '../infer/predict';
import type { MetricName } from '../../protocol/engine-events';
import { DataSourceError } from '../data/source';

/**
 * An evaluation fails when more than this share of its images cannot be used (unreadable, or not the size their
 * annotation states): its number would describe another test set. Each skipped image is reported either way.
 */
export const MAX_SKIPPED_SHARE = 0.05;

/** An evaluation that skipped too many images (the CLI's error code `data`). */
export class EvaluationDataError extends DataSourceError {}

export interface EvalOptions {
  metric: MetricName;
  batchSize?: number;
  /** Evaluate the first N images only (periodic evaluations during training); default all. */
  maxImages?: number;
  detect?: DetectOptions;
  variances?: readonly [number, number, number, number];
  /** Checked between batches: an evaluation in progress gives way to a stop request (returns null). */
  shouldStop?: () => boolean;
  /** Each image left out (its file and why), as it is found. */
  onSkip?: (problem: DataProblem) => void;
}

export interface EvalOutcome {
  metric: MetricName;
  value: number;
  /** The metric's own extras, and `skippedImages`: images of the set evaluated that could not be used. */
  extras: Record<string, number>;
  perClass: { name: string; ap: number | null }[];
  images: number;
  records: ImageRecord[];
  detections: Detection[][];
  voc: VocResult;
  coco: CocoResult | null;
  seconds: number;
}

export async function evaluateModel(model: DsodModel, dataset: DetectionDataset, priors: Float32Array, o: EvalOptions): Promise<EvalOutcome | null> {
  const started = performance.now();
  const [height, width] = model.inputShape;
  const subset = o.maxImages !== undefined && o.maxImages < dataset.records.length ? { ...dataset, records: dataset.records.slice(0, o.maxImages) } : dataset;
  const skipped: DataProblem[] = [];
  const loader = new BatchLoader(subset, {
    batchSize: o.batchSize ?? 8,
    width,
    height,
    augment: false,
    onSkip: (p) => {
      skipped.push(p);
      o.onSkip?.(p);
    },
  });
  const records: ImageRecord[] = [];
  const detections: Detection[][] = [];
  const detectOptions: DetectOptions = {
    ...o.detect,
    ...(o.variances ? { variances: o.variances } : {}),
  };
  try {
    for (;;) {
      await new Promise((r) => setImmediate(r)); // let signal handlers run (see train/trainer.ts)
      if (o.shouldStop?.()) return null;
      const batch = await loader.next();
      if (!batch) break;
      if (batch.size === 0) continue;
      const { loc, conf } = await predictArrays(model, batch.images, batch.shape);
      detections.push(...detectArrays(loc, conf, priors, model.numClasses, detectOptions));
      records.push(...batch.records);
    }
  } finally {
    loader.close();
  }
  const tooMany = skippedTooMany(skipped, subset.records.length);
  if (tooMany) throw tooMany;
  const s = scoreDetections(records, detections, dataset.classNames, o.metric);
  return {
    ...s,
    extras: { ...s.extras, skippedImages: skipped.length },
    images: records.length,
    records,
    detections,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * The error of an evaluation that could not use more than MAX_SKIPPED_SHARE of its `total` images (a score over what
 * is left would not be the split's), else null. Both engines' evaluations apply it (the torch engine's in its bridge).
 */
export function skippedTooMany(skipped: readonly DataProblem[], total: number): EvaluationDataError | null {
  if (skipped.length <= MAX_SKIPPED_SHARE * total) return null;
  const shown = skipped.slice(0, 5).map(formatProblem).join('\n  ');
  return new EvaluationDataError(
    `the evaluation skipped ${skipped.length} of ${total} images (${formatShare(skipped.length, total)}, more than the ${100 * MAX_SKIPPED_SHARE}% allowed):\n  ${shown}${skipped.length > 5 ? `\n  ... and ${skipped.length - 5} more` : ''}`,
  );
}
