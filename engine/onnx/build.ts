// An ONNX model of a DSOD detector, built node by node from core's layer graph (its typed kinds and windows, never its
// names) with the tfjs engine's weights: the same network the engine trains, for onnxruntime, TensorRT, OpenVINO.
//
// Layout: NCHW, as Caffe and the ONNX runtimes have it. Input `images` [batch, channels, height, width] holds the
// values the engine feeds its model (pixels resized and normalized as engine/data/augment.ts does), channels first.
// Outputs: `loc` [batch, boxes, 4] box offsets and `conf` [batch, boxes, classes] logits in core's default-box order
// (scale, row, column, prior), `priors` [boxes, 4] the default boxes (corners, 0..1) as a constant. With the
// post-processing: also `boxes` (decoded corners) and `scores` (softmax), and `detections` [n, 7] rows of
// (image, class, score, xmin, ymin, xmax, ymax) after per-class NonMaxSuppression, as Caffe's DetectionOutput does
// before its final cut to the best keep_top_k over classes (a variable-length per-image sort ONNX has no operator
// for: the caller keeps the best `keepTopK` rows of each image, see detectionsFromRows).
//
// Caffe's semantics: convolutions without bias; BatchNorm + Scale as one BatchNormalization with the engine's eps and
// Caffe's running statistics (the decayed sums divided by their factor; mean 0, variance 1 before any training, as
// engine/model/batch-norm.ts); max pooling with ceil rounding written as explicit end padding (and a slice where Caffe
// drops a window), so every runtime computes the same size whatever its ceil_mode convention; SSD's Normalize
// (across channels, eps 1e-10) with its learned per-channel scale.
import type { LayerGraph, LayerNode } from '../../core';
import { poolOutSize } from '../../core';
import type { Detection } from '../boxes/detect';
import { SSD_DETECT } from '../boxes/detect';
import { SSD_VARIANCES, type Variances } from '../boxes/encode';
import { EngineError } from '../errors';
import { L2NORM_EPS } from '../model/layers';
import { paramLayout } from '../model/params';
import type { WeightMap } from '../model/weights';
import { ATTR_FLOAT, ATTR_INT, ATTR_INTS, ATTR_TENSOR, encodeModel, ONNX_FLOAT, ONNX_INT64, ONNX_IR_VERSION, ONNX_OPSET } from './proto';

export interface PostprocessOptions {
  variances?: Variances;
  nmsThreshold?: number;
  topK?: number;
  confidenceThreshold?: number;
  clip?: boolean;
}

export interface OnnxExportOptions {
  /** core's defaultBoxes: [boxes, 4] corners. */
  priors: Float32Array;
  /** Box decoding and per-class NMS inside the graph; null or absent: the raw head outputs only. */
  postprocess?: PostprocessOptions | null;
  /** Recorded as the graph's doc string (the spec's path). */
  doc?: string;
}

/** Weights that do not fit the spec's network: the engine's `weights` code, with the tensors named. */
export class WeightsMismatch extends EngineError {
  constructor(message: string) {
    super('weights', message);
  }
}

/** Every tensor the graph needs, with its shape; names each one that is missing, of another shape, or unknown. */
export function checkWeights(graph: LayerGraph, weights: WeightMap): void {
  const problems: string[] = [];
  const slots = paramLayout(graph);
  const known = new Set(slots.map((s) => s.name));
  for (const s of slots) {
    const w = weights[s.name];
    if (!w) problems.push(`missing tensor ${s.name} [${s.shape}]`);
    else if (w.shape.length !== s.shape.length || w.shape.some((d, i) => d !== s.shape[i]))
      problems.push(`tensor ${s.name}: shape [${w.shape}] but the network has [${s.shape}]`);
    else if (w.values.length !== s.shape.reduce((a, b) => a * b, 1)) problems.push(`tensor ${s.name}: ${w.values.length} values for shape [${w.shape}]`);
  }
  for (const name of Object.keys(weights)) if (!known.has(name)) problems.push(`unknown tensor ${name}`);
  if (problems.length) {
    const shown = problems.slice(0, 8).join('; ');
    throw new WeightsMismatch(
      `weights do not fit this network (${problems.length} problem${problems.length > 1 ? 's' : ''}): ${shown}${problems.length > 8 ? '; ...' : ''}`,
    );
  }
}

type Attr = Record<string, unknown>;

/** Accumulates nodes and initializers; every value name is unique. */
class GraphBuilder {
  readonly nodes: Record<string, unknown>[] = [];
  readonly initializers: Record<string, unknown>[] = [];
  private counter = 0;

  fresh(base: string): string {
    return `${base}:${++this.counter}`;
  }

