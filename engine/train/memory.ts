// Will a training step fit in memory? Counted before the first step by core's training-memory model (tfjs engine:
// the tape's saved tensors, the backward pass's gradients, weights, momentum, the batch: core/analysis/memory.ts), so
// a batch that cannot fit is refused with the figure instead of dying mid-step (wasm aborts at its 4 GB heap; the cpu
// backend swaps).
//
// The model counts what tfjs accounts (tf.memory().numBytes, agreement tested in test/engine/train-memory.test.ts).
// The allocator adds to it: the wasm heap after a DSOD300 step at batch 1 measured 2,399,338,496 B against a count of
// 2,130,019,256 B (13% more; the count itself exact). The check keeps ALLOCATOR_HEADROOM of the limit free for that.
import { totalmem } from 'node:os';
import { fitBatch, formatBytes, trainingMemory, type Analysis, type TrainingMemory } from '../../core';

/** The share of a backend's memory a step may be counted to use; the rest is for the allocator and workspaces. */
export const ALLOCATOR_HEADROOM = 0.15;
const WASM_CAP = 4 * 2 ** 30;

export type MemoryEstimate = TrainingMemory;

/** One tfjs training step at `microBatch` images, `accumulate` micro-batches per update. */
export function estimateTrainingMemory(analysis: Analysis, microBatch: number, accumulate = 1): MemoryEstimate {
  return trainingMemory(analysis, { engine: 'tfjs', precision: 'fp32', batch: microBatch, accumulate });
}

/** The memory a backend can give one training step, and why; null when we cannot tell (a GPU's memory). */
export function memoryLimit(tfBackend: string): { bytes: number; why: string } | null {
  if (tfBackend === 'wasm') return { bytes: WASM_CAP, why: "the wasm backend's heap is capped at 4 GiB (wasm32)" };
  if (tfBackend === 'cpu' || tfBackend === 'tensorflow') return { bytes: totalmem(), why: `this machine has ${formatBytes(totalmem())} of memory` };
  return null;
}

/** null when it fits (or the limit is unknown), else the message that says by how much it does not. */
export function checkMemory(analysis: Analysis, e: MemoryEstimate, limit: { bytes: number; why: string } | null): string | null {
  if (!limit) return null;
  const usable = Math.floor(limit.bytes * (1 - ALLOCATOR_HEADROOM));
  if (e.total <= usable) return null;
  const fit = fitBatch(analysis, usable, { engine: 'tfjs', precision: 'fp32' });
  const target = analysis.spec.train.batch;
  const plan = fit.plan && fit.plan.accumulate > 1 ? ` (e.g. batch ${target} with accumulate ${fit.plan.accumulate})` : '';
  const advice =
    fit.largest >= 1
      ? `at most ${fit.largest} image${fit.largest > 1 ? 's' : ''} per micro-batch fit: lower train.batch, or raise train.accumulate to keep the effective batch${plan}`
      : 'not even one image fits: use a smaller input size or a narrower network';
  return (
    `a training step at micro-batch ${e.batch} needs about ${formatBytes(e.total)}: ${formatBytes(e.saved)} kept for the backward pass and ` +
    `${formatBytes(e.backward)} of activation gradients, plus ${formatBytes(e.weights + e.gradients + e.optimizer)} of weights, gradients and momentum ` +
    `(dsod analyze --memory --engine tfjs shows it per stage); ${limit.why}, ${Math.round(100 * ALLOCATOR_HEADROOM)}% of it left to the allocator. ${advice}`
  );
}
