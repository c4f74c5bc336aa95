// What the graph view draws, derived from the server's layer graph: one "unit" per thing a designer thinks about (the
// stem, a dense block or each of its layers, a transition, a half of a prediction scale, a head branch), with the
// numbers of the layers it holds summed. Pure (no DOM), so node tests can check it directly.
import type { Range } from '../../core/diagnostics';
import { formatBoxes, formatCount, formatMacs, formatShape } from '../../core/format';
import type { GraphNode, GraphResult } from '../../protocol/lsp';

export type UnitKind =
  | 'input'
  | 'stem'
  | 'block'
  | 'layer'
  | 'blockIn'
  | 'blockOut'
  | 'transition'
  | 'pool'
  | 'reused'
  | 'learned'
  | 'concat'
  | 'plain'
  | 'l2norm'
  | 'loc'
  | 'conf'
  | 'boxes';

export interface Unit {
  /** Stable across redraws of the same network: `block1`, `block1/layer3`, `scale3/learned`, `head2/loc`. */
  id: string;
  kind: UnitKind;
  /** The expanded dense block holding this unit, or null at top level. */
  parent: string | null;
  title: string;
  detail: string;
  /** Big-type label for a zoomed-out view: a short name and one compact line. */
  short: string;
  brief: string;
  /** Output shape (for a dense layer: its fresh features); null for the boxes of a scale. */
  shape: [number, number, number] | null;
  paramsLearned: number;
  paramsStored: number;
  macs: number;
  receptiveField: number;
  /** How many of core's primitive ops (conv, batch norm, ReLU, pool, concat, L2Norm) this unit stands for. */
  ops: number;
  /** The dense layers of a dense block (its groups in core's graph); 0 for any other unit. */
  denseLayers: number;
  /** Those layers' ids in core's layer graph (none for a drawn-only unit: block input / output, boxes). */
  members: number[];
  source: { path: readonly (string | number)[]; range: Range } | null;
  /** The prediction scale this unit belongs to (1-based), if any. */
  scale: number | null;
  /** A dense block: whether it is drawn as one node or as its layers. */
  expanded: boolean | null;
}

/** data: plain flow; dense: a dense connection inside an expanded block; learned / reused: the halves of a scale. */
export type EdgeRole = 'data' | 'dense' | 'learned' | 'reused';

export interface Edge {
  id: string;
  source: string;
  target: string;
  role: EdgeRole;
  scale: number | null;
  /** A dense connection between neighbours (input -> layer 1 -> ... -> output): the block's spine. */
  chain?: boolean;
}

export interface ViewGraph {
  uri: string;
  version: number;
  units: Unit[];
  edges: Edge[];
  /** Equal keys mean equal layouts: units, their nesting and their edges (numbers left out). */
  topology: string;
}

/** The prediction scale a layer belongs to: its stage's number in a scale or a head (core's typed place). */
const scaleOf = (n: GraphNode): number | null => (n.stageKind === 'scale' || n.stageKind === 'head' ? n.stageIndex : null);

/** The unit a layer belongs to, given which blocks are expanded. */
function unitIdOf(n: GraphNode, expanded: ReadonlySet<string>): string {
  switch (n.stageKind) {
    case 'input':
    case 'stem':
      return n.stage;
    case 'transition':
      // A pooling transition is drawn as its 1x1 conv and its pool: DSOD's "First" map is the conv's output, before
      // the pooling, and the scale it feeds must hang off a node of that shape.
      return n.kind === 'pool' ? `${n.stage}/pool` : n.stage;
    case 'block':
      return expanded.has(n.stage) && n.group ? n.group : n.stage;
    case 'scale':
      if (n.group) return n.group; // scaleK/reused, scaleK/learned
      return n.kind === 'concat' ? `${n.stage}/concat` : n.stage; // dense concat, or a plain scale
    case 'head':
      return n.group ?? `${n.stage}/${n.kind}`; // headK/loc, headK/conf, headK/l2norm
    default:
      return n.stage;
  }
}

function kindOf(first: GraphNode, id: string): UnitKind {
  switch (first.stageKind) {
    case 'input':
      return 'input';
    case 'stem':
      return 'stem';
    case 'block':
      return id === first.stage ? 'block' : 'layer';
    case 'transition':
      return first.kind === 'pool' ? 'pool' : 'transition';
    case 'scale':
      return first.half ?? (first.kind === 'concat' ? 'concat' : 'plain');
    case 'head':
      return first.headRole ?? 'l2norm';
  }
}

const convs = (ns: GraphNode[]) => ns.filter((n) => n.kind === 'conv');
const kernelOf = (n: GraphNode) => (n.conv ? `${n.conv.kernel}×${n.conv.kernel}` : '');
const strideOf = (n: GraphNode) => (n.conv && n.conv.stride > 1 ? `/${n.conv.stride}` : '');

