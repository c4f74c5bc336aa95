// `dsod export --tfjs`: the spec's network as a TF.js *graph model* (model.json + weight shards), which plain
// @tensorflow/tfjs loads in a browser with tf.loadGraphModel: no custom layer classes, nothing DSOD-specific to ship.
//
// Why a graph model, not a layers model: DSOD's L2Norm (a learned per-channel scale) has no built-in Keras layer, and
// Caffe's ceil-mode max pooling is not Keras 'same' pooling in general (a window starting in the padding, pad > 0): a
// layers model would need custom classes registered in every page that loads it. A graph model is a list of TF ops
// that tfjs-converter executes with the same tfjs kernels the engine calls, so each DSOD piece is written as the
// engine computes it:
//   conv        Conv2D, padding EXPLICIT [pad, pad] (the engine's tf.conv2d with explicit padding)
//   batch norm  Mul + AddV2 by a per-channel scale and offset folded at export from Caffe's BatchNorm + Scale blobs
//               (mean_sum / factor, var_sum / factor, mean 0 and variance 1 for a never-trained layer), with the same
//               tfjs ops as batchNormInfer: the browser needs none of Caffe's bookkeeping, and the products are equal
//   max pool    PadV2 with -Infinity (plus a Slice where Caffe drops a window) then MaxPool VALID: maxPoolCaffe
//   L2Norm      Square, Sum over channels (keep dims), AddV2 eps, Rsqrt, Mul, Mul by the learned scale: l2Normalize
//   heads       Reshape to [batch, boxes, 4 | classes] per scale, ConcatV2 over scales: DsodModel.forward's order
// The default boxes are not part of the graph: priors.json beside the model holds them (corners, Caffe's order) with
// the variances that decode `loc`; model.json's userDefinedMetadata says how to feed the input.
import * as tf from '@tensorflow/tfjs';
import type { Analysis } from '../../core';
import { defaultBoxes } from '../../core';
import { SSD_VARIANCES } from '../boxes/encode';
import { CAFFE_NORMALIZATION } from '../data/augment';
import { runningStats, type BatchNormParams } from '../model/batch-norm';
import { L2NORM_EPS } from '../model/layers';
import type { DsodModel } from '../model/model';

/** tfjs-converter's default shard size (4 MiB): browsers fetch the weights in parallel pieces of this size. */
export const SHARD_BYTES = 4 * 1024 * 1024;
export const MODEL_FILE = 'model.json';
export const PRIORS_FILE = 'priors.json';
export const INPUT_NAME = 'image';
export const OUTPUT_NAMES = ['loc', 'conf'] as const;

type AttrValue = Record<string, unknown>;
interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
}
interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

export interface TfjsExport {
  /** File name (no folder) -> contents, model.json first. */
  files: Map<string, string | Uint8Array>;
  /** Graph nodes and weight tensors written, for the summary line. */
  nodes: number;
  bytes: number;
}

export interface ExportMeta {
  specName: string;
  specHash: string;
  /** Where the weights came from: a file, or `random (seed N)`. */
  weights: string;
}

const FLOAT = { type: 'DT_FLOAT' };
const ints = (xs: readonly number[]): AttrValue => ({ list: { i: xs.map(String) } });
const str = (s: string): AttrValue => ({ s: Buffer.from(s).toString('base64') });

class GraphWriter {
  readonly nodes: GraphNode[] = [];
  readonly weights: WeightEntry[] = [];
  private readonly names = new Set<string>();

  add(name: string, op: string, input: string[], attr: Record<string, AttrValue> = {}): string {
    // Core's node names are unique and path-like; ours extend them with `/role`: a clash would be a bug, not input.
    if (this.names.has(name)) throw new Error(`tfjs export: two graph nodes named ${name}`);
    this.names.add(name);
    this.nodes.push({ name, op, input, attr });
    return name;
  }

  constant(name: string, shape: number[], data: Float32Array | Int32Array): string {
    const dtype = data instanceof Int32Array ? 'int32' : 'float32';
    this.add(name, 'Const', [], { dtype: { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } });
    this.weights.push({ name, shape, dtype, data });
    return name;
  }

  ints(name: string, values: number[], shape = [values.length]): string {
    return this.constant(name, shape, Int32Array.from(values));
  }
}

