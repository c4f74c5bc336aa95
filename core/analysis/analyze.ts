// Count what the network costs, layer by layer and stage by stage: shapes, learned parameters, stored values,
// multiply-accumulates, receptive fields, activation memory and default boxes.
import type { Path } from '../diagnostics';
import type { LayerGraph, LayerKind, LayerNode, Shape, StageKind } from '../graph/types';
import { boxSideRange, expandAspectRatios, priorBoxes, priorShapes, type PriorScale } from '../priors';
import type { NormalizedSpec } from '../spec/types';

export interface LayerStats {
  id: number;
  name: string;
  kind: LayerKind;
  stage: string;
  shape: Shape;
  /** Conv weights, BN gamma/beta (Caffe's Scale layer), L2Norm scales. */
  paramsLearned: number;
  /** Learned + BN running statistics (Caffe's BatchNorm stores mean, variance and one moving-average factor). */
  paramsStored: number;
  macs: number;
  /** Receptive field side in input pixels, and the distance in input pixels between neighbouring outputs. */
  receptiveField: number;
  jump: number;
  /** float32 bytes of this layer's output for one image. */
  activationBytes: number;
}

export interface StageStats {
  name: string;
  kind: StageKind;
  /** 1-based number of a block, transition, scale or head; null for the input and the stem. */
  index: number | null;
  /** Output of the stage's last layer. */
  shape: Shape;
  /** Primitive operations (conv, batch norm, ReLU, pool, concat, L2Norm) the stage lowers to. */
  ops: number;
  /** Dense layers (BN-ReLU-conv units, with their bottleneck) in a dense block; 0 for every other stage. */
  denseLayers: number;
  paramsLearned: number;
  paramsStored: number;
  macs: number;
  receptiveField: number;
  activationBytes: number;
  source: Path;
}

export interface ScaleStats {
  name: string;
  index: number;
  shape: Shape;
  priorsPerLocation: number;
  boxes: number;
  minSize: number;
  maxSize: number | null;
  aspectRatios: number[];
  step: number;
  /** Theoretical receptive field side of the scale's feature map, in input pixels. */
  receptiveField: number;
  /**
   * The shortest and longest side, in input pixels, of the scale's default boxes (the min-size square, the
   * sqrt(min·max) square and the aspect-ratio boxes' widths and heights), unclipped: what to hold against the receptive field.
   */
  boxSides: { min: number; max: number };
  source: Path;
}

export interface Totals {
  paramsLearned: number;
  paramsStored: number;
  /** Running-statistics values of all batch norms (stored - learned). */
  bnStatistics: number;
  bnLayers: number;
  convLayers: number;
  macs: number;
  /** 2 x MACs. */
  flops: number;
  defaultBoxes: number;
  /** float32 bytes of every layer output, for one image: what a training step keeps for the backward pass. */
  activationBytesPerImage: number;
}

export interface Analysis {
  spec: NormalizedSpec;
  graph: LayerGraph;
  layers: LayerStats[];
  stages: StageStats[];
  scales: ScaleStats[];
  totals: Totals;
}

const FLOAT_BYTES = 4;

function layerStats(node: LayerNode, inputs: LayerStats[]): LayerStats {
  const [c, h, w] = node.shape;
  let learned = 0;
  let stored = 0;
  let macs = 0;
  let rf = 1;
  let jump = 1;
  const from = inputs[0];
  if (from) {
    rf = Math.max(...inputs.map((i) => i.receptiveField));
    jump = from.jump;
  }
  switch (node.kind) {
    case 'conv': {
      const { kernel, stride, out } = node.conv!;
      learned = from.shape[0] * kernel * kernel * out;
      stored = learned;
      macs = learned * h * w;
      rf = from.receptiveField + (kernel - 1) * from.jump;
      jump = from.jump * stride;
      break;
    }
    case 'pool': {
      const { kernel, stride } = node.pool!;
      rf = from.receptiveField + (kernel - 1) * from.jump;
      jump = from.jump * stride;
      break;
    }
    case 'bn':
      learned = 2 * c; // Scale layer: gamma, beta
      stored = learned + 2 * c + 1; // BatchNorm: mean, variance, moving-average factor
      break;
    case 'l2norm':
      learned = c;
      stored = c;
      break;
  }
  return {
    id: node.id,
    name: node.name,
    kind: node.kind,
    stage: node.stage,
    shape: node.shape,
    paramsLearned: learned,
    paramsStored: stored,
    macs,
    receptiveField: rf,
    jump,
    activationBytes: c * h * w * FLOAT_BYTES,
  };
}

