// Inlay hints beside each stage, block and scale line, and the totals lens at the top of the spec.
import type { CodeLens, InlayHint, Range } from 'vscode-languageserver-types';
import {
  budgetChecks,
  displayPath,
  findStage,
  formatBoxes,
  formatBytes,
  formatCount,
  formatExact as exact,
  formatExcess,
  formatFlops,
  formatMacs,
  formatShape as shape,
  NUMBERS_READ,
  type Analysis,
  type BudgetCheck,
  type Path,
  type SpecCheck,
} from '../../core';

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

/** What marks a number from the last valid analysis (the current text has none for it); short: labels stay under 43. */
export const STALE_MARK = '⟲ ';
const STALE_NOTE = 'Last valid analysis: the spec has errors now, so this number is from before them.';

type NumberKind = keyof typeof NUMBERS_READ;

/**
 * The inlay hints of the visible range. Each number comes from the current analysis when it is the spec's own (a full
 * analysis, a partial one, or a provisional one for numbers that read no invalid section), else from `lastValid`,
 * marked stale and placed by its spec path on the current text (dropped where that path is gone).
 */
export function inlayHints(check: SpecCheck, visible: Range, settings: HintSettings, lastValid: Analysis | null = null): InlayHint[] {
  if (!settings.enabled) return [];
  const current = check.analysis ?? check.provisional?.analysis ?? null;
  const invalid: readonly string[] = check.analysis ? [] : (check.provisional?.invalid ?? []);
  const fresh = (kind: NumberKind) => current !== null && !NUMBERS_READ[kind].some((s) => invalid.includes(s));
  const out: InlayHint[] = [];
  for (const kind of ['backbone', 'scale', 'head'] as const) {
    if (fresh(kind)) out.push(...hintsOf(current!, kind, check, visible, settings, false));
    else if (lastValid) out.push(...hintsOf(lastValid, kind, check, visible, settings, true));
  }
  return out.sort((x, y) => x.position.line - y.position.line || x.position.character - y.position.character);
}

/** The hints of one kind of number from `a`, placed on the current document of `check`. */
function hintsOf(a: Analysis, kind: NumberKind, check: SpecCheck, visible: Range, settings: HintSettings, stale: boolean): InlayHint[] {
  const doc = check.document;
  // A text with syntax errors has no value, only the parser's best reading of it: enough to find the paths still there.
  const data = doc.value ?? doc.draft;
  const out: InlayHint[] = [];
  // Every number names its unit ("789k params", "4.41 GMACs", "5,776 boxes"), so hints on one line of a flow list
  // never read as one number; exact numbers in the tooltip. VS Code cuts all of a line's hints together at
  // `editor.inlayHints.maximumLength` (43 characters by default): the extension sets it to 0 (no cut) for DSOD specs, whose
  // flow lists carry a hint per block; each label alone stays under 43 for users who set a limit.
  const put = (path: Path, text: string, tooltip: string) => {
    if (valueAt(data, path) === undefined) return;
    const at = doc.rangeOf(path).end;
    if (!before(visible.start, at) || !before(at, visible.end)) return;
    const listRange = doc.rangeOf(path.slice(0, -1));
    const sharesLine = Array.isArray(valueAt(data, path.slice(0, -1))) && listRange.start.line === listRange.end.line;
    const label = stale ? STALE_MARK + text : text;
    out.push({ position: at, label, paddingLeft: true, paddingRight: sharesLine, tooltip: `${label}\n${stale ? `${STALE_NOTE}\n` : ''}${tooltip}` });
  };
  const stored = settings.params === 'stored';
  const params = (s: { paramsLearned: number; paramsStored: number }) => `${formatCount(stored ? s.paramsStored : s.paramsLearned)} ${stored ? 'stored' : 'params'}`;
  const exactCost = (s: { name: string; paramsLearned: number; paramsStored: number; macs: number }) =>
    `${s.name}: ${exact(s.paramsLearned)} learned params, ${exact(s.paramsStored)} stored values, ${exact(s.macs)} MACs (${formatFlops(s.macs)})`;
  if (kind === 'backbone') {
    for (const s of a.stages) {
      if (s.kind !== 'stem' && s.kind !== 'block' && s.kind !== 'transition') continue;
      put(s.source, `${shape(s.shape)} · ${params(s)} · ${formatMacs(s.macs)}`, exactCost(s));
    }
    return out;
  }
  a.scales.forEach((sc, i) => {
    const structure = findStage(a.stages, 'scale', sc.index);
    const head = findStage(a.stages, 'head', sc.index);
    if (kind === 'scale') {
      put(
        ['prediction', 'channels', i],
        `${shape(sc.shape)} · ${formatBoxes(sc.boxes)}${structure ? ` · ${params(structure)}` : ''}`,
        [`${sc.name}: ${sc.priorsPerLocation} priors per location, ${exact(sc.boxes)} default boxes`, structure ? exactCost(structure) : ''].filter(Boolean).join('\n'),
      );
    } else if (head) put(['priors', 'aspect_ratios', i], `${sc.priorsPerLocation} priors/loc · head ${params(head)}`, exactCost(head));
  });
  return out;
}

const BUDGET_UNIT: Record<BudgetCheck['quantity'], (n: number) => string> = { params: formatCount, macs: formatMacs, 'activation memory': formatBytes };

/** "params by 12.4% (1.82M)": how far over its limit a quantity is. */
export function budgetExcessText(c: BudgetCheck): string {
  return `${c.quantity} by ${formatExcess(c.value, c.limit, BUDGET_UNIT[c.quantity])}`;
}

/** The one-line verdict on an analysis: totals, and the budget when there is one. */
export function analysisTitle(a: Analysis): string {
  const t = a.totals;
  let title = `${a.spec.name}: ${formatCount(t.paramsLearned)} params (${formatCount(t.paramsStored)} stored) · ${formatMacs(t.macs)} (${formatFlops(t.macs)}) · ${formatBoxes(t.defaultBoxes)}`;
  const checks = budgetChecks(a);
  if (checks) {
    const over = checks.filter((c) => c.over);
    title += over.length ? ` · over budget: ${over.map(budgetExcessText).join(', ')}` : ' · within budget';
  }
  return title;
}

/** What a partial analysis left out, for a title: "ignoring backbone.growth_rat" or "ignoring 3 invalid parts". */
export function setAsideText(check: SpecCheck): string {
  const s = check.setAside;
  return s.length === 1 ? `ignoring ${displayPath(s[0].path)}` : `ignoring ${s.length} invalid parts`;
}

/**
 * The totals lens's title: the current analysis ("partial (ignoring ...): " when schema errors were set aside), else
 * the last valid one, said so ("last valid: "); null when there is neither.
 */
export function totalsTitle(check: SpecCheck, lastValid: Analysis | null = null): string | null {
  if (check.analysis) return check.analysisFrom === 'partial' ? `partial (${setAsideText(check)}): ${analysisTitle(check.analysis)}` : analysisTitle(check.analysis);
  return lastValid ? `last valid: ${analysisTitle(lastValid)}` : null;
}

export function codeLenses(check: SpecCheck, uri: string, lastValid: Analysis | null = null): CodeLens[] {
  const title = totalsTitle(check, lastValid);
  if (!title) return [];
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return [{ range: top, command: { title, command: 'dsod.showReport', arguments: [uri] } }];
}
