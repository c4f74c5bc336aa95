// Evaluate a model on held-out images: inference-mode forward passes in batches, SSD's detection output
// (decode + per-class NMS), then the VOC (and on request COCO) metric (eval/score.ts). Shared by `dsod train`
// (periodic and final evaluations) and `dsod eval`.
import type { Detection, DetectOptions } from '../boxes/detect';
import { detectArrays } from '../boxes/detect-arrays';
import { BatchLoader } from '../data/batches';
import type { DetectionDataset, ImageRecord } from '../data/types';
import type { CocoResult } from '../eval/coco';
import { scoreDetections } from '../eval/score';
import type { VocResult } from '../eval/voc';
import type { DsodModel } from '../model/model';
import { predictArrays } from '../infer/predict';
import type { MetricName } from '../../protocol/engine-events';

export interface EvalOptions {
  metric: MetricName;
  batchSize?: number;
  /** Evaluate the first N images only (periodic evaluations during training); default all. */
  maxImages?: number;
  detect?: DetectOptions;
  variances?: readonly [number, number, number, number];
  /** Checked between batches: an evaluation in progress gives way to a stop request (returns null). */
  shouldStop?: () => boolean;
}

export interface EvalOutcome {
  metric: MetricName;
  value: number;
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
  const loader = new BatchLoader(subset, { batchSize: o.batchSize ?? 8, width, height, augment: false });
  const records: ImageRecord[] = [];
  const detections: Detection[][] = [];
  const detectOptions: DetectOptions = { ...o.detect, ...(o.variances ? { variances: o.variances } : {}) };
  try {
    for (;;) {
      await new Promise((r) => setImmediate(r)); // let signal handlers run (see trainer.ts)
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
  const s = scoreDetections(records, detections, dataset.classNames, o.metric);
  return { ...s, images: records.length, records, detections, seconds: (performance.now() - started) / 1000 };
}
