// `dsod train <spec>`: train a detector from scratch (or --resume a run), with live progress, checkpoints in a run
// folder, and evaluations on the held-out split.
import { basename, resolve } from 'node:path';
import { DataSourceError, loadSplit, resolveDataSource } from '../train/data-source';
import { train, type StopFlag } from '../train/trainer';
import type { MetricName } from '../../protocol/engine-events';
import { choiceOption, intOption, numberOption, parseCommand, UsageError } from './args';
import { chooseBackend, createSink, installStopHandlers, runEngineCommand, type CommandEnd, type Io } from './engine-command';
import type { EventSink } from './reporter';
import { loadSpec } from './spec-file';

export const TRAIN_USAGE = `  train <spec>       Train the spec's detector from scratch; events in RUNDIR/events.jsonl
      --data DIR         Dataset: a VOC folder (ImageSets/Main) or a COCO instances JSON (default: the spec's data.root)
      --out RUNDIR       Run folder: checkpoints, weights, metrics, PR curves (default runs/<spec name>)
      --resume           Continue the run in RUNDIR from its last checkpoint, exactly
      --steps N          Stop after optimizer step N (the schedule stays the spec's)
      --minutes M        Stop after M minutes; a schedule that does not fit is compressed to fit
      --eval-every N     Evaluate on the held-out split every N steps (default: at each checkpoint; 0: at the end only)
      --eval-images N    Periodic evaluations use the first N held-out images (the final one uses all)
      --metric NAME      voc07 (default), voc or coco
      --backend NAME     tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu (default: the fastest available)
      --json             Print events as JSON lines on stdout
`;

export const METRICS: readonly MetricName[] = ['voc07', 'voc', 'coco'];

export interface TrainRequest {
  spec: string;
  data?: string;
  out?: string;
  resume: boolean;
  steps?: number;
  minutes?: number;
  evalEvery?: number;
  evalImages?: number;
  metric?: MetricName;
  backend?: string;
}

export async function trainCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('train', args, {
    data: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean', default: false },
    steps: { type: 'string' },
    minutes: { type: 'string' },
    'eval-every': { type: 'string' },
    'eval-images': { type: 'string' },
    metric: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const sink = createSink(io, values.json === true);
  return runEngineCommand(sink, async () => {
    if (positionals.length !== 1) throw new UsageError('train takes exactly one spec file');
    return runTraining(sink, {
      spec: positionals[0],
      data: values.data,
      out: values.out,
      resume: values.resume === true,
      steps: intOption('steps', values.steps, 1),
      minutes: numberOption('minutes', values.minutes, 0),
      evalEvery: intOption('eval-every', values['eval-every'], 0),
      evalImages: intOption('eval-images', values['eval-images'], 1),
      metric: choiceOption('metric', values.metric, METRICS),
      backend: values.backend,
    });
  });
}

/** Default run folder: runs/<spec file name without .dsod.yaml>. */
export function defaultRunDir(specPath: string): string {
  return resolve(
    'runs',
    basename(specPath)
      .replace(/\.dsod\.(ya?ml|json)$/, '')
      .replace(/\.(ya?ml|json)$/, ''),
  );
}

/** The training pipeline behind `dsod train` and `dsod demo`. */
export async function runTraining(sink: EventSink, r: TrainRequest): Promise<CommandEnd> {
  const spec = loadSpec(r.spec);
  const runDir = r.out ? resolve(r.out) : defaultRunDir(r.spec);
  const backend = await chooseBackend(sink, r.backend);
  const source = resolveDataSource(spec.analysis.spec, spec.path, r.data ?? null);
  const trainSet = await loadSplit(source, 'train', spec.analysis.spec);
  let testSet = null;
  try {
    testSet = await loadSplit(source, 'test', spec.analysis.spec);
  } catch (e) {
    if (!(e instanceof DataSourceError)) throw e;
    sink.emit({ type: 'log', level: 'warn', message: `no held-out evaluation: ${e.message}` });
  }
  const stop: StopFlag = { requested: null };
  const uninstall = installStopHandlers(stop, (signal) => sink.emit({ type: 'log', level: 'info', message: `${signal}: saving a checkpoint, then stopping` }));
  try {
    const outcome = await train({
      analysis: spec.analysis,
      specPath: spec.path,
      specText: spec.text,
      runDir,
      train: trainSet,
      test: testSet,
      testSplit: source.test.map((s) => basename(s)).join('+'),
      tfBackend: backend.tfBackend,
      resume: r.resume,
      maxSteps: r.steps ?? null,
      maxMinutes: r.minutes ?? null,
      evalEvery: r.evalEvery ?? null,
      evalImages: r.evalImages ?? null,
      metric: r.metric ?? 'voc07',
      emit: (e) => sink.emit(e),
      // The run folder's events.jsonl starts once the run is accepted (a refused second process leaves no trace in it).
      onAccepted: () => sink.attachRunDir(runDir),
      stop,
    });
    return { reason: outcome.reason, step: outcome.step, exitCode: outcome.exitCode, metric: outcome.metric };
  } finally {
    uninstall();
  }
}