  op(opType: string, inputs: string[], attrs: Attr[] = [], name?: string, outputs = 1): string[] {
    const n = name ?? this.fresh(opType);
    const outs = outputs === 1 ? [n] : Array.from({ length: outputs }, (_, i) => `${n}:${i}`);
    this.nodes.push({ op_type: opType, name: n, input: inputs, output: outs, attribute: attrs });
    return outs;
  }

  one(opType: string, inputs: string[], attrs: Attr[] = [], name?: string): string {
    return this.op(opType, inputs, attrs, name)[0];
  }

  floats(name: string, dims: number[], values: Float32Array): string {
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }

  ints(values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh('const');
    this.initializers.push(intTensor(name, dims, values));
    return name;
  }

  scalarFloat(value: number): string {
    return this.floats(this.fresh('const'), [], Float32Array.of(value));
  }
}

function floatTensor(name: string, dims: number[], values: Float32Array): Record<string, unknown> {
  // raw_data is little-endian by the standard, as Float32Array is on every platform Node runs on.
  return { name, dims, data_type: ONNX_FLOAT, raw_data: Buffer.from(values.buffer, values.byteOffset, values.byteLength) };
}

function intTensor(name: string, dims: number[], values: number[]): Record<string, unknown> {
  return { name, dims, data_type: ONNX_INT64, int64_data: values };
}

const ints = (name: string, v: number[]): Attr => ({ name, type: ATTR_INTS, ints: v });
const int = (name: string, v: number): Attr => ({ name, type: ATTR_INT, i: v });
const float = (name: string, v: number): Attr => ({ name, type: ATTR_FLOAT, f: v });

/** tfjs's HWIO convolution weight as ONNX's OIHW. */
function hwioToOihw(values: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = values[((y * kw + x) * ci + i) * co + o];
  return out;
}

/** Caffe's test-time statistics from its blobs: the sums over the factor; mean 0, variance 1 untrained. */
function runningStats(weights: WeightMap, node: LayerNode): { mean: Float32Array; variance: Float32Array } {
  const factor = weights[`${node.name}/factor`].values[0];
  const meanSum = weights[`${node.name}/mean_sum`].values;
  const varSum = weights[`${node.name}/var_sum`].values;
  const c = meanSum.length;
  const mean = new Float32Array(c);
  const variance = new Float32Array(c).fill(1);
  if (factor > 0) {
    const inv = Math.fround(1 / Math.max(factor, 1e-30));
    for (let i = 0; i < c; i++) {
      mean[i] = meanSum[i] * inv;
      variance[i] = varSum[i] * inv;
    }
  }
  return { mean, variance };
}

