// The budget verdict as data: for each limit the spec sets, the network's value and the limit, so the lens, the status
// bar and the lints say the same thing (and by how much) without reading it back out of diagnostics.
import type { Analysis } from './analyze';
import { budgetTrainMemory } from './memory';

export type BudgetQuantity = 'params' | 'macs' | 'activation memory' | 'train memory' | 'latency';

/**
 * The spec's latest measured latency (`dsod latency`, kept beside the spec): core cannot read files, so whoever can
 * (the CLI, the extension through the language server) hands it in.
 */
export interface MeasuredLatency {
  /** Median milliseconds of one run at `batch` images. */
  medianMs: number;
  p90Ms: number;
  batch: number;
  /** Who measured it: "onnxruntime-node 1.30.0 (cpu) on AMD EPYC, 2 cores". */
  label: string;
  /** ISO time of the measurement. */
  measuredAt: string;
  /** MACs of one image of the network measured: another count than the analysis's means another network. */
  macsPerImage: number;
}

/** Measured on another network than the one analysed (its MACs differ): shown as such, still the latest number. */
export function latencyIsStale(a: Analysis, m: MeasuredLatency): boolean {
  return m.macsPerImage !== a.totals.macs;
}

export interface BudgetCheck {
  quantity: BudgetQuantity;
  value: number;
  limit: number;
  over: boolean;
}

/** Null when the spec sets no budget. */
export function budgetChecks(a: Analysis, latency: MeasuredLatency | null = null): BudgetCheck[] | null {
  const budget = a.spec.budget;
  if (!budget) return null;
  const t = a.totals;
  const checks: BudgetCheck[] = [];
  const add = (quantity: BudgetQuantity, value: number, limit: number | null) => {
    if (limit !== null) checks.push({ quantity, value, limit, over: value > limit });
  };
  add('params', budget.count === 'stored' ? t.paramsStored : t.paramsLearned, budget.params);
  add('macs', t.macs, budget.macs);
  add('activation memory', t.activationBytesPerImage * budget.batch, budget.activationBytes);
  const train = budgetTrainMemory(a);
  if (train) add('train memory', train.total, budget.trainMemory);
  if (latency) add('latency', latency.medianMs, budget.latencyMs);
  return checks;
}