/** The model with its weights in place (setWeights done) as a graph model; `analysis` is the spec's. */
export async function buildTfjsExport(model: DsodModel, analysis: Analysis, meta: ExportMeta): Promise<TfjsExport> {
  const { nodes, scales } = model.graph;
  const g = new GraphWriter();
  const out: string[] = new Array(nodes.length);
  const [h, w, c] = model.inputShape;
  const values = async (name: string) => {
    const p = model.param(name);
    if (!p) throw new Error(`tfjs export: the model has no parameter ${name}`);
    return (await p.variable.data()) as Float32Array;
  };

  for (const node of nodes) {
    const x = () => out[node.inputs[0]];
    const name = node.name;
    switch (node.kind) {
      case 'input':
        out[node.id] = g.add(INPUT_NAME, 'Placeholder', [], {
          dtype: FLOAT,
          shape: { shape: { dim: [-1, h, w, c].map((size) => ({ size: String(size) })) } },
        });
        break;
      case 'conv': {
        const { kernel, stride, pad, out: channels } = node.conv!;
        const inChannels = nodes[node.inputs[0]].shape[0];
        const weight = g.constant(`${name}/weight`, [kernel, kernel, inChannels, channels], await values(`${name}/weight`));
        out[node.id] = g.add(name, 'Conv2D', [x(), weight], {
          T: FLOAT,
          strides: ints([1, stride, stride, 1]),
          padding: str(pad === 0 ? 'VALID' : 'EXPLICIT'),
          explicit_paddings: ints(pad === 0 ? [] : [0, 0, pad, pad, pad, pad, 0, 0]),
          data_format: str('NHWC'),
          dilations: ints([1, 1, 1, 1]),
        });
        break;
      }
      case 'bn': {
        const { scale, offset } = foldBatchNorm(model, name, node.bn!.eps);
        const channels = node.shape[0];
        const a = g.constant(`${name}/folded_scale`, [channels], scale);
        const b = g.constant(`${name}/folded_offset`, [channels], offset);
        const mul = g.add(`${name}/mul`, 'Mul', [x(), a], { T: FLOAT });
        out[node.id] = g.add(name, 'AddV2', [mul, b], { T: FLOAT });
        break;
      }
      case 'relu':
        out[node.id] = g.add(name, 'Relu', [x()], { T: FLOAT });
        break;
      case 'pool':
        out[node.id] = addPool(g, node.name, x(), nodes[node.inputs[0]].shape, node.pool!, node.shape);
        break;
      case 'concat': {
        const axis = g.ints(`${name}/axis`, [3], []);
        out[node.id] = g.add(name, 'ConcatV2', [...node.inputs.map((i) => out[i]), axis], { T: FLOAT, N: { i: String(node.inputs.length) } });
        break;
      }
      case 'l2norm': {
        const sq = g.add(`${name}/square`, 'Square', [x()], { T: FLOAT });
        const sum = g.add(`${name}/sum`, 'Sum', [sq, g.ints(`${name}/axis`, [-1])], { T: FLOAT, keep_dims: { b: true } });
        const eps = g.constant(`${name}/eps`, [], Float32Array.of(L2NORM_EPS));
        const inv = g.add(`${name}/rsqrt`, 'Rsqrt', [g.add(`${name}/add_eps`, 'AddV2', [sum, eps], { T: FLOAT })], { T: FLOAT });
        const normed = g.add(`${name}/normalized`, 'Mul', [x(), inv], { T: FLOAT });
        const scale = g.constant(`${name}/scale`, [node.shape[0]], await values(`${name}/scale`));
        out[node.id] = g.add(name, 'Mul', [normed, scale], { T: FLOAT });
        break;
      }
    }
  }

  // Heads: [batch, rows x columns x priors, 4 | classes] per scale (Caffe's prior order), then all scales.
  for (const [i, key] of OUTPUT_NAMES.entries()) {
    const width = key === 'loc' ? 4 : model.numClasses;
    const parts = scales.map((s) => {
      const [, rows, cols] = nodes[s.feature].shape;
      const src = key === 'loc' ? s.loc : s.conf;
      const shape = g.ints(`${OUTPUT_NAMES[i]}/scale${s.index}/shape`, [-1, rows * cols * s.priorsPerLocation, width]);
      return g.add(`${OUTPUT_NAMES[i]}/scale${s.index}`, 'Reshape', [out[src], shape], { T: FLOAT });
    });
    g.add(key, 'ConcatV2', [...parts, g.ints(`${key}/axis`, [1], [])], { T: FLOAT, N: { i: String(parts.length) } });
  }

  const { buffer, shards, manifest } = packWeights(g.weights);
  const boxes = defaultBoxes(analysis);
  const tensorInfo = (dims: number[]) => ({ dtype: 'DT_FLOAT', tensorShape: { dim: dims.map((size) => ({ size: String(size) })) } });
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'DSOD Studio',
    convertedBy: 'dsod export --tfjs',
    signature: {
      inputs: { [INPUT_NAME]: { name: `${INPUT_NAME}:0`, ...tensorInfo([-1, h, w, c]) } },
      outputs: {
        loc: { name: 'loc:0', ...tensorInfo([-1, model.numBoxes, 4]) },
        conf: { name: 'conf:0', ...tensorInfo([-1, model.numBoxes, model.numClasses]) },
      },
    },
    modelTopology: { node: g.nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [{ paths: shards.map((s) => s.name), weights: manifest }],
    userDefinedMetadata: {
      dsod: {
        format: 'dsod-tfjs',
        version: 1,
        spec: { name: meta.specName, hash: meta.specHash },
        weights: meta.weights,
        input: { layout: 'NHWC', height: h, width: w, channels: c, channelOrder: 'RGB', mean: [...CAFFE_NORMALIZATION.mean], scale: CAFFE_NORMALIZATION.scale },
        outputs: { loc: [model.numBoxes, 4], conf: [model.numBoxes, model.numClasses], confIs: 'logits (softmax over the last axis; class 0 is background)' },
        classes: model.numClasses,
        boxes: model.numBoxes,
        priors: PRIORS_FILE,
      },
    },
  };
  const priors = {
    format: 'dsod-priors',
    version: 1,
    count: boxes.length / 4,
    order: 'scale, row, column, prior (the order of the loc and conf outputs)',
    coding: 'corners [xmin, ymin, xmax, ymax], normalised to the image; 4 numbers a box',
    variances: [...SSD_VARIANCES],
    decode: 'cx = px + loc0 v0 pw, cy = py + loc1 v1 ph, w = pw exp(loc2 v2), h = ph exp(loc3 v3) (p: the prior as centre and size)',
    boxes: Array.from(boxes),
  };
  const files = new Map<string, string | Uint8Array>();
  files.set(MODEL_FILE, `${JSON.stringify(modelJson)}\n`);
  for (const s of shards) files.set(s.name, buffer.subarray(s.start, s.end));
  files.set(PRIORS_FILE, `${JSON.stringify(priors)}\n`);
  return { files, nodes: g.nodes.length, bytes: buffer.length };
}

