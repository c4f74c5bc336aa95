// The model's parameters: one tf.Variable per Caffe blob, named after core's layer names so checkpoints,
// gradients and reports all speak the same names as `dsod analyze`.
//
// Layouts (NHWC inside tfjs, the mapping to Caffe's NCHW blobs kept explicit):
//   `<conv>/weight`   [kh, kw, in, out]   Caffe [out, in, kh, kw]: transpose (2, 3, 1, 0)
//   `<bn>/gamma|beta` [C]                 Caffe Scale layer blobs 0 and 1 (learned)
//   `<bn>/mean_sum|var_sum` [C], `<bn>/factor` [1]   Caffe BatchNorm blobs 0, 1, 2 (stored, not learned)
//   `<l2norm>/scale`  [C]                 SSD Normalize layer, channel_shared false
import * as tf from '@tensorflow/tfjs';
import type { LayerGraph, LayerNode } from '../../core';
import { filled, gaussian, hashSeed, xavier } from './init';

export type ParamRole = 'weight' | 'gamma' | 'beta' | 'mean_sum' | 'var_sum' | 'factor' | 'scale';

export interface Param {
  /** `<node name>/<role>`, e.g. `block1/layer1/conv1x1/conv/weight`. */
  name: string;
  role: ParamRole;
  /** Learned by gradient descent (conv weights, gamma, beta, L2Norm scales); false for BN running statistics. */
  trainable: boolean;
  node: LayerNode;
  variable: tf.Variable;
}

export interface InitOptions {
  seed: number;
  /** Standard deviation of the Gaussian for head convolutions (the paper: 0.01). */
  headStd?: number;
}

/** Head convolutions are those of nodes in a head stage (core's typed place, not its naming). */
export function isHeadNode(node: LayerNode): boolean {
  return node.stageKind === 'head';
}

/** One parameter as data: where it lives, its role and NHWC shape; what the variables and the ONNX export both follow. */
export interface ParamSlot {
  name: string;
  role: ParamRole;
  trainable: boolean;
  node: LayerNode;
  shape: number[];
}

/** Every parameter of the graph, in node order, without values: the names and shapes a weights file must have. */
export function paramLayout(graph: LayerGraph): ParamSlot[] {
  const slots: ParamSlot[] = [];
  const add = (node: LayerNode, role: ParamRole, trainable: boolean, shape: number[]) =>
    slots.push({ name: `${node.name}/${role}`, role, trainable, node, shape });
  for (const node of graph.nodes) {
    const c = node.shape[0];
    switch (node.kind) {
      case 'conv': {
        const { kernel, out } = node.conv!;
        add(node, 'weight', true, [kernel, kernel, graph.nodes[node.inputs[0]].shape[0], out]);
        break;
      }
      case 'bn':
        add(node, 'gamma', true, [c]);
        add(node, 'beta', true, [c]);
        add(node, 'mean_sum', false, [c]);
        add(node, 'var_sum', false, [c]);
        add(node, 'factor', false, [1]);
        break;
      case 'l2norm':
        add(node, 'scale', true, [c]);
        break;
    }
  }
  return slots;
}

/** The seeded initial value of one parameter (the same on every backend: our own PRNG). */
export function initialValue(slot: ParamSlot, options: InitOptions): Float32Array {
  const count = slot.shape.reduce((a, b) => a * b, 1);
  switch (slot.role) {
    case 'weight': {
      const [kernel, , inChannels] = slot.shape;
      const seed = hashSeed(options.seed, slot.name);
      // Both fillers draw i.i.d. values, so filling in HWIO order gives the same distribution as Caffe's OIHW.
      return isHeadNode(slot.node) ? gaussian(count, options.headStd ?? 0.01, seed) : xavier(count, inChannels * kernel * kernel, seed);
    }
    case 'gamma':
      return filled(count, 1);
    case 'scale':
      return filled(count, slot.node.l2norm!.init);
    default:
      return filled(count, 0);
  }
}

let modelCounter = 0;

/** Create every parameter of the graph, in node order; values are seeded per parameter name. */
export function createParams(graph: LayerGraph, options: InitOptions): Param[] {
  // tfjs keeps one global registry of variable names: a per-model prefix lets models coexist.
  const prefix = `dsod${++modelCounter}`;
  return paramLayout(graph).map((slot) => {
    const { name, role, trainable, node, shape } = slot;
    // The initial tensor only seeds the variable (which shares its data): tidy disposes it.
    const variable = tf.tidy(() => tf.variable(tf.tensor(initialValue(slot, options), shape, 'float32'), trainable, `${prefix}/${name}`));
    return { name, role, trainable, node, variable };
  });
}

export interface ParamCounts {
  /** Values of trainable variables: conv weights, BN gamma/beta, L2Norm scales. */
  learned: number;
  /** All variables: learned + BN running statistics (2C+1 per BN, as Caffe stores them). */
  stored: number;
}

/** Counted from the variables themselves, not from the graph: this is what the model really holds. */
export function countParams(params: readonly Param[]): ParamCounts {
  let learned = 0;
  let stored = 0;
  for (const p of params) {
    stored += p.variable.size;
    if (p.trainable) learned += p.variable.size;
  }
  return { learned, stored };
}
