// Will a training step fit in memory? Estimated before the first step from core's numbers, so a batch that cannot
// fit is refused with the figure instead of dying mid-step (wasm aborts at its 4 GB heap; the cpu backend swaps).
//
// core's activationBytesPerImage counts every layer's float32 output once. A tfjs training step needs more: the
// backward pass holds a gradient beside each activation, batch norm keeps its centred input, and the allocator
// fragments. Measured on the wasm backend (heap size after a step): tiny example 4.9x (batch 16) and 4.3x
// (batch 32), DSOD300 4.4x (batch 1: 2.30 GB against core's 519 MiB). ACTIVATION_FACTOR covers these.
import { totalmem } from 'node:os';
import type { Analysis } from '../../core';

export const ACTIVATION_FACTOR = 5;
/** Per learned parameter: the value, its gradient, the accumulated gradient and the momentum buffer (float32). */
const BYTES_PER_LEARNED = 16;
const WASM_CAP = 4 * 2 ** 30;

export interface MemoryEstimate {
  microBatch: number;
  /** core's float32 activations for one image. */
  activationBytesPerImage: number;
  activations: number;
  parameters: number;
  total: number;
}

export function estimateTrainingMemory(analysis: Analysis, microBatch: number): MemoryEstimate {
  const t = analysis.totals;
  const activations = t.activationBytesPerImage * microBatch * ACTIVATION_FACTOR;
  const parameters = t.paramsLearned * BYTES_PER_LEARNED + (t.paramsStored - t.paramsLearned) * 4;
  return { microBatch, activationBytesPerImage: t.activationBytesPerImage, activations, parameters, total: activations + parameters };
}

/** The memory a backend can give one training step, and why; null when we cannot tell (a GPU's memory). */
export function memoryLimit(tfBackend: string): { bytes: number; why: string } | null {
  if (tfBackend === 'wasm') return { bytes: WASM_CAP, why: "the wasm backend's heap is capped at 4 GiB (wasm32)" };
  if (tfBackend === 'cpu' || tfBackend === 'tensorflow') return { bytes: totalmem(), why: `this machine has ${gib(totalmem())} of memory` };
  return null;
}

/** null when it fits (or the limit is unknown), else the message that says by how much it does not. */
export function checkMemory(e: MemoryEstimate, limit: { bytes: number; why: string } | null, accumulate: number): string | null {
  if (!limit || e.total <= limit.bytes) return null;
  const perImage = e.activationBytesPerImage * ACTIVATION_FACTOR;
  const fits = Math.floor((limit.bytes - e.parameters) / perImage);
  const advice =
    fits >= 1
      ? `at most ${fits} image${fits > 1 ? 's' : ''} per micro-batch fit: lower train.batch, or raise train.accumulate to keep the effective batch ` +
        `(e.g. batch ${e.microBatch * accumulate} with accumulate ${Math.ceil((e.microBatch * accumulate) / fits)})`
      : 'not even one image fits: use a smaller input size or a narrower network';
  return (
    `a training step at micro-batch ${e.microBatch} needs about ${gib(e.total)}: ${e.microBatch} x ${gib(perImage)} of activations ` +
    `(core's ${gib(e.activationBytesPerImage)} per image x ${ACTIVATION_FACTOR} for gradients and temporaries) + ${gib(e.parameters)} of ` +
    `parameters, gradients and momentum; ${limit.why}. ${advice}`
  );
}

function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