/** The encoded ONNX model (ModelProto bytes). Throws WeightsMismatch when the weights do not fit the graph. */
export function buildOnnxModel(graph: LayerGraph, weights: WeightMap, o: OnnxExportOptions): Uint8Array {
  checkWeights(graph, weights);
  const g = new GraphBuilder();
  const values: string[] = new Array(graph.nodes.length);
  const w = (node: LayerNode, role: string) => `${node.name}/${role}`;
  const numClasses = graph.nodes[graph.scales[0].conf].shape[0] / graph.scales[0].priorsPerLocation;
  const numBoxes = o.priors.length / 4;
  for (const node of graph.nodes) {
    const x = node.inputs.map((i) => values[i]);
    switch (node.kind) {
      case 'input':
        values[node.id] = 'images';
        break;
      case 'conv': {
        const { kernel, stride, pad } = node.conv!;
        const weight = weights[w(node, 'weight')];
        g.floats(w(node, 'weight'), [weight.shape[3], weight.shape[2], kernel, kernel], hwioToOihw(weight.values, weight.shape));
        values[node.id] = g.one(
          'Conv',
          [x[0], w(node, 'weight')],
          [ints('kernel_shape', [kernel, kernel]), ints('strides', [stride, stride]), ints('pads', [pad, pad, pad, pad])],
          node.name,
        );
        break;
      }
      case 'bn': {
        const c = node.shape[0];
        const { mean, variance } = runningStats(weights, node);
        g.floats(w(node, 'gamma'), [c], weights[w(node, 'gamma')].values);
        g.floats(w(node, 'beta'), [c], weights[w(node, 'beta')].values);
        g.floats(w(node, 'mean'), [c], mean);
        g.floats(w(node, 'variance'), [c], variance);
        values[node.id] = g.one(
          'BatchNormalization',
          [x[0], w(node, 'gamma'), w(node, 'beta'), w(node, 'mean'), w(node, 'variance')],
          [float('epsilon', node.bn!.eps)],
          node.name,
        );
        break;
      }
      case 'relu':
        values[node.id] = g.one('Relu', x, [], node.name);
        break;
      case 'pool': {
        const { kernel, stride, pad } = node.pool!;
        const [, h, wd] = graph.nodes[node.inputs[0]].shape;
        const oh = poolOutSize(h, kernel, stride, pad);
        const ow = poolOutSize(wd, kernel, stride, pad);
        // What the last window needs past the input (Caffe's ceil rounding); negative: rows Caffe never reads.
        const extraH = (oh - 1) * stride + kernel - h - pad;
        const extraW = (ow - 1) * stride + kernel - wd - pad;
        let input = x[0];
        if (extraH < 0 || extraW < 0) {
          input = g.one('Slice', [input, g.ints([0, 0]), g.ints([h + Math.min(extraH, 0), wd + Math.min(extraW, 0)]), g.ints([2, 3])]);
        }
        values[node.id] = g.one(
          'MaxPool',
          [input],
          [ints('kernel_shape', [kernel, kernel]), ints('strides', [stride, stride]), ints('pads', [pad, pad, Math.max(extraH, 0), Math.max(extraW, 0)])],
          node.name,
        );
        break;
      }
      case 'concat':
        values[node.id] = g.one('Concat', x, [int('axis', 1)], node.name);
        break;
      case 'l2norm': {
        const c = node.shape[0];
        const sum = g.one('ReduceSum', [g.one('Mul', [x[0], x[0]]), g.ints([1])], [int('keepdims', 1)]);
        const norm = g.one('Sqrt', [g.one('Add', [sum, g.scalarFloat(L2NORM_EPS)])]);
        g.floats(w(node, 'scale'), [1, c, 1, 1], weights[w(node, 'scale')].values);
        values[node.id] = g.one('Mul', [g.one('Div', [x[0], norm]), w(node, 'scale')], [], node.name);
        break;
      }
    }
  }
  // Heads: NCHW -> NHWC -> [batch, rows*columns*priors, k], the order core's default boxes follow.
  const flat = (id: number, k: number) => g.one('Reshape', [g.one('Transpose', [values[id]], [ints('perm', [0, 2, 3, 1])]), g.ints([0, -1, k])]);
  g.op(
    'Concat',
    graph.scales.map((s) => flat(s.loc, 4)),
    [int('axis', 1)],
    'loc',
  );
  g.op(
    'Concat',
    graph.scales.map((s) => flat(s.conf, numClasses)),
    [int('axis', 1)],
    'conf',
  );
  g.op('Constant', [], [{ name: 'value', type: ATTR_TENSOR, t: floatTensor('priors_value', [numBoxes, 4], o.priors) }], 'priors');

  const [n, c, h, wd] = [{ dim_param: 'batch' }, ...graph.nodes[0].shape.map((d) => ({ dim_value: d }))];
  const tensorType = (dims: Record<string, unknown>[]) => ({ tensor_type: { elem_type: ONNX_FLOAT, shape: { dim: dims } } });
  const outputs = [
    { name: 'loc', type: tensorType([n, { dim_value: numBoxes }, { dim_value: 4 }]) },
    { name: 'conf', type: tensorType([n, { dim_value: numBoxes }, { dim_value: numClasses }]) },
    { name: 'priors', type: tensorType([{ dim_value: numBoxes }, { dim_value: 4 }]) },
  ];
  if (o.postprocess) {
    addPostprocess(g, o.priors, numClasses, o.postprocess);
    outputs.push(
      { name: 'boxes', type: tensorType([n, { dim_value: numBoxes }, { dim_value: 4 }]) },
      { name: 'scores', type: tensorType([n, { dim_value: numBoxes }, { dim_value: numClasses }]) },
      { name: 'detections', type: tensorType([{ dim_param: 'detections' }, { dim_value: 7 }]) },
    );
  }
  return encodeModel({
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'dsod-studio',
    graph: {
      name: 'dsod',
      doc_string: o.doc ?? '',
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: 'images', type: tensorType([n, c, h, wd]) }],
      output: outputs,
    },
  });
}

/**
 * Caffe SSD's DetectionOutput up to its final cut: CENTER_SIZE decoding against the priors, softmax, then for each
 * foreground class the top `topK` scores and NonMaxSuppression over them (scores above the confidence threshold).
 * Running each (image, class) as its own NMS batch keeps the top-k candidates per class, as Caffe does.
 */
