/// <reference lib="dom" />
// The header: the spec's name and totals, the budget verdict, the problem count, the toolbar and the colour legend.
import { formatShare } from '../../core/format';
import type { GraphCompare, SpecSummary } from '../../protocol/lsp';
import { CHANGE_MIX, MAX_MIX, mix, rgbText, type Palette } from './colors';
import type { UnitChange } from './model';
import { budgetText, problemsText, totalsText, type Metric } from './labels';

export interface HeaderActions {
  metric(m: Metric): void;
  expandAll(expand: boolean): void;
  fit(): void;
  zoom(factor: number): void;
  exportAs(format: 'svg' | 'png'): void;
}

export interface HeaderView {
  title: string;
  /** The totals of the drawn graph. */
  drawn: SpecSummary | null;
  /** The newest analysis, which may have errors and no graph. */
  latest: SpecSummary | null;
  stale: boolean;
  metric: Metric;
  maxShare: number;
  palette: Palette;
  /** While comparing: the legend explains the colouring by change instead of the heat ramp. */
  compare: GraphCompare | null;
  /** The drawn units' changes (counted in the legend). */
  changes: Map<string, UnitChange> | null;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string>, parent: HTMLElement, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  parent.append(e);
  return e;
}

/** The colouring by change explained, for the header and for an exported picture: each change's colour and count. */
export function changeLegend(
  c: GraphCompare,
  changes: Map<string, UnitChange> | null,
  palette: Palette,
): { title: string; keys: { change: UnitChange | 'removed'; colour: string; text: string }[] } {
  const counts = { added: 0, changed: 0, same: 0 };
  for (const x of changes?.values() ?? []) counts[x]++;
  const colour = (change: UnitChange | 'removed') => rgbText(change === 'same' ? palette.background : mix(palette.background, palette[change], CHANGE_MIX));
  const key = (change: UnitChange | 'removed', text: string) => ({ change, colour: colour(change), text });
  return {
    title: `Change from ${c.label}:`,
    keys: [
      key('added', `added (${counts.added})`),
      key('changed', `changed (${counts.changed})`),
      key('same', `same (${counts.same})`),
      key('removed', c.removedStages.length ? `removed, not drawn: ${c.removedStages.join(', ')}` : 'removed: none'),
    ],
  };
}

export class Header {
  private readonly name: HTMLElement;
  private readonly file: HTMLElement;
  private readonly totals: HTMLElement;
  private readonly verdict: HTMLElement;
  private readonly problems: HTMLElement;
  private readonly status: HTMLElement;
  private readonly metricButtons: Record<Metric, HTMLButtonElement>;
  private readonly ramp: HTMLElement;
  private readonly rampLabels: HTMLElement[];
  private readonly rampTitle: HTMLElement;
  private readonly heatKeys: HTMLElement[];
  private readonly changeLegend: HTMLElement;

  constructor(root: HTMLElement, actions: HeaderActions) {
    const top = el('div', { class: 'row' }, root);
    this.name = el('span', { class: 'name', id: 'spec-name' }, top);
    this.file = el('span', { class: 'file' }, top);
    this.totals = el('span', { class: 'totals', id: 'totals' }, top);
    this.verdict = el('span', { class: 'verdict none', id: 'budget' }, top);
    this.problems = el('span', { class: 'problems', id: 'problems', role: 'status' }, top);
    this.status = el('span', { class: 'status', id: 'status' }, top);

    const bar = el('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Graph' }, root);
    el('span', { class: 'label' }, bar, 'Colour by');
    const button = (label: string, title: string, id: string, run: () => void) => {
      const b = el('button', { type: 'button', title, id }, bar, label);
      b.addEventListener('click', run);
      return b;
    };
    this.metricButtons = {
      macs: button('MACs', 'Colour each node by its share of the MACs', 'metric-macs', () => actions.metric('macs')),
      params: button('params', 'Colour each node by its share of the learned parameters', 'metric-params', () => actions.metric('params')),
    };
    el('span', { class: 'sep' }, bar);
    button('Expand blocks', 'Show every layer of every dense block', 'expand-all', () => actions.expandAll(true));
    button('Collapse blocks', 'Show each dense block as one node', 'collapse-all', () => actions.expandAll(false));
    el('span', { class: 'sep' }, bar);
    button('Fit', 'Zoom to fit, and keep fitting when the pane is resized until you zoom or pan (0)', 'fit', () => actions.fit());
    button('+', 'Zoom in (+)', 'zoom-in', () => actions.zoom(1.25));
    button('−', 'Zoom out (−)', 'zoom-out', () => actions.zoom(0.8));
    el('span', { class: 'sep' }, bar);
    button('Export SVG', 'Save the graph as an SVG file', 'export-svg', () => actions.exportAs('svg'));
    button('Export PNG', 'Save the graph as a PNG image', 'export-png', () => actions.exportAs('png'));

