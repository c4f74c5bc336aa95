// Several series drawn on one chart share one x column in uPlot ("aligned data"): the union of their steps, with
// null where a series has no point (drawn across with spanGaps). Pure: the page and the tests use it.

export type Column = (number | null)[];

export interface XYSet {
  x: readonly number[];
  /** Columns of the same length as x. */
  ys: readonly (readonly (number | null)[])[];
}

/** The union of the sets' x values (each increasing) and every y column laid out on it. */
export function alignColumns(sets: readonly XYSet[]): { x: number[]; ys: Column[] } {
  const all = new Set<number>();
  for (const s of sets) for (const v of s.x) all.add(v);
  const x = [...all].sort((a, b) => a - b);
  const index = new Map<number, number>();
  x.forEach((v, i) => index.set(v, i));
  const ys: Column[] = [];
  for (const s of sets) {
    for (const col of s.ys) {
      const out: Column = new Array<number | null>(x.length).fill(null);
      for (let i = 0; i < s.x.length; i++) out[index.get(s.x[i])!] = col[i] ?? null;
      ys.push(out);
    }
  }
  return { x, ys };
}
