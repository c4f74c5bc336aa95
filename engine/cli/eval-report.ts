// What an evaluation leaves, whether it ran a network or scored a detections file: for people the class table and,
// under COCO, pycocotools' 12-line summary; the metric event; with --run, the evaluation added to RUNDIR/metrics.json
// (the run's other evaluations kept) and RUNDIR/pr-curves.json; with --out, DIR/metrics.json and DIR/pr-curves.json.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EngineCommand } from '../../protocol/engine-events';
import { writeFileAtomic } from '../data/files';
import { formatCocoSummary } from '../eval/coco-summary';
import { writePrCurves } from '../eval/curves';
import type { Scores } from '../eval/score';
import { recordMetric, RUN_FILES, type MetricRecord } from '../train/run-files';
import { EXIT } from '../errors';
import type { CommandEnd } from './engine-command';
import { METRIC_NAMES, type EventSink } from './reporter';
import type { LoadedSpec } from './spec-file';

export interface Evaluation {
  scores: Scores;
  images: number;
  seconds: number;
  /** The optimizer step of the weights (null: unknown, or a detections file). */
  step: number | null;
  /** Seconds of training behind the weights (a checkpoint's), else the evaluation's own. */
  elapsedSec: number;
  split: string;
  runDir: string | null;
  out: string | null;
  /** The weights or the detections file scored. */
  source: string;
}

export async function reportEvaluation(sink: EventSink, e: Evaluation): Promise<CommandEnd> {
  const { scores } = e;
  const data = { voc: scores.voc, ...(scores.coco ? { coco: scores.coco } : {}) };
  const record: MetricRecord = {
    metric: scores.metric,
    value: scores.value,
    extras: { ...scores.extras, evalSeconds: e.seconds },
    perClass: scores.perClass,
    step: e.step,
    elapsedSec: e.elapsedSec,
    split: e.split,
    images: e.images,
  };
  let curves: string | null = null;
  if (e.out) {
    const out = resolve(e.out);
    mkdirSync(out, { recursive: true });
    curves = join(out, RUN_FILES.curves);
    await writePrCurves(curves, data);
    const { metric, value, extras, perClass, images } = record;
    const single = { weights: resolve(e.source), step: e.step, split: e.split, metric, value, extras, perClass, images };
    await writeFileAtomic(join(out, RUN_FILES.metrics), JSON.stringify(single, null, 1) + '\n');
  }
  if (e.runDir) {
    curves = join(e.runDir, RUN_FILES.curves);
    await writePrCurves(curves, data);
    await recordMetric(e.runDir, record, { keepOthers: true });
  }
  sink.print(classTable(scores.perClass, METRIC_NAMES[scores.metric]));
  if (scores.coco) sink.print(formatCocoSummary(scores.coco.summary));
  sink.emit({ type: 'metric', ...record, curves });
  return { reason: 'completed', step: e.step, exitCode: EXIT.ok, metric: { metric: scores.metric, value: scores.value } };
}

/** The start event of `dsod eval` / `dsod infer` (a run's events.jsonl tells processes apart by it). */
export function emitStart(
  sink: EventSink,
  o: {
    command: EngineCommand;
    spec: LoadedSpec | null;
    specPath?: string;
    runDir: string | null;
    step: number | null;
    steps?: number;
    train: number;
    test: number;
  },
): void {
  sink.emit({
    type: 'start',
    command: o.command,
    spec: o.spec?.path ?? o.specPath ?? '',
    name: o.spec?.analysis.spec.name ?? '',
    runDir: o.runDir,
    step: o.step ?? 0,
    steps: o.steps ?? o.spec?.analysis.spec.train.iterations ?? 0,
    batch: 8,
    accumulate: 1,
    images: { train: o.train, test: o.test },
    resumed: false,
  });
}

function classTable(rows: { name: string; ap: number | null }[], title: string): string {
  const w = Math.max(5, ...rows.map((r) => r.name.length));
  return [`${'class'.padEnd(w)}  AP`, ...rows.map((r) => `${r.name.padEnd(w)}  ${r.ap === null ? '-' : r.ap.toFixed(4)}`), `(${title})`].join('\n');
}
