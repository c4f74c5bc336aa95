/// <reference lib="dom" />
// The hover (and keyboard focus) tooltip: a node's exact numbers and where it comes from in the spec.
import type { GraphScale, SpecSummary } from '../../protocol/lsp';
import { tooltipRows } from './labels';
import type { Unit } from './model';

const h = <K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

export class Tooltip {
  constructor(
    private readonly el: HTMLElement,
    private readonly container: HTMLElement,
  ) {
    el.setAttribute('role', 'tooltip');
    el.hidden = true;
  }

  show(u: Unit, summary: SpecSummary, anchor: DOMRect, scales: readonly GraphScale[] = []): void {
    const table = h('table', '');
    for (const [k, v] of tooltipRows(u, summary, scales)) {
      const tr = h('tr', '');
      tr.append(h('td', '', k), h('td', '', v));
      table.append(tr);
    }
    const hint = u.kind === 'block' ? 'Click or Enter: select in the spec · Space or the +/− box: expand / collapse' : 'Click or Enter: select in the spec';
    this.el.replaceChildren(h('div', 'tip-title', u.title), h('div', 'tip-detail', u.detail), table, h('div', 'tip-hint', hint));
    this.el.hidden = false;
    // Below the node if it fits, else above; kept inside the canvas.
    const c = this.container.getBoundingClientRect();
    const tip = this.el.getBoundingClientRect();
    let x = anchor.left - c.left;
    let y = anchor.bottom - c.top + 6;
    if (y + tip.height > c.height) y = anchor.top - c.top - tip.height - 6;
    x = Math.max(4, Math.min(x, c.width - tip.width - 4));
    y = Math.max(4, y);
    this.el.style.left = `${x}px`;
    this.el.style.top = `${y}px`;
  }

  hide(): void {
    this.el.hidden = true;
  }
}
