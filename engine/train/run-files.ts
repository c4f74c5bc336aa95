// The files of a run folder besides checkpoints: what `dsod train --out RUNDIR` leaves for people and tools.
//   events.jsonl    every event of every process of the run (appended; see protocol/engine-events.ts)
//   spec.dsod.yaml  the spec as trained (a copy: the original may change afterwards)
//   weights.dsodw   the latest weights alone (for `dsod eval` and `dsod infer`)
//   metrics.json    every evaluation: step, seconds of training, mAP, per-class AP (the mAP-vs-time curve)
//   pr-curves.json  precision-recall curves of the latest evaluation
//   checkpoints/    step-NNNNNNNN.dsodckpt, the last few
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/files';
import type { MetricEvent } from '../../protocol/engine-events';

export const RUN_FILES = {
  events: 'events.jsonl',
  spec: 'spec.dsod.yaml',
  weights: 'weights.dsodw',
  metrics: 'metrics.json',
  curves: 'pr-curves.json',
} as const;

export function ensureRunDir(runDir: string): void {
  mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
}

/** Append one line to events.jsonl: appends of whole lines, so a reader never sees a torn event from this writer. */
export function appendEventLine(runDir: string, line: string): void {
  appendFileSync(join(runDir, RUN_FILES.events), line + '\n');
}

export type MetricRecord = Pick<MetricEvent, 'metric' | 'value' | 'extras' | 'perClass' | 'step' | 'elapsedSec' | 'split' | 'images'>;

export function readMetrics(runDir: string): MetricRecord[] {
  try {
    const m = JSON.parse(readFileSync(join(runDir, RUN_FILES.metrics), 'utf8')) as { evaluations?: MetricRecord[] };
    return Array.isArray(m.evaluations) ? m.evaluations : [];
  } catch {
    return [];
  }
}

/** Add an evaluation, dropping any later ones a resumed run is redoing (their steps were never checkpointed). */
export async function recordMetric(runDir: string, m: MetricRecord): Promise<void> {
  const kept = readMetrics(runDir).filter((e) => e.step === null || m.step === null || e.step < m.step);
  await writeFileAtomic(join(runDir, RUN_FILES.metrics), JSON.stringify({ version: 1, evaluations: [...kept, m] }, null, 1) + '\n');
}
