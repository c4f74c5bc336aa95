// The learning rate at each optimizer step: Caffe's "multistep" policy (base lr x gamma^k, k = milestones
// passed) with a linear warm-up over the first `warmup` steps, as the paper's recipe and spec.train describe.
import type { Train } from '../../core';

export interface Schedule {
  lr: number;
  gamma: number;
  milestones: number[];
  warmup: number;
  iterations: number;
}

export function scheduleOf(t: Train): Schedule {
  return { lr: t.lr, gamma: t.gamma, milestones: [...t.milestones].sort((a, b) => a - b), warmup: t.warmup, iterations: t.iterations };
}

/** The learning rate of step `step` (0-based: the first step is 0). Warm-up ramps from lr/warmup to lr. */
export function learningRate(s: Schedule, step: number): number {
  let lr = s.lr;
  for (const m of s.milestones) if (step >= m) lr *= s.gamma;
  if (step < s.warmup) lr *= (step + 1) / s.warmup;
  return lr;
}

/**
 * The same schedule squeezed into fewer iterations (a --minutes budget that cannot fit the spec's): milestones
 * keep their place relative to the end, so the learning rate still decays before training stops. Warm-up is kept
 * as written (it protects the first steps, whatever the length).
 */
export function compressSchedule(s: Schedule, iterations: number): Schedule {
  if (iterations >= s.iterations) return s;
  const f = iterations / s.iterations;
  return { ...s, iterations, milestones: s.milestones.map((m) => Math.max(s.warmup + 1, Math.round(m * f))) };
}
