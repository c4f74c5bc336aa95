// `dsod infer <spec> --weights FILE <images or folders>`: detections as JSON (stdout, or DIR/detections.json with
// --out), and with --draw a PNG per image with its boxes drawn. With --run RUNDIR: the run's spec and latest weights,
// RUNDIR/inference/detections.json with each image's ground truth where the data has it, events in events.jsonl.
import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { defaultBoxes } from '../../core';
import { writeFileAtomic } from '../data/files';
import { DataSourceError, type DataSource } from '../data/source';
import { drawDetections } from '../infer/draw';
import { listImages } from '../infer/images';
import { inferImages } from '../infer/infer';
import { findTruth } from '../infer/truth';
import { RUN_FILES } from '../../protocol/run-files';
import { EXIT } from '../errors';
import { onnxPredictor } from '../onnx/predictor';
import { onnxRuntimeVersion } from '../onnx/runtime';
import { choiceOption, numberOption, parseCommand, UsageError } from './args';
import { chooseBackend, createSink, runEngineCommand, type Io } from './engine-command';
import { emitStart } from './eval-report';
import { loadTrainedModel } from './model-file';
import { runDirOption, targetData, targetSpec, targetWeights } from './run-target';
import { calibrationImages, needsRecalibration, recalibrateLikeTheRun } from './statistics';

export const INFER_USAGE = `  infer <spec> <images or folders...>
                     Detect objects; prints detections as JSON (pixel corners, class, score)
      --weights FILE     A checkpoint (.dsodckpt) or weights file (.dsodw)
      --run RUNDIR       A run folder: its spec (the <spec> argument may be left out), its latest checkpoint (unless
                         --weights); writes RUNDIR/inference/detections.json with each image's ground truth
                         ("truth", null when unknown) and appends events to RUNDIR/events.jsonl
      --data DIR         Where the ground truth is (a VOC folder or COCO JSON; default the spec's, else the run's)
      --out DIR          Write DIR/detections.json instead of printing
      --draw             Also write DIR/<image>.png with the boxes drawn (needs --out or --run)
      --threshold T      Lowest score reported (default 0.3)
      --backend NAME     As for train
      --runtime NAME     tfjs (default) or onnx: the network exported to ONNX in memory and run by onnxruntime-node
                         (its CPU provider; CUDA where its provider is installed); the same detections file
      --json             Print events as JSON lines on stdout (needs --out or --run)
`;

/** What runs the network: the tfjs engine, or onnxruntime-node on its ONNX export. */
export const RUNTIMES = ['tfjs', 'onnx'] as const;

const SPEC_FILE = /\.(ya?ml|json)$/i;

