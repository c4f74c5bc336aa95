// Layout by the network's structure, as DSOD's own figure reads: the backbone at the top, wrapped into columns (a new
// column at each dense block after the first, so that expanded blocks stand side by side instead of in one tall
// column), and below it the prediction pyramid as ONE ROW of scales, left to right, each scale a column: its reused
// and learned halves, their concatenation (the scale's map), L2Norm, the loc and conf heads, the boxes. Every kind of
// node has one row, so the same parts of all scales share a y. Edges are routed orthogonally in the gaps between
// columns ("lanes") and through a horizontal bus between the backbone and the pyramid.
// Node sizes depend only on a unit's kind, never on its numbers, so a layout is a function of the topology alone and
// is cached by it: an edit that only changes numbers (growth rate, widths, classes, input size) reuses it.
import type { Edge, Unit, UnitKind, ViewGraph } from './model';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface Layout {
  /** Absolute positions of every unit (expanded blocks: their frame). */
  boxes: Map<string, Box>;
  edges: Map<string, Point[]>;
  /** Edges drawn as cubic Béziers (the dense arcs): their points are [start, control, control, end]. */
  curved: Set<string>;
  width: number;
  height: number;
}

/** Text metrics shared with the renderer. */
export const LINE = 15;
export const PAD = 8;
/** Room at the top of an expanded block's frame for its four header lines. */
export const FRAME_HEADER = 4 * LINE + PAD + 8;

/**
 * One size for every node (so that a layout depends on the topology alone): narrow enough that six scales side by
 * side still fit a side pane, tall enough for four lines (title, shape, what it computes, its numbers) and, zoomed out,
 * for a name and one number in type that stays legible there.
 */
export const NODE_W = 220;
export const NODE_H = 4 * LINE + 2 * PAD - 2;

/** By kind only (never by numbers), so that layouts can be cached by topology; today one size for all. */
export function nodeSize(_kind: UnitKind): { w: number; h: number } {
  return { w: NODE_W, h: NODE_H };
}

const MARGIN = 16;
/** Between columns: room for the lanes of the edges that run there. */
const COL_GAP = 48;
const ROW_GAP = 28;
/** Inside an expanded block's frame. */
const FRAME_INSET = 14;
const FRAME_GAP = 16;
/** Between two lanes of the bus or of a column's side. */
const LANE = 7;

/**
 * The dense connections that skip layers are drawn as nested arcs on the right of the block's column, as in DenseNet's
 * own figure: an arc spanning s steps bulges ARC_BASE + ARC_STEP x (s - 2) px out.
 */
const ARC_BASE = 16;
const ARC_STEP = 9;
const arcReach = (span: number) => ARC_BASE + ARC_STEP * (span - 2);

const isArc = (e: Edge) => e.role === 'dense' && !e.chain;

/** Row of each kind of the pyramid: the same part of every scale at the same height. */
const PYRAMID_ROW: Partial<Record<UnitKind, number>> = { reused: 0, learned: 1, concat: 2, plain: 2, l2norm: 3, loc: 4, conf: 5, boxes: 6 };

