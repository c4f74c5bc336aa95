// `dsod eval [spec] --weights FILE | --run RUNDIR | --detections FILE`: the held-out mAP of trained weights (VOC07
// 11-point by default), per class; or the same for a detections file, without a network (eval-detections.ts).
import { basename, resolve } from 'node:path';
import { defaultBoxes } from '../../core';
import { formatProblem } from '../data/types';
import { loadSplit } from '../data/source';
import { evaluateModel } from '../eval/evaluate';
import { readMetrics } from '../train/run-files';
import { choiceOption, intOption, parseCommand, UsageError } from './args';
import { chooseBackend, createSink, runEngineCommand, type Io } from './engine-command';
import { scoreDetectionsFile } from './eval-detections';
import { emitStart, reportEvaluation } from './eval-report';
import { loadTrainedModel } from './model-file';
import { runDirOption, splitList, targetData, targetSpec, targetWeights } from './run-target';
import { calibrationImages, calibrationOf, needsRecalibration, recalibrateLikeTheRun } from './statistics';
import { ENGINES, torchEvaluate } from './torch-engine';
import { METRICS } from './train';

export const EVAL_USAGE = `  eval [spec]        Evaluate trained weights, or score a detections file, on held-out images
      --weights FILE     A checkpoint (.dsodckpt) or weights file (.dsodw). A mid-run checkpoint's batch-norm
                         statistics are recomputed as the run did before evaluating: its own number, exactly
      --run RUNDIR       A run folder: its spec, its latest checkpoint (unless --weights), its data; the result is
                         added to RUNDIR/metrics.json (earlier evaluations kept), events.jsonl and pr-curves.json
      --detections FILE  Score detections without a network: \`dsod infer\`'s detections.json (images matched by path,
                         else by unique file name), or COCO results [{image_id, category_id, bbox, score}] against
                         the COCO instances JSON given with --data
      --data DIR         A VOC folder or a COCO instances JSON (default: the spec's data.root, else the run's data)
      --split NAME       VOC list(s) to evaluate, comma-separated (default: the spec's data.test, else test)
      --eval-images N    Only the first N images (the subset \`train --eval-images N\` evaluates periodically)
      --metric NAME      voc07 (default: VOC2007 11-point mAP), voc (all-point) or coco (AP@[.5:.95] and the
                         12-number summary of pycocotools)
      --stored-stats     Use a checkpoint's batch-norm statistics as stored (no recomputation)
                         Images that cannot be used (undecodable, or not their annotation's size) are reported and
                         counted (extras.skippedImages); more than 5% skipped fails the evaluation (code data)
      --out DIR          Also write DIR/metrics.json and DIR/pr-curves.json
      --backend NAME     As for train
      --engine NAME      tfjs (default) or torch (as for train); the torch engine detects, this evaluator scores
      --json             Print events as JSON lines on stdout
`;

export async function evalCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('eval', args, {
    weights: { type: 'string' },
    run: { type: 'string' },
    detections: { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string' },
    'eval-images': { type: 'string' },
    metric: { type: 'string' },
    'stored-stats': { type: 'boolean', default: false },
    out: { type: 'string' },
    backend: { type: 'string' },
    engine: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const sink = createSink(io, values.json === true);
  return runEngineCommand(sink, async () => {
    if (positionals.length > 1) throw new UsageError('eval takes at most one spec file');
    const metric = choiceOption('metric', values.metric, METRICS) ?? 'voc07';
    const engine = choiceOption('engine', values.engine, ENGINES) ?? 'tfjs';
    const evalImages = intOption('eval-images', values['eval-images'], 1);
    const runDir = runDirOption(values.run);
    // The evaluation goes into RUNDIR/metrics.json: a damaged one is refused before the work, not after.
    if (runDir) readMetrics(runDir);
    const splits = splitList(values.split);
    const out = values.out ?? null;
    if (values.detections) {
      if (engine === 'torch') throw new UsageError('--detections scores a file: no engine runs (leave out --engine)');
      if (values.weights) throw new UsageError('--detections scores a file: --weights does not apply');
      if (evalImages !== undefined) throw new UsageError('--eval-images applies to weights; a detections file is scored on every image of the split');
      return scoreDetectionsFile(sink, { file: values.detections, specArg: positionals[0], runDir, data: values.data, splits, metric, out });
    }
    if (!positionals.length && !runDir) throw new UsageError('eval takes a spec file (or --run RUNDIR, or --detections FILE)');
    const { spec, explicit } = targetSpec(positionals[0], runDir);
    const weights = targetWeights(values.weights, runDir);
    if (!spec || !weights)
      throw new UsageError(
        runDir ? `${runDir} has no checkpoint or weights yet` : 'eval needs --weights FILE (a run folder holds weights.dsodw), or --run RUNDIR',
      );
    if (engine === 'torch') {
      if (values.backend) throw new UsageError('--backend chooses a tfjs backend: the torch engine picks its device itself');
      return torchEvaluate(sink, { spec, explicit, weights, runDir, data: values.data, splits, evalImages, metric, out });
    }
    await chooseBackend(sink, values.backend);
    const { model, step, meta } = loadTrainedModel(spec, weights);
    try {
      const source = targetData(spec, explicit, values.data, meta);
      if (splits && source.format === 'coco') throw new UsageError('--split names VOC lists; for COCO pass the instances JSON with --data');
      const test = await loadSplit(source, 'test', spec.analysis.spec, splits);
      const recalibrate = needsRecalibration(meta) && values['stored-stats'] !== true;
      const trainSet = recalibrate ? await calibrationImages(meta, source, spec) : null;
      if (runDir) sink.attachRunDir(runDir);
      const c = meta ? calibrationOf(meta) : null;
      emitStart(sink, {
        command: 'eval',
        spec,
        runDir,
        step,
        steps: meta?.schedule.iterations,
        train: trainSet && c ? Math.min(trainSet.records.length, c.batches * c.batchSize) : 0,
        test: Math.min(evalImages ?? Infinity, test.records.length),
      });
      if (trainSet) {
        const n = await recalibrateLikeTheRun(model, meta!, trainSet);
        sink.emit({
          type: 'log',
          level: 'info',
          message: `batch-norm statistics of ${basename(weights)} (step ${step}) recomputed over ${n} training images, as the run did before evaluating`,
        });
      }
      const r = (await evaluateModel(model, test, defaultBoxes(spec.analysis), {
        metric,
        variances: spec.analysis.spec.priors.variances,
        ...(evalImages !== undefined ? { maxImages: evalImages } : {}),
        onSkip: (p) => sink.emit({ type: 'log', level: 'warn', message: formatProblem(p) }),
      }))!;
      if (test.report.problems.length)
        sink.emit({
          type: 'log',
          level: 'warn',
          message: `skipped ${test.report.skippedImages} images and ${test.report.skippedObjects} objects (${test.report.problems.length} problems)`,
        });
      return await reportEvaluation(sink, {
        scores: r,
        images: r.images,
        seconds: r.seconds,
        step,
        elapsedSec: meta?.elapsedSec ?? r.seconds,
        split: (splits ?? source.test).map((s) => basename(s)).join('+'),
        runDir,
        out,
        source: resolve(weights),
      });
    } finally {
      model.dispose();
    }
  });
}