export async function inferCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('infer', args, {
    weights: { type: 'string' },
    run: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    draw: { type: 'boolean', default: false },
    threshold: { type: 'string' },
    backend: { type: 'string' },
    runtime: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const json = values.json === true;
  // Detections go to stdout without --out: then events and human lines go to stderr, keeping stdout one JSON document.
  const toStdout = !values.out && !values.run;
  const sink = createSink(toStdout && !json ? { stdout: io.stderr, stderr: io.stderr } : io, json);
  return runEngineCommand(sink, async () => {
    const runDir = runDirOption(values.run);
    if (runDir && values.out) throw new UsageError('--run writes RUNDIR/inference/: leave out --out');
    // With --run the spec may be left out: then every argument is an image or a folder.
    const withSpec = !runDir || (positionals.length > 0 && SPEC_FILE.test(positionals[0]));
    const specArg = withSpec ? positionals[0] : undefined;
    const inputs = withSpec ? positionals.slice(1) : positionals;
    if ((withSpec && !specArg) || inputs.length === 0) throw new UsageError('infer takes a spec file (or --run RUNDIR) and at least one image or folder');
    const weights = targetWeights(values.weights, runDir);
    if (!weights) throw new UsageError(runDir ? `${runDir} has no checkpoint or weights yet` : 'infer needs --weights FILE (a run folder holds weights.dsodw)');
    if (values.draw && toStdout) throw new UsageError('--draw needs --out DIR for the PNGs');
    if (json && toStdout) throw new UsageError('--json prints events on stdout: give --out DIR for the detections');
    const threshold = numberOption('threshold', values.threshold, 0, false) ?? 0.3;
    const runtime = choiceOption('runtime', values.runtime, RUNTIMES) ?? 'tfjs';
    const target = targetSpec(specArg, runDir);
    const spec = target.spec!; // a spec argument, or --run's copy
    const { images, problems } = listImages(inputs);
    for (const p of problems) sink.emit({ type: 'log', level: 'warn', message: p });
    if (!images.length) throw new UsageError('no images to detect on');
    await chooseBackend(sink, values.backend);
    const { model, step, meta } = loadTrainedModel(spec, weights);
    const out = runDir ? join(runDir, RUN_FILES.inference) : values.out ? resolve(values.out) : null;
    if (out) mkdirSync(out, { recursive: true });
    const s = spec.analysis.spec;
    const names = s.classes.names ?? Array.from({ length: s.classes.count }, (_, i) => (i === 0 ? 'background' : `class${i}`));
    const used = new Set<string>();
    try {
      // The data (ground truth, and training images for the statistics) is optional here: without it, no truth.
      let data: DataSource | null = null;
      try {
        data = targetData(spec, target.explicit, values.data, meta);
      } catch (e) {
        if (!(e instanceof DataSourceError) || values.data) throw e;
      }
      if (runDir) sink.attachRunDir(runDir);
      emitStart(sink, { command: 'infer', spec, runDir, step, steps: meta?.schedule.iterations, train: 0, test: images.length });
      if (needsRecalibration(meta)) {
        // The same statistics `dsod eval` and the run's evaluations use; without the training images, as stored.
        try {
          const n = await recalibrateLikeTheRun(model, meta, await calibrationImages(meta, data, spec));
          sink.emit({
            type: 'log',
            level: 'info',
            message: `batch-norm statistics (step ${step}) recomputed over ${n} training images, as the run did before evaluating`,
          });
        } catch (e) {
          if (!(e instanceof DataSourceError)) throw e;
          sink.emit({ type: 'log', level: 'warn', message: `batch-norm statistics used as stored: ${e.message}` });
        }
      }
      const priors = defaultBoxes(spec.analysis);
      // onnx: the weights as they are now (after any recalibration above), exported and run by onnxruntime.
      const onnx = runtime === 'onnx' ? await onnxPredictor(spec.analysis.graph, await model.getWeights(), priors) : null;
      if (onnx) {
        const why = onnx.note ? ` (${onnx.note})` : '';
        sink.emit({ type: 'log', level: 'info', message: `onnxruntime-node ${onnxRuntimeVersion()}, ${onnx.provider.toUpperCase()} provider${why}` });
      }
      const r = await inferImages(onnx ?? model, priors, images, { classNames: names, threshold, detect: { variances: s.priors.variances } }, async (d) => {
        if (out && values.draw) await drawDetections(d, join(out, uniquePng(d.image, used)));
      }).finally(() => onnx?.release());
      for (const p of r.problems) sink.emit({ type: 'log', level: 'warn', message: p });
      const truth = runDir ? await findTruth(r.results, data) : null;
      const results = truth ? r.results.map((x, i) => ({ ...x, truth: truth[i] })) : r.results;
      const doc = JSON.stringify({ spec: spec.path, weights, threshold, images: results }, null, 1) + '\n';
      if (out) {
        await writeFileAtomic(join(out, 'detections.json'), doc);
        const n = r.results.reduce((sum, x) => sum + x.detections.length, 0);
        const known = truth ? `; ground truth for ${truth.filter((t) => t !== null).length}` : '';
        sink.emit({
          type: 'log',
          level: 'info',
          message: `${n} detections on ${r.results.length} images -> ${join(out, 'detections.json')}${values.draw ? ` (+ ${r.results.length} PNGs)` : ''}${known}`,
        });
      } else io.stdout.write(doc);
      return { reason: 'completed', step: null, exitCode: r.results.length ? EXIT.ok : EXIT.failed, metric: null };
    } finally {
      model.dispose();
    }
  });
}

/** <name>.png, with -2, -3 ... when two inputs share a name (a.jpg and a.png, or the same name in two folders). */
function uniquePng(image: string, used: Set<string>): string {
  const stem = basename(image, extname(image));
  let name = `${stem}.png`;
  for (let k = 2; used.has(name); k++) name = `${stem}-${k}.png`;
  used.add(name);
  return name;
}