function place(g: ViewGraph): Layout {
  const boxes = new Map<string, Box>();
  const edges = new Map<string, Point[]>();
  const children = new Map<string, Unit[]>();
  for (const u of g.units) if (u.parent) (children.get(u.parent) ?? children.set(u.parent, []).get(u.parent)!).push(u);
  const top = g.units.filter((u) => u.parent === null);
  const isFrame = (u: Unit) => u.kind === 'block' && u.expanded === true;

  const sizeOf = (u: Unit): { w: number; h: number } => {
    if (!isFrame(u)) return nodeSize(u.kind);
    const inner = children.get(u.id) ?? [];
    const layers = inner.filter((c) => c.kind === 'layer').length;
    const right = layers > 0 ? arcReach(layers + 1) + 16 : FRAME_INSET;
    const h = FRAME_HEADER + inner.reduce((s, c) => s + nodeSize(c.kind).h, 0) + FRAME_GAP * Math.max(0, inner.length - 1) + FRAME_INSET;
    return { w: FRAME_INSET + NODE_W + right, h };
  };

  // The backbone: columns, a new one at each dense block after the first.
  const columns: Unit[][] = [];
  let blocks = 0;
  for (const u of top) {
    if (u.scale !== null) continue;
    if (u.kind === 'block' && blocks++ > 0) columns.push([]);
    if (!columns.length) columns.push([]);
    columns[columns.length - 1].push(u);
  }
  const columnOf = new Map<string, number>();
  const colRight: number[] = [];
  const colLeft: number[] = [];
  let x = MARGIN;
  let backboneBottom = MARGIN;
  columns.forEach((col, i) => {
    const framed = col.some(isFrame);
    const width = Math.max(...col.map((u) => sizeOf(u).w));
    let y = MARGIN;
    for (const u of col) {
      const { w, h } = sizeOf(u);
      // Nodes line up with the layers inside a frame of the same column.
      boxes.set(u.id, { x: isFrame(u) || !framed ? x : x + FRAME_INSET, y, w, h });
      columnOf.set(u.id, i);
      y += h + ROW_GAP;
    }
    backboneBottom = Math.max(backboneBottom, y - ROW_GAP);
    colLeft.push(x);
    colRight.push(x + width);
    x += width + COL_GAP;
  });
  // Inside each frame: input, layers, output in one column.
  for (const u of top) {
    if (!isFrame(u)) continue;
    const f = boxes.get(u.id)!;
    let y = f.y + FRAME_HEADER;
    for (const c of children.get(u.id) ?? []) {
      const { w, h } = nodeSize(c.kind);
      boxes.set(c.id, { x: f.x + FRAME_INSET, y, w, h });
      y += h + FRAME_GAP;
    }
  }

  // Edges from the backbone into the pyramid run along a bus below the backbone, one lane each.
  const pyramid = g.units.filter((u) => u.scale !== null);
  const inPyramid = new Set(pyramid.map((u) => u.id));
  const taps = g.edges.filter((e) => !inPyramid.has(e.source) && inPyramid.has(e.target));
  const busTop = backboneBottom + ROW_GAP;
  const pyramidTop = busTop + LANE * taps.length + ROW_GAP;

  // The pyramid: one column per scale, one row per kind.
  const rowOf = (u: Unit) => PYRAMID_ROW[u.kind] ?? 2;
  const rows = [...new Set(pyramid.map(rowOf))].sort((a, b) => a - b);
  const rowY = new Map<number, number>();
  let y = pyramidTop;
  for (const r of rows) {
    rowY.set(r, y);
    y += Math.max(...pyramid.filter((u) => rowOf(u) === r).map((u) => nodeSize(u.kind).h)) + ROW_GAP;
  }
  const scaleX = (k: number) => MARGIN + (k - 1) * (NODE_W + COL_GAP);
  for (const u of pyramid) boxes.set(u.id, { x: scaleX(u.scale!), y: rowY.get(rowOf(u))!, ...nodeSize(u.kind) });

  // Routing.
  const unitById = new Map(g.units.map((u) => [u.id, u]));
  const mid = (b: Box) => b.y + b.h / 2;
  const cx = (b: Box) => b.x + b.w / 2;
  const tapIndex = new Map(taps.map((e, i) => [e.id, i]));
  const intoColumn = new Map<number, number>(); // lanes used on the left of each scale column
  const bypasses = new Map<number, number>(); // bypasses routed beside each scale column
  for (const e of g.edges) {
    if (isArc(e)) continue;
    const s = boxes.get(e.source);
    const t = boxes.get(e.target);
    const su = unitById.get(e.source);
    const tu = unitById.get(e.target);
    if (!s || !t || !su || !tu) continue;
    let points: Point[];
    if (su.parent !== null && su.parent === tu.parent) {
      // The chain inside a frame.
      points = [
        { x: cx(s), y: s.y + s.h },
        { x: cx(s), y: t.y },
      ];
    } else if (!inPyramid.has(e.source) && !inPyramid.has(e.target)) {
      const a = columnOf.get(e.source)!;
      const b = columnOf.get(e.target)!;
      if (a === b) {
        const px = t.x <= cx(s) && cx(s) <= t.x + t.w ? cx(s) : cx(t);
        points = [
          { x: px, y: s.y + s.h },
          { x: px, y: t.y },
        ];
      } else {
        // To the top of the next column, through the gap between them.
        const lane = (colRight[a] + colLeft[b]) / 2;
        const ty = t.y + Math.min(t.h / 2, 24);
        points = [
          { x: s.x + s.w, y: mid(s) },
          { x: lane, y: mid(s) },
          { x: lane, y: ty },
          { x: t.x, y: ty },
        ];
      }
    } else if (!inPyramid.has(e.source)) {
      // A tap: right of the source, down to its lane of the bus, across, down beside the scale column, into its left.
      const i = tapIndex.get(e.id)!;
      const k = tu.scale!;
      const j = intoColumn.get(k) ?? 0;
      intoColumn.set(k, j + 1);
      const out = colRight[columnOf.get(e.source)!] + 10;
      const bus = busTop + LANE * i;
      const lane = t.x - 12 - LANE * j;
      points = [
        { x: s.x + s.w, y: mid(s) },
        { x: out, y: mid(s) },
        { x: out, y: bus },
        { x: lane, y: bus },
        { x: lane, y: mid(t) },
        { x: t.x, y: mid(t) },
      ];
    } else if (su.scale === tu.scale) {
      const between = pyramid.some((u) => u.scale === su.scale && rowOf(u) > rowOf(su) && rowOf(u) < rowOf(tu));
      if (!between) {
        points = [
          { x: cx(s), y: s.y + s.h },
          { x: cx(t), y: t.y },
        ];
      } else {
        // Around the node in between, on alternate sides of the column.
        const n = bypasses.get(su.scale!) ?? 0;
        bypasses.set(su.scale!, n + 1);
        const right = n % 2 === 0;
        const lane = right ? s.x + s.w + 12 : s.x - 12;
        const edge = right ? s.x + s.w : s.x;
        const tEdge = right ? t.x + t.w : t.x;
        points = [
          { x: edge, y: s.y + 0.7 * s.h },
          { x: lane, y: s.y + 0.7 * s.h },
          { x: lane, y: t.y + 0.3 * t.h },
          { x: tEdge, y: t.y + 0.3 * t.h },
        ];
      }
    } else {
      // From one scale to the next: through the lane left of the target's column.
      const k = tu.scale!;
      const j = intoColumn.get(k) ?? 0;
      intoColumn.set(k, j + 1);
      const lane = t.x - 12 - LANE * j;
      points = [
        { x: s.x + s.w, y: mid(s) },
        { x: lane, y: mid(s) },
        { x: lane, y: mid(t) },
        { x: t.x, y: mid(t) },
      ];
    }
    edges.set(e.id, points);
  }

  let width = 0;
  let height = 0;
  for (const b of boxes.values()) {
    width = Math.max(width, b.x + b.w);
    height = Math.max(height, b.y + b.h);
  }
  const layout: Layout = { boxes, edges, curved: new Set(), width: width + MARGIN, height: height + MARGIN };
  addArcs(g, layout);
  for (const points of layout.edges.values()) for (const p of points) layout.width = Math.max(layout.width, p.x + MARGIN);
  return layout;
}

