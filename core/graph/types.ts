// The layer graph: what the network is, node by node, with every output shape fixed.
import type { Path } from '../diagnostics';

/** [channels, height, width] of one image. */
export type Shape = [number, number, number];

// The unions as lists too, so that validators of messages carrying them (protocol/) check against the same values.
export const LAYER_KINDS = ['input', 'conv', 'bn', 'relu', 'pool', 'concat', 'l2norm'] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];

/** Where a layer sits in the detector; stages are what summaries list, one row each. */
export const STAGE_KINDS = ['input', 'stem', 'block', 'transition', 'scale', 'head'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

/** The parts of a head: the optional L2Norm of its feature map, the box-offset branch, the class-score branch. */
export const HEAD_ROLES = ['l2norm', 'loc', 'conf'] as const;
export type HeadRole = (typeof HEAD_ROLES)[number];

/** The halves of a dense-structure scale: pooled from the previous scale (reused) or computed from it (learned). */
export const SCALE_HALVES = ['reused', 'learned'] as const;
export type ScaleHalf = (typeof SCALE_HALVES)[number];

/** Where a layer sits in the detector: typed data, so nothing ever reads it back out of a name. */
export interface LayerPlace {
  /** `stem`, `block1`, `transition2`, `scale3`, `head6`, ... */
  stage: string;
  stageKind: StageKind;
  /** 1-based number of a block, transition, prediction scale or head (`block3` -> 3); null for the input and the stem. */
  stageIndex: number | null;
  /** A finer group inside the stage: one dense layer (`block1/layer3`), a half of a scale, a head branch. */
  group: string | null;
  /** 1-based dense layer of a block (`block1/layer3` -> 3); null outside dense blocks. */
  denseLayer: number | null;
  /** The part of a head this layer belongs to; set on every head layer, null outside heads. */
  headRole: HeadRole | null;
  /** The half of a dense-structure scale this layer computes; null for the scale's concat and outside such scales. */
  half: ScaleHalf | null;
  /** The spec data path that made this layer. */
  source: Path;
}

export interface LayerNode extends LayerPlace {
  id: number;
  /** Unique, path-like: `block1/layer3/conv3x3`, `scale4/reused/pool`, `head2/conf/conv`. */
  name: string;
  kind: LayerKind;
  inputs: number[];
  shape: Shape;
  conv?: { out: number; kernel: number; stride: number; pad: number };
  /** Always max pooling with Caffe's ceil rounding. */
  pool?: { kernel: number; stride: number; pad: number };
  bn?: { eps: number };
  l2norm?: { init: number };
}

export interface ScaleNode {
  /** 1-based. */
  index: number;
  /** The node whose output is the scale's feature map (before L2 normalization). */
  feature: number;
  /** The head's box-offset and class-score outputs. */
  loc: number;
  conf: number;
  priorsPerLocation: number;
  source: Path;
}

export interface LayerGraph {
  nodes: LayerNode[];
  scales: ScaleNode[];
  /** The backbone's output (after the last transition). */
  backboneOutput: number;
}
