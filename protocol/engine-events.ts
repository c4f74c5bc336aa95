// The engine's events: what `dsod train`, `dsod eval` and `dsod infer` report, one JSON object per line
// (events.jsonl in a run folder; stdout with --json). The CLI's progress display, the VS Code run manager and
// any other tool read the same objects, so this file is the one definition. It imports only protocol/checks.ts (no
// node modules, no tfjs): the extension and the webview bundle it as it is.
//
// Versioning: every event carries `v`. Adding an event type or an optional field keeps the version (readers
// ignore fields they do not know); renaming, removing or retyping a field bumps it. A reader refuses events of a
// version it does not know, with a message that says so, rather than misreading them.
//
// Event types, in the order a training run emits them:
//   start       what runs: command, spec, run folder, step counts, batch, images
//   doctor      the engine and backend chosen, why, and every backend tried (the torch engine: its choices, and
//               what is missing with the command that fixes it)
//   log         a message for people (data problems skipped, a resumed checkpoint, ...)
//   progress    after every optimizer step (the CLI throttles what it prints, not what it emits)
//   checkpoint  a checkpoint file was written (atomically: the path is complete when this arrives)
//   metric      an evaluation on held-out data: the mean AP and per-class APs
//   error       something went wrong; `fatal` errors are followed by `done`
//   done        the last event of a command: why it ended and its exit code
//
// One more type passes between engines and is not part of a run's record:
//   detections  the torch engine (Python) wrote a detections file of the held-out images for a step; the bridge
//               (engine/cli/train-torch.ts) scores it with the one TypeScript evaluator and emits `metric` in its
//               place. It is valid on the engine's stdout but never written to events.jsonl nor printed with --json:
//               readers of a run see the same stream whichever engine trained it, and its file is a temporary one
//               the bridge removes once scored. Added in version 1 (a new type keeps the version).

import {
  arrayOf,
  bool,
  count,
  finite,
  isObject,
  nonNegative,
  nullable,
  oneOf,
  optional,
  recordOf,
  shapeOf,
  str as strOf,
  type Check,
  type Fields,
} from './checks';

export const ENGINE_EVENTS_VERSION = 1;

export type EngineCommand = 'train' | 'eval' | 'infer';

interface EventBase {
  /** ENGINE_EVENTS_VERSION of the writer. */
  v: number;
  /** ISO 8601 time the event was made. */
  time: string;
}

export interface StartEvent extends EventBase {
  type: 'start';
  command: EngineCommand;
  /** The spec file and its name: line. */
  spec: string;
  name: string;
  /** The run folder (train), or null. */
  runDir: string | null;
  /** First optimizer step this process runs (0 for a new run, the checkpoint's step when resuming). */
  step: number;
  /** Optimizer steps of the whole schedule. */
  steps: number;
  /** Images per optimizer step, and micro-batches accumulated into one (batch = micro-batch x accumulate). */
  batch: number;
  accumulate: number;
  images: { train: number; test: number };
  resumed: boolean;
}

