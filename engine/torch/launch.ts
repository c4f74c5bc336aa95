// Starting the torch engine from Node: the graph JSON written into the run folder, `python -m dsod_torch train` spawned
// with the Python findTorchPython found, every stdout line checked by the protocol's validator before it is handed on.
// The bridge `dsod train --engine torch` (engine/cli/train-torch.ts) drives it; nothing here prints. The engine writes
// events to stdout only (--no-events-file): the caller's sink is the one writer of RUNDIR/events.jsonl.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { parseEngineEventLine, type EngineEvent } from '../../protocol/engine-events';
import type { GraphJson } from '../../protocol/graph-json';
import { writeFileAtomicSync } from '../data/files';
import { findTorchPython, torchPackageRoot } from './python';

/** The graph the torch engine trained, beside its events (the run folder's own copy: the spec may change later). */
export const TORCH_GRAPH_FILE = 'graph.json';

export interface TorchTrainRequest {
  graph: GraphJson;
  runDir: string;
  /** The spec file, as the start event names it. */
  specPath: string;
  steps?: number;
  batch?: number;
  accumulate?: number;
  resume?: boolean;
  /** The dataset index (engine/torch/data-index.ts writeDataIndex); absent: synthetic images. */
  data?: string;
  /** A tfjs weights file a new run starts from (the tfjs engine's seeded initial weights: both engines start alike). */
  init?: string;
  /** Stop after this optimizer step (the schedule stays the spec's: done `step-limit`), or after these minutes. */
  maxSteps?: number;
  minutes?: number;
  /** Evaluate the held-out split of `data` (decoded by the engine) every `evalEvery` steps (0: at the end only) on its
   * first `evalImages` images, and at the end on all: detections files written here, announced by `detections` events. */
  evalDir?: string;
  evalEvery?: number;
  evalImages?: number;
  /** Processes training data-parallel on this machine (DDP; gloo on the CPU): `python -m dsod_torch launch`. */
  processes?: number;
  /** Several machines (torchrun's contract): the same request on each, with its nodeRank; node 0's address and a free port. */
  nodes?: { count: number; rank: number; masterAddr: string; masterPort: number };
  /** Speed options (engine/torch/dsod_torch/speed.py); each absent = the engine's auto choice. */
  precision?: 'auto' | 'fp32' | 'bf16' | 'fp16';
  channelsLast?: boolean;
  compile?: boolean;
  /** Batch-norm statistics over all processes (DDP) instead of per process; absent: the spec's train.sync_bn. */
  syncBn?: boolean;
  /** A Python with torch; found with findTorchPython when absent. */
  python?: string;
  env?: NodeJS.ProcessEnv;
}

export interface TorchTrainEnd {
  /** The process's exit status (null when a signal ended it) and that signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last 8 KB of its stderr (Python's traceback on a crash). */
  stderr: string;
  /** stdout lines the validator refused, with its reason: none from a healthy engine. */
  invalid: string[];
}

export interface TorchTraining {
  /** Ask it to stop (it writes a checkpoint, then `done` with reason `stopped`). */
  stop(signal?: NodeJS.Signals): void;
  done: Promise<TorchTrainEnd>;
}

const STDERR_KEEP = 8 * 1024;

/** The command line after the Python executable: `-m dsod_torch [launch ...] train GRAPH --out RUNDIR ...`. */
export function torchTrainArgs(req: TorchTrainRequest, graphFile: string, runDir: string): string[] {
  const launcher: string[] = [];
  if ((req.processes ?? 1) > 1 || req.nodes) {
    launcher.push('launch', '--nproc', String(req.processes ?? 1));
    if (req.nodes) {
      const n = req.nodes;
      launcher.push('--nnodes', String(n.count), '--node-rank', String(n.rank), '--master-addr', n.masterAddr, '--master-port', String(n.masterPort));
    }
  }
  const args = ['-m', 'dsod_torch', ...launcher, 'train', graphFile, '--out', runDir, '--spec', req.specPath];
  if (req.steps !== undefined) args.push('--steps', String(req.steps));
  if (req.batch !== undefined) args.push('--batch', String(req.batch));
  if (req.accumulate !== undefined) args.push('--accumulate', String(req.accumulate));
  if (req.resume) args.push('--resume');
  if (req.data !== undefined) args.push('--data', req.data);
  if (req.init !== undefined) args.push('--init', req.init);
  if (req.maxSteps !== undefined) args.push('--max-steps', String(req.maxSteps));
  if (req.minutes !== undefined) args.push('--minutes', String(req.minutes));
  if (req.evalDir !== undefined) args.push('--eval-dir', req.evalDir);
  if (req.evalEvery !== undefined) args.push('--eval-every', String(req.evalEvery));
  if (req.evalImages !== undefined) args.push('--eval-images', String(req.evalImages));
  if (req.precision !== undefined) args.push('--precision', req.precision);
  if (req.channelsLast !== undefined) args.push(req.channelsLast ? '--channels-last' : '--no-channels-last');
  if (req.compile) args.push('--compile');
  if (req.syncBn !== undefined) args.push(req.syncBn ? '--sync-bn' : '--no-sync-bn');
  // Node writes the run folder's events.jsonl (the bridge's sink): the engine's events go to stdout only.
  args.push('--no-events-file');
  return args;
}

/** Start training; `onEvent` gets every valid event in order. Throws, before starting anything, when no Python has torch. */
export function startTorchTraining(req: TorchTrainRequest, onEvent: (e: EngineEvent) => void): TorchTraining {
  const env = req.env ?? process.env;
  let python = req.python;
  if (!python) {
    const found = findTorchPython(env);
    if (!found.ok) throw new Error(found.message);
    python = found.python;
  }
  const runDir = resolve(req.runDir);
  mkdirSync(runDir, { recursive: true });
  const graphFile = join(runDir, TORCH_GRAPH_FILE);
  writeFileAtomicSync(graphFile, JSON.stringify(req.graph) + '\n');
  const args = torchTrainArgs(req, graphFile, runDir);
  // PYTHONPATH, not the working folder: relative paths the caller gives keep their meaning.
  const pythonPath = [torchPackageRoot(), env.PYTHONPATH].filter(Boolean).join(delimiter);
  const child = spawn(python, args, { env: { ...env, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const invalid: string[] = [];
  let buffer = '';
  let stderr = '';
  const line = (text: string) => {
    if (!text.trim()) return;
    const r = parseEngineEventLine(text);
    if (r.ok) onEvent(r.event);
    else invalid.push(`${r.error}: ${text.slice(0, 200)}`);
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      line(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  const done = new Promise<TorchTrainEnd>((resolveDone, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      line(buffer);
      resolveDone({ code, signal, stderr, invalid });
    });
  });
  return {
    stop: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    done,
  };
}

export interface TorchCommandEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A short command of the engine (`doctor`, `infer`): its output once it ends. Asynchronous, so signals still reach us. */
export function runTorchCommand(python: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<TorchCommandEnd> {
  const pythonPath = [torchPackageRoot(), env.PYTHONPATH].filter(Boolean).join(delimiter);
  const child = spawn(python, ['-m', 'dsod_torch', ...args], {
    env: { ...env, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-STDERR_KEEP)));
  return new Promise((resolveDone, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolveDone({ code, signal, stdout, stderr }));
  });
}
