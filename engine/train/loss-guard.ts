// Stop a run that has diverged, with a message that says what happened, instead of training on NaNs for hours.
// Not finite: any NaN or infinity. Exploded: above EXPLODE_FACTOR x the loss's reference level, the mean of the
// run's first REFERENCE_STEPS steps (kept in checkpoints, so a resumed run judges by the same level); before the
// reference exists, above ABSOLUTE_LIMIT.
import type { EngineErrorCode } from '../errors';

export const REFERENCE_STEPS = 10;
export const EXPLODE_FACTOR = 10;
export const ABSOLUTE_LIMIT = 1e4;

export type LossVerdict = { ok: true } | { ok: false; code: Extract<EngineErrorCode, 'loss-not-finite' | 'loss-exploded'>; message: string };

export class LossGuard {
  private sum = 0;
  private count = 0;

  constructor(public reference: number | null) {}

  check(loss: number, step: number, lr: number): LossVerdict {
    const advice = `lower train.lr (now ${fmt(lr)} at this step) or add train.warmup steps`;
    if (!Number.isFinite(loss)) {
      return { ok: false, code: 'loss-not-finite', message: `the loss became ${loss} at step ${step + 1}: training diverged; ${advice}` };
    }
    const limit = this.reference === null ? ABSOLUTE_LIMIT : EXPLODE_FACTOR * this.reference;
    if (loss > limit) {
      const against = this.reference === null ? `the limit ${fmt(ABSOLUTE_LIMIT)}` : `${EXPLODE_FACTOR}x its early level ${fmt(this.reference)}`;
      return { ok: false, code: 'loss-exploded', message: `the loss exploded to ${fmt(loss)} at step ${step + 1} (above ${against}); ${advice}` };
    }
    if (this.reference === null) {
      this.sum += loss;
      if (++this.count === REFERENCE_STEPS) this.reference = this.sum / this.count;
    }
    return { ok: true };
  }
}

function fmt(x: number): string {
  return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : String(Math.round(x * 1e4) / 1e4);
}
