// `--engine torch` for `dsod train`, `dsod eval` and `dsod infer`: the PyTorch engine (engine/torch) behind the same
// events and run folders as the tfjs engine. Node keeps what the tfjs engine's commands do around the network: the
// spec copy, the run lock, --from's rewind (engine/train/rewind.ts), reading and checking the dataset (the data index,
// engine/torch/data-index.ts), scoring with the one TypeScript evaluator (metrics.json, pr-curves.json, the `metric`
// event), the single writer of events.jsonl (the sink). Python trains, decodes the images (training's and, for a
// training's evaluations, the held-out ones) and detects: its events come on its stdout, validated
// (engine/torch/launch.ts), and are re-emitted here, except `detections` (scored, then a `metric` in its place) and
// `done` (the command's own done ends the stream). The one-shot `dsod eval|infer --engine torch` hand Python images
// Node decoded (engine/torch/inputs.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { DetectionsEvent, DoctorEvent, DoneEvent, EngineEvent, EngineFix, EventBody, MetricName } from '../../protocol/engine-events';
import { parseEngineEventLine } from '../../protocol/engine-events';
import { toGraphJson } from '../../protocol/graph-json';
import { writeFileAtomic } from '../data/files';
import { DataSourceError, loadSplit, type DataSource } from '../data/source';
import { formatProblem, type DataProblem, type DetectionDataset, type ImageRecord } from '../data/types';
import { EngineError, signalExitStatus } from '../errors';
import { writePrCurves } from '../eval/curves';
import { skippedTooMany } from '../eval/evaluate';
import { InferenceError } from '../infer/errors';
import { createModel, encodeWeights } from '../model';
import type { ImageDetections } from '../infer/infer';
import { readDetectionsFile } from '../eval/detections-file';
import { scoreDetections } from '../eval/score';
import { listCheckpoints, readWeightsFile, specTextHash } from '../train/checkpoint';
import { rewindMessage, rewindRun } from '../train/rewind';
import { TrainError } from '../train/errors';
import { ensureRunDir, readMetrics, recordMetric, RUN_FILES } from '../train/run-files';
import { acquireRunLock } from '../train/run-lock';
import type { StopFlag } from '../train/trainer';
import { writeDataIndex } from '../torch/data-index';
import { writeImageInputs } from '../torch/inputs';
import { runTorchCommand, startTorchTraining, type TorchTraining } from '../torch/launch';
import { findTorchPython, TORCH_INSTALL_HINT, type TorchPython } from '../torch/python';
import { UsageError } from './args';
import { installStopHandlers, type CommandEnd } from './engine-command';
import { emitStart, reportEvaluation } from './eval-report';
import { targetData } from './run-target';
import { needsRecalibration } from './statistics';
import type { EventSink } from './reporter';
import { loadSpec, type LoadedSpec } from './spec-file';
import { runFolder, trainingData, type TrainRequest } from './train';

export const ENGINES = ['tfjs', 'torch'] as const;
export type EngineChoice = (typeof ENGINES)[number];

/** What is missing when no Python with torch was found, each with the command that fixes it. */
export function missingTorch(found: Extract<TorchPython, { ok: false }>): EngineFix[] {
  const noPython = found.attempts.every((a) => a.problem === 'not found');
  if (noPython)
    return [
      {
        problem: `no python3 (tried ${found.attempts.map((a) => a.python).join(', ')})`,
        fix: 'apt-get install python3 python3-torch libopenblas0-pthread (Debian/Ubuntu); elsewhere install Python 3, then pip install torch',
      },
    ];
  return [
    {
      problem: `no PyTorch in ${found.attempts.map((a) => `${a.python} (${a.problem})`).join(', ')}`,
      fix: `${TORCH_INSTALL_HINT}; or set DSOD_PYTHON to a python that has torch`,
    },
  ];
}

