// Writing a run folder's files besides checkpoints (the layout and the formats: protocol/run-files.ts).
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileCheckError, ioErrorOf, readFileChecked, writeFileAtomic } from '../data/files';
import { EngineError } from '../errors';
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

/**
 * A metrics.json that cannot be read or is damaged (code `input`). It holds the run's history of evaluations, so it is
 * reported and never replaced: every command that would add to it or trim it refuses.
 */
export class MetricsFileError extends EngineError {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(
      'input',
      `${path}: ${problem}. It holds the run's evaluations, so it is not overwritten: repair it, or move it aside ` +
        `(each evaluation is also a metric event in ${RUN_FILES.events})`,
      path,
    );
  }
}

const MAX_METRICS_BYTES = 256 * 1024 * 1024;

/** The run's evaluations: none when metrics.json does not exist; a MetricsFileError when it is unreadable or damaged. */
export function readMetrics(runDir: string): MetricRecord[] {
  const file = join(runDir, RUN_FILES.metrics);
  let text: string;
  try {
    text = readFileChecked(file, MAX_METRICS_BYTES, 'metrics file').toString('utf8');
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') return [];
    throw new MetricsFileError(file, `cannot be read: ${e instanceof FileCheckError ? e.message : (errno ?? (e as Error).message)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new MetricsFileError(file, `not valid JSON (${(e as Error).message})`);
  }
  const problem = metricsProblem(doc);
  if (problem) throw new MetricsFileError(file, problem);
  return (doc as { evaluations: MetricRecord[] }).evaluations;
}

/** What is wrong with a metrics.json document, in the fields the engine relies on (protocol/run-files.ts), or null. */
function metricsProblem(doc: unknown): string | null {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return `not a metrics document (a JSON object with "version": 1 and "evaluations")`;
  const m = doc as { version?: unknown; evaluations?: unknown };
  if (m.version !== 1) return `"version" is ${JSON.stringify(m.version) ?? 'missing'}, not 1`;
  if (!Array.isArray(m.evaluations)) return `"evaluations" is ${m.evaluations === undefined ? 'missing' : 'not a list'}`;
  for (let i = 0; i < m.evaluations.length; i++) {
    const e: unknown = m.evaluations[i];
    const at = `evaluations[${i}]`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return `${at} is not an evaluation (an object)`;
    const r = e as Record<string, unknown>;
    const bad = (field: string, want: string) => `${at}.${field} is ${JSON.stringify(r[field]) ?? 'missing'}, not ${want}`;
    if (typeof r.metric !== 'string') return bad('metric', 'a metric name');
    if (typeof r.split !== 'string') return bad('split', 'a split name');
    if (r.step !== null && !(Number.isInteger(r.step) && (r.step as number) >= 0)) return bad('step', 'a step number or null');
    if (!(Number.isInteger(r.images) && (r.images as number) >= 0)) return bad('images', 'a count of images');
  }
  return null;
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
