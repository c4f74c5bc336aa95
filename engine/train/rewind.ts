// `dsod train --from CHECKPOINT`: continue a run from an earlier checkpoint of its own (a better step, before a
// divergence). The later branch is set aside, not deleted: its checkpoints move to checkpoints/superseded-<time>/
// (hours of training are not thrown away by a click), its evaluations leave metrics.json (resume drops those the
// same way), and weights.dsodw becomes the chosen checkpoint's. Its events stay in events.jsonl: a train `start` at a
// lower step than the last progress tells readers to drop the later points.
//
// Both engines: the checkpoints are the engine's (protocol/run-files.ts CHECKPOINT_KINDS). A tfjs checkpoint is decoded here
// for weights.dsodw; a torch one (.pt) only Python reads, so the torch engine rewrites weights.dsodw from the
// checkpoint it resumes (dsod_torch/train.py), before its first step.
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CHECKPOINT_DIR, decodeCheckpoint, listCheckpoints, readableHere, writeWeightsFile, type CheckpointEngine } from './checkpoint';
import { TrainError } from './errors';
import { dropMetricsAfter, RUN_FILES } from './run-files';

export interface Rewound {
  step: number;
  /** The last checkpoint's step before the rewind. */
  reached: number;
  /** Later checkpoints set aside, and where (null when there were none). */
  moved: number;
  movedTo: string | null;
  droppedEvaluations: number;
  /** Whether weights.dsodw was rewritten here (false: the engine rewrites it when it resumes). */
  weightsWritten: boolean;
}

export async function rewindRun(runDir: string, checkpoint: string, engine: CheckpointEngine = 'tfjs'): Promise<Rewound> {
  const all = listCheckpoints(runDir, engine);
  const chosen = all.find((c) => resolve(c.path) === resolve(checkpoint));
  if (!chosen) {
    const have = all.map((c) => basename(c.path)).join(', ') || 'none';
    throw new TrainError('resume', `--from ${checkpoint} is not a checkpoint of the run in ${runDir} (its checkpoints: ${have})`);
  }
  const later = all.filter((c) => c.step > chosen.step);
  let movedTo: string | null = null;
  if (later.length) {
    movedTo = join(runDir, CHECKPOINT_DIR, `superseded-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(movedTo, { recursive: true });
    for (const c of later) renameSync(c.path, join(movedTo, basename(c.path)));
  }
  const droppedEvaluations = await dropMetricsAfter(runDir, chosen.step);
  const weightsWritten = readableHere(engine);
  if (weightsWritten) {
    const c = decodeCheckpoint(readFileSync(chosen.path), chosen.path);
    await writeWeightsFile(join(runDir, RUN_FILES.weights), c.weights);
  }
  return { step: chosen.step, reached: all[all.length - 1].step, moved: later.length, movedTo, droppedEvaluations, weightsWritten };
}

/** The info line both engines log after a rewind that set later steps aside (null when the chosen one was the last). */
export function rewindMessage(r: Rewound): string | null {
  if (r.step >= r.reached) return null;
  return (
    `continuing from step ${r.step} of the ${r.reached} the run had reached: ${r.moved} later checkpoint${r.moved === 1 ? '' : 's'} moved to ${r.movedTo}, ` +
    `${r.droppedEvaluations} later evaluation${r.droppedEvaluations === 1 ? '' : 's'} dropped from metrics.json (their events stay in events.jsonl)`
  );
}