function pythonAttempts(found: TorchPython): DoctorEvent['attempts'] {
  return found.attempts.map((a) => ({ name: a.python, ok: a.problem === null, detail: a.problem ?? `torch ${found.ok ? found.torch : ''}`.trim(), ms: 0 }));
}

/**
 * The Python that runs the engine. None: a doctor event that says what is missing and how to fix it, then a `backend`
 * error (the command does nothing).
 */
export function torchPython(sink: EventSink, env: NodeJS.ProcessEnv = process.env): { python: string; attempts: DoctorEvent['attempts'] } {
  const found = findTorchPython(env);
  if (found.ok) return { python: found.python, attempts: pythonAttempts(found) };
  sink.emit({
    type: 'doctor',
    chosen: 'none',
    tfBackend: 'none',
    requested: 'torch',
    reason: 'the torch engine cannot run: no Python with PyTorch',
    attempts: pythonAttempts(found),
    engine: 'torch',
    missing: missingTorch(found),
  });
  throw new EngineError('backend', found.message);
}

/** `python -m dsod_torch doctor`, re-emitted with the Pythons tried (eval and infer; a training emits its own). */
export async function torchDoctor(sink: EventSink, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { python, attempts } = torchPython(sink, env);
  const r = await runTorchCommand(python, ['doctor'], env);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const parsed = parseEngineEventLine(line);
  if (r.code !== 0 || !parsed.ok || parsed.event.type !== 'doctor')
    throw new Error(`the torch engine's doctor failed (exit ${r.code ?? r.signal}): ${r.stderr.trim().split('\n').pop() ?? (parsed.ok ? '' : parsed.error)}`);
  sink.emit({ ...bodyOf(parsed.event), attempts } as EventBody);
  return python;
}

/** An event less what every event gets when it is made (the sink stamps its own time). */
function bodyOf(e: EngineEvent): EventBody {
  const { v: _v, time: _time, ...body } = e;
  return body as EventBody;
}

/** Scores a detections document of `records` (the held-out images the engine used): metrics.json, pr-curves.json, the metric event. */
async function scoreInto(
  sink: EventSink,
  o: {
    file: string;
    test: DetectionDataset;
    records: ImageRecord[];
    metric: MetricName;
    runDir: string;
    split: string;
    step: number;
    elapsedSec: number;
    skipped: number;
  },
) {
  const started = performance.now();
  const gt: DetectionDataset = { ...o.test, records: o.records };
  const loaded = readDetectionsFile(o.file, gt);
  if (loaded.missing)
    throw new Error(`${o.file}: ${loaded.missing} of the ${gt.records.length} held-out images have no entry (the torch engine must detect on every one)`);
  const s = scoreDetections(gt.records, loaded.detections, o.test.classNames, o.metric);
  const record = {
    metric: s.metric,
    value: s.value,
    extras: { ...s.extras, skippedImages: o.skipped, evalSeconds: (performance.now() - started) / 1000 },
    perClass: s.perClass,
    step: o.step,
    elapsedSec: o.elapsedSec,
    split: o.split,
    images: gt.records.length,
  };
  const curves = join(o.runDir, RUN_FILES.curves);
  await writePrCurves(curves, { voc: s.voc, ...(s.coco ? { coco: s.coco } : {}) });
  await recordMetric(o.runDir, record);
  sink.emit({ type: 'metric', ...record, curves });
  return { metric: s.metric, value: s.value };
}

