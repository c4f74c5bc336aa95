// What an edit costs: the change from one analysed network to another, per stage, per prediction scale and in total.
// Stages are matched by what they are (kind and 1-based index: block 3 with block 3), never by their names; a stage
// only one side has is listed as added or removed, with its whole cost as the change. Pure data, no printing.
import type { LayerNode, StageKind } from '../graph/types';
import type { Analysis, StageStats } from './analyze';

/** What one stage costs: learned parameters, MACs and float32 activation bytes for one image. */
export interface StageCost {
  paramsLearned: number;
  macs: number;
  activationBytes: number;
}

/** What one prediction scale costs: its own stages (its structure half and its head), and the boxes it predicts. */
export interface ScaleCost extends StageCost {
  boxes: number;
}

export type Change = 'matched' | 'added' | 'removed';

export interface StageDiff {
  kind: StageKind;
  /** 1-based number of a block, transition, scale or head; null for the input and the stem. */
  index: number | null;
  /** The stage's name on the side that has it (B's when both do): for display only. */
  name: string;
  change: Change;
  /** null on the side the stage is missing from. */
  a: StageCost | null;
  b: StageCost | null;
  /** b − a, a missing side counting 0. */
  delta: StageCost;
}

export interface ScaleDiff {
  /** 1-based prediction scale. */
  index: number;
  change: Change;
  a: ScaleCost | null;
  b: ScaleCost | null;
  delta: ScaleCost;
}

export interface AnalysisDiff {
  /** B's stages in order, A's removed ones where they stood in A. */
  stages: StageDiff[];
  scales: ScaleDiff[];
  totals: { a: ScaleCost; b: ScaleCost; delta: ScaleCost };
  /** The stages only B has, and only A has: `{ kind, index, name }`. */
  added: { kind: StageKind; index: number | null; name: string }[];
  removed: { kind: StageKind; index: number | null; name: string }[];
}

const stageKey = (s: { kind: StageKind; index: number | null }): string => `${s.kind}:${s.index ?? ''}`;

const stageCost = (s: StageStats): StageCost => ({ paramsLearned: s.paramsLearned, macs: s.macs, activationBytes: s.activationBytes });

/** b − a, a missing side counting 0. */
function minus(b: StageCost | null, a: StageCost | null): StageCost {
  return {
    paramsLearned: (b?.paramsLearned ?? 0) - (a?.paramsLearned ?? 0),
    macs: (b?.macs ?? 0) - (a?.macs ?? 0),
    activationBytes: (b?.activationBytes ?? 0) - (a?.activationBytes ?? 0),
  };
}

function minusScale(b: ScaleCost | null, a: ScaleCost | null): ScaleCost {
  return { ...minus(b, a), boxes: (b?.boxes ?? 0) - (a?.boxes ?? 0) };
}

function change(a: unknown, b: unknown): Change {
  return a && b ? 'matched' : b ? 'added' : 'removed';
}

/** Each prediction scale's cost: the stages of kind `scale` and `head` with its index (scale 1 reuses a backbone map). */
function scaleCosts(x: Analysis): Map<number, ScaleCost> {
  const out = new Map<number, ScaleCost>();
  for (const s of x.scales) {
    const own = x.stages.filter((st) => (st.kind === 'scale' || st.kind === 'head') && st.index === s.index);
    out.set(s.index, {
      paramsLearned: own.reduce((n, st) => n + st.paramsLearned, 0),
      macs: own.reduce((n, st) => n + st.macs, 0),
      activationBytes: own.reduce((n, st) => n + st.activationBytes, 0),
      boxes: s.boxes,
    });
  }
  return out;
}