export function analyzeGraph(spec: NormalizedSpec, graph: LayerGraph): Analysis {
  const layers: LayerStats[] = [];
  for (const node of graph.nodes)
    layers.push(
      layerStats(
        node,
        node.inputs.map((i) => layers[i]),
      ),
    );

  const stages: StageStats[] = [];
  const byName = new Map<string, StageStats>();
  for (const node of graph.nodes) {
    const l = layers[node.id];
    let s = byName.get(node.stage);
    if (!s) {
      s = {
        name: node.stage,
        kind: node.stageKind,
        index: node.stageIndex,
        shape: l.shape,
        ops: 0,
        denseLayers: 0,
        paramsLearned: 0,
        paramsStored: 0,
        macs: 0,
        receptiveField: 0,
        activationBytes: 0,
        source: stageSource(node),
      };
      byName.set(node.stage, s);
      stages.push(s);
    }
    s.shape = l.shape;
    s.receptiveField = l.receptiveField;
    s.ops++;
    // Dense layers are built in order, so the last one seen is the block's count.
    if (node.denseLayer !== null) s.denseLayers = Math.max(s.denseLayers, node.denseLayer);
    s.paramsLearned += l.paramsLearned;
    s.paramsStored += l.paramsStored;
    s.macs += l.macs;
    s.activationBytes += l.activationBytes;
  }

  const { priors, input } = spec;
  const scales: ScaleStats[] = graph.scales.map((sc, i) => {
    const shape = graph.nodes[sc.feature].shape;
    const step = priors.steps[i] ?? input.width / shape[2];
    return {
      name: `scale${sc.index}`,
      index: sc.index,
      shape,
      priorsPerLocation: sc.priorsPerLocation,
      boxes: shape[1] * shape[2] * sc.priorsPerLocation,
      minSize: priors.minSizes[i],
      maxSize: priors.maxSizes[i] ?? null,
      aspectRatios: expandAspectRatios(priors.aspectRatios[i] ?? [], priors.flip),
      step,
      receptiveField: layers[sc.feature].receptiveField,
      boxSides: boxSideRange(priorShapes(priors.minSizes[i], priors.maxSizes[i] ?? null, priors.aspectRatios[i] ?? [], priors.flip)),
      source: sc.source,
    };
  });

  const totals: Totals = {
    paramsLearned: 0,
    paramsStored: 0,
    bnStatistics: 0,
    bnLayers: 0,
    convLayers: 0,
    macs: 0,
    flops: 0,
    defaultBoxes: scales.reduce((n, s) => n + s.boxes, 0),
    activationBytesPerImage: 0,
  };
  for (const l of layers) {
    totals.paramsLearned += l.paramsLearned;
    totals.paramsStored += l.paramsStored;
    totals.macs += l.macs;
    totals.activationBytesPerImage += l.activationBytes;
    if (l.kind === 'bn') totals.bnLayers++;
    if (l.kind === 'conv') totals.convLayers++;
  }
  totals.bnStatistics = totals.paramsStored - totals.paramsLearned;
  totals.flops = 2 * totals.macs;
  return { spec, graph, layers, stages, scales, totals };
}

function stageSource(node: LayerNode): Path {
  // A head's first layer points at its aspect ratios or its L2Norm; the whole head is best shown at its ratios.
  return node.stageKind === 'head' ? ['priors', 'aspect_ratios', (node.stageIndex ?? 1) - 1] : node.source;
}

/** The default boxes of an analysed network, as Caffe's PriorBox makes them (corners, normalised). */
/** The stage of a kind and 1-based index (`block 3`, `head 2`): found by its typed place, never by its name. */
export function findStage(stages: readonly StageStats[], kind: StageKind, index: number | null = null): StageStats | undefined {
  return stages.find((s) => s.kind === kind && s.index === index);
}

export function defaultBoxes(analysis: Analysis): Float32Array {
  const { spec } = analysis;
  const scales: PriorScale[] = analysis.scales.map((s, i) => ({
    height: s.shape[1],
    width: s.shape[2],
    minSize: s.minSize,
    maxSize: s.maxSize,
    aspectRatios: spec.priors.aspectRatios[i],
    step: spec.priors.steps[i],
  }));
  return priorBoxes(scales, {
    imageHeight: spec.input.height,
    imageWidth: spec.input.width,
    flip: spec.priors.flip,
    clip: spec.priors.clip,
    offset: spec.priors.offset,
  });
}
