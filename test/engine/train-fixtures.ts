// Shared by the training tests: a micro DSOD (32x32, 3 scales, 20k parameters) that trains in milliseconds a step,
// a matching synthetic dataset (objects 25-80% of the image), and helpers to run the trainer and the CLI in-process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSpec, type Analysis } from '../../core';
import { main } from '../../engine/cli/main';
import { synthesize } from '../../engine/data/synth/generate';
import { loadVoc } from '../../engine/data/voc';
import type { DetectionDataset } from '../../engine/data/types';
import { train, type TrainOptions, type TrainOutcome } from '../../engine/train/trainer';
import { makeEvent, type EngineEvent, type EventBody } from '../../protocol/engine-events';
import { parseEventLines } from '../helpers';

export const MICRO_SPEC = `dsod: 1
name: micro test DSOD
input: { size: [32, 32], channels: 3 }
classes: [circle, square, triangle, star, cross]
backbone:
  notation: DS/8-8-4-1
  stem: { convs: [8, 8, 8], pool: max }
  blocks: [1, 1, 1]
  transitions: [pool, no-pool, { pool: false, channels: 8 }]
prediction:
  structure: dense
  scales: 3
  channels: [12, 16, 16]
  l2norm: { init: 20, scales: all }
heads: { kernel: 3, batch_norm: true, bn_eps: 0.001 }
priors:
  min_sizes: [6, 12, 20]
  max_sizes: [12, 20, 30]
  aspect_ratios: [[2], [2], [2]]
  steps: [4, 8, 16]
train: { batch: 8, lr: 0.02, warmup: 2, milestones: [100], iterations: 200, checkpoint_every: 3, seed: 1 }
`;

/** The micro spec with its train section replaced (a YAML flow mapping, e.g. "{ batch: 4, lr: 1e30 }"). */
export function microSpec(train?: string): string {
  return train ? MICRO_SPEC.replace(/^train: .*$/m, `train: ${train}`) : MICRO_SPEC;
}

export function analyzeText(text: string): Analysis {
  const r = checkSpec(text, 'yaml', { hints: false });
  if (!r.analysis) throw new Error(`invalid test spec: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.analysis;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `dsod-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A synthetic VOC set for the micro spec: big objects on 32x32 images. */
export async function microData(root: string, count = 48): Promise<void> {
  await synthesize({ out: root, count, width: 32, height: 32, seed: 3, minObjects: 1, maxObjects: 2, minSize: 0.3, maxSize: 0.8 });
}

/** A new temporary folder with `images` synthetic images in data/ and the micro spec (train section `trainSection`, as for microSpec). */
export async function microWorkspace(
  prefix: string,
  images: number,
  trainSection: string,
): Promise<{ dir: ReturnType<typeof tempDir>; data: string; spec: string }> {
  const dir = tempDir(prefix);
  const data = join(dir.path, 'data');
  await microData(data, images);
  const spec = join(dir.path, 'micro.dsod.yaml');
  writeFileSync(spec, microSpec(trainSection));
  return { dir, data, spec };
}

export async function loadMicroSplits(root: string): Promise<{ train: DetectionDataset; test: DetectionDataset }> {
  const classNames = ['background', 'circle', 'square', 'triangle', 'star', 'cross'];
  return { train: await loadVoc({ root, splits: 'trainval', classNames }), test: await loadVoc({ root, splits: 'test', classNames }) };
}

/** Flips only: the SSD recipe's 4x zoom-out would shrink 32x32 objects below the smallest prior. */
export const LIGHT_AUGMENT = { distort: false, expand: false, samplers: false, flipProb: 0.5 } as const;

/** Run the trainer in-process, collecting its events. */
export async function trainMicro(
  o: Partial<TrainOptions> & { specText: string; runDir: string; train: DetectionDataset; test: DetectionDataset | null },
): Promise<{ outcome: TrainOutcome; events: EngineEvent[] }> {
  const events: EngineEvent[] = [];
  const specPath = join(o.runDir, '..', 'micro.dsod.yaml');
  writeFileSync(specPath, o.specText);
  const outcome = await train({
    analysis: analyzeText(o.specText),
    specPath,
    tfBackend: 'wasm',
    resume: false,
    stop: { requested: null },
    evalImages: 8,
    augment: LIGHT_AUGMENT,
    ...o,
    emit: (e: EventBody) => events.push(makeEvent(e) as EngineEvent),
  });
  return { outcome, events };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** With --json: stdout's events, each validated. */
  events: EngineEvent[];
}

/** `dsod ...args` in this process. */
export async function dsodInProcess(args: string[]): Promise<CliResult> {
  const out = { stdout: '', stderr: '' };
  const io = { stdout: { write: (s: string) => ((out.stdout += s), true) }, stderr: { write: (s: string) => ((out.stderr += s), true) } };
  const code = await main(args, io);
  return { code, ...out, events: args.includes('--json') ? parseEventLines(out.stdout) : [] };
}
