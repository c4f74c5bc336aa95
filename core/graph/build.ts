// Lower a normalized spec to its layer graph, the way the official Caffe code (model_libs.py, DSOD300_pascal.py)
// builds DSOD, and infer every shape with its rounding: convolutions floor, max pooling ceil.
import type { Finding, Path } from '../diagnostics';
import { priorsPerLocation } from '../priors';
import type { NormalizedSpec } from '../spec/types';
import type { LayerGraph, LayerKind, LayerNode, LayerPlace, ScaleNode, Shape, StageKind } from './types';

/** Caffe's convolution output size: floor. */
export function convOutSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** Caffe's pooling output size: ceil, then the last window must start inside the (left-padded) input. */
export function poolOutSize(size: number, kernel: number, stride: number, pad: number): number {
  let out = Math.ceil((size + 2 * pad - kernel) / stride) + 1;
  if (pad > 0 && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** Building stops at the first layer whose output would be empty; the finding says where. */
class Collapse extends Error {}

type Place = LayerPlace;

class Builder {
  readonly nodes: LayerNode[] = [];
  constructor(private readonly findings: Finding[]) {}

  private add(kind: LayerKind, name: string, inputs: number[], shape: Shape, at: Place, attrs: Partial<LayerNode> = {}): number {
    const id = this.nodes.length;
    this.nodes.push({
      id,
      name,
      kind,
      inputs,
      shape,
      stage: at.stage,
      stageKind: at.stageKind,
      stageIndex: at.stageIndex,
      group: at.group,
      denseLayer: at.denseLayer,
      headRole: at.headRole,
      half: at.half,
      source: at.source,
      ...attrs,
    });
    return id;
  }

  shape(id: number): Shape {
    return this.nodes[id].shape;
  }

  input(shape: Shape, at: Place): number {
    return this.add('input', 'data', [], shape, at);
  }

  conv(x: number, name: string, out: number, kernel: number, stride: number, pad: number, at: Place): number {
    const [, h, w] = this.shape(x);
    const shape: Shape = [out, convOutSize(h, kernel, stride, pad), convOutSize(w, kernel, stride, pad)];
    this.check(shape, name, `conv ${kernel}x${kernel}/${stride}`, [h, w], at);
    return this.add('conv', name, [x], shape, at, { conv: { out, kernel, stride, pad } });
  }

  pool(x: number, name: string, kernel: number, stride: number, pad: number, at: Place): number {
    const [c, h, w] = this.shape(x);
    const shape: Shape = [c, poolOutSize(h, kernel, stride, pad), poolOutSize(w, kernel, stride, pad)];
    this.check(shape, name, `max pool ${kernel}x${kernel}/${stride}`, [h, w], at);
    return this.add('pool', name, [x], shape, at, { pool: { kernel, stride, pad } });
  }

  bn(x: number, name: string, eps: number, at: Place): number {
    return this.add('bn', name, [x], [...this.shape(x)], at, { bn: { eps } });
  }

  relu(x: number, name: string, at: Place): number {
    return this.add('relu', name, [x], [...this.shape(x)], at);
  }

  l2norm(x: number, name: string, init: number, at: Place): number {
    return this.add('l2norm', name, [x], [...this.shape(x)], at, { l2norm: { init } });
  }

  concat(xs: number[], name: string, at: Place): number {
    const shapes = xs.map((x) => this.shape(x));
    const [, h, w] = shapes[0];
    const mismatch = shapes.find((s) => s[1] !== h || s[2] !== w);
    if (mismatch) {
      this.findings.push({
        code: 'shape/concat-mismatch',
        message: `${name}: the maps to concatenate differ in size (${shapes.map((s) => `${s[1]}x${s[2]}`).join(' vs ')}).`,
        path: at.source,
      });
      throw new Collapse();
    }
    return this.add('concat', name, xs, [shapes.reduce((c, s) => c + s[0], 0), h, w], at);
  }

  /** Pre-activation unit: BN -> ReLU -> conv (DSOD's bn_relu_conv). */
  bnReluConv(x: number, prefix: string, out: number, kernel: number, stride: number, pad: number, at: Place): number {
    const b = this.bn(x, `${prefix}/bn`, 1e-5, at);
    const r = this.relu(b, `${prefix}/relu`, at);
    return this.conv(r, `${prefix}/conv`, out, kernel, stride, pad, at);
  }

  private check(shape: Shape, name: string, op: string, from: [number, number], at: Place): void {
    if (shape[1] >= 1 && shape[2] >= 1) return;
    this.findings.push({
      code: 'shape/collapse',
      message: `${name}: ${op} of a ${from[0]}x${from[1]} map gives ${Math.max(shape[1], 0)}x${Math.max(shape[2], 0)}; the feature maps collapse below 1x1. Use a larger input or fewer downsampling stages.`,
      path: at.source,
    });
    throw new Collapse();
  }
}

const BN_EPS = 1e-5;

/** Build the graph; `null` when a shape collapses or widths are impossible (the findings say why). */
export function buildGraph(spec: NormalizedSpec, findings: Finding[]): LayerGraph | null {
  const b = new Builder(findings);
  try {
    return build(spec, b, findings);
  } catch (e) {
    if (e instanceof Collapse) return null;
    throw e;
  }
}

function build(spec: NormalizedSpec, b: Builder, findings: Finding[]): LayerGraph | null {
  const { backbone, prediction } = spec;
  const place = (stage: string, stageKind: StageKind, source: Path, group: string | null = null, stageIndex: number | null = null): Place => ({
    stage,
    stageKind,
    stageIndex,
    group,
    denseLayer: null,
    headRole: null,
    half: null,
    source,
  });
  let x = b.input([spec.input.channels, spec.input.height, spec.input.width], place('input', 'input', ['input']));

  // Stem: conv-BN-ReLU (post-activation), first conv stride 2; or DenseNet's 7x7/2 entry.
  if (backbone.stem.kind === 'stem') {
    const at = place('stem', 'stem', ['backbone', 'stem']);
    backbone.stem.convs.forEach((out, i) => {
      const n = `stem/conv${i + 1}`;
      x = b.conv(x, n, out, 3, i === 0 ? 2 : 1, 1, at);
      x = b.bn(x, `${n}/bn`, BN_EPS, at);
      x = b.relu(x, `${n}/relu`, at);
    });
    if (backbone.stem.pool) x = b.pool(x, 'stem/pool', 2, 2, 0, at);
  } else {
    const at = place('stem', 'stem', ['backbone', 'stem']);
    x = b.conv(x, 'stem/conv7x7', backbone.stem.channels, 7, 2, 3, at);
    x = b.bn(x, 'stem/conv7x7/bn', BN_EPS, at);
    x = b.relu(x, 'stem/conv7x7/relu', at);
    x = b.pool(x, 'stem/pool', 3, 2, 0, at);
  }

  if (backbone.transitions.length !== backbone.blocks.length) {
    findings.push({
      code: 'backbone/transitions-length',
      message: `There must be one transition after each dense block: ${backbone.blocks.length} blocks, ${backbone.transitions.length} transitions.`,
      path: ['backbone', 'transitions'],
    });
    return null;
  }

  // Dense blocks and transitions.
  let first = -1;
  backbone.blocks.forEach((block, i) => {
    const stage = `block${i + 1}`;
    for (let l = 0; l < block.layers; l++) {
      const group = `${stage}/layer${l + 1}`;
      const at = { ...place(stage, 'block', ['backbone', 'blocks', i], group, i + 1), denseLayer: l + 1 };
      const bottleneck = b.bnReluConv(x, `${group}/conv1x1`, block.bottleneck, 1, 1, 0, at);
      const fresh = b.bnReluConv(bottleneck, `${group}/conv3x3`, block.growthRate, 3, 1, 1, at);
      x = b.concat([x, fresh], `${group}/concat`, at);
    }
    const t = backbone.transitions[i];
    const tStage = `transition${i + 1}`;
    const at = place(tStage, 'transition', ['backbone', 'transitions', i], null, i + 1);
    const inChannels = b.shape(x)[0];
    const out = t.channels ?? Math.floor(inChannels * t.compression);
    if (out < 1) {
      findings.push({
        code: 'width/non-positive',
        message: `${tStage} would have ${out} channels (floor(${inChannels} x ${t.compression})); a layer needs at least 1.`,
        path: ['backbone', 'transitions', i],
      });
      throw new Collapse();
    }
    x = b.bnReluConv(x, `${tStage}/conv1x1`, out, 1, 1, 0, at);
    if (i === prediction.first) first = x;
    if (t.pool) x = b.pool(x, `${tStage}/pool`, 2, 2, 0, at);
  });
  const backboneOutput = x;
  if (first < 0) return null; // normalize reported why

  // Prediction structure: the feature map of every scale.
  const features: number[] = [];
  const scaleSource = (k: number): Path => ['prediction', 'channels', k];
  const written = prediction.channels;
  const firstChannels = b.shape(first)[0];
  if (written[0] !== null && written[0] !== firstChannels) {
    findings.push({
      code: 'prediction/channels',
      message: `Scale 1 is the "First" map (transition ${prediction.first + 1}'s 1x1 conv) with ${firstChannels} channels, not ${written[0]}.`,
      path: scaleSource(0),
    });
    return null;
  }
  features.push(first);
  const learnedOut = b.shape(backboneOutput)[0];
  const defaultChannels = (k: number, c2: number): number => (k === 2 ? c2 - (c2 % 2) : Math.max(2, 2 * Math.floor(c2 / 4)));

  if (prediction.scales >= 2) {
    const at = place('scale2', 'scale', scaleSource(1), null, 2);
    if (prediction.structure === 'dense') {
      const c2 = written[1] ?? 2 * learnedOut;
      const reusedOut = c2 - learnedOut;
      if (reusedOut < 1) {
        findings.push({
          code: 'width/non-positive',
          message: `Scale 2 concatenates the backbone output (${learnedOut} channels, learned) with a reused half; ${c2} channels leave ${reusedOut} for the reused half.`,
          path: scaleSource(1),
        });
        return null;
      }
      const reusedAt: Place = { ...at, group: 'scale2/reused', half: 'reused' };
      const pooled = b.pool(first, 'scale2/reused/pool', 2, 2, 0, reusedAt);
      const reused = b.bnReluConv(pooled, 'scale2/reused/conv1x1', reusedOut, 1, 1, 0, reusedAt);
      features.push(b.concat([backboneOutput, reused], 'scale2/concat', at));
    } else {
      if (written[1] !== null && written[1] !== learnedOut) {
        findings.push({
          code: 'prediction/channels',
          message: `In the plain structure scale 2 is the backbone output with ${learnedOut} channels, not ${written[1]}.`,
          path: scaleSource(1),
        });
        return null;
      }
      features.push(backboneOutput);
    }
  }

  const c2 = prediction.scales >= 2 ? b.shape(features[1])[0] : 0;
  for (let k = 3; k <= prediction.scales; k++) {
    const stage = `scale${k}`;
    const at = place(stage, 'scale', scaleSource(k - 1), null, k);
    const prev = features[features.length - 1];
    const ck = written[k - 1] ?? defaultChannels(k - 1, c2);
    if (prediction.structure === 'dense') {
      if (ck % 2 !== 0) {
        findings.push({
          code: 'prediction/odd-channels',
          message: `Scale ${k} of the dense structure is half reused, half learned, so its channels must be even (got ${ck}).`,
          path: scaleSource(k - 1),
        });
        return null;
      }
      const half = ck / 2;
      const reusedAt: Place = { ...at, group: `${stage}/reused`, half: 'reused' };
      const learnedAt: Place = { ...at, group: `${stage}/learned`, half: 'learned' };
      const pooled = b.pool(prev, `${stage}/reused/pool`, 2, 2, 0, reusedAt);
      const reused = b.bnReluConv(pooled, `${stage}/reused/conv1x1`, half, 1, 1, 0, reusedAt);
      const squeezed = b.bnReluConv(prev, `${stage}/learned/conv1x1`, half, 1, 1, 0, learnedAt);
      const learned = b.bnReluConv(squeezed, `${stage}/learned/conv3x3`, half, 3, 2, 1, learnedAt);
      features.push(b.concat([reused, learned], `${stage}/concat`, at));
    } else {
      const squeezed = b.bnReluConv(prev, `${stage}/conv1x1`, Math.max(1, Math.floor(ck / 2)), 1, 1, 0, at);
      features.push(b.bnReluConv(squeezed, `${stage}/conv3x3`, ck, 3, 2, 1, at));
    }
  }

  // Heads: L2Norm, then box offsets and class scores, each conv without bias followed by BN + Scale.
  const scales: ScaleNode[] = [];
  const { priors, heads } = spec;
  features.forEach((feature, i) => {
    const k = i + 1;
    const stage = `head${k}`;
    const source: Path = ['priors', 'aspect_ratios', i];
    const ratios = priors.aspectRatios[i] ?? [];
    const perLocation = priorsPerLocation(ratios, priors.flip, priors.maxSizes[i] !== undefined);
    let h = feature;
    const l2 = prediction.l2norm;
    if (l2 && (l2.scales === 'all' || k === 1))
      h = b.l2norm(h, `${stage}/l2norm`, l2.init, { ...place(stage, 'head', ['prediction', 'l2norm'], null, k), headRole: 'l2norm' });
    const pad = (heads.kernel - 1) / 2;
    const branch = (role: 'loc' | 'conf', out: number) => {
      const at: Place = { ...place(stage, 'head', source, `${stage}/${role}`, k), headRole: role };
      let y = b.conv(h, `${stage}/${role}/conv`, out, heads.kernel, 1, pad, at);
      if (heads.batchNorm) y = b.bn(y, `${stage}/${role}/bn`, heads.bnEps, at);
      return y;
    };
    const loc = branch('loc', 4 * perLocation);
    const conf = branch('conf', spec.classes.count * perLocation);
    scales.push({ index: k, feature, loc, conf, priorsPerLocation: perLocation, source: scaleSource(i) });
  });

  return { nodes: b.nodes, scales, backboneOutput };
}
