// The per-class AP table's rows and their order, without a DOM (unit-tested).
import type { Evaluation } from './model';
import type { PrCurvesData } from '../../protocol/dashboard';

export interface ApRow {
  name: string;
  ap: number | null;
  /** Change since the previous evaluation of the same metric, or null. */
  delta: number | null;
  /** Ground-truth objects of the class in the evaluated images (from the PR curves), or null. */
  positives: number | null;
}

export type SortKey = 'name' | 'ap' | 'delta' | 'positives';
export type SortDir = 'asc' | 'desc';

export function apRows(latest: Evaluation | null, previous: Evaluation | null, curves: PrCurvesData | null): ApRow[] {
  if (!latest) return [];
  const before = new Map((previous?.perClass ?? []).map((c) => [c.name, c.ap]));
  const positives = new Map((curves?.voc?.classes ?? []).map((c) => [c.name, c.positives]));
  return latest.perClass.map((c) => {
    const b = before.get(c.name);
    return {
      name: c.name,
      ap: c.ap,
      delta: c.ap !== null && b !== undefined && b !== null ? c.ap - b : null,
      positives: positives.get(c.name) ?? null,
    };
  });
}

/** Sorted by `key`; rows without a value (a class with no ground truth has no AP) always last; ties by name. */
export function sortRows(rows: readonly ApRow[], key: SortKey, dir: SortDir): ApRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    if (key === 'name') return sign * a.name.localeCompare(b.name);
    const x = a[key];
    const y = b[key];
    if (x === null || y === null) return x === y ? a.name.localeCompare(b.name) : x === null ? 1 : -1;
    return sign * (x - y) || a.name.localeCompare(b.name);
  });
}
