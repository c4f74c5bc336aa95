// Checkpoints: everything a run needs to continue exactly where it stopped, in one file written atomically
// (a temporary file renamed into place: a reader, or a run resumed after a SIGKILL, sees a whole checkpoint or
// the previous one, never half of one).
//
// File layout: "DSODCK01", uint32 LE length of a UTF-8 JSON header (CheckpointMeta), the header, zero padding to
// a multiple of 4, then the model's weights and the optimizer's momentum buffers, each in the weights encoding
// (engine/model/weights.ts), their lengths in the header.
//
// Randomness needs no generator state: data order and augmentation are functions of (seed, position) (see
// engine/data/batches.ts) and initial weights of the seed, so `seed` and `position` are the whole rng state.
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/files';
import type { EngineName } from '../../protocol/engine-events';
import { checkpointFileName, checkpointOfName, RUN_FILES } from '../../protocol/run-files';
import { decodeWeights, encodeWeights, type WeightMap } from '../model/weights';
import type { DataSource } from '../data/source';
import type { Schedule } from './schedule';

const MAGIC = 'DSODCK01';
const WEIGHTS_MAGIC = 'DSODW001';

export interface CheckpointMeta {
  format: 1;
  /** Optimizer steps done. */
  step: number;
  /** Micro-batches consumed from the training stream (the data loader's next position). */
  position: number;
  seed: number;
  /** Seconds of training before this checkpoint, over every process of the run. */
  elapsedSec: number;
  /** The schedule in force (a --minutes budget may have compressed the spec's). */
  schedule: Schedule;
  /** The batch-norm statistics were recomputed for these weights (a finished run's); else Caffe's running averages. */
  statsRecalibrated?: boolean;
  /** True once a --minutes budget compressed the schedule: a resumed run keeps it. Otherwise the spec's applies. */
  scheduleFitted?: boolean;
  /** Loss level the explosion guard compares against (null until measured). */
  lossReference: number | null;
  spec: { name: string; hash: string };
  batch: number;
  accumulate: number;
  /** The spec's train.augment (batches depend on it). */
  augment: string;
  created: string;
  /** Where the run's images are (absolute paths): `dsod eval` and `dsod infer` on the run find its data by it. */
  data?: Pick<DataSource, 'format' | 'root' | 'train' | 'test'>;
  /** How batch-norm statistics are recomputed before an evaluation (see bn-calibration.ts): `dsod eval` repeats it. */
  calibration?: { batches: number; batchSize: number };
}

export interface Checkpoint {
  meta: CheckpointMeta;
  weights: WeightMap;
  optimizer: WeightMap;
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const weights = encodeWeights(c.weights);
  const optimizer = encodeWeights(c.optimizer);
  const header = new TextEncoder().encode(JSON.stringify({ ...c.meta, weightsBytes: weights.length, optimizerBytes: optimizer.length }));
  const start = align4(MAGIC.length + 4 + header.length);
  const out = new Uint8Array(start + weights.length + optimizer.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, header.length, true);
  out.set(header, MAGIC.length + 4);
  out.set(weights, start);
  out.set(optimizer, start + weights.length);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array, path = 'checkpoint'): Checkpoint {
  const fail = (why: string): never => {
    throw new Error(`${path}: not a DSOD checkpoint (${why})`);
  };
  if (magicOf(bytes) !== MAGIC) fail('bad magic');
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
  if (MAGIC.length + 4 + length > bytes.length) fail('truncated header');
  let header: CheckpointMeta & { weightsBytes: number; optimizerBytes: number };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + length)));
  } catch {
    return fail('unreadable header');
  }
  const start = align4(MAGIC.length + 4 + length);
  if (start + header.weightsBytes + header.optimizerBytes !== bytes.length) fail('truncated');
  const { weightsBytes, optimizerBytes, ...meta } = header;
  return {
    meta,
    weights: decodeWeights(bytes.subarray(start, start + weightsBytes)),
    optimizer: decodeWeights(bytes.subarray(start + weightsBytes, start + weightsBytes + optimizerBytes)),
  };
}

