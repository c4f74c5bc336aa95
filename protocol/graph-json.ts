// The analysed layer graph as versioned JSON: what `dsod export --graph` writes and what other engines (the PyTorch
// package engine/torch/, the benchmark's bench/torch_train.py) build their network from. One exporter (toGraphJson)
// and one validator; the format is documented in docs/graph-json.md.
//
// Everything an engine needs to build and check the network is here, already derived by core: every node's kind,
// attributes, inputs and output shape, the prediction scales in prior order, and the totals an engine checks its
// parameter counts against. Nothing in it is meant to be re-derived (no parsing of names).
//
// Versioning: `version` bumps when a field is renamed, removed or retyped; adding an optional field keeps it.
// Readers refuse a version they do not know.
import type { Analysis } from '../core';
import { HEAD_ROLES, LAYER_KINDS, SCALE_HALVES, STAGE_KINDS, type LayerKind, type LayerNode, type Shape } from '../core/graph/types';
import type { Priors, Train } from '../core/spec/types';
import { arrayOf, bool, count, finite, isObject, literal, nullable, oneOf, optional, shape, shapeOf, str, tuple, type Check } from './checks';

export const GRAPH_JSON_FORMAT = 'dsod-graph';
export const GRAPH_JSON_VERSION = 1;

/**
 * A layer as core built it (core/graph/types.ts LayerNode, less its spec path): its index in `nodes` (topological: every
 * input id is smaller), a unique path-like name (parameters are named `<name>/<role>` by both engines), its kind and
 * attributes (convolutions without bias, zero padding, floor rounding; max pooling with ceil rounding; Caffe's BatchNorm +
 * Scale; SSD's Normalize with a learned per-channel scale), inputs, output shape, and its place: stage kind and index,
 * dense layer, head role (l2norm, loc, conf), scale half (reused, learned).
 */
export type GraphJsonNode = Omit<LayerNode, 'source'>;

export interface GraphJsonScale {
  /** 1-based. */
  index: number;
  /** The node whose output is the scale's feature map; its height x width x priorsPerLocation boxes. */
  feature: number;
  /** The head nodes: box offsets (4 x priorsPerLocation channels) and class scores (classes x priorsPerLocation). */
  loc: number;
  conf: number;
  priorsPerLocation: number;
}

export interface GraphJson {
  format: typeof GRAPH_JSON_FORMAT;
  version: typeof GRAPH_JSON_VERSION;
  spec: {
    name: string;
    /** The checkpoint hash of the spec text (sha256, 16 hex digits, as the trainer writes it), or null when unknown. */
    hash: string | null;
    input: { channels: number; height: number; width: number };
    /** `count` includes the background class (id 0). */
    classes: { count: number; names: string[] | null };
    priors: Priors;
    /** The training recipe (normalized: every default applied). */
    train: Train;
  };
  nodes: GraphJsonNode[];
  /** Scale 1 first: heads are concatenated in this order, each reshaped in (row, column, prior) order. */
  scales: GraphJsonScale[];
  totals: {
    /** Conv weights, BN gamma/beta, L2Norm scales. */
    paramsLearned: number;
    /** Learned + BN running statistics (2C+1 per BN, as Caffe stores them). */
    paramsStored: number;
    macs: number;
    defaultBoxes: number;
  };
}

/** The one exporter: core's analysis as graph JSON. `hash`: the spec text's checkpoint hash, when the caller has it. */
export function toGraphJson(a: Analysis, o: { hash?: string | null } = {}): GraphJson {
  const { spec, graph, totals } = a;
  return {
    format: GRAPH_JSON_FORMAT,
    version: GRAPH_JSON_VERSION,
    spec: {
      name: spec.name,
      hash: o.hash ?? null,
      input: { channels: spec.input.channels, height: spec.input.height, width: spec.input.width },
      classes: { count: spec.classes.count, names: spec.classes.names },
      priors: spec.priors,
      train: spec.train,
    },
    nodes: graph.nodes.map(({ source: _source, ...n }) => ({
      ...n,
      inputs: [...n.inputs],
      shape: [...n.shape] as Shape,
      ...(n.conv ? { conv: { ...n.conv } } : {}),
      ...(n.pool ? { pool: { ...n.pool } } : {}),
      ...(n.bn ? { bn: { ...n.bn } } : {}),
      ...(n.l2norm ? { l2norm: { ...n.l2norm } } : {}),
    })),
    scales: graph.scales.map((s) => ({ index: s.index, feature: s.feature, loc: s.loc, conf: s.conf, priorsPerLocation: s.priorsPerLocation })),
    totals: { paramsLearned: totals.paramsLearned, paramsStored: totals.paramsStored, macs: totals.macs, defaultBoxes: totals.defaultBoxes },
  };
}

// ---- validation: the structure, then what a builder relies on (ids, input order, attributes per kind) ----