export interface BackendAttemptInfo {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

export type EngineName = 'tfjs' | 'torch';

/** The torch engine's choices, as it made them (every field is what ran, not what was asked for). */
export interface TorchDoctorInfo {
  /** The Python that runs the engine, and its version. */
  python: string;
  pythonVersion: string;
  /** torch.__version__. */
  version: string;
  /** The device of rank 0: cpu, cuda:0, ... */
  device: string;
  /** The CUDA version torch was built with (null: a CPU-only build), and the GPUs it sees. */
  cuda: string | null;
  gpus: number;
  /** fp32, bf16 or fp16 (autocast; fp32 master weights). */
  precision: string;
  /** Processes training data-parallel, and their collective backend (gloo, nccl; null for one process). */
  worldSize: number;
  distributed: string | null;
  /** CPU threads of a process (torch.get_num_threads). */
  threads: number;
  /** Who decodes the images the engine sees (node: the bridge's sharp, as the tfjs engine; synthetic: none read). */
  imageDecoder: string;
  /**
   * Every speed choice of a training (engine/torch/dsod_torch/speed.py: device, precision, lossScaling, channelsLast,
   * cudnnBenchmark, compile, threads, loader, syncBatchNorm), each as it ran and why; absent for eval and infer.
   */
  choices?: Record<string, SpeedChoice>;
}

/** One speed choice of the torch engine: its value for people ("on", "bf16", "2 workers, pinned") and why. */
export interface SpeedChoice {
  value: string;
  why: string;
}

/** Something the engine would use and cannot, with the exact command that fixes it. */
export interface EngineFix {
  problem: string;
  fix: string;
}

export interface DoctorEvent extends EventBase {
  type: 'doctor';
  /** The torch engine: `torch`, its device as chosen (e.g. torch-cpu); tfBackend `none`. */
  chosen: string;
  tfBackend: string;
  requested: string;
  reason: string;
  /** Backends tried (tfjs), or the Pythons tried (torch). */
  attempts: BackendAttemptInfo[];
  /** Absent: tfjs (events written before the torch engine). */
  engine?: EngineName;
  /** The torch engine's choices (engine torch). */
  torch?: TorchDoctorInfo;
  /** What is missing (no python3, no torch, no CUDA), each with its fix; absent or empty when nothing is. */
  missing?: EngineFix[];
  /** CPU threads the tfjs backend computes with (wasm: 1, or the threaded build's pool); absent for other backends. */
  threads?: number;
}

export type LogLevel = 'debug' | 'info' | 'warn';

export interface LogEvent extends EventBase {
  type: 'log';
  level: LogLevel;
  message: string;
}

export interface ProgressEvent extends EventBase {
  type: 'progress';
  /** Epochs over the training images so far (fractional). */
  epoch: number;
  /** Optimizer steps done (1 after the first). */
  step: number;
  /** Optimizer steps of the whole schedule. */
  steps: number;
  /** MultiBox loss of this step (mean over its micro-batches) and its parts; loss = loc + conf. Always finite. */
  loss: number;
  parts: { loc: number; conf: number };
  /** Learning rate used by this step. */
  lr: number;
  /** Training images per second, over the last few steps. */
  imgPerSec: number;
  /** Seconds to the end of the schedule (or of a --minutes budget), null until measurable. */
  etaSec: number | null;
  /** Seconds of training in this run, resumed processes included. */
  elapsedSec: number;
}

export type CheckpointReason = 'interval' | 'end' | 'signal' | 'limit';

export interface CheckpointEvent extends EventBase {
  type: 'checkpoint';
  step: number;
  path: string;
  bytes: number;
  reason: CheckpointReason;
}

export type MetricName = 'voc07' | 'voc' | 'coco';

export interface MetricEvent extends EventBase {
  type: 'metric';
  /** voc07: VOC2007 11-point mAP; voc: VOC2010+ all-point mAP; coco: AP@[.5:.95]. */
  metric: MetricName;
  value: number;
  /** Other numbers of the same evaluation (mapArea, ap50, ap75, ...). */
  extras: Record<string, number>;
  perClass: { name: string; ap: number | null }[];
  /** The optimizer step of the weights evaluated (null for a weights file of unknown step). */
  step: number | null;
  elapsedSec: number;
  split: string;
  images: number;
  /** Precision-recall curves written for this evaluation, or null. */
  curves: string | null;
}

export interface ErrorEvent extends EventBase {
  type: 'error';
  /** Stable, for programs: e.g. loss-not-finite, loss-exploded, out-of-memory, spec, data, backend, usage, internal. */
  code: string;
  message: string;
  /** `file:line:col` when the error is about a place in a file. */
  where: string | null;
  fatal: boolean;
}

export type DoneReason = 'completed' | 'stopped' | 'time-limit' | 'step-limit' | 'failed';

export interface DoneEvent extends EventBase {
  type: 'done';
  reason: DoneReason;
  /** Last optimizer step (train), or null. */
  step: number | null;
  elapsedSec: number;
  exitCode: number;
  /** The last evaluation's headline number, when there was one. */
  metric: { metric: MetricName; value: number } | null;
}

/** The torch engine to its bridge: a detections file is ready to be scored (see the header: never in events.jsonl). */
export interface DetectionsEvent extends EventBase {
  type: 'detections';
  /** The optimizer step of the weights that made them. */
  step: number;
  /** dsod infer's detections document (engine/eval/detections-file.ts), complete when this arrives. */
  path: string;
  /** Images it holds detections for (the first ones of the held-out images the bridge gave). */
  images: number;
  /** The run's last evaluation (all images; the run's done follows), else a periodic one. */
  final: boolean;
  /** Seconds of training behind the weights. */
  elapsedSec: number;
}

export type EngineEvent = StartEvent | DoctorEvent | LogEvent | ProgressEvent | CheckpointEvent | MetricEvent | ErrorEvent | DoneEvent | DetectionsEvent;
export type EngineEventType = EngineEvent['type'];

/** An event without the fields every event gets when it is made. */
export type EventBody<E extends EngineEvent = EngineEvent> = E extends EngineEvent ? Omit<E, 'v' | 'time'> : never;

export function makeEvent<E extends EventBody>(body: E, now: Date = new Date()): E & { v: number; time: string } {
  return { v: ENGINE_EVENTS_VERSION, time: now.toISOString(), ...body };
}

// ---- validation: every field checked, so a reader can trust what it accepts ----
// With protocol/checks.ts, the kit every protocol module checks with; each event's checker is tied to its type.

const text = strOf(Number.POSITIVE_INFINITY);
const int = count;
const num = finite;
const nonNeg = nonNegative;

const METRIC = oneOf('voc07', 'voc', 'coco');

/** Each event's fields less `type`, `v` and `time` (checked for every event alike). */
type EventFields<K extends EngineEventType> = Fields<Omit<Extract<EngineEvent, { type: K }>, 'type' | 'v' | 'time'>>;

const SHAPES: { [K in EngineEventType]: EventFields<K> } = {
  start: {
    command: oneOf('train', 'eval', 'infer'),
    spec: text,
    name: text,
    runDir: nullable(text),
    step: int,
    steps: int,
    batch: int,
    accumulate: int,
    images: shapeOf<StartEvent['images']>()({ train: int, test: int }),
    resumed: bool,
  },
  doctor: {
    chosen: text,
    tfBackend: text,
    requested: text,
    reason: text,
    attempts: arrayOf(shapeOf<BackendAttemptInfo>()({ name: text, ok: bool, detail: text, ms: nonNeg }), Number.POSITIVE_INFINITY),
    engine: optional(oneOf('tfjs', 'torch')),
    torch: optional(
      shapeOf<TorchDoctorInfo>()({
        python: text,
        pythonVersion: text,
        version: text,
        device: text,
        cuda: nullable(text),
        gpus: int,
        precision: oneOf('fp32', 'bf16', 'fp16'),
        worldSize: int,
        distributed: nullable(text),
        threads: int,
        imageDecoder: text,
        choices: optional(recordOf(shapeOf<SpeedChoice>()({ value: text, why: text }), 32)),
      }),
    ),
    missing: optional(arrayOf(shapeOf<EngineFix>()({ problem: text, fix: text }), Number.POSITIVE_INFINITY)),
    threads: optional(int),
  },
  log: { level: oneOf('debug', 'info', 'warn'), message: text },
  progress: {
    epoch: nonNeg,
    step: int,
    steps: int,
    loss: num,
    parts: shapeOf<ProgressEvent['parts']>()({ loc: num, conf: num }),
    lr: nonNeg,
    imgPerSec: nonNeg,
    etaSec: nullable(nonNeg),
    elapsedSec: nonNeg,
  },
  checkpoint: { step: int, path: text, bytes: int, reason: oneOf('interval', 'end', 'signal', 'limit') },
  metric: {
    metric: METRIC,
    value: num,
    extras: recordOf(num, Number.POSITIVE_INFINITY),
    perClass: arrayOf(shapeOf<MetricEvent['perClass'][number]>()({ name: text, ap: nullable(num) }), Number.POSITIVE_INFINITY),
    step: nullable(int),
    elapsedSec: nonNeg,
    split: text,
    images: int,
    curves: nullable(text),
  },
  error: { code: text, message: text, where: nullable(text), fatal: bool },
  detections: { step: int, path: text, images: int, final: bool, elapsedSec: nonNeg },
  done: {
    reason: oneOf('completed', 'stopped', 'time-limit', 'step-limit', 'failed'),
    step: nullable(int),
    elapsedSec: nonNeg,
    exitCode: int,
    metric: nullable(shapeOf<NonNullable<DoneEvent['metric']>>()({ metric: METRIC, value: num })),
  },
};

export type EventCheck = { ok: true; event: EngineEvent } | { ok: false; error: string };

/** Check a parsed value: the version, the type, and every field of that type (extra fields are allowed). */
export function validateEngineEvent(x: unknown): EventCheck {
  if (!isObject(x)) return { ok: false, error: 'an event must be a JSON object' };
  if (x.v !== ENGINE_EVENTS_VERSION) {
    return { ok: false, error: `event version ${JSON.stringify(x.v)} is not ${ENGINE_EVENTS_VERSION}: this reader and the engine that wrote it disagree` };
  }
  if (typeof x.type !== 'string' || !(x.type in SHAPES)) return { ok: false, error: `unknown event type ${JSON.stringify(x.type)}` };
  if (typeof x.time !== 'string' || Number.isNaN(Date.parse(x.time))) return { ok: false, error: `${x.type}: "time" must be an ISO 8601 string` };
  const fields: Record<string, Check> = SHAPES[x.type as EngineEventType];
  const bad = Object.keys(fields).filter((k) => fields[k](x[k], k) !== null);
  if (bad.length) return { ok: false, error: `${x.type}: invalid or missing ${bad.map((k) => `"${k}"`).join(', ')}` };
  return { ok: true, event: x as unknown as EngineEvent };
}

export function isEngineEvent(x: unknown): x is EngineEvent {
  return validateEngineEvent(x).ok;
}

/** One line of events.jsonl (or of `dsod train --json` output). */
export function parseEngineEventLine(line: string): EventCheck {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  return validateEngineEvent(value);
}

/** The line to write for an event. Progress events are only made for finite losses (a non-finite one is an error event). */
export function formatEngineEvent(e: EngineEvent): string {
  return JSON.stringify(e);
}