/** Weights from a checkpoint (with its meta) or from a plain weights file (weights.dsodw), told apart by their magic. */
export function readWeightsFile(path: string): { weights: WeightMap; step: number | null; meta: CheckpointMeta | null } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read the weights file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  const magic = magicOf(bytes);
  if (magic === MAGIC) {
    const c = decodeCheckpoint(bytes, path);
    return { weights: c.weights, step: c.meta.step, meta: c.meta };
  }
  if (magic === WEIGHTS_MAGIC) {
    try {
      const meta = weightsFileMeta(bytes);
      return { weights: decodeWeights(bytes), step: meta?.step ?? null, meta };
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  throw new Error(`${path} is neither a DSOD checkpoint (.dsodckpt) nor a weights file (.dsodw)`);
}

export const CHECKPOINT_DIR = RUN_FILES.checkpoints;

/** The engine that wrote a checkpoint: its format (protocol/run-files.ts CHECKPOINT_KINDS names each one's file). */
export type CheckpointEngine = EngineName;

export interface CheckpointFile {
  step: number;
  path: string;
  engine: CheckpointEngine;
}

export function checkpointName(step: number, engine: CheckpointEngine = 'tfjs'): string {
  return checkpointFileName(engine, step);
}

/** Only the tfjs engine's checkpoints are decoded in Node; the torch engine's (torch.save archives) only in Python. */
export function readableHere(engine: CheckpointEngine): boolean {
  return engine === 'tfjs';
}

/**
 * Checkpoints of a run folder of one engine (the tfjs engine's by default), oldest first (temporary files of an
 * interrupted write are not checkpoints).
 */
export function listCheckpoints(runDir: string, engine: CheckpointEngine = 'tfjs'): CheckpointFile[] {
  let names: string[];
  try {
    names = readdirSync(join(runDir, CHECKPOINT_DIR));
  } catch {
    return [];
  }
  return names
    .map((n) => ({ c: checkpointOfName(n), n }))
    .flatMap((x) => (x.c?.engine === engine ? [{ step: x.c.step, engine, path: join(runDir, CHECKPOINT_DIR, x.n) }] : []))
    .sort((a, b) => a.step - b.step);
}

export async function writeCheckpoint(runDir: string, c: Checkpoint, keep: number): Promise<{ path: string; bytes: number }> {
  const path = join(runDir, CHECKPOINT_DIR, checkpointName(c.meta.step));
  const bytes = encodeCheckpoint(c);
  await writeFileAtomic(path, bytes);
  // Older ones beyond `keep` go only after the new one is in place.
  const all = listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) {
    try {
      unlinkSync(old.path);
    } catch {
      // already gone: nothing to do
    }
  }
  return { path, bytes: bytes.length };
}

/** Plain weights (no optimizer state): what `dsod eval` and `dsod infer` take. */
export async function writeWeightsFile(path: string, weights: WeightMap): Promise<number> {
  const bytes = encodeWeights(weights);
  await writeFileAtomic(path, bytes);
  return bytes.length;
}

/**
 * The checkpoint meta a weights file may carry in its header (`meta`, beside names and shapes): the torch engine
 * writes its checkpoint's there, since Node cannot read its .pt checkpoints, so `dsod eval|infer --run` of a torch run
 * find its step, data and recalibration. Null when absent (the tfjs engine's weights files, whose checkpoints say it).
 */
export function weightsFileMeta(bytes: Uint8Array): CheckpointMeta | null {
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(WEIGHTS_MAGIC.length, true);
  let header: { meta?: unknown };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(WEIGHTS_MAGIC.length + 4, WEIGHTS_MAGIC.length + 4 + length)));
  } catch {
    return null; // decodeWeights names the damage
  }
  const m = header.meta as CheckpointMeta | undefined;
  return m && typeof m === 'object' && Number.isInteger(m.step) && m.schedule && typeof m.schedule.iterations === 'number' ? m : null;
}

function magicOf(bytes: Uint8Array): string {
  return bytes.length >= 8 ? new TextDecoder().decode(bytes.subarray(0, 8)) : '';
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** The spec hash a checkpoint carries (and `dsod export --graph` writes): sha256 of the spec's text, 16 hex digits. */
export function specTextHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
