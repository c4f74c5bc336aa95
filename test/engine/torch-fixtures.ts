// Shared by the torch engine's tests: the Python with torch (or why there is none), `python -m dsod_torch`, and
// deterministic numbers for comparing the engines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { findTorchPython, torchPackageRoot } from '../../engine/torch/python';
import type { WeightMap } from '../../engine/model';

export const torchPython = findTorchPython();
/** The `skip` option of a test that needs torch: false, or the reason (what was tried, the command that fixes it). */
export const skipWithoutTorch: false | string = torchPython.ok ? false : torchPython.message;
export const torchEnv = { ...process.env, OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' };

/** `python -m dsod_torch ...args`; one BLAS thread (the test machine is shared); failures show Python's stderr. */
export function dsodTorch(...args: string[]): string {
  if (!torchPython.ok) throw new Error(torchPython.message);
  const r = spawnSync(torchPython.python, ['-m', 'dsod_torch', ...args], {
    encoding: 'utf8',
    cwd: torchPackageRoot(),
    env: torchEnv,
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `python -m dsod_torch ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Uniform in [lo, hi), from a fixed LCG: the same numbers on every machine. */
export function values(count: number, lo: number, hi: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

/** max |a - b| / max |b|: the error relative to the tensor's scale. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? err : err / scale;
}

/**
 * Trained-looking weights: BN gamma/beta and running statistics away from their initial 1/0/empty and L2Norm scales
 * spread, so every term of Caffe's batch norm (sums divided by the factor) and of L2Norm counts. Edits in place.
 */
export function trainedLike(weights: WeightMap): WeightMap {
  let seed = 1;
  for (const [name, w] of Object.entries(weights)) {
    const n = w.values.length;
    if (name.endsWith('/gamma')) w.values = values(n, 0.5, 1.5, seed++);
    else if (name.endsWith('/beta')) w.values = values(n, -0.2, 0.2, seed++);
    else if (name.endsWith('/mean_sum')) w.values = values(n, -0.5, 0.5, seed++).map((v) => v * 3.7);
    else if (name.endsWith('/var_sum')) w.values = values(n, 0.5, 2, seed++).map((v) => v * 3.7);
    else if (name.endsWith('/factor')) w.values = new Float32Array([3.7]);
    else if (name.endsWith('/scale')) w.values = values(n, 5, 20, seed++);
  }
  return weights;
}

/** Labels with positives of every class (1..classes-1), ignored priors (-1) and background (0). */
export function mixedLabels(count: number, classes: number): Float32Array {
  return new Float32Array(count).map((_, i) => (i % 37 === 0 ? 1 + (i % (classes - 1)) : i % 41 === 0 ? -1 : 0));
}
