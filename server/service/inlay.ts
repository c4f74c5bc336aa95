// Inlay hints beside each stage, block and scale line, and the totals lens at the top of the spec.
import type { CodeLens, InlayHint, Range } from 'vscode-languageserver-types';
import type { Path, SpecCheck } from '../../core';
import { budgetChecks, type BudgetCheck } from '../../core/analysis/budget';
import { formatBoxes, formatBytes, formatCount, formatExact as exact, formatExcess, formatFlops, formatMacs, formatShape as shape } from '../../core/format';

export interface HintSettings {
  enabled: boolean;
  /** Which parameter count hints show. */
  params: 'learned' | 'stored';
}

function valueAt(data: unknown, path: Path): unknown {
  let v: any = data;
  for (const s of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[s];
  }
  return v;
}

const before = (a: Range['start'], b: Range['start']) => a.line < b.line || (a.line === b.line && a.character <= b.character);

export function inlayHints(check: SpecCheck, visible: Range, settings: HintSettings): InlayHint[] {
  const a = check.analysis;
  if (!settings.enabled || !a) return [];
  const doc = check.document;
  const data = doc.value;
  const out: InlayHint[] = [];
  // Every number names its unit ("789k params", "4.41 GMACs", "5,776 boxes"), so hints on one line of a flow list
  // never read as one number; each label stays under VS Code's 43-character hint limit, exact numbers in the tooltip.
  const put = (path: Path, label: string, tooltip: string) => {
    if (valueAt(data, path) === undefined) return;
    const at = doc.rangeOf(path).end;
    if (!before(visible.start, at) || !before(at, visible.end)) return;
    const listRange = doc.rangeOf(path.slice(0, -1));
    const sharesLine = Array.isArray(valueAt(data, path.slice(0, -1))) && listRange.start.line === listRange.end.line;
    out.push({ position: at, label, paddingLeft: true, paddingRight: sharesLine, tooltip: `${label}\n${tooltip}` });
  };
  const stored = settings.params === 'stored';
  const params = (s: { paramsLearned: number; paramsStored: number }) => `${formatCount(stored ? s.paramsStored : s.paramsLearned)} ${stored ? 'stored' : 'params'}`;
  const exactCost = (s: { name: string; paramsLearned: number; paramsStored: number; macs: number }) =>
    `${s.name}: ${exact(s.paramsLearned)} learned params, ${exact(s.paramsStored)} stored values, ${exact(s.macs)} MACs (${formatFlops(s.macs)})`;
  for (const s of a.stages) {
    if (s.kind !== 'stem' && s.kind !== 'block' && s.kind !== 'transition') continue;
    put(s.source, `${shape(s.shape)} · ${params(s)} · ${formatMacs(s.macs)}`, exactCost(s));
  }
  a.scales.forEach((sc, i) => {
    const structure = a.stages.find((s) => s.kind === 'scale' && s.index === sc.index);
    const head = a.stages.find((s) => s.kind === 'head' && s.index === sc.index);
    put(
      ['prediction', 'channels', i],
      `${shape(sc.shape)} · ${formatBoxes(sc.boxes)}${structure ? ` · ${params(structure)}` : ''}`,
      [`${sc.name}: ${sc.priorsPerLocation} priors per location, ${exact(sc.boxes)} default boxes`, structure ? exactCost(structure) : ''].filter(Boolean).join('\n'),
    );
    if (head) put(['priors', 'aspect_ratios', i], `${sc.priorsPerLocation} priors/loc · head ${params(head)}`, exactCost(head));
  });
  return out.sort((x, y) => x.position.line - y.position.line || x.position.character - y.position.character);
}

const BUDGET_UNIT: Record<BudgetCheck['quantity'], (n: number) => string> = { params: formatCount, macs: formatMacs, 'activation memory': formatBytes };

/** "params by 12.4% (1.82M)": how far over its limit a quantity is. */
export function budgetExcessText(c: BudgetCheck): string {
  return `${c.quantity} by ${formatExcess(c.value, c.limit, BUDGET_UNIT[c.quantity])}`;
}

/** The one-line verdict on the spec: totals, and the budget when there is one. */
export function totalsTitle(check: SpecCheck): string | null {
  const a = check.analysis;
  if (!a) return null;
  const t = a.totals;
  let title = `${a.spec.name}: ${formatCount(t.paramsLearned)} params (${formatCount(t.paramsStored)} stored) · ${formatMacs(t.macs)} (${formatFlops(t.macs)}) · ${formatBoxes(t.defaultBoxes)}`;
  const checks = budgetChecks(a);
  if (checks) {
    const over = checks.filter((c) => c.over);
    title += over.length ? ` · over budget: ${over.map(budgetExcessText).join(', ')}` : ' · within budget';
  }
  return title;
}

export function codeLenses(check: SpecCheck, uri: string): CodeLens[] {
  const title = totalsTitle(check);
  if (!title) return [];
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return [{ range: top, command: { title, command: 'dsod.showReport', arguments: [uri] } }];
}