/**
 * Arcs for the dense connections, as cubic Bézier points [start, control, control, end]. Arcs leave a node from the
 * lower half of its right side and enter the next from the upper half; the wider an arc, the further out its
 * attachment, so that arcs sharing a node nest instead of crossing.
 */
function addArcs(g: ViewGraph, layout: Layout): void {
  const arcs = g.edges.filter(isArc);
  const out = new Map<string, Edge[]>();
  const into = new Map<string, Edge[]>();
  for (const e of arcs) {
    (out.get(e.source) ?? out.set(e.source, []).get(e.source)!).push(e);
    (into.get(e.target) ?? into.set(e.target, []).get(e.target)!).push(e);
  }
  const index = new Map(g.units.map((u, i) => [u.id, i]));
  const span = (e: Edge) => index.get(e.target)! - index.get(e.source)!;
  const attach = (id: string, e: Edge, list: Edge[], leaving: boolean): Point => {
    const b = layout.boxes.get(id)!;
    const sorted = [...list].sort((a, c) => span(a) - span(c));
    const k = sorted.indexOf(e) + 1;
    const step = (0.42 * b.h) / (sorted.length + 1);
    // Leaving: the widest arc starts highest; entering: the widest ends lowest.
    const y = leaving ? b.y + b.h - 4 - step * k : b.y + 4 + step * k;
    return { x: b.x + b.w, y };
  };
  for (const e of arcs) {
    const a = attach(e.source, e, out.get(e.source)!, true);
    const z = attach(e.target, e, into.get(e.target)!, false);
    const reach = arcReach(span(e)) * 1.33; // a cubic's bulge is 3/4 of its control points' offset
    layout.edges.set(e.id, [a, { x: a.x + reach, y: a.y }, { x: z.x + reach, y: z.y }, z]);
    layout.curved.add(e.id);
  }
}

export interface LayoutResult {
  layout: Layout;
  cached: boolean;
}

/** Lays out view graphs, keeping the layouts of recent topologies (an edit that changes numbers reuses its layout). */
export class LayoutEngine {
  private readonly cache = new Map<string, Layout>();

  /** `useCache: false` is the benchmark's peer: the layout computed again on every redraw. */
  constructor(private readonly options: { useCache: boolean; size: number } = { useCache: true, size: 16 }) {}

  async layout(g: ViewGraph): Promise<LayoutResult> {
    const hit = this.options.useCache ? this.cache.get(g.topology) : undefined;
    if (hit) {
      // Least recently used goes first: re-insert on every hit.
      this.cache.delete(g.topology);
      this.cache.set(g.topology, hit);
      return { layout: hit, cached: true };
    }
    const layout = place(g);
    if (this.options.useCache) {
      this.cache.set(g.topology, layout);
      while (this.cache.size > this.options.size) this.cache.delete(this.cache.keys().next().value!);
    }
    return { layout, cached: false };
  }
}