/** One line saying what the unit computes, from core's typed layers: kinds, conv and pool windows, shapes (never names). */
function describe(kind: UnitKind, ns: GraphNode[], all: GraphNode[], result: GraphResult, scale: number | null): string {
  const inC = (n: GraphNode) => all[n.inputs[0]]?.shape[0] ?? 0;
  const cs = convs(ns);
  const pooled = ns.some((n) => n.kind === 'pool');
  const last = ns[ns.length - 1];
  switch (kind) {
    case 'input':
      return 'image';
    case 'stem': {
      const seven = cs.length === 1 && cs[0].conv?.kernel === 7;
      return `${seven ? '7×7/2 conv' : '3×3 convs'} ${cs.map((c) => c.shape[0]).join('-')}${pooled ? ' · max pool' : ''}`;
    }
    case 'block': {
      const layers = ns.reduce((m, n) => Math.max(m, n.denseLayer ?? 0), 0);
      const b = cs.find((c) => c.conv?.kernel === 1);
      const k = cs.find((c) => c.conv?.kernel === 3);
      return `${layers} layers · k ${k?.shape[0] ?? '?'} · B ${b?.shape[0] ?? '?'} · ${inC(ns[0])}→${last.shape[0]} ch`;
    }
    case 'layer': {
      const [b, k] = cs;
      return `1×1 conv ${b?.shape[0] ?? '?'} → 3×3 conv ${k?.shape[0] ?? '?'} · concat ${last.shape[0]}`;
    }
    case 'transition': {
      const pools = all.some((n) => n.stage === last.stage && n.kind === 'pool' && n.inputs.includes(last.id));
      return `1×1 conv ${inC(ns[0])}→${cs[0]?.shape[0] ?? '?'}${pools ? ' · then max pool' : ' · no pooling'}`;
    }
    case 'pool': {
      const from = all[ns[0].inputs[0]];
      return `max pool ${from ? `${from.shape[1]}×${from.shape[2]}` : '?'} → ${last.shape[1]}×${last.shape[2]}`;
    }
    case 'reused':
      return `max pool 2×2 → 1×1 conv ${inC(ns[0])}→${last.shape[0]}`;
    case 'learned':
    case 'plain':
      return cs.map((c) => `${kernelOf(c)}${strideOf(c)} conv ${c.shape[0]}`).join(' → ');
    case 'concat': {
      const parts = last.inputs.map((i) => all[i]);
      // Scale 2's learned half is the backbone output itself, a node of no half.
      return parts.map((p) => `${p.half ?? 'learned'} ${p.shape[0]}`).join(' + ') + ' ch';
    }
    case 'l2norm':
      return `scale ${scale} feature map`;
    case 'loc':
    case 'conf': {
      const s = result.graph?.scales.find((x) => x.index === scale);
      const per = s?.priorsPerLocation ?? 0;
      const ch = last.shape[0];
      return kind === 'loc' ? `box offsets · ${per} priors × 4` : `class scores · ${per} priors × ${per ? ch / per : '?'} classes`;
    }
    default:
      return '';
  }
}

function titleOf(kind: UnitKind, id: string, first: GraphNode, scale: number | null): string {
  const stage = first.stage;
  switch (kind) {
    case 'pool':
      return `${stage} · pool`;
    case 'block':
      return `${id} · dense block`;
    case 'layer':
      return `layer${first.denseLayer}`;
    case 'reused':
      return `scale ${scale} · reused half`;
    case 'learned':
      return `scale ${scale} · learned half`;
    case 'concat':
      return `scale ${scale} · concat`;
    case 'plain':
      return `scale ${scale}`;
    case 'l2norm':
      return `L2Norm ${scale}`;
    case 'loc':
      return `head ${scale} · loc`;
    case 'conf':
      return `head ${scale} · conf`;
    default:
      return id;
  }
}

function shortOf(kind: UnitKind, id: string, first: GraphNode, scale: number | null): string {
  const stage = first.stage;
  switch (kind) {
    case 'pool':
      return `${stage} pool`;
    case 'layer':
      return `layer${first.denseLayer}`;
    case 'reused':
    case 'learned':
      return `${kind} ${scale}`;
    case 'concat': // the concatenation of the halves is the scale's map
    case 'plain':
      return `scale ${scale}`;
    case 'l2norm':
      return `L2Norm ${scale}`;
    case 'loc':
    case 'conf':
      return `head ${scale} ${kind}`;
    default:
      return id;
  }
}

const compact = (params: number, macs: number) => `${formatCount(params)} params · ${formatMacs(macs)}`;

