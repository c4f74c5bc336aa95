// Writing a run folder's files besides checkpoints (the layout and the formats: protocol/run-files.ts).
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ioErrorOf, readFileChecked, writeFileAtomic } from '../data/files';
import { RUN_FILES, type MetricRecordData } from '../../protocol/run-files';

export { RUN_FILES };

export function ensureRunDir(runDir: string): void {
  const dir = join(runDir, RUN_FILES.checkpoints);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw ioErrorOf(e, dir, 'create');
  }
}

/** Append one line to events.jsonl: appends of whole lines, so a reader never sees a torn event from this writer. */
export function appendEventLine(runDir: string, line: string): void {
  const file = join(runDir, RUN_FILES.events);
  try {
    appendFileSync(file, line + '\n');
  } catch (e) {
    throw ioErrorOf(e, file, 'append to');
  }
}

/** One evaluation in metrics.json (its format: protocol/run-files.ts). */
export type MetricRecord = MetricRecordData;

export function readMetrics(runDir: string): MetricRecord[] {
  try {
    const m = JSON.parse(readFileChecked(join(runDir, RUN_FILES.metrics), 256 * 1024 * 1024, 'metrics file').toString('utf8')) as { evaluations?: MetricRecord[] };
    return Array.isArray(m.evaluations) ? m.evaluations : [];
  } catch {
    return [];
  }
}

/**
 * Add an evaluation. `dsod train` drops any later ones (a resumed run is redoing those steps, never checkpointed);
 * `dsod eval --run` (keepOthers) keeps every other evaluation, replaces only the same one (same step, metric, split
 * and image count) and inserts in step order: scoring an early checkpoint must not erase the run's history.
 */
export async function recordMetric(runDir: string, m: MetricRecord, o: { keepOthers?: boolean } = {}): Promise<void> {
  const old = readMetrics(runDir);
  let all: MetricRecord[];
  if (o.keepOthers) {
    const same = (e: MetricRecord) => e.step === m.step && e.metric === m.metric && e.split === m.split && e.images === m.images;
    all = old.filter((e) => !same(e));
    const at = m.step === null ? all.length : all.findIndex((e) => e.step === null || e.step > m.step!);
    all.splice(at < 0 ? all.length : at, 0, m);
  } else all = [...old.filter((e) => e.step === null || m.step === null || e.step < m.step), m];
  await writeMetrics(runDir, all);
}

/** Drop the evaluations after `step` (a run resumed from an earlier checkpoint); how many were dropped. */
export async function dropMetricsAfter(runDir: string, step: number): Promise<number> {
  const old = readMetrics(runDir);
  const kept = old.filter((e) => e.step === null || e.step <= step);
  if (kept.length !== old.length) await writeMetrics(runDir, kept);
  return old.length - kept.length;
}

async function writeMetrics(runDir: string, evaluations: MetricRecord[]): Promise<void> {
  await writeFileAtomic(join(runDir, RUN_FILES.metrics), JSON.stringify({ version: 1, evaluations }, null, 1) + '\n');
}
