// The words and numbers on a node, in its tooltip and for screen readers. Numbers are exact (en-US grouping) because
// they are the numbers core computed; shares are rounded. Pure: tests read the same strings the page shows.
import { formatExact, formatFlops, formatMacs, formatParams, formatShape, formatShare } from '../../core/format';
import type { GraphScale, SpecSummary } from '../../protocol/lsp';
import type { Unit } from './model';

export type Metric = 'macs' | 'params';

export const exact = formatExact;
export const shapeText = (s: readonly number[] | null): string => (s ? formatShape(s) : '');
export const percent = formatShare;

/** Units that stand for no layer of core's graph, or only a max pool (no parameters, no MACs), carry no numbers line. */
const WITHOUT_NUMBERS: ReadonlySet<Unit['kind']> = new Set(['input', 'blockIn', 'blockOut', 'boxes', 'pool']);
export const hasNumbers = (u: Unit): boolean => !WITHOUT_NUMBERS.has(u.kind);

export const numbersLine = (u: Unit): string => `${exact(u.paramsLearned)} params · ${exact(u.macs)} MACs`;

export interface NodeLabel {
  title: string;
  shape: string;
  detail: string;
  numbers: string | null;
}

export function nodeLabel(u: Unit): NodeLabel {
  return { title: u.title, shape: shapeText(u.shape), detail: u.detail, numbers: hasNumbers(u) ? numbersLine(u) : null };
}

/**
 * The one number a node shows at small zoom: the coloured metric, compact; the other one where the coloured one is 0
 * (an L2Norm has parameters but no MACs); what a unit that computes nothing is (its shape, its boxes).
 */
export function lodNumber(u: Unit, m: Metric): string {
  if (!hasNumbers(u)) return u.brief;
  const macs = formatMacs(u.macs);
  const params = formatParams(u.paramsLearned);
  if (u.macs === 0 && u.paramsLearned === 0) return u.brief;
  if (m === 'macs') return u.macs > 0 ? macs : params;
  return u.paramsLearned > 0 ? params : macs;
}

export const metricValue = (u: Unit, m: Metric): number => (m === 'macs' ? u.macs : u.paramsLearned);
export const metricTotal = (s: SpecSummary, m: Metric): number => (m === 'macs' ? s.macs : s.paramsLearned);

/** Pixels to a tenth: box sides such as √(60·111) = 81.6. */
const px = (n: number): string => exact(+n.toFixed(1));

/**
 * Rows of the hover tooltip: [label, value]. `scales`: the graph's prediction scales, for the boxes of a scale (their
 * sides beside the receptive field of the scale's feature map).
 */
export function tooltipRows(u: Unit, s: SpecSummary, scales: readonly GraphScale[] = []): [string, string][] {
  const rows: [string, string][] = [];
  if (u.shape) rows.push(['output', shapeText(u.shape)]);
  if (hasNumbers(u)) {
    rows.push(['learned params', `${exact(u.paramsLearned)} (${percent(u.paramsLearned, s.paramsLearned)})`]);
    rows.push(['stored values', exact(u.paramsStored)]);
    rows.push(['MACs', `${exact(u.macs)} (${percent(u.macs, s.macs)})`]);
    if (u.kind === 'block') rows.push(['dense layers', String(u.denseLayers)]);
    rows.push(['primitive ops', String(u.ops)]);
  }
  const scale = u.kind === 'boxes' ? scales.find((x) => x.index === u.scale) : undefined;
  if (scale) {
    const { min, max } = scale.boxSides;
    rows.push(['default box sides', `${px(min)} to ${px(max)} px`]);
    const part = `largest box ${percent(max, scale.receptiveField)} of it`;
    rows.push([
      'receptive field',
      max > scale.receptiveField
        ? `${exact(scale.receptiveField)} px · ⚠ ${part}: its boxes are larger than what it sees`
        : `${exact(scale.receptiveField)} px · ${part}`,
    ]);
  } else if (u.receptiveField > 0) rows.push(['receptive field', `${u.receptiveField} px`]);
  if (u.source) rows.push(['spec', u.source.path.join('.') || '(document)']);
  return rows;
}

/** What a screen reader says for a node. */
export function ariaLabel(u: Unit): string {
  const l = nodeLabel(u);
  return [l.title, l.shape && `output ${l.shape}`, l.detail, l.numbers].filter(Boolean).join(', ');
}

export function totalsText(s: SpecSummary): string {
  return `${exact(s.paramsLearned)} params (${exact(s.paramsStored)} stored) · ${exact(s.macs)} MACs (${formatFlops(s.macs)}) · ${exact(s.defaultBoxes)} boxes`;
}

export function budgetText(s: SpecSummary): { text: string; state: 'none' | 'within' | 'over' } {
  if (s.withinBudget === null) return { text: 'no budget', state: 'none' };
  return s.withinBudget ? { text: '✓ within budget', state: 'within' } : { text: '⚠ over budget', state: 'over' };
}

export function problemsText(s: SpecSummary, stale: boolean): string {
  const parts: string[] = [];
  if (s.errors) parts.push(`${s.errors} error${s.errors === 1 ? '' : 's'}`);
  if (s.warnings) parts.push(`${s.warnings} warning${s.warnings === 1 ? '' : 's'}`);
  if (!parts.length) return '';
  return stale ? `${parts.join(', ')} · showing the last valid graph` : parts.join(', ');
}