function addPostprocess(g: GraphBuilder, priors: Float32Array, classes: number, p: PostprocessOptions): void {
  const P = priors.length / 4;
  const v = p.variances ?? SSD_VARIANCES;
  const K = Math.min(p.topK ?? SSD_DETECT.topK, P);
  const fg = classes - 1;
  const centers = new Float32Array(P * 2);
  const sizes = new Float32Array(P * 2);
  for (let i = 0; i < P; i++) {
    const w = priors[4 * i + 2] - priors[4 * i];
    const h = priors[4 * i + 3] - priors[4 * i + 1];
    sizes[2 * i] = w;
    sizes[2 * i + 1] = h;
    centers[2 * i] = priors[4 * i] + w / 2;
    centers[2 * i + 1] = priors[4 * i + 1] + h / 2;
  }
  const pc = g.floats('prior_centers', [P, 2], centers);
  const ps = g.floats('prior_sizes', [P, 2], sizes);
  const slice = (x: string, start: number, end: number, axis: number) => g.one('Slice', [x, g.ints([start]), g.ints([end]), g.ints([axis])]);
  const txy = slice('loc', 0, 2, 2);
  const twh = slice('loc', 2, 4, 2);
  const center = g.one('Add', [g.one('Mul', [g.one('Mul', [txy, g.floats(g.fresh('variances'), [2], Float32Array.of(v[0], v[1]))]), ps]), pc]);
  const half = g.one('Mul', [
    g.one('Mul', [g.one('Exp', [g.one('Mul', [twh, g.floats(g.fresh('variances'), [2], Float32Array.of(v[2], v[3]))])]), ps]),
    g.scalarFloat(0.5),
  ]);
  g.op('Concat', [g.one('Sub', [center, half]), g.one('Add', [center, half])], [int('axis', 2)], 'boxes');
  g.op('Softmax', ['conf'], [int('axis', 2)], 'scores');

  // [batch, foreground classes, boxes]: the top K of each class, and their boxes, as batch*classes NMS problems.
  const perClass = slice(g.one('Transpose', ['scores'], [ints('perm', [0, 2, 1])]), 1, classes, 1);
  const [topScores, topIndex] = g.op('TopK', [perClass, g.ints([K])], [int('axis', 2), int('largest', 1), int('sorted', 1)], 'topk', 2);
  const candBoxes = g.one('Reshape', [
    g.one('GatherND', ['boxes', g.one('Reshape', [topIndex, g.ints([0, -1, 1])])], [int('batch_dims', 1)]),
    g.ints([-1, K, 4]),
  ]);
  const candScores = g.one('Reshape', [topScores, g.ints([-1, 1, K])]);
  const selected = g.one('NonMaxSuppression', [
    candBoxes,
    candScores,
    g.ints([K]),
    g.floats(g.fresh('iou'), [1], Float32Array.of(p.nmsThreshold ?? SSD_DETECT.nmsThreshold)),
    g.floats(g.fresh('score'), [1], Float32Array.of(p.confidenceThreshold ?? SSD_DETECT.confidenceThreshold)),
  ]);
  // selected: [m, 3] rows (problem, 0, candidate); problem = image * foreground + class - 1.
  const problem = g.one('Gather', [selected, g.ints([0], [])], [int('axis', 1)]);
  const at = g.one('Gather', [selected, g.ints([0, 2])], [int('axis', 1)]);
  const score = g.one('GatherND', [g.one('Reshape', [topScores, g.ints([-1, K])]), at]);
  let box = g.one('GatherND', [candBoxes, at]);
  if (p.clip ?? true) box = g.one('Clip', [box, g.scalarFloat(0), g.scalarFloat(1)]);
  const fgCount = g.ints([fg], []);
  const image = g.one('Div', [problem, fgCount]);
  const label = g.one('Add', [g.one('Mod', [problem, fgCount]), g.ints([1], [])]);
  const column = (x: string) => g.one('Unsqueeze', [g.one('Cast', [x], [int('to', ONNX_FLOAT)]), g.ints([1])]);
  g.op('Concat', [column(image), column(label), g.one('Unsqueeze', [score, g.ints([1])]), box], [int('axis', 1)], 'detections');
}

/** The `detections` output's rows as the engine's detections per image: the best `keepTopK` of each, best first. */
export function detectionsFromRows(rows: Float32Array, images: number, keepTopK: number = SSD_DETECT.keepTopK): Detection[][] {
  const out: Detection[][] = Array.from({ length: images }, () => []);
  for (let r = 0; r < rows.length / 7; r++) {
    const d = rows.subarray(7 * r, 7 * r + 7);
    out[d[0]].push({ label: d[1], score: d[2], box: [d[3], d[4], d[5], d[6]] });
  }
  return out.map((ds) => {
    ds.sort((a, b) => b.score - a.score);
    return keepTopK >= 0 ? ds.slice(0, keepTopK) : ds;
  });
}
