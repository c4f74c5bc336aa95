// Training memory, counted per layer from the layer graph: what each engine keeps for one step, tensor by tensor.
//
// torch (engine/torch/dsod_torch): autograd saves, per operation, the tensors its backward formula reads, each
// storage once: a convolution its input, batch norm its input and the batch's mean and inverse deviation (C floats
// each; the running statistics are buffers), ReLU its output, max pooling its input and the argmax indices (int64), a
// concatenation nothing (only sizes), L2Norm its input, 1/||x|| and x/||x||, the MultiBox loss the offsets' |error|
// and its halves, the log-softmax and the gather's indices (int64) and three boolean masks. A tensor several
// operations save (a ReLU output the next convolution and a pool read) is one storage. The forward pass holds every
// node's output until it ends (GraphNet.forward_nodes keeps them all when recording gradients): the step's peak.
//
// tfjs (engine/model, engine/train/run-step.ts): tf.variableGrads records a tape. Each recorded kernel keeps a clone
// of the inputs and outputs its gradient reads, and tfjs counts a clone's bytes again (tf.memory().numBytes counts
// tensors, not buffers). Nothing computed by the backward pass is freed before it ends: every gradient (one per use
// of a tensor), and every tensor a custom gradient (batch norm, log-softmax, hard-negative mining) or a sum's
// gradient makes outside tfjs's per-input tidy, stays until the end, where the peak is. Counted from the kernels
// engine/model/*.ts and engine/boxes/loss.ts run and tfjs 4's gradient definitions (inputsToSave, outputsToSave).
//
// Exact for what the frameworks account; not counted: the allocator's rounding and caching (PyTorch's caching
// allocator, the wasm heap that never shrinks), convolution workspaces (cuDNN, XNNPACK), CUDA context, batch norm's
// reserve space under cuDNN, and kernel temporaries that live only inside one operation.
import type { LayerGraph, LayerNode, StageKind } from '../graph/types';
import type { Analysis } from './analyze';

export const MEMORY_ENGINES = ['tfjs', 'torch'] as const;
export type MemoryEngine = (typeof MEMORY_ENGINES)[number];
export const PRECISIONS = ['fp32', 'bf16'] as const;
/** bf16: bfloat16 activations (autocast-style), float32 weights, gradients and optimizer state. tfjs trains in fp32 only. */
export type Precision = (typeof PRECISIONS)[number];

export interface MemoryOptions {
  engine?: MemoryEngine;
  precision?: Precision;
  /** Images per forward/backward pass (the micro-batch); default train.batch / train.accumulate. */
  batch?: number;
  /** Micro-batches per optimizer step; default train.accumulate. tfjs keeps a running gradient sum when > 1. */
  accumulate?: number;
}

/** One row of the breakdown: a stage of the network, or the heads' reshaping with the loss. */
export interface StageMemory {
  name: string;
  kind: StageKind | 'loss';
  /** Bytes kept from the forward pass for the backward pass (torch: saved storages; tfjs: the tape's saved clones). */
  saved: number;
  /** tfjs: bytes the backward pass makes for this stage and holds until it ends; torch: 0 (freed as it goes). */
  backward: number;
}

export interface TrainingMemory {
  engine: MemoryEngine;
  precision: Precision;
  batch: number;
  accumulate: number;
  /** Every stored value (learned and batch-norm running statistics), float32. */
  weights: number;
  /** One float32 gradient per learned value. */
  gradients: number;
  /** SGD's momentum buffer, plus tfjs's running sum of the micro-batches' gradients when accumulating. */
  optimizer: number;
  /** The batch: images, encoded box targets, labels. */
  inputs: number;
  /** Saved for backward, all stages (torch: what saved_tensors_hooks sees, each storage once). */
  saved: number;
  /** tfjs: the activation gradients the backward pass holds until it ends; torch: 0 (freed as it goes). */
  backward: number;
  /** torch: the node outputs the forward pass holds beyond what is saved, at its end; tfjs: 0. */
  forwardExtra: number;
  /** The step's peak: weights, gradients, optimizer state, inputs and the larger of the forward and backward highs. */
  total: number;
  /** Forward pass alone at this batch (outputs freed once their consumers ran), weights included. */
  inferencePeak: number;
  stages: StageMemory[];
}

const F32 = 4;
const I64 = 8;
const I32 = 4;
const BOOL = 1;

