/// <reference lib="dom" />
// The graph view's controller: takes each analysis from the host, builds the view graph, lays it out (or reuses the
// cached layout of the same topology), draws it, and keeps zoom, pan, expanded blocks and selection across redraws.
// A spec with errors has no graph: the last good one stays on screen and the header counts the errors.
import { formatBoxes, formatExact } from '../../core/format';
import type { GraphResult, SpecSummary } from '../../protocol/lsp';
import { readPalette, type Palette } from './colors';
import { exportSvg, svgToPng } from './exporter';
import { changeLegend, Header } from './header';
import { post, saveState, type SavedState } from './host';
import { neighbour, type Direction } from './keyboard';
import type { Metric } from './labels';
import { LayoutEngine, type Layout } from './layout';
import { blockIds, buildViewGraph, unitChanges, type Unit, type UnitChange, type ViewGraph } from './model';
import { arrowDefs, GraphDrawing, svgEl } from './svg';
import { Tooltip } from './tooltip';
import { Viewport } from './viewport';

interface Job {
  result: GraphResult;
  title: string;
  /** When the message arrived (performance.now()): the redraw time is measured from here. */
  t0: number;
}

export interface ViewElements {
  header: HTMLElement;
  canvas: HTMLElement;
  tooltip: HTMLElement;
  message: HTMLElement;
}

const ZOOMED_OUT = 0.8;

const KEY_DIRECTIONS: Record<string, Direction> = { ArrowUp: 'up', ArrowDown: 'down', ArrowLeft: 'left', ArrowRight: 'right' };

export class GraphView {
  private readonly engine: LayoutEngine;
  private readonly header: Header;
  private readonly tooltip: Tooltip;
  private readonly viewport: Viewport;
  private readonly svg: SVGSVGElement;
  private readonly drawing: SVGGElement;
  private readonly painter: GraphDrawing;
  private palette: Palette = readPalette();

  /** The last result that had a graph, and what was drawn from it. */
  private good: { result: GraphResult; title: string } | null = null;
  private latest: SpecSummary | null = null;
  private title = '';
  private drawn: { graph: ViewGraph; layout: Layout; nodes: Map<string, SVGGElement>; maxShare: number; changes: Map<string, UnitChange> | null } | null = null;
  private selected: string | null = null;
  private focused: string | null = null;

  private queued: Job | null = null;
  private busy = false;
  /** The view follows the graph's size and the pane's (fitted) until the user zooms or pans; Fit turns it back on. */
  private autoFit = true;

  constructor(
    private readonly el: ViewElements,
    private readonly state: SavedState,
    options: { layoutCache: boolean },
  ) {
    this.engine = new LayoutEngine({ useCache: options.layoutCache, size: 16 });
    this.header = new Header(el.header, {
      metric: (m) => this.setMetric(m),
      expandAll: (on) => this.expandAll(on),
      fit: () => this.fit(),
      zoom: (f) => this.userZoom(f),
      exportAs: (f) => void this.exportAs(f),
    });
    this.svg = svgEl('svg', {
      class: 'graph',
      tabindex: 0,
      role: 'application',
      'aria-label': 'Architecture graph. Arrow keys move between nodes, Enter selects in the spec.',
    });
    arrowDefs(this.svg);
    this.drawing = svgEl('g', { class: 'drawing' }, this.svg);
    this.painter = new GraphDrawing(this.drawing);
    el.canvas.prepend(this.svg);
    this.tooltip = new Tooltip(el.tooltip, el.canvas);
    this.viewport = new Viewport(
      this.svg,
      this.drawing,
      (t) => {
        // Below this zoom the detailed labels are too small to read: nodes switch to big-type names and one number.
        this.svg.classList.toggle('zoomed-out', t.k < ZOOMED_OUT);
        const uri = this.good?.result.uri;
        // Only a view the user chose is kept; a fitted one is fitted again next time.
        if (uri && this.autoFit) delete this.state.views[uri];
        else if (uri) this.state.views[uri] = t;
        this.persist();
      },
      () => (this.autoFit = false),
    );
    // The pane is resized (the editor split moved, the panel shown or the window resized): keep the graph fitted.
    new ResizeObserver(() => {
      if (this.autoFit) this.fitView();
    }).observe(el.canvas);
    this.listen();
    this.updateHeader();
  }

  /** A new analysis from the host. */
  receive(result: GraphResult, title: string, t0 = performance.now()): void {
    this.latest = result.summary;
    this.title = title;
    document.body.dataset.latestVersion = String(result.version);
    if (!result.graph) {
      const sameDoc = this.good?.result.uri === result.uri;
      if (!sameDoc)
        this.clear(
          `${result.summary.errors} error${result.summary.errors === 1 ? '' : 's'} in ${title}: fix ${result.summary.errors === 1 ? 'it' : 'them'} to see the graph (Problems panel).`,
        );
      this.updateHeader();
      return;
    }
    this.enqueue({ result, title, t0 });
  }

