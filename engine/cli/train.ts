// `dsod train <spec>`: train a detector from scratch (or --resume a run), with live progress, checkpoints in a run
// folder, and evaluations on the held-out split.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DataSourceError, loadSplit, resolveDataSource, type DataSource } from '../data/source';
import { signalExitStatus } from '../errors';
import { checkpointName, CHECKPOINT_DIR, listCheckpoints, readWeightsFile, type CheckpointEngine } from '../train/checkpoint';
import { RUN_FILES } from '../train/run-files';
import { train, type StopFlag } from '../train/trainer';
import type { MetricName } from '../../protocol/engine-events';
import { choiceOption, intOption, numberOption, parseCommand, UsageError } from './args';
import { chooseBackend, createSink, installStopHandlers, runEngineCommand, type CommandEnd, type Io } from './engine-command';
import type { EventSink } from './reporter';
import { loadSpec, type LoadedSpec } from './spec-file';
import { ENGINES, runTorchTraining } from './torch-engine';
import { TrainError } from '../train/errors';

export const TRAIN_USAGE = `  train <spec>       Train the spec's detector from scratch; events in RUNDIR/events.jsonl. Continuing a run
                     (--resume --out RUNDIR, --from), <spec> may be left out: the run's copy and data are used
      --data DIR         Dataset: a VOC folder (ImageSets/Main) or a COCO instances JSON (default: the spec's data.root)
      --out RUNDIR       Run folder: checkpoints, weights, metrics, PR curves (default runs/<spec name>)
      --resume           Continue the run in RUNDIR from its last checkpoint, exactly
      --from CHECKPOINT  Continue the run from an earlier checkpoint of it (RUNDIR/checkpoints/step-N.dsodckpt, or
                         step-N.pt of a torch run, or N); later checkpoints move to checkpoints/superseded-*/, later
                         evaluations leave metrics.json
      --steps N          Stop after optimizer step N (the schedule stays the spec's)
      --minutes M        Stop after M minutes; a schedule that does not fit is compressed to fit
      --eval-every N     Evaluate on the held-out split every N steps (default: at each checkpoint; 0: at the end only)
      --eval-images N    Periodic evaluations use the first N held-out images (the final one uses all). Images
                         that cannot be decoded are reported (warnings) and counted (extras.skippedImages); an
                         evaluation that skips more than 5% of its images fails the run (code data)
      --metric NAME      voc07 (default), voc or coco
      --backend NAME     tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu (default: the fastest available)
      --engine NAME      tfjs (default) or torch: PyTorch through a python3 that has it (engine/torch); the same
                         events and run folder. Its doctor event says what is missing (python3, torch, CUDA) and
                         the command that fixes it
      With --engine torch (engine/torch/README.md):
      --gpus N           N processes on this machine, data-parallel (DDP: nccl on GPUs, gloo on the CPU); the spec's
                         batch is split over them
      --nnodes M --node-rank R --master-addr HOST --master-port PORT
                         Several machines: the same command on each, with its rank; node 0's address and a free port
      --precision P      auto (default: bf16 or fp16 on CUDA, fp32 on the CPU), fp32, bf16 or fp16 (autocast,
                         float32 master weights; fp16 with loss scaling)
      --channels-last, --no-channels-last
                         NHWC memory format (default: on CUDA, and on the CPU with bf16)
      --compile          torch.compile the network (PyTorch 2.0 and later)
      --sync-bn, --no-sync-bn
                         Batch-norm statistics over all processes, or per process as Caffe's multi-GPU (default:
                         the spec's train.sync_bn, false unless set; the tfjs engine, one process, ignores it)
      --json             Print events as JSON lines on stdout
`;

export const METRICS: readonly MetricName[] = ['voc07', 'voc', 'coco'];

export interface TrainRequest {
  /** The spec file; absent when continuing a run: its copy, RUNDIR/spec.dsod.yaml. */
  spec?: string;
  data?: string;
  out?: string;
  resume: boolean;
  /** A checkpoint of the run to continue from (a path, or a step number). */
  from?: string;
  steps?: number;
  minutes?: number;
  evalEvery?: number;
  evalImages?: number;
  metric?: MetricName;
  backend?: string;
  /** The torch engine's scale-out and speed options (engine/torch/launch.ts). */
  torch?: TorchOptions;
}

export interface TorchOptions {
  gpus?: number;
  nodes?: { count: number; rank: number; masterAddr: string; masterPort: number };
  precision?: (typeof PRECISIONS)[number];
  channelsLast?: boolean;
  compile?: boolean;
  syncBn?: boolean;
}