/** Training memory of one step at a micro-batch. Throws for tfjs with bf16 (tfjs trains in float32 only). */
export function trainingMemory(a: Analysis, options: MemoryOptions = {}): TrainingMemory {
  const engine = options.engine ?? 'tfjs';
  const precision = options.precision ?? 'fp32';
  if (engine === 'tfjs' && precision !== 'fp32') throw new RangeError('the tfjs engine trains in float32 only (precision fp32)');
  const t = a.spec.train;
  const accumulate = options.accumulate ?? t.accumulate;
  const batch = options.batch ?? Math.max(1, Math.floor(t.batch / Math.max(1, t.accumulate)));
  const g = a.graph;
  const classes = a.spec.classes.count;
  const priors = a.totals.defaultBoxes;
  const learned = a.totals.paramsLearned * F32;
  const weights = a.totals.paramsStored * F32;
  const act = precision === 'bf16' ? 2 : F32;
  const rows = stageRows(a);
  const per = engine === 'torch' ? torchStep(g, batch, act, classes, priors, rows) : tfjsStep(g, batch, classes, priors, rows);
  const [c, h, w] = g.nodes[0].shape;
  // float32 images (bf16 casts them inside the step), encoded offsets [N, P, 4] and labels [N, P] (torch: int64;
  // tfjs: int32).
  const inputs = batch * (c * h * w * F32 + priors * 4 * F32 + priors * (engine === 'torch' ? I64 : I32));
  const optimizer = learned + (engine === 'tfjs' && accumulate > 1 ? learned : 0);
  const stages = [...rows.values()];
  const saved = stages.reduce((n, s) => n + s.saved, 0);
  const backward = stages.reduce((n, s) => n + s.backward, 0);
  // torch: .grad tensors, momentum and weights persist across steps; the forward pass's end is the high point.
  // tfjs: the end of the backward pass (weight gradients made there), or the update, which runs in one tidy: per
  // learned value six temporaries live until it ends (sgd.ts), beside the gradients, once the batch is disposed.
  const total =
    engine === 'torch'
      ? weights + learned + optimizer + inputs + saved + Math.max(per.forwardExtra, per.backwardWork)
      : weights + optimizer + Math.max(inputs + saved + backward + learned, inputs + per.forwardHigh, 7 * learned);
  return {
    engine,
    precision,
    batch,
    accumulate,
    weights,
    gradients: learned,
    optimizer,
    inputs,
    saved,
    backward,
    forwardExtra: engine === 'torch' ? per.forwardExtra : 0,
    total,
    inferencePeak: weights + inferenceHigh(g, batch, act),
    stages,
  };
}

/** The step `budget.train_memory` limits: the spec's micro-batch, the budget's engine and precision; null without a limit or with bf16 on tfjs. */
export function budgetTrainMemory(a: Analysis): TrainingMemory | null {
  const b = a.spec.budget;
  if (!b || b.trainMemory === null || (b.engine === 'tfjs' && b.precision !== 'fp32')) return null;
  return trainingMemory(a, { engine: b.engine, precision: b.precision });
}

export interface BatchFit {
  budget: number;
  /** The largest micro-batch whose step fits the budget; 0 when not even one image does. */
  largest: number;
  /** The spec's train.batch as micro-batches x accumulation, the micro-batch dividing it; null when nothing fits. */
  plan: { microBatch: number; accumulate: number; memory: number } | null;
}

/** The largest micro-batch that fits `budgetBytes`, and the accumulation that reaches the spec's train.batch. */
export function fitBatch(a: Analysis, budgetBytes: number, options: Omit<MemoryOptions, 'batch' | 'accumulate'> = {}): BatchFit {
  const at = (batch: number, accumulate: number) => trainingMemory(a, { ...options, batch, accumulate }).total;
  // Memory grows linearly with the batch: solve from two points, then step to the exact edge.
  const one = at(1, 2);
  let largest = 0;
  if (one <= budgetBytes) {
    const slope = Math.max(1, at(2, 2) - one);
    largest = Math.max(1, Math.floor((budgetBytes - one) / slope) + 1);
    while (largest > 1 && at(largest, 2) > budgetBytes) largest--;
    while (at(largest + 1, 2) <= budgetBytes && largest < 1 << 20) largest++;
  }
  const target = a.spec.train.batch;
  let plan: BatchFit['plan'] = null;
  for (let k = 1; k <= target && largest > 0; k++) {
    if (target % k !== 0 || target / k > largest) continue;
    const memory = at(target / k, k);
    if (memory <= budgetBytes) {
      plan = { microBatch: target / k, accumulate: k, memory };
      break;
    }
  }
  return { budget: budgetBytes, largest, plan };
}

