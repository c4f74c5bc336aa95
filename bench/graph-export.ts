// core's layer graph as plain JSON, for the PyTorch peer of the training benchmark (bench/torch_train.py builds
// the same network from it). Only what a framework needs to build and check the network: nothing is re-derived.
import type { Analysis } from '../core';

export interface GraphJson {
  name: string;
  input: [number, number, number];
  classes: number;
  boxes: number;
  nodes: {
    id: number;
    name: string;
    kind: string;
    inputs: number[];
    shape: [number, number, number];
    conv?: { out: number; kernel: number; stride: number; pad: number };
    pool?: { kernel: number; stride: number; pad: number };
    bn?: { eps: number };
    l2norm?: { init: number };
  }[];
  scales: { loc: number; conf: number; priorsPerLocation: number }[];
  paramsLearned: number;
}

export function graphJson(a: Analysis): GraphJson {
  const g = a.graph;
  return {
    name: a.spec.name,
    input: [a.spec.input.channels, a.spec.input.height, a.spec.input.width],
    classes: a.spec.classes.count,
    boxes: a.totals.defaultBoxes,
    nodes: g.nodes.map((n) => ({
      id: n.id,
      name: n.name,
      kind: n.kind,
      inputs: n.inputs,
      shape: n.shape,
      ...(n.conv ? { conv: n.conv } : {}),
      ...(n.pool ? { pool: n.pool } : {}),
      ...(n.bn ? { bn: n.bn } : {}),
      ...(n.l2norm ? { l2norm: n.l2norm } : {}),
    })),
    scales: g.scales.map((s) => ({ loc: s.loc, conf: s.conf, priorsPerLocation: s.priorsPerLocation })),
    paramsLearned: a.totals.paramsLearned,
  };
}
