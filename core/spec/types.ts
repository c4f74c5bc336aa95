// The normalized spec: every default applied, the notation expanded, nothing left to interpret.
// Channel counts that depend on the built network (prediction scales) stay `null` until the graph fixes them.

export interface NormalizedSpec {
  name: string;
  input: { height: number; width: number; channels: number };
  /** `count` includes the background class (id 0); `names[0]` is "background" when names are given. */
  classes: { count: number; names: string[] | null };
  backbone: Backbone;
  prediction: Prediction;
  heads: { kernel: number; batchNorm: boolean; bnEps: number };
  priors: Priors;
  train: Train;
  data: DataSpec | null;
  budget: Budget | null;
  /** Design-principle hint kinds (`principle/...` codes) this spec silences. */
  hints: { ignore: string[] };
}

export interface Backbone {
  /** A: channels of the first convolution. */
  firstConv: number;
  /** DSOD's stem (3x3 convs + 2x2 max pool) or DenseNet's entry (7x7/2 conv + 3x3/2 max pool). */
  stem: { kind: 'stem'; convs: number[]; pool: boolean } | { kind: 'densenet'; channels: number };
  blocks: { layers: number; growthRate: number; bottleneck: number }[];
  /** One per block; `channels` when fixed, else `floor(C·compression)` of the block's output. */
  transitions: { pool: boolean; channels: number | null; compression: number }[];
}

export interface Prediction {
  structure: 'dense' | 'plain';
  scales: number;
  /** Output channels per scale as written; `null` entries take the structure's defaults. */
  channels: (number | null)[];
  /** 0-based index of the transition whose 1x1 conv output is scale 1 ("First"); -1 when there is none. */
  first: number;
  l2norm: { init: number; scales: 'all' | 'first' } | null;
}

export interface Priors {
  minSizes: number[];
  maxSizes: number[];
  aspectRatios: number[][];
  flip: boolean;
  clip: boolean;
  /** Per scale; `null` means input size / feature size (Caffe's PriorBox default). */
  steps: (number | null)[];
  offset: number;
  variances: [number, number, number, number];
}

export interface Train {
  batch: number;
  accumulate: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  milestones: number[];
  gamma: number;
  warmup: number;
  iterations: number;
  checkpointEvery: number;
  /** Training augmentation preset (engine/train/augment.ts). */
  augment: 'ssd' | 'flip' | 'none';
  seed: number;
  /** Batch-norm statistics over all processes of a data-parallel training (the torch engine's), else per process. */
  syncBn: boolean;
}

export interface DataSpec {
  format: 'voc' | 'coco';
  root: string | null;
  train: string[];
  test: string[];
}

export type BudgetTarget = 'server' | 'desktop' | 'mobile' | 'embedded';

export interface Budget {
  target: BudgetTarget | null;
  /** Limits; `null` when neither written nor set by the target. */
  params: number | null;
  count: 'learned' | 'stored';
  macs: number | null;
  activationBytes: number | null;
  batch: number;
  /** Limit on one training step's memory at the spec's micro-batch (core/analysis/memory.ts). */
  trainMemory: number | null;
  /** The engine and precision `trainMemory` is counted for. */
  engine: 'tfjs' | 'torch';
  precision: 'fp32' | 'bf16';
  /** Limit on the measured median latency of one run, in ms (checked against `dsod latency`'s latest measurement). */
  latencyMs: number | null;
}