const positive: Check = (v, at) => count(v, at) ?? ((v as number) > 0 ? null : `${at} must be positive`);
const shape3 = tuple(positive, positive, positive);
const window = shape({ kernel: positive, stride: positive, pad: count });
const nodeCheck = shapeOf<GraphJsonNode>()({
  id: count,
  name: str(1024),
  kind: oneOf(...LAYER_KINDS),
  inputs: arrayOf(count, 10_000),
  shape: shape3,
  stage: str(256),
  stageKind: oneOf(...STAGE_KINDS),
  stageIndex: nullable(positive),
  group: nullable(str(1024)),
  denseLayer: nullable(positive),
  headRole: nullable(oneOf(...HEAD_ROLES)),
  half: nullable(oneOf(...SCALE_HALVES)),
  conv: optional(shape({ out: positive, kernel: positive, stride: positive, pad: count })),
  pool: optional(window),
  bn: optional(shape({ eps: (v, at) => finite(v, at) ?? ((v as number) > 0 ? null : `${at} must be above 0`) })),
  l2norm: optional(shape({ init: finite })),
});
const numbers = arrayOf(finite, 64);
const topLevel = shape({
  format: literal(GRAPH_JSON_FORMAT),
  version: literal(GRAPH_JSON_VERSION),
  spec: shape({
    name: str(),
    hash: nullable(str(64)),
    input: shape({ channels: positive, height: positive, width: positive }),
    classes: shape({ count: positive, names: nullable(arrayOf(str(), 100_000)) }),
    priors: shape({
      minSizes: numbers,
      maxSizes: numbers,
      aspectRatios: arrayOf(numbers, 64),
      flip: bool,
      clip: bool,
      steps: arrayOf(nullable(finite), 64),
      offset: finite,
      variances: tuple(finite, finite, finite, finite),
    }),
    train: (v, at) => (isObject(v) ? null : `${at} must be an object`),
  }),
  nodes: arrayOf(nodeCheck, 100_000),
  scales: arrayOf(shape({ index: positive, feature: count, loc: count, conf: count, priorsPerLocation: positive }), 64),
  totals: shape({ paramsLearned: count, paramsStored: count, macs: count, defaultBoxes: count }),
});

const ATTRIBUTE: Partial<Record<LayerKind, 'conv' | 'pool' | 'bn' | 'l2norm'>> = { conv: 'conv', pool: 'pool', bn: 'bn', l2norm: 'l2norm' };

export type GraphJsonCheck = { ok: true; graph: GraphJson } | { ok: false; error: string };

/** Check a parsed graph JSON; an error names the path of the first bad value (`nodes[12].inputs[0]`). */
export function validateGraphJson(x: unknown): GraphJsonCheck {
  if (isObject(x) && x.format === GRAPH_JSON_FORMAT && x.version !== GRAPH_JSON_VERSION) {
    return { ok: false, error: `graph JSON version ${JSON.stringify(x.version)} is not ${GRAPH_JSON_VERSION}: this reader and the exporter disagree` };
  }
  const e = topLevel(x, 'graph');
  if (e) return { ok: false, error: e };
  const g = x as unknown as GraphJson;
  const fail = (error: string): GraphJsonCheck => ({ ok: false, error });
  for (const [i, n] of g.nodes.entries()) {
    const at = `graph.nodes[${i}]`;
    if (n.id !== i) return fail(`${at}.id is ${n.id}, not its index ${i}`);
    for (const [j, input] of n.inputs.entries()) if (input >= i) return fail(`${at}.inputs[${j}] is ${input}: inputs must come before the node`);
    const wants = n.kind === 'input' ? 0 : n.kind === 'concat' ? -1 : 1;
    if (wants >= 0 ? n.inputs.length !== wants : n.inputs.length < 1) {
      return fail(`${at} (${n.kind}) has ${n.inputs.length} inputs, wants ${wants >= 0 ? wants : 'at least 1'}`);
    }
    for (const k of ['conv', 'pool', 'bn', 'l2norm'] as const) {
      const wanted = ATTRIBUTE[n.kind] === k;
      if (wanted !== (n[k] !== undefined)) return fail(`${at} (${n.kind}) ${wanted ? 'lacks' : 'must not have'} "${k}"`);
    }
  }
  if (g.nodes[0]?.kind !== 'input') return fail('graph.nodes[0] must be the input node');
  for (const [i, s] of g.scales.entries()) {
    for (const k of ['feature', 'loc', 'conf'] as const) {
      if (s[k] >= g.nodes.length) return fail(`graph.scales[${i}].${k} is ${s[k]}, past the last node`);
    }
    const conf = g.nodes[s.conf].shape[0];
    if (conf !== s.priorsPerLocation * g.spec.classes.count) {
      return fail(`graph.scales[${i}]: the conf head has ${conf} channels, not priorsPerLocation x classes = ${s.priorsPerLocation * g.spec.classes.count}`);
    }
    if (g.nodes[s.loc].shape[0] !== s.priorsPerLocation * 4)
      return fail(`graph.scales[${i}]: the loc head has ${g.nodes[s.loc].shape[0]} channels, not ${4 * s.priorsPerLocation}`);
  }
  return { ok: true, graph: g };
}
