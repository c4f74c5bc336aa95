// The budget verdict as data: for each limit the spec sets, the network's value and the limit, so the lens, the status
// bar and the lints say the same thing (and by how much) without reading it back out of diagnostics.
import type { Analysis } from './analyze';
import { budgetTrainMemory } from './memory';

export type BudgetQuantity = 'params' | 'macs' | 'activation memory' | 'train memory';

export interface BudgetCheck {
  quantity: BudgetQuantity;
  value: number;
  limit: number;
  over: boolean;
}

/** Null when the spec sets no budget. */
export function budgetChecks(a: Analysis): BudgetCheck[] | null {
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
  return checks;
}