/** `dsod train SPEC --engine torch`: the same run folder and events as the tfjs trainer's. */
export async function runTorchTraining(sink: EventSink, r: TrainRequest): Promise<CommandEnd> {
  if (r.backend) throw new UsageError('--backend chooses a tfjs backend: the torch engine picks its device itself (see its doctor event)');
  const stop: StopFlag = { requested: null };
  let child: TorchTraining | null = null;
  const uninstall = installStopHandlers(stop, (signal) => {
    sink.emit({ type: 'log', level: 'info', message: child ? `${signal}: saving a checkpoint, then stopping` : `${signal}: stopping before training starts` });
    child?.stop(signal as NodeJS.Signals);
  });
  const stopped = async (): Promise<CommandEnd | null> => {
    await new Promise((ok) => setImmediate(ok));
    return stop.requested ? { reason: 'stopped', step: null, exitCode: signalExitStatus(stop.requested), metric: null } : null;
  };
  let scratch: string | null = null;
  try {
    const { runDir, from } = runFolder(r, 'torch');
    const resume = r.resume || from !== null;
    const spec = loadSpec(r.spec ?? join(runDir, RUN_FILES.spec));
    const { python, attempts } = torchPython(sink);
    const sets = await datasets(sink, spec, () => trainingData(spec, r, runDir, from, 'torch'));
    const test = sets?.test ?? null;
    const early = await stopped();
    if (early) return early;

    ensureRunDir(runDir);
    const lock = acquireRunLock(runDir);
    if (!lock.ok) {
      const h = lock.holder;
      throw new TrainError(
        'run-busy',
        `${runDir} is being trained by process ${h.pid} on ${h.host} (since ${h.started}): stop that run first, or choose another --out`,
      );
    }
    try {
      const torchRun = listCheckpoints(runDir, 'torch');
      if (listCheckpoints(runDir).length && !torchRun.length)
        throw new TrainError('run-exists', `${runDir} holds a run of the tfjs engine: continue it with --engine tfjs, or choose another --out`);
      if (torchRun.length && !resume)
        throw new TrainError('run-exists', `${runDir} already holds a run (${torchRun.at(-1)!.path}): pass --resume to continue it, or choose another --out`);
      // A damaged metrics.json is refused before anything moves: --from would trim it, an evaluation add to it.
      if (test || from) readMetrics(runDir);
      sink.attachRunDir(runDir);
      // The same rewind as the tfjs engine's; weights.dsodw is rewritten by the engine from the checkpoint it resumes.
      // Its line follows the engine's doctor event, where the tfjs engine's follows its own.
      let rewound = from ? rewindMessage(await rewindRun(runDir, from, 'torch')) : null;
      const showRewound = () => {
        if (rewound) sink.emit({ type: 'log', level: 'info', message: rewound });
        rewound = null;
      };
      await writeFileAtomic(join(runDir, RUN_FILES.spec), spec.text);
      // The dataset as Node's readers parsed it, for the engine to decode and augment (engine/torch/data-index.ts),
      // with where it came from (recorded in the checkpoints, for `dsod eval|infer --run`).
      const dataIndex = sets ? writeDataIndex(runDir, { train: sets.train, test: sets.test?.set ?? null, source: sets.source }) : null;

      scratch = mkdtempSync(join(tmpdir(), 'dsod-torch-eval-'));
      // A new run starts from the tfjs engine's seeded initial weights: the two engines start alike, so what differs
      // between their runs is the engines, not the draw of the initial weights.
      const init = resume ? null : join(scratch, 'init.dsodw');
      if (init) {
        const model = createModel(spec.analysis.graph, { seed: spec.analysis.spec.train.seed });
        try {
          await writeFileAtomic(init, encodeWeights(await model.getWeights()));
        } finally {
          model.dispose();
        }
      }
      const afterData = await stopped();
      if (afterData) return afterData;

      let done: DoneEvent | null = null;
      let lastMetric: CommandEnd['metric'] = null;
      let failure: Error | null = null;
      let queue = Promise.resolve();
      const handle = async (e: EngineEvent) => {
        if (e.type === 'done') done = e;
        else if (e.type === 'detections') {
          if (test) lastMetric = await scoreDetectionsEvent(sink, e, { test, runDir, metric: r.metric ?? 'voc07' });
        } else if (e.type === 'doctor') {
          sink.emit({ ...bodyOf(e), attempts: e.attempts.length ? e.attempts : attempts } as EventBody);
          showRewound();
        } else sink.emit(bodyOf(e));
      };
      child = startTorchTraining(
        {
          graph: toGraphJson(spec.analysis, { hash: specTextHash(spec.text) }),
          runDir,
          specPath: spec.path,
          resume,
          python,
          ...(dataIndex ? { data: dataIndex } : {}),
          ...(init ? { init } : {}),
          ...(r.steps !== undefined ? { maxSteps: r.steps } : {}),
          ...(r.minutes !== undefined ? { minutes: r.minutes } : {}),
          ...(test ? { evalDir: scratch } : {}),
          ...(r.evalEvery !== undefined ? { evalEvery: r.evalEvery } : {}),
          ...(r.evalImages !== undefined ? { evalImages: r.evalImages } : {}),
          ...(r.torch?.gpus !== undefined ? { processes: r.torch.gpus } : {}),
          ...(r.torch?.nodes ? { nodes: r.torch.nodes } : {}),
          ...(r.torch?.precision !== undefined ? { precision: r.torch.precision } : {}),
          ...(r.torch?.channelsLast !== undefined ? { channelsLast: r.torch.channelsLast } : {}),
          ...(r.torch?.compile ? { compile: true } : {}),
          ...(r.torch?.syncBn !== undefined ? { syncBn: r.torch.syncBn } : {}),
        },
        // In order, one at a time: a metric is emitted before the checkpoint or done that follows its detections.
        (e) => {
          queue = queue
            .then(() => handle(e))
            .catch((err: Error) => {
              // A failed evaluation (too many unusable held-out images) fails the run, as the tfjs engine's does: the
              // engine is stopped (it checkpoints first), and the error is the command's.
              failure ??= err;
              child?.stop('SIGTERM');
            });
        },
      );
      if (stop.requested) child.stop(stop.requested as NodeJS.Signals);
      const end = await child.done;
      await queue;
      showRewound(); // an engine that failed before its doctor event: the rewind is said all the same
      for (const bad of end.invalid) sink.emit({ type: 'log', level: 'warn', message: `the torch engine wrote a line that is not a valid event: ${bad}` });
      if (failure) throw failure;
      const d = done as DoneEvent | null;
      if (!d) {
        const why = end.stderr.trim().split('\n').pop() ?? '';
        if (end.code === 2 && /cannot resume/.test(why)) throw new TrainError('resume', why.replace(/^dsod_torch: /, ''));
        throw new Error(`the torch engine ended without finishing (${end.signal ?? `exit ${end.code}`}): ${why}`);
      }
      return { reason: d.reason, step: d.step, exitCode: d.exitCode, metric: lastMetric ?? d.metric };
    } finally {
      lock.release();
    }
  } finally {
    uninstall();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

interface HeldOut {
  set: DetectionDataset;
  split: string;
}

/**
 * The training split and the held-out one (--data, else the spec's data.root, else what a continued run recorded:
 * train.ts trainingData), loaded by the tfjs engine's readers. No data: the engine trains on synthetic images (a
 * warning says so), without evaluations; no held-out split: a warning, no evaluations (as the tfjs trainer).
 */
async function datasets(
  sink: EventSink,
  spec: LoadedSpec,
  sourceOf: () => DataSource,
): Promise<{ train: DetectionDataset; test: HeldOut | null; source: DataSource } | null> {
  let source: DataSource;
  let train: DetectionDataset;
  try {
    source = sourceOf();
    train = await loadSplit(source, 'train', spec.analysis.spec);
  } catch (e) {
    if (!(e instanceof DataSourceError)) throw e;
    sink.emit({ type: 'log', level: 'warn', message: `no dataset (${e.message}): the torch engine trains on synthetic images, without evaluations` });
    return null;
  }
  try {
    return { train, source, test: { set: await loadSplit(source, 'test', spec.analysis.spec), split: source.test.map((s) => basename(s)).join('+') } };
  } catch (e) {
    if (!(e instanceof DataSourceError)) throw e;
    sink.emit({ type: 'log', level: 'warn', message: `no held-out evaluation: ${e.message}` });
    return { train, source, test: null };
  }
}

/**
 * A `detections` event of a training: the engine decoded the held-out images itself; the document lists those it
 * could not use (`skipped`, engine/data DataProblems). They are left out of the scoring and counted (skippedImages),
 * and more than MAX_SKIPPED_SHARE of them fails the evaluation, as evaluateModel does for the tfjs engine.
 */
async function scoreDetectionsEvent(
  sink: EventSink,
  e: DetectionsEvent,
  o: { test: HeldOut; runDir: string; metric: MetricName },
): Promise<CommandEnd['metric']> {
  try {
    // The engine warned about each skipped image itself (as the tfjs engine's evaluation does, every evaluation).
    const { records, skipped } = heldOutScored(e.path, o.test.set.records);
    return await scoreInto(sink, {
      file: e.path,
      test: o.test.set,
      records,
      metric: o.metric,
      runDir: o.runDir,
      split: o.test.split,
      step: e.step,
      elapsedSec: e.elapsedSec,
      skipped: skipped.length,
    });
  } finally {
    rmSync(e.path, { force: true });
  }
}

/**
 * The held-out records a detections document of the engine covers, and the images it could not use (its `skipped`,
 * each handed to onSkip first): the first (entries + skipped) records of the split, less the skipped ones (left out
 * of the scoring, as the tfjs engine's evaluation leaves them out); more than MAX_SKIPPED_SHARE skipped fails, as there.
 */
function heldOutScored(
  file: string,
  all: readonly ImageRecord[],
  onSkip: (p: DataProblem) => void = () => {},
): { records: ImageRecord[]; skipped: DataProblem[] } {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { images?: unknown; skipped?: unknown };
  const skipped = doc.skipped ?? [];
  if (
    !Array.isArray(doc.images) ||
    !Array.isArray(skipped) ||
    !skipped.every((p) => p && typeof p.path === 'string' && typeof p.message === 'string' && typeof p.stage === 'string')
  )
    throw new Error(`${file}: not the torch engine's detections document ("images", and "skipped" a list of {stage, path, message})`);
  (skipped as DataProblem[]).forEach(onSkip);
  const considered = all.slice(0, doc.images.length + skipped.length);
  const tooMany = skippedTooMany(skipped, considered.length);
  if (tooMany) throw tooMany;
  const left = new Set((skipped as DataProblem[]).map((p) => resolve(p.path)));
  return { records: considered.filter((rec) => !left.has(resolve(rec.imagePath))), skipped };
}

/** Writes the graph of a spec into `dir` for a one-shot engine command; its path. */
async function graphFile(dir: string, spec: LoadedSpec): Promise<string> {
  const file = join(dir, 'graph.json');
  await writeFileAtomic(file, JSON.stringify(toGraphJson(spec.analysis, { hash: specTextHash(spec.text) })) + '\n');
  return file;
}

/**
 * `python -m dsod_torch infer`: on images Node prepared in `dir` (`inputs`), or on the held-out split of the data index
 * `data`, which the engine decodes itself (its first `images`); writes dir/detections.json, returns its path.
 */
async function torchDetect(
  python: string,
  spec: LoadedSpec,
  weights: string,
  dir: string,
  threshold: number,
  from: { inputs: string } | { data: string; images?: number },
): Promise<string> {
  const out = join(dir, 'detections.json');
  const source = 'inputs' in from ? ['--inputs', from.inputs] : ['--data', from.data, ...(from.images !== undefined ? ['--images', String(from.images)] : [])];
  const r = await runTorchCommand(python, [
    'infer',
    await graphFile(dir, spec),
    '--weights',
    resolve(weights),
    ...source,
    '--out',
    out,
    '--threshold',
    String(threshold),
    '--spec',
    spec.path,
  ]);
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').pop() ?? '';
    if (r.code === 2) throw new InferenceError('weights', why.replace(/^dsod_torch: /, ''));
    throw new Error(`the torch engine's inference failed (${r.signal ?? `exit ${r.code}`}): ${why}`);
  }
  return out;
}

/** `dsod infer --engine torch`: the detections inferImages would give, made by the torch engine. */
export async function torchInferImages(
  python: string,
  spec: LoadedSpec,
  weights: string,
  images: readonly string[],
  o: { classNames: readonly string[]; threshold: number },
): Promise<{ results: ImageDetections[]; problems: string[] }> {
  const scratch = mkdtempSync(join(tmpdir(), 'dsod-torch-infer-'));
  try {
    const size = { width: spec.analysis.spec.input.width, height: spec.analysis.spec.input.height };
    const { problems } = await writeImageInputs(scratch, images, size, o.classNames);
    const file = await torchDetect(python, spec, weights, scratch, o.threshold, { inputs: scratch });
    return { results: (JSON.parse(readFileSync(file, 'utf8')) as { images: ImageDetections[] }).images, problems };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export interface TorchEvalRequest {
  spec: LoadedSpec;
  explicit: boolean;
  weights: string;
  runDir: string | null;
  data: string | undefined;
  splits: string[] | undefined;
  evalImages: number | undefined;
  metric: MetricName;
  out: string | null;
}

/** `dsod eval --engine torch`: the torch engine's detections on the held-out split, scored as `dsod eval` scores. */
export async function torchEvaluate(sink: EventSink, o: TorchEvalRequest): Promise<CommandEnd> {
  const python = await torchDoctor(sink);
  let file: ReturnType<typeof readWeightsFile>;
  try {
    file = readWeightsFile(o.weights);
  } catch (e) {
    throw new InferenceError('weights', (e as Error).message);
  }
  const { step, meta } = file;
  const source = targetData(o.spec, o.explicit, o.data, meta);
  if (o.splits && source.format === 'coco') throw new UsageError('--split names VOC lists; for COCO pass the instances JSON with --data');
  const test = await loadSplit(source, 'test', o.spec.analysis.spec, o.splits);
  if (o.runDir) sink.attachRunDir(o.runDir);
  const total = Math.min(o.evalImages ?? Infinity, test.records.length);
  emitStart(sink, { command: 'eval', spec: o.spec, runDir: o.runDir, step, steps: meta?.schedule.iterations, train: 0, test: total });
  if (needsRecalibration(meta))
    sink.emit({
      type: 'log',
      level: 'warn',
      message: `batch-norm statistics of ${basename(o.weights)} (step ${step}) used as stored: the torch engine does not recompute them as the tfjs run did (dsod eval --engine tfjs does)`,
    });
  const started = performance.now();
  const scratch = mkdtempSync(join(tmpdir(), 'dsod-torch-eval-'));
  try {
    // The held-out split as Node's readers parsed it; the engine decodes its images (as a training's evaluations do):
    // no tensor file of every decoded image (VOC07 test at 300x300 would be 5.3 GB).
    const data = writeDataIndex(scratch, { train: null, test });
    const dets = await torchDetect(python, o.spec, o.weights, scratch, 0, { data, ...(o.evalImages !== undefined ? { images: o.evalImages } : {}) });
    const { records, skipped } = heldOutScored(dets, test.records, (p) => sink.emit({ type: 'log', level: 'warn', message: formatProblem(p) }));
    const gt = { ...test, records };
    const loaded = readDetectionsFile(dets, gt);
    const scores = scoreDetections(gt.records, loaded.detections, test.classNames, o.metric);
    scores.extras.skippedImages = skipped.length;
    const seconds = (performance.now() - started) / 1000;
    return await reportEvaluation(sink, {
      scores,
      images: records.length,
      seconds,
      step,
      elapsedSec: meta?.elapsedSec ?? seconds,
      split: (o.splits ?? source.test).map((s) => basename(s)).join('+'),
      runDir: o.runDir,
      out: o.out,
      source: resolve(o.weights),
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
