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
  formatLatency,
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

/** VS Code cuts all the hints of one line together at `editor.inlayHints.maximumLength`, 43 characters by default. */
export const LINE_HINT_BUDGET = 43;

/** One spec item's numbers: its own hint when it has a line to itself, a value in its list's hint otherwise. */
interface Item {
  path: Path;
  /** The whole label: `416×75×75 · 789k params · 4.41 GMACs`. */
  label: string;
  /** Its value in a one-line list's hint: `789k`. */
  value: string;
  /** Its row in the tooltip table. */
  row: string[];
}

/** A list whose items get numbers: what a one-line list's hint says its values are, and its tooltip's columns. */
interface ItemList {
  unit: string;
  /** A shorter unit, for when the line's hint would not fit with the long one (the tooltip says it whole). */
  shortUnit?: string;
  columns: string[];
  items: Item[];
}

/** The hints of one kind of number from `a`, placed on the current document of `check`. */
function hintsOf(a: Analysis, kind: NumberKind, check: SpecCheck, visible: Range, settings: HintSettings, stale: boolean): InlayHint[] {
  const doc = check.document;
  // A text with syntax errors has no value, only the parser's best reading of it: enough to find the paths still there.
  const data = doc.value ?? doc.draft;
  const out: InlayHint[] = [];
  const mark = stale ? STALE_MARK : '';
  const note = stale ? `${STALE_NOTE}\n\n` : '';
  const inView = (at: Range['start']) => before(visible.start, at) && before(at, visible.end);
  const table = (columns: string[], rows: string[][]) =>
    [`| ${columns.join(' | ')} |`, `|${columns.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  // Every number names its unit. An item on a line of its own gets its whole label (shape, params, MACs); the items of
  // a list written on one line share one hint after it ("params: 789k · 1.57M · 2.17M · 2.76M"), since VS Code cuts a
  // line's hints together at 43 characters; the table of every item's numbers is in the tooltip.
  const place = (list: ItemList) => {
    const items = list.items.filter((it) => valueAt(data, it.path) !== undefined);
    if (!items.length) return;
    const listPath = items[0].path.slice(0, -1);
    const listRange = doc.rangeOf(listPath);
    const oneLine = Array.isArray(valueAt(data, listPath)) && listRange.start.line === listRange.end.line && items.length > 1;
    if (!oneLine) {
      for (const it of items) {
        const at = doc.rangeOf(it.path).end;
        if (inView(at))
          out.push({
            position: at,
            label: mark + it.label,
            paddingLeft: true,
            tooltip: { kind: 'markdown', value: `${note}${table(list.columns, [it.row])}` },
          });
      }
      return;
    }
    const at = listRange.end;
    if (!inView(at)) return;
    const values = items.map((it) => it.value);
    const forms = [`${list.unit}: ${values.join(' · ')}`, `${list.unit}: ${values.join('·')}`, `${list.shortUnit ?? list.unit}: ${values.join('·')}`].map(
      (l) => mark + l,
    );
    const label = forms.find((l) => l.length <= LINE_HINT_BUDGET) ?? forms[forms.length - 1];
    out.push({
      position: at,
      label,
      paddingLeft: true,
      tooltip: {
        kind: 'markdown',
        value: `${note}${table(
          list.columns,
          items.map((it) => it.row),
        )}`,
      },
    });
  };
  const stored = settings.params === 'stored';
  const paramsOf = (s: { paramsLearned: number; paramsStored: number }) => (stored ? s.paramsStored : s.paramsLearned);
  const unit = stored ? 'stored' : 'params';
  const params = (s: { paramsLearned: number; paramsStored: number }) => `${formatCount(paramsOf(s))} ${unit}`;
  const costColumns = ['stage', 'output', stored ? 'stored values' : 'learned params', 'MACs'];
  const costRow = (s: { name: string; shape: number[]; paramsLearned: number; paramsStored: number; macs: number }) => [
    s.name,
    shape(s.shape),
    exact(paramsOf(s)),
    `${exact(s.macs)} (${formatMacs(s.macs)})`,
  ];
  const stageItem = (s: Analysis['stages'][number]): Item => ({
    path: s.source,
    label: `${shape(s.shape)} · ${params(s)} · ${formatMacs(s.macs)}`,
    value: formatCount(paramsOf(s)),
    row: costRow(s),
  });
  if (kind === 'backbone') {
    for (const k of ['stem', 'block', 'transition'] as const) place({ unit, columns: costColumns, items: a.stages.filter((s) => s.kind === k).map(stageItem) });
    return out;
  }
  const scaleRows = a.scales.map((sc) => ({
    sc,
    structure: findStage(a.stages, 'scale', sc.index),
    head: findStage(a.stages, 'head', sc.index),
  }));
  const columns = ['scale', 'feature map', 'priors / location', 'boxes', `structure ${unit}`, `head ${unit}`];
  const row = ({ sc, structure, head }: (typeof scaleRows)[number]) => [
    sc.name,
    shape(sc.shape),
    String(sc.priorsPerLocation),
    exact(sc.boxes),
    structure ? exact(paramsOf(structure)) : '–',
    head ? exact(paramsOf(head)) : '–',
  ];
  if (kind === 'scale') {
    place({
      unit: 'boxes',
      columns,
      items: scaleRows.map((r, i) => ({
        path: ['prediction', 'channels', i],
        label: `${shape(r.sc.shape)} · ${formatBoxes(r.sc.boxes)}${r.structure ? ` · ${params(r.structure)}` : ''}`,
        value: exact(r.sc.boxes),
        row: row(r),
      })),
    });
  } else {
    place({
      unit: `head ${unit}`,
      shortUnit: 'heads',
      columns,
      items: scaleRows.flatMap((r, i) =>
        r.head
          ? [
              {
                path: ['priors', 'aspect_ratios', i],
                label: `${r.sc.priorsPerLocation} priors/loc · head ${params(r.head)}`,
                value: formatCount(paramsOf(r.head)),
                row: row(r),
              },
            ]
          : [],
      ),
    });
  }
  return out;
}

const BUDGET_UNIT: Record<BudgetCheck['quantity'], (n: number) => string> = {
  params: formatCount,
  macs: formatMacs,
  'activation memory': formatBytes,
  'train memory': formatBytes,
  latency: formatLatency,
};

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
  if (check.analysis)
    return check.analysisFrom === 'partial' ? `partial (${setAsideText(check)}): ${analysisTitle(check.analysis)}` : analysisTitle(check.analysis);
  return lastValid ? `last valid: ${analysisTitle(lastValid)}` : null;
}

export function codeLenses(check: SpecCheck, uri: string, lastValid: Analysis | null = null): CodeLens[] {
  const title = totalsTitle(check, lastValid);
  if (!title) return [];
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return [{ range: top, command: { title, command: 'dsod.showReport', arguments: [uri] } }];
}