const PRECISIONS = ['auto', 'fp32', 'bf16', 'fp16'] as const;
const NODE_OPTIONS = ['nnodes', 'node-rank', 'master-addr', 'master-port'] as const;

export async function trainCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('train', args, {
    data: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean', default: false },
    from: { type: 'string' },
    steps: { type: 'string' },
    minutes: { type: 'string' },
    'eval-every': { type: 'string' },
    'eval-images': { type: 'string' },
    metric: { type: 'string' },
    backend: { type: 'string' },
    engine: { type: 'string' },
    gpus: { type: 'string' },
    nnodes: { type: 'string' },
    'node-rank': { type: 'string' },
    'master-addr': { type: 'string' },
    'master-port': { type: 'string' },
    precision: { type: 'string' },
    'channels-last': { type: 'boolean' },
    'no-channels-last': { type: 'boolean' },
    compile: { type: 'boolean' },
    'sync-bn': { type: 'boolean' },
    'no-sync-bn': { type: 'boolean' },
    json: { type: 'boolean', default: false },
  });
  const sink = createSink(io, values.json === true);
  return runEngineCommand(sink, async () => {
    const engine = choiceOption('engine', values.engine, ENGINES) ?? 'tfjs';
    const continuing = values.from !== undefined || (values.resume === true && values.out !== undefined);
    if (positionals.length > 1 || (positionals.length === 0 && !continuing))
      throw new UsageError('train takes exactly one spec file (none when continuing a run: --resume --out RUNDIR, or --from CHECKPOINT)');
    return (engine === 'torch' ? runTorchTraining : runTraining)(sink, {
      ...(positionals.length ? { spec: positionals[0] } : {}),
      data: values.data,
      out: values.out,
      resume: values.resume === true,
      from: values.from,
      steps: intOption('steps', values.steps, 1),
      minutes: numberOption('minutes', values.minutes, 0),
      evalEvery: intOption('eval-every', values['eval-every'], 0),
      evalImages: intOption('eval-images', values['eval-images'], 1),
      metric: choiceOption('metric', values.metric, METRICS),
      backend: values.backend,
      torch: torchOptions(values, engine === 'torch'),
    });
  });
}