/** The inference-time batch norm as one per-channel scale and offset, by batchNormInfer's own tfjs ops. */
function foldBatchNorm(model: DsodModel, name: string, eps: number): { scale: Float32Array; offset: Float32Array } {
  const v = (role: string) => {
    const p = model.param(`${name}/${role}`);
    if (!p) throw new Error(`tfjs export: the model has no parameter ${name}/${role}`);
    return p.variable;
  };
  const p: BatchNormParams = { gamma: v('gamma'), beta: v('beta'), meanSum: v('mean_sum'), varSum: v('var_sum'), factor: v('factor') };
  return tf.tidy(() => {
    const { mean, variance } = runningStats(p);
    const a = tf.mul(p.gamma, tf.rsqrt(tf.add(variance, eps)));
    const b = tf.sub(p.beta, tf.mul(mean, a));
    return { scale: a.dataSync() as Float32Array, offset: b.dataSync() as Float32Array };
  });
}

/** maxPoolCaffe as graph ops: a Slice where Caffe drops a window, PadV2 with -Infinity, MaxPool VALID. */
function addPool(
  g: GraphWriter,
  name: string,
  input: string,
  inShape: readonly number[],
  pool: { kernel: number; stride: number; pad: number },
  outShape: readonly number[],
): string {
  const [, h, w] = inShape;
  const [, oh, ow] = outShape;
  const { kernel, stride, pad } = pool;
  const extraH = (oh - 1) * stride + kernel - h - pad;
  const extraW = (ow - 1) * stride + kernel - w - pad;
  let y = input;
  if (extraH < 0 || extraW < 0) {
    const begin = g.ints(`${name}/slice_begin`, [0, 0, 0, 0]);
    const size = g.ints(`${name}/slice_size`, [-1, h + Math.min(extraH, 0), w + Math.min(extraW, 0), -1]);
    y = g.add(`${name}/slice`, 'Slice', [y, begin, size], { T: FLOAT });
  }
  if (pad > 0 || extraH > 0 || extraW > 0) {
    const paddings = g.ints(`${name}/paddings`, [0, 0, pad, Math.max(extraH, 0), pad, Math.max(extraW, 0), 0, 0], [4, 2]);
    const fill = g.constant(`${name}/fill`, [], Float32Array.of(-Infinity));
    y = g.add(`${name}/pad`, 'PadV2', [y, paddings, fill], { T: FLOAT });
  }
  return g.add(name, 'MaxPool', [y], {
    T: FLOAT,
    ksize: ints([1, kernel, kernel, 1]),
    strides: ints([1, stride, stride, 1]),
    padding: str('VALID'),
    data_format: str('NHWC'),
  });
}

/** Every weight's bytes in manifest order (little-endian, as tfjs reads them), cut into SHARD_BYTES shards. */
function packWeights(weights: WeightEntry[]): {
  buffer: Uint8Array;
  shards: { name: string; start: number; end: number }[];
  manifest: { name: string; shape: number[]; dtype: string }[];
} {
  const total = weights.reduce((n, wt) => n + wt.data.length * 4, 0);
  const buffer = new Uint8Array(total);
  const view = new DataView(buffer.buffer);
  let at = 0;
  for (const wt of weights) {
    for (let i = 0; i < wt.data.length; i++, at += 4) {
      if (wt.dtype === 'int32') view.setInt32(at, wt.data[i], true);
      else view.setFloat32(at, wt.data[i], true);
    }
  }
  const count = Math.max(1, Math.ceil(total / SHARD_BYTES));
  const shards = Array.from({ length: count }, (_, i) => ({
    name: `group1-shard${i + 1}of${count}.bin`,
    start: i * SHARD_BYTES,
    end: Math.min(total, (i + 1) * SHARD_BYTES),
  }));
  return { buffer, shards, manifest: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) };
}
