// `dsod eval <spec> --weights FILE`: the held-out mAP of trained weights (VOC07 11-point by default), per class.
import { join, resolve } from 'node:path';
import { defaultBoxes } from '../../core';
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../data/files';
import { writePrCurves } from '../eval/curves';
import { loadSplit, resolveDataSource } from '../train/data-source';
import { evaluateModel } from '../train/evaluate';
import { choiceOption, parseCommand, UsageError } from './args';
import { chooseBackend, createSink, runEngineCommand, type Io } from './engine-command';
import { loadTrainedModel } from './model-file';
import { METRIC_NAMES } from './reporter';
import { loadSpec } from './spec-file';
import { METRICS } from './train';

export const EVAL_USAGE = `  eval <spec>        Evaluate trained weights on held-out images
      --weights FILE     A checkpoint (.dsodckpt) or weights file (.dsodw), e.g. runs/tiny/weights.dsodw
      --data DIR         A VOC folder or a COCO instances JSON (default: the spec's data.root)
      --split NAME       VOC list(s) to evaluate, comma-separated (default: the spec's data.test, else test)
      --metric NAME      voc07 (default: VOC2007 11-point mAP), voc (all-point) or coco (AP@[.5:.95])
      --out DIR          Also write DIR/metrics.json and DIR/pr-curves.json
      --backend NAME     As for train
      --json             Print events as JSON lines on stdout
`;

export async function evalCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('eval', args, {
    weights: { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string' },
    metric: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const sink = createSink(io, values.json === true);
  return runEngineCommand(sink, async () => {
    if (positionals.length !== 1) throw new UsageError('eval takes exactly one spec file');
    if (!values.weights) throw new UsageError('eval needs --weights FILE (a run folder holds weights.dsodw)');
    const metric = choiceOption('metric', values.metric, METRICS) ?? 'voc07';
    const spec = loadSpec(positionals[0]);
    await chooseBackend(sink, values.backend);
    const source = resolveDataSource(spec.analysis.spec, spec.path, values.data ?? null);
    const splits = values.split
      ? values.split
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
    if (splits && source.format === 'coco') throw new UsageError('--split names VOC lists; for COCO pass the instances JSON with --data');
    const test = await loadSplit(source, 'test', spec.analysis.spec, splits);
    const { model, step } = loadTrainedModel(spec, values.weights);
    try {
      const r = (await evaluateModel(model, test, defaultBoxes(spec.analysis), { metric, variances: spec.analysis.spec.priors.variances }))!;
      const split = (splits ?? source.test).join('+');
      let curves: string | null = null;
      if (values.out) {
        const out = resolve(values.out);
        mkdirSync(out, { recursive: true });
        curves = join(out, 'pr-curves.json');
        await writePrCurves(curves, { voc: r.voc, ...(r.coco ? { coco: r.coco } : {}) });
        const record = { weights: resolve(values.weights), step, split, metric, value: r.value, extras: r.extras, perClass: r.perClass, images: r.images };
        await writeFileAtomic(join(out, 'metrics.json'), JSON.stringify(record, null, 1) + '\n');
      }
      sink.print(classTable(r.perClass, METRIC_NAMES[metric]));
      sink.emit({
        type: 'metric',
        metric,
        value: r.value,
        extras: { ...r.extras, evalSeconds: r.seconds },
        perClass: r.perClass,
        step,
        elapsedSec: r.seconds,
        split,
        images: r.images,
        curves,
      });
      if (test.report.problems.length)
        sink.emit({
          type: 'log',
          level: 'warn',
          message: `skipped ${test.report.skippedImages} images and ${test.report.skippedObjects} objects (${test.report.problems.length} problems)`,
        });
      return { reason: 'completed', step, exitCode: 0, metric: { metric, value: r.value } };
    } finally {
      model.dispose();
    }
  });
}

function classTable(rows: { name: string; ap: number | null }[], title: string): string {
  const w = Math.max(5, ...rows.map((r) => r.name.length));
  return [`${'class'.padEnd(w)}  AP`, ...rows.map((r) => `${r.name.padEnd(w)}  ${r.ap === null ? '-' : r.ap.toFixed(4)}`), `(${title})`].join('\n');
}