interface StepExtra {
  /** torch: node outputs held to the end of the forward pass beyond the saved ones. */
  forwardExtra: number;
  /** torch: the gradient tensors in flight at the widest node of the backward pass. */
  backwardWork: number;
  /** tfjs: the high point inside the forward pass (every node output, the tape so far). */
  forwardHigh: number;
}

function stageRows(a: Analysis): Map<string, StageMemory> {
  const rows = new Map<string, StageMemory>();
  for (const s of a.stages) rows.set(s.name, { name: s.name, kind: s.kind, saved: 0, backward: 0 });
  rows.set('loss', { name: 'loss', kind: 'loss', saved: 0, backward: 0 });
  return rows;
}

const size = (n: LayerNode, batch: number) => batch * n.shape[0] * n.shape[1] * n.shape[2];

/** The padded and sliced sizes maxPoolCaffe (engine/model/layers.ts) works on, per image. */
function poolPlan(input: LayerNode, node: LayerNode): { sliced: number | null; padded: number | null; pooled: number } {
  const [c, h, w] = input.shape;
  const { kernel, stride, pad } = node.pool!;
  const [, oh, ow] = node.shape;
  const extraH = (oh - 1) * stride + kernel - h - pad;
  const extraW = (ow - 1) * stride + kernel - w - pad;
  const sh = h + Math.min(extraH, 0);
  const sw = w + Math.min(extraW, 0);
  const sliced = extraH < 0 || extraW < 0 ? c * sh * sw : null;
  const padded = pad > 0 || extraH > 0 || extraW > 0 ? c * (sh + pad + Math.max(extraH, 0)) * (sw + pad + Math.max(extraW, 0)) : null;
  return { sliced, padded, pooled: padded ?? sliced ?? c * h * w };
}

function torchStep(g: LayerGraph, batch: number, act: number, classes: number, priors: number, rows: Map<string, StageMemory>): StepExtra {
  const nodes = g.nodes;
  // Storages: a node's output is counted once, at the first node that saves it.
  const savedOutput = new Set<number>();
  const add = (stage: string, bytes: number) => (rows.get(stage)!.saved += bytes);
  const saveOutput = (id: number, stage: string) => {
    if (savedOutput.has(id)) return;
    savedOutput.add(id);
    add(stage, size(nodes[id], batch) * act);
  };
  for (const n of nodes) {
    const from = n.inputs[0];
    switch (n.kind) {
      case 'conv':
        saveOutput(from, n.stage);
        break;
      case 'bn':
        saveOutput(from, n.stage);
        add(n.stage, 2 * n.shape[0] * F32); // save_mean, save_invstd
        break;
      case 'relu':
        saveOutput(n.id, n.stage);
        break;
      case 'pool':
        saveOutput(from, n.stage);
        add(n.stage, size(n, batch) * I64); // argmax indices
        break;
      case 'l2norm': {
        // x * rsqrt(sum(x*x) + eps) * scale: x, 1/||x|| [N, 1, H, W] and x/||x||.
        saveOutput(from, n.stage);
        const r = batch * n.shape[1] * n.shape[2] * act;
        add(n.stage, r + size(n, batch) * act);
        break;
      }
      case 'input':
      case 'concat':
        break;
    }
  }
  // MultiBox loss (dsod_torch/loss.py) over A = N x P priors: |loc - loc_t| input, 0.5 d and d (3 x 4A floats), the
  // where's condition (4A bools), the positives mask (A bools), log-softmax (C x A floats), the gather's indices
  // (A int64), the positives-or-mined mask (A bools), two scalars (0.5 as a double, the positives count).
  const A = batch * priors;
  const loss = 3 * 4 * A * act + 4 * A * BOOL + A * BOOL + classes * A * act + A * I64 + A * BOOL + 8 + F32;
  rows.get('loss')!.saved += loss;
  // The forward pass ends holding every node output (forward_nodes keeps them while recording gradients), the heads'
  // NHWC copies and their concatenation; what is not saved is freed when it returns.
  let outputs = 0;
  for (const n of nodes) if (!savedOutput.has(n.id)) outputs += size(n, batch) * act;
  let heads = 0;
  for (const s of g.scales) heads += (size(nodes[s.loc], batch) + size(nodes[s.conf], batch)) * act;
  // Backward: a node's output gradient and its input gradient at once, at the widest node.
  let work = 0;
  for (const n of nodes) if (n.inputs.length) work = Math.max(work, (size(n, batch) + n.inputs.reduce((m, i) => m + size(nodes[i], batch), 0)) * act);
  return { forwardExtra: outputs + 2 * heads, backwardWork: work, forwardHigh: 0 };
}