function makeUnit(id: string, ns: GraphNode[], all: GraphNode[], result: GraphResult, parent: string | null, expanded: boolean | null): Unit {
  const first = ns[0];
  const kind = expanded ? 'block' : kindOf(first, id);
  const scale = scaleOf(first);
  const last = ns[ns.length - 1];
  const paramsLearned = ns.reduce((s, n) => s + n.paramsLearned, 0);
  const macs = ns.reduce((s, n) => s + n.macs, 0);
  // A dense layer's output is the running concatenation; what its dense edges carry is its fresh 3x3 features.
  const fresh = kind === 'layer' ? convs(ns)[1] : undefined;
  return {
    id,
    kind,
    parent,
    title: titleOf(kind, id, first, scale),
    detail: describe(kind, ns, all, result, scale),
    short: shortOf(kind, id, first, scale),
    brief: kind === 'input' || kind === 'concat' || kind === 'pool' ? formatShape(last.shape) : compact(paramsLearned, macs), // a concat computes nothing: its size says more
    shape: [...(fresh ?? last).shape],
    paramsLearned,
    paramsStored: ns.reduce((s, n) => s + n.paramsStored, 0),
    macs,
    receptiveField: ns.reduce((r, n) => Math.max(r, n.receptiveField), 0),
    ops: ns.length,
    denseLayers: kind === 'block' ? ns.reduce((m, n) => Math.max(m, n.denseLayer ?? 0), 0) : 0,
    members: ns.map((n) => n.id),
    source: first.source,
    scale,
    expanded,
  };
}

/** Blocks whose stage names exist in this graph: expansion state of blocks that are gone is ignored. */
export function blockIds(result: GraphResult): string[] {
  const out = new Set<string>();
  for (const n of result.graph?.nodes ?? []) if (n.stageKind === 'block') out.add(n.stage);
  return [...out];
}

export function buildViewGraph(result: GraphResult, expanded: ReadonlySet<string>): ViewGraph | null {
  const g = result.graph;
  if (!g) return null;
  const all = g.nodes;
  const members = new Map<string, GraphNode[]>();
  const unitOf: string[] = [];
  for (const n of all) {
    const id = unitIdOf(n, expanded);
    unitOf[n.id] = id;
    let list = members.get(id);
    if (!list) members.set(id, (list = []));
    list.push(n);
  }

  const units: Unit[] = [];
  const edges: Edge[] = [];
  const edgeIds = new Set<string>();
  const addEdge = (source: string, target: string, role: EdgeRole, scale: number | null, chain = false) => {
    const id = `${source}->${target}`;
    if (source === target || edgeIds.has(id)) return;
    edgeIds.add(id);
    edges.push({ id, source, target, role, scale, ...(chain ? { chain } : {}) });
  };

  // Top-level id of a unit: the expanded block for its layers (edges from outside attach to the block's frame).
  const parentOf = new Map<string, string>();
  for (const [id, ns] of members) {
    const n = ns[0];
    if (n.stageKind === 'block' && id !== n.stage) {
      parentOf.set(id, n.stage);
    }
  }
  const outer = (id: string) => parentOf.get(id) ?? id;

  // Units in core's order (the layout keeps it); an expanded block is its frame, its input, its layers, its output.
  const lastLayer = new Map<string, string>();
  for (const [id, block] of parentOf) lastLayer.set(block, id);
  const seenBlocks = new Set<string>();
  for (const [id, ns] of members) {
    const block = parentOf.get(id);
    if (block && !seenBlocks.has(block)) {
      seenBlocks.add(block);
      const blockNodes = all.filter((n) => n.stage === block);
      const entry = all[blockNodes[0].inputs[0]];
      units.push(makeUnit(block, blockNodes, all, result, null, true));
      units.push(
        synthetic(
          `${block}/in`,
          'blockIn',
          `${block} input`,
          'from the previous stage',
          'input',
          entry.shape,
          block,
          blockNodes[0].source,
          entry.receptiveField,
        ),
      );
    }
    units.push(makeUnit(id, ns, all, result, block ?? null, block ? null : kindOf(ns[0], id) === 'block' ? false : null));
    if (block && lastLayer.get(block) === id) {
      const out = ns[ns.length - 1];
      units.push(
        synthetic(
          `${block}/out`,
          'blockOut',
          `${block} output`,
          'concat of the input and every layer',
          'output',
          out.shape,
          block,
          out.source,
          out.receptiveField,
        ),
      );
    }
  }

  // Edges of core's graph between different units; roles say which half of a scale an edge feeds.
  const kindById = new Map(units.map((u) => [u.id, u.kind]));
  for (const n of all) {
    for (const i of n.inputs) {
      const from = unitOf[i];
      const to = unitOf[n.id];
      if (from === to) continue;
      const fromBlock = parentOf.get(from);
      const toBlock = parentOf.get(to);
      if (fromBlock && fromBlock === toBlock) continue; // replaced by the dense connections below
      const src = outer(from);
      const dst = outer(to);
      const tk = kindById.get(to);
      const fk = kindById.get(from);
      // Into a scale's concat, whatever is not the reused half is the learned half (scale 2's is the backbone output).
      const role: EdgeRole = tk === 'reused' || fk === 'reused' ? 'reused' : tk === 'learned' || fk === 'learned' || tk === 'concat' ? 'learned' : 'data';
      addEdge(src, dst, role, scaleOf(n));
    }
  }

  // Dense connectivity of an expanded block: the input and every layer's fresh maps reach every later layer and the output.
  for (const block of seenBlocks) {
    const layers = units.filter((u) => u.parent === block && u.kind === 'layer').map((u) => u.id);
    const chain = [`${block}/in`, ...layers, `${block}/out`];
    for (let a = 0; a < chain.length; a++) for (let b = a + 1; b < chain.length; b++) addEdge(chain[a], chain[b], 'dense', null, b === a + 1);
  }

  // The boxes of each scale: what the loc and conf branches predict per location.
  for (const s of g.scales) {
    const id = `scale${s.index}/boxes`;
    const f = all[s.feature];
    units.push({
      ...synthetic(
        id,
        'boxes',
        `scale ${s.index} · ${f.shape[1]}×${f.shape[2]}`,
        `${s.priorsPerLocation} priors/location · ${formatBoxes(s.boxes)}`,
        `scale ${s.index} boxes`,
        null,
        null,
        all[s.loc].source,
        all[s.loc].receptiveField,
      ),
      brief: formatBoxes(s.boxes),
      scale: s.index,
    });
    addEdge(unitOf[s.loc], id, 'data', s.index);
    addEdge(unitOf[s.conf], id, 'data', s.index);
  }

  const topology = [units.map((u) => `${u.id}:${u.kind}:${u.parent ?? ''}`).join(','), edges.map((e) => e.id).join(',')].join('|');
  return { uri: result.uri, version: result.version, units, edges, topology };
}

