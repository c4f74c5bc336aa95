/// <reference lib="dom" />
// The report page: the spec's name and input, the stage table, the scale table and the summary. Tables are rebuilt
// from each report the host sends (a few dozen rows), keeping each table's sort, the selected row and the focus, so
// the view follows the spec as it is edited. Built with createElement / textContent only: spec names are never markup.
import { formatExact } from '../../core/format';
import type { ReportData } from '../../protocol/lsp';
import { post, saveState, type SavedState } from './host';
import { compareTables, nextSort, SCALE_COLUMNS, sortRows, STAGE_COLUMNS, summaryItems, type Column, type DeltaTable } from './model';

type Attrs = Record<string, string>;
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, parent?: HTMLElement, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  parent?.append(e);
  return e;
}

type TableId = 'stages' | 'scales';
interface Row {
  name: string;
  source: { range: { start: { line: number; character: number }; end: { line: number; character: number } } };
}

export class ReportView {
  private report: ReportData | null = null;
  private readonly title: HTMLElement;
  private readonly meta: HTMLElement;
  private readonly statusLine: HTMLElement;
  private readonly wraps: Record<TableId, HTMLElement>;
  private readonly summary: HTMLElement;
  /** The comparison with another side ("DSOD: Compare with..."): empty and hidden when there is none. */
  private readonly compare: HTMLElement;
  /** The row last revealed, by table and name: it stays marked across redraws. */
  private selected: { table: TableId; name: string } | null = null;

  constructor(
    root: HTMLElement,
    private readonly state: SavedState,
  ) {
    const header = el('header', {}, root);
    this.title = el('h1', { id: 'title' }, header, 'Analysis report');
    this.meta = el('p', { id: 'meta' }, header);
    this.meta.style.margin = '0';
    this.statusLine = el('div', { id: 'status', role: 'status', 'aria-live': 'polite' }, root);
    this.compare = el('section', { id: 'compare', 'aria-labelledby': 'compare-title' }, root);
    el('p', { class: 'hint' }, root, 'Click a row, or press Enter on it, to select the spec text that made it. Click a column header to sort.');
    const section = (id: TableId, label: string): HTMLElement => {
      el('h2', { id: `${id}-title` }, root, label);
      // Focusable, so the keyboard can scroll a table that is wider than the pane.
      return el('div', { class: 'table-wrap', id: `${id}-wrap`, role: 'region', 'aria-labelledby': `${id}-title`, tabindex: '0' }, root);
    };
    this.wraps = { stages: section('stages', 'Stages'), scales: section('scales', 'Scales') };
    el('h2', { id: 'summary-title' }, root, 'Summary');
    this.summary = el('ul', { id: 'summary', 'aria-labelledby': 'summary-title' }, root);
  }

  status(message: string): void {
    this.statusLine.textContent = message;
  }

  receive(report: ReportData): void {
    this.report = report;
    // A partial analysis is the spec less its invalid parts: say what was left out, as the code lens does.
    this.statusLine.textContent = report.partial ? `Partial analysis, ${report.partial}: fix the errors in Problems for the whole spec.` : '';
    this.render();
    post({ type: 'rendered', uri: report.uri, version: report.version, stages: report.stages.length, scales: report.scales.length });
  }

