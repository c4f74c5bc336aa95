// `dsod eval --detections FILE`: a detections file scored against the ground truth, no network and no backend.
// The classes come from the spec (given, the run's, or the one `dsod infer` names in the file), else from the data.
import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { MetricName } from '../../protocol/engine-events';
import { DetectionsFileError, readDetectionsFile } from '../eval/detections-file';
import { scoreDetections } from '../eval/score';
import { loadSplit } from '../data/source';
import { UsageError } from './args';
import type { CommandEnd } from './engine-command';
import { emitStart, reportEvaluation } from './eval-report';
import type { EventSink } from './reporter';
import { latestMeta, targetData, targetSpec } from './run-target';
import { loadSpec, type LoadedSpec } from './spec-file';

export interface DetectionsRequest {
  file: string;
  specArg: string | undefined;
  runDir: string | null;
  data: string | undefined;
  splits: string[] | undefined;
  metric: MetricName;
  out: string | null;
}

export async function scoreDetectionsFile(sink: EventSink, o: DetectionsRequest): Promise<CommandEnd> {
  const started = performance.now();
  const file = resolve(o.file);
  if (!existsSync(file)) throw new DetectionsFileError(`--detections ${o.file}: no such file`);
  const given = targetSpec(o.specArg, o.runDir);
  // The spec dsod infer names is the original file: its data.root counts, as a spec named on the command line does.
  const named = given.spec ? null : specNamedIn(file);
  const spec = given.spec ?? named;
  const source = targetData(spec, given.explicit || named !== null, o.data, o.runDir ? latestMeta(o.runDir) : null);
  if (o.splits && source.format === 'coco') throw new UsageError('--split names VOC lists; for COCO pass the instances JSON with --data');
  const gt = await loadSplit(source, 'test', spec?.analysis.spec ?? null, o.splits);
  const loaded = readDetectionsFile(file, gt, { cocoFiles: source.format === 'coco' ? source.test : [] });
  if (o.runDir) sink.attachRunDir(o.runDir);
  emitStart(sink, { command: 'eval', spec, specPath: file, runDir: o.runDir, step: null, train: 0, test: gt.records.length });
  const n = loaded.detections.reduce((s, d) => s + d.length, 0);
  sink.emit({ type: 'log', level: 'info', message: `${n} detections from ${file} (${loaded.format}) on ${gt.records.length} images of ${gt.root}` });
  if (loaded.outside)
    sink.emit({
      type: 'log',
      level: 'info',
      message: `${loaded.outside} ${loaded.outside === 1 ? 'entry' : 'entries'} of ${file} for images of the dataset outside the split scored (${(o.splits ?? source.test).join('+')}): left out`,
    });
  if (loaded.missing)
    sink.emit({
      type: 'log',
      level: 'warn',
      message: `${loaded.missing} of the ${gt.records.length} images have no entry in ${file}: scored as images with no detections`,
    });
  if (loaded.threshold !== null && loaded.threshold > 0.01)
    sink.emit({
      type: 'log',
      level: 'warn',
      message: `${file} keeps only detections scoring ${loaded.threshold} or more (dsod infer --threshold): the precision-recall curve stops there and AP is lower than the detector's; infer with --threshold 0 to score all`,
    });
  if (loaded.dropped) sink.emit({ type: 'log', level: 'info', message: `${loaded.dropped} detections of categories outside the evaluated classes left out` });
  const scores = scoreDetections(gt.records, loaded.detections, gt.classNames, o.metric);
  const seconds = (performance.now() - started) / 1000;
  return reportEvaluation(sink, {
    scores,
    images: gt.records.length,
    seconds,
    step: null,
    elapsedSec: seconds,
    split: (o.splits ?? source.test).map((s) => basename(s)).join('+'),
    runDir: o.runDir,
    out: o.out,
    source: file,
  });
}

/** The spec `dsod infer` wrote into its document, when that file is still there. */
function specNamedIn(file: string): LoadedSpec | null {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { spec?: unknown };
    return typeof doc.spec === 'string' && existsSync(doc.spec) ? loadSpec(doc.spec) : null;
  } catch {
    return null;
  }
}
