// A DSOD detector in tfjs, built by walking core's layer graph node by node: nothing about DSOD is re-derived
// here, so the model that trains is exactly the network core analyses (shapes are checked at every node).
//
// Tensors are NHWC ([batch, height, width, channels]); core's shapes are [channels, height, width].
// Head outputs follow Caffe's prior order: Caffe permutes a head's NCHW output to NHWC and flattens it, so
// channel p*4 + j of location (row, column) is coordinate j of prior p; NHWC is that layout already, and a
// reshape to [batch, rows*columns*priors, 4] lines the boxes up with core's defaultBoxes (scale, row, column,
// prior). The same holds for class scores with `classes` in place of 4.
import * as tf from '@tensorflow/tfjs';
import type { LayerGraph, LayerNode } from '../../core';
import { batchNormInfer, batchNormTrain, type BatchNormParams } from './batch-norm';
import { concatChannels, conv, l2Normalize, maxPoolCaffe } from './layers';
import { countParams, createParams, type InitOptions, type Param, type ParamCounts } from './params';
import type { WeightMap } from './weights';

export interface ModelOptions {
  /** Seed of the initial weights (the spec's train.seed). */
  seed?: number;
  /** Standard deviation of the head convolutions' Gaussian init; the paper's 0.01 by default. */
  headStd?: number;
}

export interface ForwardOptions {
  /** Batch statistics in every batch norm (and, by default, running-statistics updates); else running statistics. */
  training?: boolean;
  /** Fold this batch's statistics into the running statistics; defaults to `training`. */
  updateStats?: boolean;
}

/** Box offsets [batch, boxes, 4] and class scores [batch, boxes, classes] (logits), in core's prior order. */
export interface HeadOutputs {
  loc: tf.Tensor3D;
  conf: tf.Tensor3D;
}

type NodeParams = { weight: tf.Variable } | BatchNormParams | { scale: tf.Variable } | null;

export class DsodModel {
  readonly graph: LayerGraph;
  readonly params: readonly Param[];
  /** Classes per prior, background included. */
  readonly numClasses: number;
  /** Default boxes over all scales (what core's defaultBoxes returns / 4). */
  readonly numBoxes: number;
  private readonly nodeParams: NodeParams[];
  private readonly byName: Map<string, Param>;
  private disposed = false;

  constructor(graph: LayerGraph, options: ModelOptions = {}) {
    graph.nodes.forEach((n, i) => {
      if (n.id !== i || n.inputs.some((j) => j >= i)) throw new Error(`core graph is not in topological order at node ${i} (${n.name})`);
    });
    const classes = graph.scales.map((s) => graph.nodes[s.conf].shape[0] / s.priorsPerLocation);
    if (classes.some((c) => c !== classes[0] || !Number.isInteger(c))) throw new Error(`heads disagree on the class count: ${classes.join(', ')}`);
    this.graph = graph;
    this.numClasses = classes[0];
    this.numBoxes = graph.scales.reduce((n, s) => n + boxesOf(graph, s.feature, s.priorsPerLocation), 0);
    // Variables last: nothing above can throw and leave them behind.
    const init: InitOptions = { seed: options.seed ?? 0 };
    if (options.headStd !== undefined) init.headStd = options.headStd;
    this.params = createParams(graph, init);
    this.byName = new Map(this.params.map((p) => [p.name, p]));
    this.nodeParams = graph.nodes.map((n) => this.paramsOf(n));
  }

  /** [height, width, channels] of one input image. */
  get inputShape(): [number, number, number] {
    const [c, h, w] = this.graph.nodes[0].shape;
    return [h, w, c];
  }

  /** Learned and stored values, counted from the variables the model holds. */
  countParams(): ParamCounts {
    return countParams(this.params);
  }

  trainableVariables(): tf.Variable[] {
    return this.params.filter((p) => p.trainable).map((p) => p.variable);
  }

  param(name: string): Param | undefined {
    return this.byName.get(name);
  }

  /** Every scale's head outputs, scale 1 first. */
  forwardScales(x: tf.Tensor4D, options: ForwardOptions = {}): HeadOutputs[] {
    this.checkInput(x);
    const training = options.training ?? false;
    const updateStats = options.updateStats ?? training;
    return tf.tidy(() => {
      const values = this.run(x, training, updateStats);
      const batch = x.shape[0];
      return this.graph.scales.map((s) => {
        const boxes = boxesOf(this.graph, s.feature, s.priorsPerLocation);
        return {
          loc: tf.reshape(values.get(s.loc)!, [batch, boxes, 4]) as tf.Tensor3D,
          conf: tf.reshape(values.get(s.conf)!, [batch, boxes, this.numClasses]) as tf.Tensor3D,
        };
      });
    }) as unknown as HeadOutputs[];
  }

  /** All scales' head outputs concatenated in core's default-box order. */
  forward(x: tf.Tensor4D, options: ForwardOptions = {}): HeadOutputs {
    return tf.tidy(() => {
      const scales = this.forwardScales(x, options);
      return {
        loc: tf.concat(
          scales.map((s) => s.loc),
          1,
        ) as tf.Tensor3D,
        conf: tf.concat(
          scales.map((s) => s.conf),
          1,
        ) as tf.Tensor3D,
      };
    }) as unknown as HeadOutputs;
  }

  /** The outputs of chosen nodes (by id), NHWC; for inspection and tests. */
  forwardNodes(x: tf.Tensor4D, ids: readonly number[], options: ForwardOptions = {}): tf.Tensor4D[] {
    this.checkInput(x);
    const training = options.training ?? false;
    return tf.tidy(() => {
      const values = this.run(x, training, options.updateStats ?? training, ids);
      return ids.map((id) => values.get(id)!);
    });
  }