    const legend = el('div', { class: 'legend', id: 'legend' }, root);
    this.rampTitle = el('span', {}, legend);
    const rampBox = el('span', { class: 'key heat' }, legend);
    const lo = el('span', {}, rampBox);
    this.ramp = el('span', { class: 'ramp', role: 'img' }, rampBox);
    const hi = el('span', {}, rampBox);
    this.rampLabels = [lo, hi];
    this.heatKeys = [this.rampTitle, rampBox];
    this.changeLegend = el('span', { class: 'change-legend', id: 'change-legend', hidden: '' }, legend);
    for (const [cls, text] of [
      ['learned', 'learned half'],
      ['reused', 'reused half'],
      ['dense', 'dense connection'],
    ]) {
      const key = el('span', { class: 'key' }, legend);
      el('span', { class: `swatch ${cls}` }, key);
      el('span', {}, key, text);
    }
  }

  /** The colouring by change, explained: each change's colour and how many drawn nodes have it; the removed stages by name. */
  private updateChangeLegend(v: HeaderView): void {
    const c = v.compare;
    const on = !!c;
    for (const k of this.heatKeys) k.hidden = on;
    this.changeLegend.hidden = !on;
    if (!c) return this.changeLegend.replaceChildren();
    const parts: HTMLElement[] = [];
    const span = (cls: string, text: string) => {
      const e = document.createElement('span');
      e.className = cls;
      e.textContent = text;
      return e;
    };
    if (c.error !== null) {
      parts.push(span('change-title', `Cannot compare with ${c.label}: ${c.error}`));
      return this.changeLegend.replaceChildren(...parts);
    }
    const legend = changeLegend(c, v.changes, v.palette);
    parts.push(span('change-title', legend.title));
    for (const k of legend.keys) {
      const e = span(`key change-key ${k.change}`, '');
      const sw = span('change-swatch', '');
      sw.style.background = k.colour;
      e.append(sw, span('', k.text));
      e.dataset.change = k.change;
      parts.push(e);
    }
    this.changeLegend.replaceChildren(...parts);
  }

  update(v: HeaderView): void {
    this.updateChangeLegend(v);
    const s = v.drawn ?? v.latest;
    this.name.textContent = s?.name || 'DSOD graph';
    this.file.textContent = v.title;
    this.totals.textContent = v.drawn ? totalsText(v.drawn) : '';
    const budget = v.drawn ? budgetText(v.drawn) : null;
    this.verdict.textContent = budget?.text ?? '';
    this.verdict.className = `verdict ${budget?.state ?? 'none'}`;
    this.problems.textContent = v.latest ? problemsText(v.latest, v.stale) : '';
    for (const m of ['macs', 'params'] as const) this.metricButtons[m].setAttribute('aria-pressed', String(m === v.metric));
    // The ramp uses the heat scale itself: position p shows the colour of a share of p² x the largest share.
    const accent = v.metric === 'macs' ? v.palette.macs : v.palette.params;
    const stops = [0, 0.25, 0.5, 0.75, 1].map((p) => `${rgbText(mix(v.palette.background, accent, MAX_MIX * p))} ${p * 100}%`);
    this.ramp.style.background = `linear-gradient(to right, ${stops.join(', ')})`;
    const top = formatShare(v.maxShare, 1);
    this.rampTitle.textContent = `Share of ${v.metric === 'macs' ? 'MACs' : 'learned params'}:`;
    this.rampLabels[0].textContent = '0%';
    this.rampLabels[1].textContent = top;
    this.ramp.setAttribute('aria-label', `from 0% to ${top} of the total`);
  }

  setStatus(text: string): void {
    this.status.textContent = text;
  }
}