  private render(): void {
    const r = this.report;
    if (!r) return;
    // Keep the keyboard where it was: the focused row (or header) is found again by its name after the rebuild.
    const focused = document.activeElement as HTMLElement | null;
    const focusKey = focused?.dataset.focusKey;
    this.title.textContent = r.name;
    this.meta.textContent = `${r.file} · input ${r.input.channels}×${r.input.height}×${r.input.width} · ${r.classes} classes incl. background`;
    this.table('stages', r.stages, STAGE_COLUMNS, {
      name: 'total',
      cells: { params: formatExact(r.totals.paramsLearned), paramsShare: '100.0%', macs: formatExact(r.totals.macs), macsShare: '100.0%' },
    });
    this.table('scales', r.scales, SCALE_COLUMNS, { name: 'total', cells: { boxes: formatExact(r.totals.defaultBoxes), boxesShare: '100.0%' } });
    this.summary.replaceChildren(...summaryItems(r).map((t) => el('li', {}, undefined, t)));
    this.renderCompare(r);
    if (focusKey) (document.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`) as HTMLElement | null)?.focus();
  }

  /** The change against the other side: totals, then per stage and per scale; rows coloured by what became of them. */
  private renderCompare(r: ReportData): void {
    const c = r.compare;
    if (!c) {
      this.compare.replaceChildren();
      return;
    }
    const title = el('h2', { id: 'compare-title' }, undefined, `Change from ${c.label}${c.name ? ` (${c.name})` : ''} to this spec`);
    const parts: HTMLElement[] = [title];
    const tables = c.error ? null : compareTables(c);
    if (c.error || !tables) {
      parts.push(el('p', { class: 'compare-error', role: 'alert' }, undefined, c.error ?? `${c.label} cannot be compared.`));
    } else {
      parts.push(this.deltaTable('compare-totals', tables.totals));
      if (c.unchanged) parts.push(el('p', { class: 'hint', id: 'compare-unchanged' }, undefined, 'No change: the same stages, each costing the same.'));
      else parts.push(this.deltaTable('compare-stages', tables.stages), this.deltaTable('compare-scales', tables.scales));
    }
    this.compare.replaceChildren(...parts);
  }

  private deltaTable(id: string, t: DeltaTable): HTMLElement {
    const wrap = el('div', { class: 'table-wrap', role: 'region', 'aria-label': t.header[0], tabindex: '0' });
    const table = el('table', { id, class: 'delta' }, wrap);
    const head = el('tr', {}, el('thead', {}, table));
    t.header.forEach((h, i) => el('th', { scope: 'col', class: i ? 'num' : '', title: t.titles[i] }, head, h));
    const body = el('tbody', {}, table);
    for (const row of t.rows) {
      const tr = el('tr', { class: `change-${row.change}`, 'data-change': row.change }, body);
      row.cells.forEach((cell, i) => el('td', { class: i ? 'num' : '' }, tr, cell));
    }
    return wrap;
  }

  private table<R extends Row>(id: TableId, rows: readonly R[], columns: Column<R>[], total: { name: string; cells: Record<string, string> }): void {
    const sort = this.state[id];
    const table = el('table', { id, 'aria-labelledby': `${id}-title` });
    const head = el('tr', {}, el('thead', {}, table));
    for (const c of columns) {
      const ariaSort = sort?.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none';
      const th = el('th', { scope: 'col', class: c.numeric ? 'num' : '', 'aria-sort': ariaSort, 'data-key': c.key, title: c.title }, head);
      const b = el('button', { type: 'button', class: 'sort', 'data-focus-key': `${id}:sort:${c.key}` }, th, c.label);
      b.addEventListener('click', () => this.sortBy(id, c));
    }
    const body = el('tbody', {}, table);
    for (const row of sortRows(rows, columns, sort)) {
      const selected = this.selected?.table === id && this.selected.name === row.name;
      const tr = el(
        'tr',
        { tabindex: '0', 'data-name': row.name, 'data-focus-key': `${id}:row:${row.name}`, class: selected ? 'selected' : '', title: 'Select in the spec' },
        body,
      );
      for (const c of columns) {
        const td = el('td', { class: c.numeric ? 'num' : '' }, tr);
        const lines = c.cell(row);
        if (lines.length === 1) td.textContent = lines[0];
        else for (const line of lines) el('span', { class: 'line' }, td, line);
      }
      tr.addEventListener('click', () => this.reveal(id, row, tr));
      tr.addEventListener('keydown', (e) => this.rowKey(e, id, row, tr));
    }
    const foot = el('tr', {}, el('tfoot', {}, table));
    for (const c of columns) el('td', { class: c.numeric ? 'num' : '' }, foot, c.key === 'name' ? total.name : (total.cells[c.key] ?? ''));
    // Keep the sideways scroll of the table across the rebuild.
    const wrap = this.wraps[id];
    const left = wrap.scrollLeft;
    wrap.replaceChildren(table);
    wrap.scrollLeft = left;
  }

  private sortBy<R>(id: TableId, column: Column<R>): void {
    this.state[id] = nextSort(this.state[id], column);
    saveState(this.state);
    this.render();
  }

  private reveal(id: TableId, row: Row, tr: HTMLElement): void {
    if (!this.report) return;
    this.selected = { table: id, name: row.name };
    for (const other of Array.from(document.querySelectorAll('tbody tr.selected'))) other.classList.remove('selected');
    tr.classList.add('selected');
    post({ type: 'reveal', uri: this.report.uri, range: row.source.range });
  }

  /** Enter or Space reveals; the arrows, Home and End move between rows. */
  private rowKey(e: KeyboardEvent, id: TableId, row: Row, tr: HTMLElement): void {
    const rows = Array.from(tr.parentElement!.querySelectorAll<HTMLElement>('tr'));
    const i = rows.indexOf(tr);
    const to = (j: number) => rows[Math.max(0, Math.min(rows.length - 1, j))]?.focus();
    switch (e.key) {
      case 'Enter':
      case ' ':
        this.reveal(id, row, tr);
        break;
      case 'ArrowDown':
        to(i + 1);
        break;
      case 'ArrowUp':
        to(i - 1);
        break;
      case 'Home':
        to(0);
        break;
      case 'End':
        to(rows.length - 1);
        break;
      default:
        return;
    }
    e.preventDefault();
  }
}
