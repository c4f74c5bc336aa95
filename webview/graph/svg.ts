/// <reference lib="dom" />
// Draw a laid-out view graph as SVG: frames of expanded blocks first, then edges, then nodes (so edges never cover a
// label). Built with createElementNS and textContent only: no markup strings, nothing the CSP or a spec name could
// turn into code. Rebuilt whole on every redraw; for DSOD300 that is a few hundred elements, a few milliseconds.
import type { SpecSummary } from '../../protocol/lsp';
import { CHANGE_MIX, heatAmount, mix, rgbText, type Palette } from './colors';
import { ariaLabel, hasNumbers, lodNumber, metricTotal, metricValue, nodeLabel, type Metric } from './labels';
import { LINE, PAD, type Layout, type Point } from './layout';
import type { EdgeRole, Unit, UnitChange, ViewGraph } from './model';

const NS = 'http://www.w3.org/2000/svg';

export function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

const ROLES: EdgeRole[] = ['data', 'dense', 'learned', 'reused'];

/** Arrow heads, one per edge role (SVG 1.1 markers cannot take the colour of the line that uses them). */
export function arrowDefs(parent: Element): void {
  const defs = svgEl('defs', {}, parent);
  for (const role of ROLES) {
    // userSpaceOnUse: the same 8 px arrow whatever the stroke width.
    const m = svgEl(
      'marker',
      {
        id: `arrow-${role}`,
        viewBox: '0 0 10 10',
        refX: 9,
        refY: 5,
        markerWidth: 8,
        markerHeight: 8,
        orient: 'auto-start-reverse',
        markerUnits: 'userSpaceOnUse',
      },
      defs,
    );
    svgEl('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrow ${role}` }, m);
  }
}

/** Rough text width per character and pixel of font size: enough to decide when a line must be squeezed into its box. */
const CHAR = { regular: 0.56, bold: 0.62 };
const FONT: Record<string, [number, keyof typeof CHAR]> = {
  title: [12, 'bold'],
  shape: [11, 'regular'],
  detail: [11, 'regular'],
  numbers: [11, 'regular'],
  'big-title': [30, 'bold'],
  'big-brief': [28, 'regular'],
};
const estimateWidth = (text: string, cls: string): number => {
  const [size, weight] = FONT[cls] ?? [11, 'regular'];
  return text.length * size * CHAR[weight];
};

function pathOf(points: Point[], curved: boolean): string {
  if (!points.length) return '';
  const [first, ...rest] = points;
  const p = (q: Point) => `${q.x.toFixed(1)},${q.y.toFixed(1)}`;
  // A dense arc (layout.ts) is cubic Bézier points: start, then control, control, end in threes.
  if (curved && rest.length % 3 === 0) {
    let d = `M${p(first)}`;
    for (let i = 0; i < rest.length; i += 3) d += ` C${p(rest[i])} ${p(rest[i + 1])} ${p(rest[i + 2])}`;
    return d;
  }
  return `M${p(first)}${rest.map((q) => ` L${p(q)}`).join('')}`;
}

export interface DrawInput {
  graph: ViewGraph;
  layout: Layout;
  summary: SpecSummary;
  metric: Metric;
  palette: Palette;
  selected: string | null;
  /** While comparing: each unit's change, which colours it instead of its share of the metric. */
  changes: Map<string, UnitChange> | null;
}

export interface Drawn {
  nodes: Map<string, SVGGElement>;
  /** The largest share of the metric among the drawn nodes (the legend's top). */
  maxShare: number;
  /** Whether the existing elements were updated in place (same layout) rather than rebuilt. */
  inPlace: boolean;
}

const TOGGLE = 14;

interface TextSpec {
  group: 'full' | 'lod';
  cls: string;
  x: number;
  y: number;
  content: string;
  maxWidth: number;
  anchor: 'start' | 'end';
}

/** Every text of a node, where it goes and how wide it may be. Positions depend on the box, never on the numbers. */
function textsOf(u: Unit, box: { w: number; h: number }, metric: Metric): TextSpec[] {
  const x = u.kind === 'block' ? PAD + TOGGLE + 6 : PAD;
  const label = nodeLabel(u);
  const t = (
    group: TextSpec['group'],
    cls: string,
    tx: number,
    y: number,
    content: string,
    maxWidth: number,
    anchor: TextSpec['anchor'] = 'start',
  ): TextSpec => ({ group, cls, x: tx, y, content, maxWidth, anchor });
  // One line each: title, shape, what it computes, its numbers.
  const lines = [t('full', 'title', x, 0, label.title, box.w - x - PAD)];
  if (label.shape) lines.push(t('full', 'shape', PAD, 0, label.shape, box.w - 2 * PAD));
  lines.push(t('full', 'detail', PAD, 0, label.detail, box.w - 2 * PAD));
  if (label.numbers) lines.push(t('full', 'numbers', PAD, 0, label.numbers, box.w - 2 * PAD));
  lines.forEach((l, i) => (l.y = PAD + 11 + i * LINE));
  // The level of detail for small zoom (see GraphView's ZOOMED_OUT): the name and one number, in type as large as the
  // box holds, so that DSOD300 fitted in a side pane stays readable. A frame shows it in its header.
  lines.push(t('lod', 'big-title', x, PAD + 24, u.short, box.w - x - PAD));
  const number = lodNumber(u, metric);
  if (number) lines.push(t('lod', 'big-brief', PAD, PAD + 54, number, box.w - 2 * PAD));
  return lines;
}

/** Set a text's content, squeezing it into its width when it would overflow. */
function setText(el: SVGTextElement, spec: TextSpec): void {
  if (el.textContent === spec.content) return;
  el.textContent = spec.content;
  if (estimateWidth(spec.content, spec.cls) > spec.maxWidth) {
    el.setAttribute('textLength', String(Math.max(1, spec.maxWidth)));
    el.setAttribute('lengthAdjust', 'spacingAndGlyphs');
  } else if (el.hasAttribute('textLength')) {
    el.removeAttribute('textLength');
    el.removeAttribute('lengthAdjust');
  }
}

interface NodeParts {
  g: SVGGElement;
  rect: SVGRectElement;
  texts: SVGTextElement[];
}

/**
 * The drawing of one view graph. A redraw with the same layout (the cache hit of an edit that only changed numbers)
 * updates the existing elements in place: only changed texts and colours, so the browser restyles and relays out only
 * those. Anything else rebuilds the drawing.
 */
export class GraphDrawing {
  private parts = new Map<string, NodeParts>();
  private layout: Layout | null = null;
  private topology = '';

  constructor(private readonly root: SVGGElement) {}

  draw(input: DrawInput): Drawn {
    const { graph, layout, summary, metric, palette } = input;
    const total = metricTotal(summary, metric);
    // The legend's top is the largest share among the stages (an expanded block counts whole, as its frame), so that
    // expanding blocks does not rescale the colours.
    const counted = graph.units.filter((u) => hasNumbers(u) && u.kind !== 'layer');
    const maxShare = Math.max(0, ...counted.map((u) => (total > 0 ? metricValue(u, metric) / total : 0)));
    const accent = metric === 'macs' ? palette.macs : palette.params;
    const fillOf = (u: Unit): string => {
      const change = input.changes?.get(u.id);
      if (change) {
        if (change === 'same') return rgbText(palette.background);
        const t = u.kind === 'block' && u.expanded ? CHANGE_MIX * 0.3 : CHANGE_MIX;
        return rgbText(mix(palette.background, change === 'added' ? palette.added : palette.changed, t));
      }
      if (!hasNumbers(u) || total <= 0) return rgbText(palette.background);
      const t = heatAmount(metricValue(u, metric) / total, maxShare);
      return rgbText(mix(palette.background, accent, u.kind === 'block' && u.expanded ? t * 0.3 : t));
    };
    const inPlace = layout === this.layout && graph.topology === this.topology && this.update(input, fillOf);
    if (!inPlace) this.build(input, fillOf);
    this.layout = layout;
    this.topology = graph.topology;
    return { nodes: new Map([...this.parts].map(([id, p]) => [id, p.g])), maxShare, inPlace };
  }

  clear(): void {
    this.root.replaceChildren();
    this.parts.clear();
    this.layout = null;
    this.topology = '';
  }

  private classesOf(u: Unit, selected: string | null, changes: Map<string, UnitChange> | null): string {
    const frame = u.kind === 'block' && u.expanded === true;
    const change = changes?.get(u.id);
    return `node kind-${u.kind}${frame ? ' frame' : ''}${change ? ` change-${change}` : ''}${u.id === selected ? ' selected' : ''}`;
  }

  /** False when a node's texts no longer match the drawing (then it is rebuilt). */
  private update(input: DrawInput, fillOf: (u: Unit) => string): boolean {
    for (const u of input.graph.units) {
      const p = this.parts.get(u.id);
      const box = input.layout.boxes.get(u.id);
      if (!p || !box) return false;
      const specs = textsOf(u, box, input.metric);
      if (specs.length !== p.texts.length || specs.some((s, i) => !p.texts[i].classList.contains(s.cls))) return false;
    }
    for (const u of input.graph.units) {
      const p = this.parts.get(u.id)!;
      const specs = textsOf(u, input.layout.boxes.get(u.id)!, input.metric);
      specs.forEach((s, i) => setText(p.texts[i], s));
      const fill = fillOf(u);
      if (p.rect.getAttribute('fill') !== fill) p.rect.setAttribute('fill', fill);
      const classes = this.classesOf(u, input.selected, input.changes);
      if (p.g.getAttribute('class') !== classes) p.g.setAttribute('class', classes);
      const aria = ariaLabel(u);
      if (p.g.getAttribute('aria-label') !== aria) p.g.setAttribute('aria-label', aria);
    }
    return true;
  }

  private build(input: DrawInput, fillOf: (u: Unit) => string): void {
    const { graph, layout, selected } = input;
    this.root.replaceChildren();
    this.parts.clear();
    const frames = svgEl('g', { class: 'frames' }, this.root);
    const edges = svgEl('g', { class: 'edges' }, this.root);
    const nodes = svgEl('g', { class: 'nodes' }, this.root);

    for (const e of graph.edges) {
      const points = layout.edges.get(e.id);
      if (!points) continue;
      svgEl(
        'path',
        {
          class: `edge ${e.role}`,
          d: pathOf(points, layout.curved.has(e.id)),
          'marker-end': `url(#arrow-${e.role})`,
          'data-source': e.source,
          'data-target': e.target,
          'data-role': e.role,
          ...(e.scale !== null ? { 'data-scale': e.scale } : {}),
        },
        edges,
      );
    }

    for (const u of graph.units) {
      const box = layout.boxes.get(u.id);
      if (!box) continue;
      const classes = this.classesOf(u, selected, input.changes);
      const g = svgEl(
        'g',
        {
          class: classes,
          transform: `translate(${box.x},${box.y})`,
          'data-id': u.id,
          'data-kind': u.kind,
          ...(u.scale !== null ? { 'data-scale': u.scale } : {}),
          tabindex: -1,
          role: 'button',
          'aria-label': ariaLabel(u),
        },
        u.kind === 'block' && u.expanded ? frames : nodes,
      );
      const rect = svgEl('rect', { class: 'box', width: box.w, height: box.h, rx: 4, fill: fillOf(u) }, g);
      if (u.kind === 'block') {
        const t = svgEl('g', { class: 'toggle', 'data-toggle': u.id, role: 'button', 'aria-label': `${u.expanded ? 'Collapse' : 'Expand'} ${u.id}` }, g);
        svgEl('rect', { x: PAD, y: PAD, width: TOGGLE, height: TOGGLE, rx: 2 }, t);
        svgEl('text', { x: PAD + TOGGLE / 2, y: PAD + 11, 'text-anchor': 'middle' }, t).textContent = u.expanded ? '−' : '+';
      }
      const groups = { full: svgEl('g', { class: 'full' }, g), lod: svgEl('g', { class: 'lod', 'aria-hidden': 'true' }, g) };
      const texts = textsOf(u, box, input.metric).map((s) => {
        const el = svgEl('text', { class: s.cls, x: s.x, y: s.y, ...(s.anchor === 'end' ? { 'text-anchor': 'end' } : {}) }, groups[s.group]);
        setText(el, s);
        return el;
      });
      this.parts.set(u.id, { g, rect, texts });
    }
  }
}