function synthetic(
  id: string,
  kind: UnitKind,
  title: string,
  detail: string,
  short: string,
  shape: [number, number, number] | null,
  parent: string | null,
  source: Unit['source'],
  receptiveField: number,
): Unit {
  return {
    id,
    kind,
    parent,
    title,
    detail,
    short,
    brief: shape ? shape.join('×') : '',
    shape: shape ? [...shape] : null,
    paramsLearned: 0,
    paramsStored: 0,
    macs: 0,
    receptiveField,
    ops: 0,
    denseLayers: 0,
    members: [],
    source,
    scale: null,
    expanded: null,
  };
}

/** What the colouring by change says of a drawn unit. */
export type UnitChange = 'added' | 'changed' | 'same';

/**
 * Each drawn unit's change against the other side of a comparison, from the server's per-layer changes (matched by
 * structure, core's diffLayers): added when all its layers are new, changed when any layer is new or costs otherwise,
 * else the same. A scale's boxes follow its box count; an expanded block's drawn input and output, the layers they
 * stand for.
 * Null when there is no comparison (or its other side cannot be compared).
 */
export function unitChanges(graph: ViewGraph, result: GraphResult): Map<string, UnitChange> | null {
  const c = result.compare;
  if (!c || c.error !== null || !result.graph) return null;
  const scaleAt = new Map(result.graph.scales.map((s, i) => [s.index, i]));
  const byId = new Map(graph.units.map((u) => [u.id, u]));
  const out = new Map<string, UnitChange>();
  for (const u of graph.units) {
    let change: UnitChange = 'same';
    if (u.members.length) {
      const of = u.members.map((id) => c.layers[id] ?? 'same');
      change = of.every((x) => x === 'added') ? 'added' : of.some((x) => x !== 'same') ? 'changed' : 'same';
    } else if (u.kind === 'boxes' && u.scale !== null) {
      change = c.boxes[scaleAt.get(u.scale) ?? -1] ?? 'same';
    } else if ((u.kind === 'blockIn' || u.kind === 'blockOut') && u.parent) {
      // An expanded block's drawn input and output stand for the layer before the block and the block's last concat.
      const block = byId.get(u.parent)?.members ?? [];
      const id = u.kind === 'blockOut' ? block[block.length - 1] : result.graph.nodes[block[0]]?.inputs[0];
      change = id === undefined ? 'same' : c.layers[id] === 'same' ? 'same' : 'changed';
    }
    out.set(u.id, change);
  }
  return out;
}
