// The files of a run folder that other processes read (the VS Code dashboard, report.html, notebooks): one
// definition, written by the engine (engine/train/run-files.ts, engine/eval/curves.ts) and read by everyone else.
// No imports but types: the browser bundle takes it as it is.
import type { EngineName, MetricEvent } from './engine-events';

/**
 * A run folder (`dsod train --out RUNDIR`; in VS Code, one per run under the setting `dsod.runs.root`):
 *   events.jsonl    every event of every process that worked on the run: train, eval --run, infer --run (appended
 *                   whole lines; protocol/engine-events.ts); processes are told apart by their `start` events
 *   spec.dsod.yaml  the spec as trained (a copy: the original may change afterwards)
 *   weights.dsodw   the latest weights alone (for `dsod eval` and `dsod infer`)
 *   metrics.json    every evaluation: step, seconds of training, mAP, per-class AP (MetricRecordData below)
 *   pr-curves.json  precision-recall curves of the latest evaluation (PrCurvesData below)
 *   checkpoints/    step-NNNNNNNN.dsodckpt (tfjs engine) or step-NNNNNNNN.pt (torch engine), the last few
 *                   (CHECKPOINT_KINDS below; superseded-<time>/: later ones set aside by `train --from`)
 *   inference/      detections.json of `dsod infer --run` (with each image's ground truth when known)
 *   report.html     the run dashboard as one offline file (`dsod report`; refreshed after each command)
 *   .lock           the pid of the process training the run (engine/train/run-lock.ts)
 */
export const RUN_FILES = {
  events: 'events.jsonl',
  spec: 'spec.dsod.yaml',
  weights: 'weights.dsodw',
  metrics: 'metrics.json',
  curves: 'pr-curves.json',
  checkpoints: 'checkpoints',
  inference: 'inference',
  inferenceRecord: 'inference/detections.json',
  report: 'report.html',
  lock: '.lock',
} as const;

/**
 * The checkpoint files of a run folder, one kind per engine: each engine writes its own format (engine/train/checkpoint.ts;
 * engine/torch/dsod_torch/train.py, which cannot import this and writes the same pattern) under the same name
 * pattern, step-<step, 8 digits or more>.<extension>. Every reader (the trainers, the run lists, the dashboard and its
 * host) asks this table which engine and step a file is, instead of matching names of its own.
 */
export const CHECKPOINT_KINDS = [
  { engine: 'tfjs', extension: '.dsodckpt' },
  { engine: 'torch', extension: '.pt' },
] as const satisfies readonly { engine: EngineName; extension: string }[];

/** A checkpoint file as its name says it: the engine that wrote it (and reads it back) and its step. */
export interface CheckpointName {
  engine: EngineName;
  step: number;
}

const CHECKPOINT_NAME = /^step-(\d+)(\.[a-z]+)$/;

/** The engine and step of a checkpoint file name (a base name: no folder), or null when it is no checkpoint. */
export function checkpointOfName(name: string): CheckpointName | null {
  const m = CHECKPOINT_NAME.exec(name);
  const kind = m ? CHECKPOINT_KINDS.find((k) => k.extension === m[2]) : undefined;
  if (!m || !kind) return null;
  const step = Number(m[1]);
  return Number.isSafeInteger(step) ? { engine: kind.engine, step } : null;
}

/** The file name of an engine's checkpoint at `step`. */
export function checkpointFileName(engine: EngineName, step: number): string {
  const kind = CHECKPOINT_KINDS.find((k) => k.engine === engine)!;
  return `step-${String(step).padStart(8, '0')}${kind.extension}`;
}

/** One evaluation as metrics.json keeps it: { version: 1, evaluations: MetricRecordData[] }; the fields of its metric event. */
export type MetricRecordData = Pick<MetricEvent, 'metric' | 'value' | 'extras' | 'perClass' | 'step' | 'elapsedSec' | 'split' | 'images'>;

/** One class's curve: a point per detection that adds recall, and the score threshold that gives it. */
export interface PrCurveData {
  recall: number[];
  precision: number[];
  score: number[];
}

/** pr-curves.json: the precision-recall curves of a run's latest evaluation. */
export interface PrCurvesData {
  version: 1;
  voc?: {
    iouThreshold: number;
    map11: number;
    mapArea: number;
    classes: { label: number; name: string; positives: number; ap11: number | null; apArea: number | null; curve: PrCurveData }[];
  };
  coco?: {
    ap: number;
    ap50: number;
    ap75: number;
    recallThresholds: number[];
    classes: { label: number; name: string; ap: number | null; at50: number[] | null; at75: number[] | null; mean: number[] | null }[];
  };
}
