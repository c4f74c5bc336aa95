// Evaluate a model on held-out images: inference-mode forward passes in batches, SSD's detection output
// (decode + per-class NMS), then the VOC (and on request COCO) metric. Shared by `dsod train` (periodic and
// final evaluations) and `dsod eval`.
import type { Detection, DetectOptions } from '../boxes/detect';
import { detectArrays } from '../boxes/detect-arrays';
import { BatchLoader } from '../data/batches';
import type { DetectionDataset, ImageRecord } from '../data/types';
import { evaluateCoco, type CocoResult } from '../eval/coco';
import { evaluateVoc, type VocResult } from '../eval/voc';
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
  const voc = evaluateVoc(records, detections, dataset.classNames);
  const coco = o.metric === 'coco' ? evaluateCoco(records, detections, dataset.classNames) : null;
  const extras: Record<string, number> = { map07: voc.map11, mapArea: voc.mapArea };
  if (coco) Object.assign(extras, { ap: coco.ap, ap50: coco.ap50, ap75: coco.ap75 });
  const value = o.metric === 'voc07' ? voc.map11 : o.metric === 'voc' ? voc.mapArea : coco!.ap;
  const perClass =
    o.metric === 'coco'
      ? coco!.classes.map((c) => ({ name: c.name, ap: c.ap }))
      : voc.classes.map((c) => ({ name: c.name, ap: o.metric === 'voc07' ? c.ap11 : c.apArea }));
  return { metric: o.metric, value, extras, perClass, images: records.length, records, detections, voc, coco, seconds: (performance.now() - started) / 1000 };
}