/** The change from network `a` to network `b`. */
export function diffAnalyses(a: Analysis, b: Analysis): AnalysisDiff {
  const inA = new Map(a.stages.map((s, i) => [stageKey(s), i]));
  const inB = new Set(b.stages.map(stageKey));
  const stages: StageDiff[] = [];
  const removed = (s: StageStats): StageDiff => ({
    kind: s.kind,
    index: s.index,
    name: s.name,
    change: 'removed',
    a: stageCost(s),
    b: null,
    delta: minus(null, stageCost(s)),
  });
  let next = 0; // A's stages before this one are listed
  for (const sb of b.stages) {
    const at = inA.get(stageKey(sb));
    if (at === undefined) {
      stages.push({ kind: sb.kind, index: sb.index, name: sb.name, change: 'added', a: null, b: stageCost(sb), delta: stageCost(sb) });
      continue;
    }
    // A's stages that B lacks, up to this match, where they stood in A.
    for (; next < at; next++) if (!inB.has(stageKey(a.stages[next]))) stages.push(removed(a.stages[next]));
    next = Math.max(next, at + 1);
    const ca = stageCost(a.stages[at]);
    const cb = stageCost(sb);
    stages.push({ kind: sb.kind, index: sb.index, name: sb.name, change: 'matched', a: ca, b: cb, delta: minus(cb, ca) });
  }
  for (; next < a.stages.length; next++) if (!inB.has(stageKey(a.stages[next]))) stages.push(removed(a.stages[next]));

  const sa = scaleCosts(a);
  const sb = scaleCosts(b);
  const indices = [...new Set([...sa.keys(), ...sb.keys()])].sort((x, y) => x - y);
  const scales: ScaleDiff[] = indices.map((index) => {
    const ca = sa.get(index) ?? null;
    const cb = sb.get(index) ?? null;
    return { index, change: change(ca, cb), a: ca, b: cb, delta: minusScale(cb, ca) };
  });

  const totals = (x: Analysis): ScaleCost => ({
    paramsLearned: x.totals.paramsLearned,
    macs: x.totals.macs,
    activationBytes: x.totals.activationBytesPerImage,
    boxes: x.totals.defaultBoxes,
  });
  const ta = totals(a);
  const tb = totals(b);
  const pick = (s: StageDiff) => ({ kind: s.kind, index: s.index, name: s.name });
  return {
    stages,
    scales,
    totals: { a: ta, b: tb, delta: minusScale(tb, ta) },
    added: stages.filter((s) => s.change === 'added').map(pick),
    removed: stages.filter((s) => s.change === 'removed').map(pick),
  };
}

/** Whether the two networks cost the same everywhere (no stage added or removed, every change 0). */
export function isUnchanged(d: AnalysisDiff): boolean {
  const zero = (c: StageCost) => Object.values(c).every((v) => v === 0);
  return (
    d.added.length === 0 &&
    d.removed.length === 0 &&
    d.stages.every((s) => zero(s.delta)) &&
    d.scales.every((s) => s.change === 'matched' && zero(s.delta)) &&
    zero(d.totals.delta)
  );
}

/** What became of one layer of B against A: only B has it, it is there with other numbers, or it is the same. */
export type LayerChange = 'added' | 'changed' | 'same';

export interface LayerDiff {
  /** By B's layer id. */
  layers: LayerChange[];
  /** How many of A's layers B has no match for. */
  removed: number;
}

/** A layer's place as typed data (stage kind and number, dense layer, head role, scale half) and its kind. */
const placeKey = (n: LayerNode): string => [n.stageKind, n.stageIndex, n.denseLayer, n.headRole, n.half, n.kind].join(':');

/**
 * Each of B's layers against A's: matched by place and kind and by their order among the layers of that place (the
 * second conv of block 2's layer 3 with the second conv of block 2's layer 3), never by name. A matched layer is
 * changed when its output shape, its window, or its learned parameters or MACs differ (an input grown upstream changes
 * a conv's weights: it costs something else, so it counts).
 */
export function diffLayers(a: Analysis, b: Analysis): LayerDiff {
  const keyed = (x: Analysis): string[] => {
    const seen = new Map<string, number>();
    return x.graph.nodes.map((n) => {
      const k = placeKey(n);
      const i = seen.get(k) ?? 0;
      seen.set(k, i + 1);
      return `${k}#${i}`;
    });
  };
  const inA = new Map(keyed(a).map((k, id) => [k, id]));
  let matched = 0;
  const layers = keyed(b).map((k, id): LayerChange => {
    const at = inA.get(k);
    if (at === undefined) return 'added';
    matched++;
    const na = a.graph.nodes[at];
    const nb = b.graph.nodes[id];
    const la = a.layers[at];
    const lb = b.layers[id];
    const same =
      na.shape.join() === nb.shape.join() &&
      JSON.stringify(na.conv ?? null) === JSON.stringify(nb.conv ?? null) &&
      JSON.stringify(na.pool ?? null) === JSON.stringify(nb.pool ?? null) &&
      la.paramsLearned === lb.paramsLearned &&
      la.macs === lb.macs;
    return same ? 'same' : 'changed';
  });
  return { layers, removed: a.graph.nodes.length - matched };
}