  /** A copy of every parameter (learned and running statistics). */
  async getWeights(): Promise<WeightMap> {
    const out: WeightMap = {};
    for (const p of this.params) out[p.name] = { shape: [...p.variable.shape], values: (await p.variable.data()) as Float32Array };
    return out;
  }

  /** Replace every parameter; the map must hold exactly this model's names and shapes (nothing is half-loaded). */
  setWeights(weights: WeightMap): void {
    const problems: string[] = [];
    for (const p of this.params) {
      const w = weights[p.name];
      if (!w) problems.push(`missing ${p.name}`);
      else if (w.shape.length !== p.variable.rank || w.shape.some((d, i) => d !== p.variable.shape[i])) {
        problems.push(`${p.name}: shape [${w.shape}] but the model has [${p.variable.shape}]`);
      } else if (w.values.length !== p.variable.size) problems.push(`${p.name}: ${w.values.length} values for shape [${w.shape}]`);
    }
    for (const name of Object.keys(weights)) if (!this.byName.has(name)) problems.push(`unknown ${name}`);
    if (problems.length) {
      const shown = problems.slice(0, 8).join('; ');
      throw new Error(
        `weights do not fit this network (${problems.length} problem${problems.length > 1 ? 's' : ''}): ${shown}${problems.length > 8 ? '; ...' : ''}`,
      );
    }
    for (const p of this.params) {
      const w = weights[p.name];
      tf.tidy(() => p.variable.assign(tf.tensor(w.values, w.shape, 'float32')));
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.params) p.variable.dispose();
  }

  private checkInput(x: tf.Tensor4D): void {
    if (this.disposed) throw new Error('this model has been disposed');
    const [h, w, c] = this.inputShape;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c) {
      throw new Error(`input must be [batch, ${h}, ${w}, ${c}] (NHWC), got [${x.shape}]`);
    }
  }

  /** Evaluate the graph; returns the outputs of `outputs` (default: the scales' loc/conf nodes). Call inside a tidy. */
  private run(x: tf.Tensor4D, training: boolean, updateStats: boolean, outputs?: readonly number[]): Map<number, tf.Tensor4D> {
    const { nodes, scales } = this.graph;
    const wanted = new Set(outputs ?? scales.flatMap((s) => [s.loc, s.conf]));
    // Uses left per node; in inference an output is freed once its last consumer ran (activations of DSOD300
    // are ~2 GB per image when all kept). Training keeps them: the gradient tape needs them anyway.
    const usesLeft = nodes.map(() => 0);
    for (const n of nodes) for (const i of n.inputs) usesLeft[i]++;
    const values: (tf.Tensor4D | undefined)[] = new Array(nodes.length);
    const batch = x.shape[0];
    const last = Math.max(...wanted);
    for (const node of nodes) {
      if (node.id > last) break;
      const inputs = node.inputs.map((i) => values[i]!);
      const y = node.kind === 'input' ? x : this.apply(node, inputs, training, updateStats);
      const [c, h, w] = node.shape;
      if (y.shape[0] !== batch || y.shape[1] !== h || y.shape[2] !== w || y.shape[3] !== c) {
        throw new Error(`${node.name}: the tfjs output is [${y.shape}], core says [${batch}, ${h}, ${w}, ${c}] (NHWC)`);
      }
      values[node.id] = y;
      if (!training) {
        for (const i of node.inputs) {
          if (--usesLeft[i] === 0 && i !== 0 && !wanted.has(i)) values[i]!.dispose();
        }
      }
    }
    return new Map([...wanted].map((id) => [id, values[id]!]));
  }

  private apply(node: LayerNode, xs: tf.Tensor4D[], training: boolean, updateStats: boolean): tf.Tensor4D {
    const p = this.nodeParams[node.id];
    switch (node.kind) {
      case 'conv':
        return conv(xs[0], (p as { weight: tf.Variable }).weight as tf.Tensor4D, node.conv!.stride, node.conv!.pad);
      case 'bn':
        return training ? batchNormTrain(xs[0], p as BatchNormParams, node.bn!.eps, updateStats) : batchNormInfer(xs[0], p as BatchNormParams, node.bn!.eps);
      case 'relu':
        return tf.relu(xs[0]);
      case 'pool':
        return maxPoolCaffe(xs[0], node.pool!.kernel, node.pool!.stride, node.pool!.pad);
      case 'concat':
        return concatChannels(xs);
      case 'l2norm':
        return l2Normalize(xs[0], (p as { scale: tf.Variable }).scale as tf.Tensor1D);
      case 'input':
        throw new Error('the input node has no operation');
    }
  }

  private paramsOf(node: LayerNode): NodeParams {
    const get = (role: string) => {
      const p = this.byName.get(`${node.name}/${role}`);
      if (!p) throw new Error(`no parameter ${node.name}/${role}`);
      return p.variable;
    };
    switch (node.kind) {
      case 'conv':
        return { weight: get('weight') };
      case 'bn':
        return { gamma: get('gamma'), beta: get('beta'), meanSum: get('mean_sum'), varSum: get('var_sum'), factor: get('factor') };
      case 'l2norm':
        return { scale: get('scale') };
      default:
        return null;
    }
  }
}

function boxesOf(graph: LayerGraph, feature: number, priorsPerLocation: number): number {
  const [, h, w] = graph.nodes[feature].shape;
  return h * w * priorsPerLocation;
}

/** Build the tfjs model of a core graph (`checkSpec(...).analysis.graph`). */
export function createModel(graph: LayerGraph, options: ModelOptions = {}): DsodModel {
  return new DsodModel(graph, options);
}