function tfjsStep(g: LayerGraph, batch: number, classes: number, priors: number, rows: Map<string, StageMemory>): StepExtra {
  const nodes = g.nodes;
  const add = (stage: string, saved: number, backward: number) => {
    const r = rows.get(stage)!;
    r.saved += saved * F32;
    r.backward += backward * F32;
  };
  let outputs = 0;
  for (const n of nodes) {
    const S = size(n, batch);
    outputs += S * F32;
    const from = nodes[n.inputs[0]];
    const Sin = from ? size(from, batch) : 0;
    const C = n.shape[0];
    switch (n.kind) {
      case 'conv': {
        const W = from.shape[0] * n.conv!.kernel * n.conv!.kernel * n.conv!.out;
        // Saves x and the filter; the backward makes dFilter (counted with the gradients), and dx unless x is the batch.
        add(n.stage, Sin + W, from.kind === 'input' ? 0 : Sin);
        break;
      }
      case 'bn':
        // customGrad: saves x - mean, 1/std, gamma; its gradient makes 4 full-size and 9 per-channel tensors, two of
        // which are dGamma and dBeta (counted with the gradients).
        add(n.stage, S + 2 * C, 4 * S + 7 * C);
        break;
      case 'relu':
        add(n.stage, Sin, Sin);
        break;
      case 'pool': {
        const p = poolPlan(from, n);
        let saved = 0;
        let backward = 0;
        if (p.sliced !== null) {
          saved += Sin; // Slice saves its input; its gradient pads dy back
          backward += Sin;
        }
        if (p.padded !== null) {
          const into = batch * (p.sliced ?? from.shape[0] * from.shape[1] * from.shape[2]);
          saved += into; // PadV2 saves its input; its gradient slices
          backward += into;
        }
        // MaxPool saves its input and output; its gradient is input-sized.
        saved += batch * p.pooled + S;
        backward += batch * p.pooled;
        add(n.stage, saved, backward);
        break;
      }
      case 'concat':
        // A single input is a clone (no saved tensor, one gradient); else every input is saved and dy is split.
        add(n.stage, n.inputs.length > 1 ? S : 0, S);
        break;
      case 'l2norm': {
        // square, sum (keepDims), add eps, rsqrt, mul by 1/||x||, mul by scale: saved 4S + 3M + C + the eps scalar;
        // gradients 5S + 4M and dScale (sum's ones and its reshaped dy are made outside the per-input tidy).
        const M = batch * n.shape[1] * n.shape[2];
        add(n.stage, 4 * S + 3 * M + C + 1, 5 * S + 4 * M);
        break;
      }
      case 'input':
        break;
    }
  }
  // Heads: each loc/conf map reshaped to [N, boxes, k] (Reshape saves its input, its gradient reshapes dy: a new
  // tensor), then the scales concatenated (saved, split).
  let headBytes = 0;
  for (const s of g.scales) headBytes += size(nodes[s.loc], batch) + size(nodes[s.conf], batch);
  const one = g.scales.length === 1;
  let saved = headBytes + (one ? 0 : headBytes);
  let backward = 2 * headBytes;
  // MultiBox loss (engine/boxes/loss.ts) over A = N x P priors, C classes, counted kernel by kernel: saved 58 A + 5 CA
  // + 3 N (+ 13 scalars); backward 60 A + 7 CA + N (+ 12 scalars: the total, its seed gradient, the two parts runStep keeps).
  const A = batch * priors;
  saved += 58 * A + 5 * classes * A + 3 * batch + 13;
  backward += 60 * A + 7 * classes * A + batch + 12;
  add('loss', saved, backward);
  // Inside the forward pass every node output is alive with the tape recorded so far (and the heads' reshapes).
  let tape = 0;
  for (const r of rows.values()) if (r.kind !== 'loss') tape += r.saved;
  return { forwardExtra: 0, backwardWork: 0, forwardHigh: outputs + tape + 2 * headBytes * F32 };
}

/** The forward pass alone: each output freed once its last consumer ran, the heads' outputs kept. */
function inferenceHigh(g: LayerGraph, batch: number, act: number): number {
  const uses = g.nodes.map(() => 0);
  for (const n of g.nodes) for (const i of n.inputs) uses[i]++;
  const kept = new Set(g.scales.flatMap((s) => [s.loc, s.conf]));
  let live = 0;
  let high = 0;
  for (const n of g.nodes) {
    live += size(n, batch) * act;
    high = Math.max(high, live);
    for (const i of n.inputs) if (--uses[i] === 0 && !kept.has(i) && i !== 0) live -= size(g.nodes[i], batch) * act;
  }
  return high;
}