/** --gpus, the machines and the speed flags: the torch engine's alone (refused with the tfjs engine). */
function torchOptions(values: Record<string, string | boolean | undefined>, torch: boolean): TorchOptions | undefined {
  const given = ['gpus', ...NODE_OPTIONS, 'precision', 'channels-last', 'no-channels-last', 'compile', 'sync-bn', 'no-sync-bn'].filter(
    (k) => values[k] !== undefined,
  );
  if (!given.length) return undefined;
  if (!torch) throw new UsageError(`--${given[0]} is an option of the torch engine: add --engine torch`);
  const nodeGiven = NODE_OPTIONS.filter((k) => values[k] !== undefined);
  if (nodeGiven.length && nodeGiven.length < NODE_OPTIONS.length)
    throw new UsageError(
      `several machines need all of ${NODE_OPTIONS.map((k) => `--${k}`).join(', ')} (missing ${NODE_OPTIONS.filter((k) => values[k] === undefined)
        .map((k) => `--${k}`)
        .join(', ')})`,
    );
  if (values['channels-last'] && values['no-channels-last']) throw new UsageError('--channels-last or --no-channels-last, not both');
  if (values['sync-bn'] && values['no-sync-bn']) throw new UsageError('--sync-bn or --no-sync-bn, not both');
  const count = intOption('nnodes', values.nnodes as string | undefined, 1);
  return {
    gpus: intOption('gpus', values.gpus as string | undefined, 1),
    ...(count !== undefined
      ? {
          nodes: {
            count,
            rank: intOption('node-rank', values['node-rank'] as string | undefined, 0, count - 1)!,
            masterAddr: values['master-addr'] as string,
            masterPort: intOption('master-port', values['master-port'] as string | undefined, 1, 65535)!,
          },
        }
      : {}),
    precision: choiceOption('precision', values.precision as string | undefined, PRECISIONS),
    channelsLast: values['channels-last'] ? true : values['no-channels-last'] ? false : undefined,
    compile: values.compile === true ? true : undefined,
    syncBn: values['sync-bn'] ? true : values['no-sync-bn'] ? false : undefined,
  };
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
  // Stop handlers first: a signal during backend selection or data loading ends the run with `done` (stopped) at the
  // next phase boundary, before anything is written; once the loop runs, it checkpoints first.
  const stop: StopFlag = { requested: null };
  let training = false;
  const uninstall = installStopHandlers(stop, (signal) =>
    sink.emit({
      type: 'log',
      level: 'info',
      message: training ? `${signal}: saving a checkpoint, then stopping` : `${signal}: stopping before training starts`,
    }),
  );
  // A macrotask turn first: a signal is delivered by the event loop, and backend selection or loading a cached data set
  // may resolve as microtasks only.
  const stopped = async (): Promise<CommandEnd | null> => {
    await new Promise((r) => setImmediate(r));
    return stop.requested ? { reason: 'stopped', step: null, exitCode: signalExitStatus(stop.requested), metric: null } : null;
  };
  try {
    const { runDir, from } = runFolder(r);
    // A run of the torch engine continues with it: its checkpoints are not this engine's (nor the other way round).
    if (listCheckpoints(runDir, 'torch').length)
      throw new TrainError('run-exists', `${runDir} holds a run of the torch engine: continue it with --engine torch, or choose another --out`);
    const spec = loadSpec(r.spec ?? join(runDir, RUN_FILES.spec));
    const early = await stopped();
    if (early) return early;
    const backend = await chooseBackend(sink, r.backend);
    const afterBackend = await stopped();
    if (afterBackend) return afterBackend;
    const source = trainingData(spec, r, runDir, from);
    const trainSet = await loadSplit(source, 'train', spec.analysis.spec);
    let testSet = null;
    try {
      testSet = await loadSplit(source, 'test', spec.analysis.spec);
    } catch (e) {
      if (!(e instanceof DataSourceError)) throw e;
      sink.emit({ type: 'log', level: 'warn', message: `no held-out evaluation: ${e.message}` });
    }
    const afterData = await stopped();
    if (afterData) return afterData;
    training = true;
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
      from,
      dataSource: source,
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

/**
 * The run folder, and the checkpoint --from names: a path (its run folder is the one above checkpoints/, and --out,
 * when given, must agree) or a step number of the run in --out (a checkpoint of `engine`).
 */
export function runFolder(r: TrainRequest, engine: CheckpointEngine = 'tfjs'): { runDir: string; from: string | null } {
  if (!r.from) return { runDir: r.out ? resolve(r.out) : defaultRunDir(r.spec!), from: null };
  if (/^\d+$/.test(r.from)) {
    if (!r.out) throw new UsageError('--from N (a step) needs --out RUNDIR; or give the checkpoint file');
    const from = join(resolve(r.out), CHECKPOINT_DIR, checkpointName(Number(r.from), engine));
    if (!existsSync(from)) throw new UsageError(`--from ${r.from}: ${r.out} has no checkpoint of step ${r.from}`);
    return { runDir: resolve(r.out), from };
  }
  const from = resolve(r.from);
  if (!existsSync(from)) throw new UsageError(`--from ${r.from}: no such checkpoint`);
  const owner = dirname(dirname(from));
  if (basename(dirname(from)) !== CHECKPOINT_DIR) throw new UsageError(`--from ${r.from}: expected a checkpoint in a run folder's ${CHECKPOINT_DIR}/ folder`);
  if (r.out && resolve(r.out) !== owner) throw new UsageError(`--from ${r.from} is a checkpoint of ${owner}, not of --out ${r.out}`);
  return { runDir: owner, from };
}

/**
 * --data, else the data.root of a spec given, else (continuing a run) the data its checkpoint recorded: a run resumed
 * from the dashboard needs no --data, and the run's copy of the spec cannot say (its data.root is relative to where
 * the original was). A torch run's checkpoints only Python reads: its weights.dsodw carries their meta.
 */
export function trainingData(spec: LoadedSpec, r: TrainRequest, runDir: string, from: string | null, engine: CheckpointEngine = 'tfjs'): DataSource {
  const s = spec.analysis.spec;
  if (r.data || (r.spec && s.data?.root != null) || !(r.resume || from)) return resolveDataSource(s, spec.path, r.data ?? null);
  const checkpoint = engine === 'torch' ? join(runDir, RUN_FILES.weights) : (from ?? listCheckpoints(runDir).at(-1)?.path);
  const recorded = checkpoint && existsSync(checkpoint) ? readWeightsFile(checkpoint).meta?.data : undefined;
  return recorded && existsSync(recorded.root) ? { ...recorded } : resolveDataSource(s, spec.path, null);
}