  status(text: string): void {
    this.header.setStatus(text);
  }

  /** Theme colours changed (VS Code rewrites the CSS variables): recolour with the cached layout. */
  themeChanged(): void {
    this.palette = readPalette();
    this.redraw();
  }

  private redraw(): void {
    if (this.good) this.enqueue({ ...this.good, t0: performance.now() });
  }

  private enqueue(job: Job): void {
    this.queued = job; // only the newest waiting analysis is worth drawing
    if (!this.busy) void this.pump();
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (this.queued) {
        const job = this.queued;
        this.queued = null;
        try {
          await this.draw(job);
        } catch (e) {
          post({ type: 'log', level: 'error', message: `graph redraw failed: ${(e as Error).stack ?? e}` });
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async draw(job: Job): Promise<void> {
    const { result } = job;
    const blocks = new Set(blockIds(result));
    const expanded = new Set(this.state.expanded.filter((b) => blocks.has(b)));
    const graph = buildViewGraph(result, expanded)!;
    const { layout, cached } = await this.engine.layout(graph);
    if (this.queued && this.queued.result.uri === result.uri) return; // a newer analysis is waiting: draw that one
    const previousUri = this.good?.result.uri;
    const hadFocus = this.svg.contains(document.activeElement) && document.activeElement !== this.svg;
    this.good = { result, title: job.title };
    const changes = unitChanges(graph, result);
    const { nodes, maxShare } = this.painter.draw({
      graph,
      layout,
      summary: result.summary,
      metric: this.state.metric,
      palette: this.palette,
      selected: this.selected,
      changes,
    });
    this.drawn = { graph, layout, nodes, maxShare, changes };
    this.el.message.textContent = '';
    if (previousUri !== result.uri) {
      const saved = this.state.views[result.uri];
      this.autoFit = !saved;
      if (saved) this.viewport.set(saved);
    }
    // Fitted until the user moves the view: also after an expand, a collapse or a new structure.
    if (this.autoFit) this.fitView();
    if (!this.focused || !nodes.has(this.focused)) this.focused = graph.units[0]?.id ?? null;
    for (const [id, g] of nodes) {
      const tabindex = id === this.focused ? '0' : '-1';
      if (g.getAttribute('tabindex') !== tabindex) g.setAttribute('tabindex', tabindex);
    }
    if (hadFocus && this.focused) nodes.get(this.focused)?.focus({ preventScroll: true });
    this.updateHeader();
    document.body.dataset.version = String(result.version);
    // Force style and layout so that the time includes them, as a user would wait for them.
    void document.body.offsetHeight;
    const ms = performance.now() - job.t0;
    post({
      type: 'rendered',
      uri: result.uri,
      version: result.version,
      nodes: nodes.size,
      edges: graph.edges.length,
      layout: cached ? 'cached' : 'computed',
      ms,
    });
  }

  private clear(message: string): void {
    this.painter.clear();
    this.drawn = null;
    this.good = null;
    this.el.message.textContent = message;
  }

  private updateHeader(): void {
    const drawnSummary = this.good?.result.summary ?? null;
    const stale = !!this.latest && !!drawnSummary && this.latest.uri === drawnSummary.uri && this.latest.version !== drawnSummary.version;
    this.header.update({
      title: this.title,
      drawn: drawnSummary,
      latest: this.latest,
      stale,
      metric: this.state.metric,
      maxShare: this.drawn?.maxShare ?? 0,
      palette: this.palette,
      compare: this.good?.result.compare ?? null,
      changes: this.drawn?.changes ?? null,
    });
  }

  private persist(): void {
    saveState(this.state);
  }

  private setMetric(m: Metric): void {
    this.state.metric = m;
    this.persist();
    this.redraw();
  }

  private toggle(id: string, expand?: boolean): void {
    const set = new Set(this.state.expanded);
    const on = expand ?? !set.has(id);
    if (on) set.add(id);
    else set.delete(id);
    this.state.expanded = [...set].sort();
    this.focused = id;
    this.persist();
    this.redraw();
  }

  private expandAll(on: boolean): void {
    this.state.expanded = on && this.good ? blockIds(this.good.result) : [];
    this.persist();
    this.redraw();
  }

  /** The Fit button and the 0 key: fit now, and keep fitting on resize until the user zooms or pans again. */
  private fit(): void {
    this.autoFit = true;
    this.fitView();
  }

  private fitView(): void {
    if (this.drawn) this.viewport.fit(this.drawn.layout.width, this.drawn.layout.height);
  }

  private userZoom(factor: number): void {
    this.autoFit = false;
    this.viewport.zoom(factor);
  }

  private unit(id: string): Unit | undefined {
    return this.drawn?.graph.units.find((u) => u.id === id);
  }

  /** Select a node and ask the host to reveal the spec text that made it. */
  private activate(id: string): void {
    const u = this.unit(id);
    if (!u || !this.good) return;
    this.drawn?.nodes.get(this.selected ?? '')?.classList.remove('selected');
    this.selected = id;
    this.drawn?.nodes.get(id)?.classList.add('selected');
    if (u.source) post({ type: 'reveal', uri: this.good.result.uri, range: u.source.range });
  }

  private focusNode(id: string): void {
    const g = this.drawn?.nodes.get(id);
    const box = this.drawn?.layout.boxes.get(id);
    if (!g || !box) return;
    this.drawn!.nodes.get(this.focused ?? '')?.setAttribute('tabindex', '-1');
    this.focused = id;
    g.setAttribute('tabindex', '0');
    this.viewport.reveal(box);
    g.focus({ preventScroll: true });
  }

  private showTip(g: SVGGElement): void {
    const u = this.unit(g.dataset.id ?? '');
    if (u && this.good) this.tooltip.show(u, this.good.result.summary, g.getBoundingClientRect(), this.good.result.graph?.scales ?? []);
  }

  private listen(): void {
    const nodeOf = (t: EventTarget | null) => (t instanceof Element ? (t.closest('.node') as SVGGElement | null) : null);
    this.svg.addEventListener('click', (e) => {
      const toggle = e.target instanceof Element ? e.target.closest('.toggle') : null;
      if (toggle) return this.toggle(toggle.getAttribute('data-toggle') ?? '');
      const g = nodeOf(e.target);
      if (g?.dataset.id) {
        this.focusNode(g.dataset.id);
        this.activate(g.dataset.id);
      }
    });
    this.svg.addEventListener('mouseover', (e) => {
      const g = nodeOf(e.target);
      if (g) this.showTip(g);
    });
    this.svg.addEventListener('mouseout', (e) => {
      if (!nodeOf(e.relatedTarget)) this.tooltip.hide();
    });
    this.svg.addEventListener('focusin', (e) => {
      const g = nodeOf(e.target);
      if (g) this.showTip(g);
    });
    this.svg.addEventListener('focusout', () => this.tooltip.hide());
    this.svg.addEventListener('keydown', (e) => this.onKey(e));
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.drawn) return;
    const id = this.focused ?? this.drawn.graph.units[0]?.id;
    if (!id) return;
    const dir = KEY_DIRECTIONS[e.key];
    const onBlock = document.activeElement !== this.svg && this.unit(id)?.kind === 'block';
    let handled = true;
    if (dir) {
      // The first arrow from the canvas itself lands on the remembered node.
      const next = document.activeElement === this.svg ? id : neighbour(id, dir, this.drawn.graph, this.drawn.layout);
      if (next) this.focusNode(next);
    } else if (e.key === 'Enter') this.activate(id);
    else if (e.key === ' ' && onBlock) this.toggle(id);
    else if (e.key === '+' || e.key === '=') this.userZoom(1.25);
    else if (e.key === '-') this.userZoom(0.8);
    else if (e.key === '0') this.fit();
    else if (e.key === 'Home') this.focusNode(this.drawn.graph.units[0].id);
    else if (e.key === 'Escape') this.tooltip.hide();
    else handled = false;
    if (handled) e.preventDefault();
  }

  private async exportAs(format: 'svg' | 'png'): Promise<void> {
    if (!this.drawn || !this.good) return;
    const s = this.good.result.summary;
    const name = `${(s.name || 'dsod').replace(/[^\w.-]+/g, '_')}-graph.${format}`;
    const svg = exportSvg({
      drawing: this.drawing,
      width: this.drawn.layout.width,
      height: this.drawn.layout.height,
      heading: `${s.name} — ${this.good.title}`,
      subheading: `${formatExact(s.paramsLearned)} learned params · ${formatExact(s.macs)} MACs · ${formatBoxes(s.defaultBoxes)}`,
      legend: { title: `Share of ${this.state.metric === 'macs' ? 'MACs' : 'learned params'}`, maxShare: this.drawn.maxShare, accent: this.state.metric },
      changeLegend: this.good.result.compare && this.drawn.changes ? changeLegend(this.good.result.compare, this.drawn.changes, this.palette) : null,
      palette: this.palette,
    });
    try {
      const data = format === 'svg' ? svg.text : await svgToPng(svg.text, svg.width, svg.height);
      post({ type: 'export', format, name, data });
    } catch (e) {
      post({ type: 'log', level: 'error', message: `export as ${format} failed: ${(e as Error).message}` });
    }
  }
}
