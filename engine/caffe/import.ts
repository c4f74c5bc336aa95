// A DSOD-family Caffe net (deploy, train or test prototxt, as the official generator or `dsod export --caffe` writes
// it) read back into a spec. The structure is recognised from the layers' types, parameters and connections (the
// blobs), never from their names: stem, dense layers (BN-ReLU-conv 1x1, BN-ReLU-conv 3x3, concat with the input),
// transitions, the plain or dense prediction structure, the heads and their PriorBox parameters.
import { formatNotation } from '../../core';
import { all, bool, first, ident, isMessage, num, nums, parsePrototxt, PrototxtError, str, strs, sub, type Message } from './prototxt';

/** A prototxt the spec language cannot express, or that is not one: why, and the line of the layer (or text). */
export class CaffeImportError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'CaffeImportError';
  }
}

type OpKind = 'input' | 'conv' | 'bn' | 'relu' | 'pool' | 'concat' | 'l2norm' | 'priorbox' | 'aux' | 'output';

interface Op {
  id: number;
  kind: OpKind;
  type: string;
  name: string;
  line: number;
  inputs: number[];
  channels: number;
  conv?: { out: number; kernel: number; stride: number; pad: number };
  pool?: { kernel: number; stride: number; pad: number };
  bn?: { eps: number; scaled: boolean };
  l2norm?: { init: number };
  concatAxis?: number;
  layer: Message;
  /** Set once the recogniser has placed the op in the structure. */
  claimed?: boolean;
}

/** Layer types the family uses, and what each becomes. */
const FAMILY: Record<string, OpKind | 'scale' | 'skip'> = {
  Input: 'input',
  Data: 'input',
  AnnotatedData: 'input',
  Convolution: 'conv',
  BatchNorm: 'bn',
  Scale: 'scale',
  ReLU: 'relu',
  Pooling: 'pool',
  Concat: 'concat',
  Normalize: 'l2norm',
  PriorBox: 'priorbox',
  Permute: 'aux',
  Flatten: 'aux',
  Reshape: 'aux',
  Softmax: 'aux',
  DetectionOutput: 'output',
  MultiBoxLoss: 'output',
  DetectionEvaluate: 'skip',
  Silence: 'skip',
};

/** Caffe's (BVLC and SSD) other layer types: known, but outside what a DSOD spec describes. */
const OTHER_CAFFE = new Set(
  (
    'AbsVal Accuracy ArgMax BNLL Bias Clip ContrastiveLoss Crop Deconvolution DepthwiseConvolution Dropout DummyData ELU Eltwise Embed ' +
    'EuclideanLoss Exp Filter HDF5Data HDF5Output HingeLoss Im2col ImageData InfogainLoss InnerProduct LRN LSTM Log MVN MemoryData ' +
    'MultinomialLogisticLoss PReLU Parameter Power Python RNN Reduction SPP Sigmoid SigmoidCrossEntropyLoss Slice SmoothL1Loss ' +
    'SoftmaxWithLoss Split Swish TanH Threshold Tile WindowData VideoData Upsample Interp'
  ).split(' '),
);

export interface ImportOptions {
  /** The solver beside the net, when there is one. */
  solver?: string;
  /** The train net beside a deploy net (its batch size and augmentation), when there is one. */
  train?: string;
}

export interface ImportResult {
  /** The spec, in the spec language (YAML). */
  yaml: string;
  /** What was read approximately or left at the spec's defaults. */
  notes: string[];
}

export function importCaffe(text: string, options: ImportOptions = {}): ImportResult {
  const net = parseOrFail(text);
  return new Recogniser(net).spec(options);
}

function parseOrFail(text: string): Message {
  try {
    return parsePrototxt(text);
  } catch (e) {
    if (e instanceof PrototxtError) throw new CaffeImportError(e.reason, e.line);
    throw e;
  }
}

const fail = (at: { line: number; type?: string; name?: string }, reason: string): never => {
  throw new CaffeImportError(at.name !== undefined ? `layer "${at.name}" (${at.type}): ${reason}` : reason, at.line);
};

class Recogniser {
  readonly ops: Op[] = [];
  private readonly consumers: number[][] = [];
  private classes: number | null = null;
  private name: string;
  private dataLayer: Message | null = null;

  constructor(private readonly net: Message) {
    this.name = (str(net, 'name') ?? 'DSOD').replace(/_(deploy|train|test)$/, '');
    if (first(net, 'layers')) fail(first(net, 'layers')!, "this is the old V1 layer format (`layers`); upgrade it with Caffe's upgrade_net_proto_text first");
    this.read();
  }

  private add(op: Omit<Op, 'id'>): Op {
    const full = { ...op, id: this.ops.length } as Op;
    this.ops.push(full);
    this.consumers.push([]);
    for (const i of op.inputs) this.consumers[i].push(full.id);
    return full;
  }

  /** Layers to ops, following blobs through in-place layers; BatchNorm + Scale become one op. */
  private read(): void {
    const blobs = new Map<string, number>();
    const inputs = strs(this.net, 'input');
    if (inputs.length) {
      const shape = sub(this.net, 'input_shape');
      const dims = shape ? nums(shape, 'dim') : nums(this.net, 'input_dim');
      if (dims.length !== 4) fail({ line: first(this.net, 'input')!.line }, `the input "${inputs[0]}" needs a shape of 4 dims (N, C, H, W)`);
      const op = this.add({
        kind: 'input',
        type: 'input',
        name: inputs[0],
        line: first(this.net, 'input')!.line,
        inputs: [],
        channels: dims[1],
        layer: this.net,
      });
      this.inputShape = [dims[1], dims[2], dims[3]];
      blobs.set(inputs[0], op.id);
    }
    for (const f of all(this.net, 'layer')) {
      if (!isMessage(f.value)) fail(f, 'a layer must be a message: layer { ... }');
      const layer = f.value as Message;
      const type = str(layer, 'type');
      const name = str(layer, 'name') ?? `(unnamed, line ${f.line})`;
      const at = { line: f.line, type, name };
      if (type === undefined) fail({ line: f.line }, `layer "${name}" has no type`);
      const role = FAMILY[type!];
      if (role === undefined) {
        if (OTHER_CAFFE.has(type!)) fail(at, `a ${type} layer cannot be expressed in a DSOD spec`);
        fail(at, `unknown layer type "${type}"`);
      }
      if (role === 'skip') continue;
      const bottoms = strs(layer, 'bottom');
      const tops = strs(layer, 'top');
      const ins = bottoms.map((b) => {
        const id = blobs.get(b);
        if (id === undefined) fail(at, `its bottom "${b}" is made by no layer before it`);
        return id!;
      });
      const ch = ins.length ? this.ops[ins[0]].channels : 0;
      const base = { type: type!, name, line: f.line, inputs: ins, layer, channels: ch };
      let op: Op;
      switch (role) {
        case 'input': {
          if (this.ops.some((o) => o.kind === 'input')) continue; // the other phase's data layer
          this.dataLayer = layer;
          const resize = sub(sub(layer, 'transform_param'), 'resize_param');
          const shape = sub(sub(layer, 'input_param'), 'shape');
          const dims = shape ? nums(shape, 'dim') : [];
          let chw: [number, number, number] | null = null;
          if (dims.length === 4) chw = [dims[1], dims[2], dims[3]];
          else if (resize && num(resize, 'height') !== undefined && num(resize, 'width') !== undefined)
            chw = [bool(sub(layer, 'transform_param'), 'force_gray') ? 1 : 3, num(resize, 'height')!, num(resize, 'width')!];
          if (!chw) fail(at, 'the input size is not written (an input_shape, or a resize_param with height and width)');
          this.inputShape = chw!;
          op = this.add({ ...base, kind: 'input', inputs: [], channels: chw![0] });
          blobs.set(tops[0] ?? 'data', op.id);
          if (tops[1]) blobs.set(tops[1], op.id);
          continue;
        }
        case 'conv':
          op = this.add({ ...base, kind: 'conv', conv: this.convParams(layer, at) });
          op.channels = op.conv!.out;
          break;
        case 'bn': {
          const p = sub(layer, 'batch_norm_param');
          op = this.add({ ...base, kind: 'bn', bn: { eps: num(p, 'eps') ?? 1e-5, scaled: false } });
          break;
        }
        case 'scale': {
          const from = this.ops[ins[0]];
          const p = sub(layer, 'scale_param');
          if (from?.kind !== 'bn' || from.bn!.scaled) fail(at, 'a Scale layer belongs right after a BatchNorm (the learned γ and β of the batch norm)');
          if (bool(p, 'bias_term') !== true) fail(at, 'the Scale after a BatchNorm needs bias_term: true (β)');
          from.bn!.scaled = true;
          for (const t of tops) blobs.set(t, from.id);
          continue;
        }
        case 'relu':
          if ((num(sub(layer, 'relu_param'), 'negative_slope') ?? 0) !== 0) fail(at, 'a leaky ReLU cannot be expressed in a DSOD spec');
          op = this.add({ ...base, kind: 'relu' });
          break;
        case 'pool': {
          const p = sub(layer, 'pooling_param');
          if ((ident(p, 'pool') ?? 'MAX') !== 'MAX') fail(at, 'only max pooling is in DSOD (this one averages)');
          if (bool(p, 'global_pooling')) fail(at, 'global pooling cannot be expressed in a DSOD spec');
          const kernel = num(p, 'kernel_size') ?? num(p, 'kernel_h');
          if (kernel === undefined || (num(p, 'kernel_w') ?? kernel) !== kernel) fail(at, 'a pooling window must be square and written');
          op = this.add({ ...base, kind: 'pool', pool: { kernel: kernel!, stride: num(p, 'stride') ?? 1, pad: num(p, 'pad') ?? 0 } });
          break;
        }
        case 'concat': {
          const p = sub(layer, 'concat_param');
          const axis = num(p, 'axis') ?? num(p, 'concat_dim') ?? 1;
          // The heads' concatenation of flattened outputs (SSD's mbox_loc, mbox_conf) is bookkeeping, not a layer of the spec.
          const heads = ins.length > 0 && ins.every((i) => this.ops[i].kind === 'aux');
          op = this.add({ ...base, kind: heads ? 'aux' : 'concat', concatAxis: axis });
          op.channels = ins.reduce((s, i) => s + this.ops[i].channels, 0);
          break;
        }
        case 'l2norm': {
          const p = sub(layer, 'norm_param');
          if (bool(p, 'across_spatial') !== false) fail(at, "DSOD's L2 normalization is per location: across_spatial must be false");
          if (bool(p, 'channel_shared') === true) fail(at, "DSOD's L2 normalization learns one scale per channel: channel_shared must be false");
          op = this.add({ ...base, kind: 'l2norm', l2norm: { init: num(sub(p, 'scale_filler'), 'value') ?? 1 } });
          break;
        }
        case 'output': {
          const p = sub(layer, type === 'MultiBoxLoss' ? 'multibox_loss_param' : 'detection_output_param');
          const n = num(p, 'num_classes');
          if (n !== undefined) {
            if (this.classes !== null && this.classes !== n) fail(at, `num_classes ${n} disagrees with ${this.classes} before`);
            this.classes = n;
          }
          op = this.add({ ...base, kind: 'output' });
          break;
        }
        default:
          op = this.add({ ...base, kind: role as OpKind });
      }
      for (const t of tops) blobs.set(t, op.id);
    }
    if (!this.ops.some((o) => o.kind === 'input')) fail({ line: 1 }, 'the net has no input (an `input:` with its shape, or a data layer)');
  }

  inputShape: [number, number, number] = [3, 0, 0];

  private convParams(layer: Message, at: { line: number; type?: string; name?: string }): NonNullable<Op['conv']> {
    const p = sub(layer, 'convolution_param');
    if (!p) fail(at, 'a Convolution needs its convolution_param');
    if (bool(p, 'bias_term') !== false) fail(at, "DSOD's convolutions have no bias (bias_term: false); a bias (Caffe's default) cannot be expressed");
    if ((num(p, 'group') ?? 1) !== 1) fail(at, 'a grouped convolution cannot be expressed in a DSOD spec');
    const one = (name: string, fallback?: number): number | undefined => {
      const v = nums(p, name);
      if (v.length > 1 && v.some((x) => x !== v[0])) fail(at, `${name} differs between height and width`);
      return v[0] ?? fallback;
    };
    if (nums(p, 'dilation').some((d) => d !== 1)) fail(at, 'a dilated convolution cannot be expressed in a DSOD spec');
    const kernel = one('kernel_size') ?? num(p, 'kernel_h');
    if (kernel === undefined || (num(p, 'kernel_w') ?? kernel) !== kernel) fail(at, 'a convolution kernel must be square and written');
    const out = num(p, 'num_output');
    if (out === undefined) fail(at, 'num_output is missing');
    return { out: out!, kernel: kernel!, stride: one('stride', 1)!, pad: one('pad', 0)! };
  }

  // --- the structure -----------------------------------------------------------------------------------------------

  private op(id: number): Op {
    return this.ops[id];
  }

  private uses(id: number, kind: OpKind): Op[] {
    return this.consumers[id].map((c) => this.ops[c]).filter((o) => o.kind === kind);
  }

  /** Mark a unit's conv and the BN and ReLU before it as placed. */
  private claimUnit(conv: Op): void {
    const relu = this.op(conv.inputs[0]);
    const bn = this.op(relu.inputs[0]);
    for (const o of [conv, relu, bn]) this.claim(o);
  }

  private claim(o: Op): void {
    if (o.kind === 'bn' && !o.bn!.scaled) fail(o, 'a BatchNorm without the Scale layer after it (γ and β) cannot be expressed in a DSOD spec');
    o.claimed = true;
  }

  /** Every unplaced BN -> ReLU -> conv (DSOD's bn_relu_conv) reading `x` with the conv's geometry. */
  private units(x: number, kernel: number, stride: number, pad: number): Op[] {
    return this.uses(x, 'bn').flatMap((b) =>
      this.uses(b.id, 'relu').flatMap((r) =>
        this.uses(r.id, 'conv').filter((c) => !c.claimed && c.conv!.kernel === kernel && c.conv!.stride === stride && c.conv!.pad === pad),
      ),
    );
  }

  /** A dense layer starting at x: its bottleneck conv, 3x3 conv and concat; null when none starts there. */
  private denseLayer(x: number): { bottleneck: Op; fresh: Op; concat: Op } | null {
    for (const bottleneck of this.units(x, 1, 1, 0))
      for (const fresh of this.units(bottleneck.id, 3, 1, 1)) {
        const concat = this.uses(fresh.id, 'concat').find((c) => c.inputs.length === 2 && c.inputs[0] === x && c.inputs[1] === fresh.id);
        if (concat) return { bottleneck, fresh, concat };
      }
    return null;
  }

  spec(options: ImportOptions): ImportResult {
    const notes: string[] = [];
    const input = this.ops.find((o) => o.kind === 'input')!;
    input.claimed = true;
    const [channels, height, width] = this.inputShape;

    // Heads first: they say which maps are the prediction scales.
    const heads = this.heads();
    const features = heads.map((h) => h.feature);

    // Stem.
    let x = input.id;
    const stemConv = this.uses(x, 'conv')[0];
    if (!stemConv)
      fail(
        this.consumers[x][0] !== undefined ? this.op(this.consumers[x][0]) : input,
        "the net must begin with a convolution (the stem, or DenseNet's 7x7/2 entry)",
      );
    let stemYaml: string;
    let firstConv: number;
    const postAct = (conv: Op): number => {
      const bn = this.uses(conv.id, 'bn')[0];
      const relu = bn && this.uses(bn.id, 'relu')[0];
      if (!relu) fail(conv, 'a stem convolution is followed by BatchNorm + Scale and ReLU');
      for (const o of [conv, bn, relu]) this.claim(o);
      return relu.id;
    };
    if (stemConv.conv!.kernel === 3 && stemConv.conv!.stride === 2 && stemConv.conv!.pad === 1) {
      const convs = [stemConv.conv!.out];
      x = postAct(stemConv);
      for (;;) {
        const c = this.uses(x, 'conv').find((o) => o.conv!.kernel === 3 && o.conv!.stride === 1 && o.conv!.pad === 1);
        if (!c) break;
        convs.push(c.conv!.out);
        x = postAct(c);
      }
      const pool = this.uses(x, 'pool')[0];
      if (pool) {
        if (pool.pool!.kernel !== 2 || pool.pool!.stride !== 2 || pool.pool!.pad !== 0) fail(pool, "the stem's pool is 2x2/2 in DSOD");
        this.claim(pool);
        x = pool.id;
      }
      stemYaml = `{ convs: [${convs.join(', ')}], pool: ${pool ? 'max' : 'none'} }`;
      firstConv = convs[0];
    } else if (stemConv.conv!.kernel === 7 && stemConv.conv!.stride === 2 && stemConv.conv!.pad === 3) {
      x = postAct(stemConv);
      const pool = this.uses(x, 'pool')[0];
      if (!pool || pool.pool!.kernel !== 3 || pool.pool!.stride !== 2 || pool.pool!.pad !== 0)
        fail(pool ?? stemConv, "DenseNet's entry ends with a 3x3/2 max pool");
      this.claim(pool);
      x = pool.id;
      stemYaml = 'false';
      firstConv = stemConv.conv!.out;
    } else {
      return fail(stemConv, "the first convolution is neither the stem's 3x3/2 (pad 1) nor DenseNet's 7x7/2 (pad 3)");
    }

    // Dense blocks, each followed by its transition.
    const blocks: { layers: number; growth: number; bottleneck: number }[] = [];
    const transitions: { conv: Op; pool: Op | null; inChannels: number }[] = [];
    for (;;) {
      let layers = 0;
      let growth = 0;
      let bottleneck = 0;
      for (let d = this.denseLayer(x); d; d = this.denseLayer(x)) {
        if (layers > 0 && (d.fresh.conv!.out !== growth || d.bottleneck.conv!.out !== bottleneck))
          fail(
            d.bottleneck,
            `dense layers of one block share their widths (this one: ${d.bottleneck.conv!.out}/${d.fresh.conv!.out}, the block's: ${bottleneck}/${growth})`,
          );
        growth = d.fresh.conv!.out;
        bottleneck = d.bottleneck.conv!.out;
        this.claimUnit(d.bottleneck);
        this.claimUnit(d.fresh);
        this.claim(d.concat);
        x = d.concat.id;
        layers++;
      }
      if (layers === 0) {
        if (blocks.length === 0) {
          const next = this.consumers[x].map((c) => this.op(c)).find((o) => o.kind !== 'aux' && o.kind !== 'priorbox');
          fail(next ?? this.op(x), 'a dense block (BN-ReLU-conv 1x1, BN-ReLU-conv 3x3, Concat with its input) must follow the stem');
        }
        break;
      }
      blocks.push({ layers, growth, bottleneck });
      const t = this.units(x, 1, 1, 0)[0];
      if (!t) return fail(this.op(x), 'a dense block ends with a transition (BN-ReLU-conv 1x1)');
      this.claimUnit(t);
      const inChannels = this.op(x).channels;
      // Pooled when a dense block continues from its 2x2/2 pool, or (the last one) when that pool feeds scale 2.
      const pool = this.uses(t.id, 'pool').find((p) => p.pool!.kernel === 2 && p.pool!.stride === 2 && p.pool!.pad === 0 && this.denseLayer(p.id));
      if (pool) {
        this.claim(pool);
        transitions.push({ conv: t, pool, inChannels });
        x = pool.id;
      } else {
        transitions.push({ conv: t, pool: null, inChannels });
        x = t.id;
      }
    }

    // Scale 1 is a transition's 1x1 conv output ("First").
    const firstIndex = transitions.findIndex((t) => t.conv.id === features[0]);
    if (firstIndex < 0) fail(this.op(features[0]), 'scale 1 ("First") must be the output of a transition\'s 1x1 convolution');

    // Scale 2 tells the structure and the backbone's output.
    let structure: 'dense' | 'plain' = 'plain';
    const last = transitions[transitions.length - 1];
    let backboneOutput = x;
    if (features.length >= 2) {
      const f2 = this.op(features[1]);
      const reused = f2.kind === 'concat' && f2.inputs.length === 2 ? this.reusedHalf(f2.inputs[1], features[0]) : null;
      if (reused) {
        structure = 'dense';
        backboneOutput = f2.inputs[0];
        this.claim(f2);
      } else backboneOutput = f2.id;
    }
    if (backboneOutput !== last.conv.id) {
      const pool = this.op(backboneOutput);
      if (pool.kind === 'pool' && pool.inputs[0] === last.conv.id && pool.pool!.kernel === 2 && pool.pool!.stride === 2 && pool.pool!.pad === 0) {
        this.claim(pool);
        last.pool = pool;
      } else
        fail(
          features.length >= 2 ? this.op(features[1]) : pool,
          "scale 2 must be the last transition's output (plain structure) or its concat with a reused half (dense structure)",
        );
    } else if (features.length < 2) {
      const pool = this.uses(last.conv.id, 'pool').find((p) => p.pool!.kernel === 2 && p.pool!.stride === 2);
      if (pool) {
        this.claim(pool);
        last.pool = pool;
      }
    }

    // Scales 3 and on, each from the one before.
    const scaleChannels = features.map((f) => this.op(f).channels);
    for (let k = 2; k < features.length; k++) {
      const prev = features[k - 1];
      const f = this.op(features[k]);
      if (structure === 'dense') {
        const reused = f.kind === 'concat' && f.inputs.length === 2 ? this.reusedHalf(f.inputs[0], prev) : null;
        const learned = f.kind === 'concat' && f.inputs.length === 2 ? this.learnedHalf(f.inputs[1], prev) : null;
        if (!reused || !learned)
          fail(
            f,
            `scale ${k + 1} of the dense structure is the concat of a reused half (pool 2x2/2, BN-ReLU-conv 1x1) and a learned half (BN-ReLU-conv 1x1, BN-ReLU-conv 3x3/2) of scale ${k}`,
          );
        const half = reused!.conv!.out;
        if (learned!.conv!.out !== half || this.squeezeOf(learned!).conv!.out !== half)
          fail(f, `scale ${k + 1}'s halves must be equally wide (${half} reused)`);
        this.claim(f);
      } else {
        const learned = this.learnedHalf(f.id, prev);
        if (!learned) fail(f, `scale ${k + 1} of the plain structure is BN-ReLU-conv 1x1 then BN-ReLU-conv 3x3/2 of scale ${k}`);
        if (this.squeezeOf(learned!).conv!.out !== Math.max(1, Math.floor(f.channels / 2)))
          fail(this.squeezeOf(learned!), `the plain structure squeezes to half of scale ${k + 1}'s channels (${Math.max(1, Math.floor(f.channels / 2))})`);
      }
    }

    // Anything left over is not DSOD.
    const stray = this.ops.find((o) => !o.claimed && o.kind !== 'aux' && o.kind !== 'output' && o.kind !== 'priorbox');
    if (stray) fail(stray, 'this layer is not part of the DSOD structure (stem, dense blocks, transitions, prediction scales, heads)');

    return {
      yaml: this.yaml(
        { name: this.name, channels, height, width, stemYaml, firstConv, blocks, transitions, firstIndex, structure, scaleChannels, heads },
        options,
        notes,
      ),
      notes,
    };
  }

  /** The conv of a reused half: pool 2x2/2 of `from`, then BN-ReLU-conv 1x1 (the conv is `id`). Claims it. */
  private reusedHalf(id: number, from: number): Op | null {
    const conv = this.op(id);
    if (conv.kind !== 'conv' || conv.conv!.kernel !== 1 || conv.conv!.stride !== 1 || conv.conv!.pad !== 0) return null;
    const relu = this.op(conv.inputs[0]);
    const bn = relu.kind === 'relu' ? this.op(relu.inputs[0]) : null;
    const pool = bn?.kind === 'bn' ? this.op(bn.inputs[0]) : null;
    if (!pool || pool.kind !== 'pool' || pool.inputs[0] !== from || pool.pool!.kernel !== 2 || pool.pool!.stride !== 2 || pool.pool!.pad !== 0) return null;
    this.claimUnit(conv);
    this.claim(pool);
    return conv;
  }

  /** The 3x3/2 conv (`id`) of BN-ReLU-conv 1x1 then BN-ReLU-conv 3x3/2 pad 1 from `from`. Claims both units. */
  private learnedHalf(id: number, from: number): Op | null {
    const conv = this.op(id);
    if (conv.kind !== 'conv' || conv.conv!.kernel !== 3 || conv.conv!.stride !== 2 || conv.conv!.pad !== 1) return null;
    const squeeze = this.squeezeOf(conv);
    if (!squeeze || squeeze.kind !== 'conv' || squeeze.conv!.kernel !== 1 || squeeze.conv!.stride !== 1 || squeeze.conv!.pad !== 0) return null;
    const relu = this.op(squeeze.inputs[0]);
    const bn = relu.kind === 'relu' ? this.op(relu.inputs[0]) : null;
    if (!bn || bn.kind !== 'bn' || bn.inputs[0] !== from) return null;
    this.claimUnit(conv);
    this.claimUnit(squeeze);
    return conv;
  }

  /** The conv two units before a unit's conv (through its ReLU and BN). */
  private squeezeOf(conv: Op): Op {
    const relu = this.op(conv.inputs[0]);
    const bn = this.op(relu.inputs[0]);
    return this.op(bn.inputs[0]);
  }

  /** Each prediction scale's head, in the order of the concatenated priors (SSD's mbox_priorbox). */
  private heads(): Head[] {
    let priorboxes = this.ops.filter((o) => o.kind === 'priorbox');
    if (!priorboxes.length)
      fail({ line: this.ops[this.ops.length - 1].line }, 'the net has no PriorBox layer: the heads of a DSOD detector are missing (a truncated prototxt?)');
    const concat = this.ops.find((o) => o.kind === 'concat' && o.concatAxis === 2 && o.inputs.length && o.inputs.every((i) => this.op(i).kind === 'priorbox'));
    if (concat) {
      concat.claimed = true;
      priorboxes = concat.inputs.map((i) => this.op(i));
    }
    return priorboxes.map((pb, i) => this.head(pb, i));
  }

  private head(pb: Op, i: number): Head {
    const p = sub(pb.layer, 'prior_box_param');
    const at = pb;
    const minSizes = nums(p, 'min_size');
    const maxSizes = nums(p, 'max_size');
    if (minSizes.length !== 1) fail(at, `a DSOD scale has one min_size (this PriorBox has ${minSizes.length})`);
    if (maxSizes.length > 1) fail(at, 'a DSOD scale has at most one max_size');
    if (num(p, 'img_size') !== undefined || num(p, 'img_h') !== undefined)
      fail(at, 'a PriorBox with its own image size cannot be expressed (the spec uses the input size)');
    const stepH = num(p, 'step_h');
    const stepW = num(p, 'step_w');
    if (stepH !== undefined && stepH !== stepW) fail(at, 'different steps in height and width cannot be expressed');
    const variances = nums(p, 'variance');
    const v: number[] = variances.length === 0 ? [0.1, 0.1, 0.1, 0.1] : variances.length === 1 ? [0, 0, 0, 0].map(() => variances[0]) : variances;
    if (v.length !== 4) fail(at, `a PriorBox has 1 or 4 variances (this one ${variances.length})`);
    const ratios = nums(p, 'aspect_ratio');
    const flip = bool(p, 'flip') ?? true;
    const hasMax = maxSizes.length === 1;
    const expanded = [1];
    for (const r of ratios) {
      if (expanded.some((a) => Math.abs(a - r) < 1e-6)) continue;
      expanded.push(r);
      if (flip) expanded.push(1 / r);
    }
    const perLocation = expanded.length + (hasMax ? 1 : 0);
    // The map the branches read: the PriorBox's first bottom (SSD gives it the normalized map).
    const read = this.op(pb.inputs[0]);
    const l2 = read.kind === 'l2norm' ? read : null;
    const feature = l2 ? l2.inputs[0] : read.id;
    if (l2) l2.claimed = true;
    const branches = this.uses(read.id, 'conv');
    if (branches.length !== 2)
      fail(branches[2] ?? read, `a scale's head is two convolutions (box offsets and class scores) reading its map; found ${branches.length}`);
    let [loc, conf] = branches;
    if (loc.conv!.out !== 4 * perLocation) [loc, conf] = [conf, loc];
    if (loc.conv!.out !== 4 * perLocation) fail(branches[0], `the box-offset convolution needs 4 x ${perLocation} priors = ${4 * perLocation} outputs`);
    const kernel = loc.conv!.kernel;
    if (![1, 3, 5, 7].includes(kernel)) fail(loc, `a head convolution of ${kernel}x${kernel} cannot be expressed (the spec's head kernels are 1, 3, 5 or 7)`);
    const outputs: { conv: Op; bn: Op | null }[] = [];
    for (const c of [loc, conf]) {
      if (c.conv!.kernel !== kernel || c.conv!.stride !== 1 || 2 * c.conv!.pad !== kernel - 1)
        fail(c, `a head convolution is ${kernel}x${kernel}, stride 1, pad ${(kernel - 1) / 2}`);
      const bn = this.uses(c.id, 'bn')[0] ?? null;
      this.claim(c);
      if (bn) this.claim(bn);
      outputs.push({ conv: c, bn });
    }
    if (!!outputs[0].bn !== !!outputs[1].bn) fail(conf, 'both head branches have a BatchNorm, or neither');
    return {
      index: i + 1,
      line: pb.line,
      feature,
      l2norm: l2 ? l2.l2norm!.init : null,
      l2line: l2?.line ?? pb.line,
      perLocation,
      loc: loc.conv!.out,
      conf: conf.conv!.out,
      confOp: conf,
      kernel,
      bnEps: outputs[0].bn ? outputs[0].bn.bn!.eps : null,
      minSize: minSizes[0],
      maxSize: hasMax ? maxSizes[0] : null,
      ratios,
      flip,
      clip: bool(p, 'clip') ?? false,
      variances: v,
      step: num(p, 'step') ?? stepH ?? null,
      offset: num(p, 'offset') ?? 0.5,
    };
  }

  private yaml(s: Shape, options: ImportOptions, notes: string[]): string {
    const { heads } = s;
    const list = (xs: (number | string)[]) => `[${xs.join(', ')}]`;
    const lines: string[] = [`# Imported by dsod import --caffe.`, 'dsod: 1', `name: ${JSON.stringify(s.name)}`];
    lines.push(`input: { size: [${s.height}, ${s.width}], channels: ${s.channels} }`);
    // Classes: the loss's or the detector's num_classes, else the class-score width.
    const perLoc = heads[0].perLocation;
    const classes = this.classes ?? heads[0].conf / perLoc;
    for (const h of heads) {
      if (h.conf !== classes * h.perLocation)
        fail(h.confOp, `the class-score convolution needs ${classes} classes x ${h.perLocation} priors = ${classes * h.perLocation} outputs`);
    }
    if (!Number.isInteger(classes) || classes < 2)
      fail(heads[0].confOp, 'the class count (class scores / priors per location) is not a whole number of at least 2');
    lines.push(`classes: ${classes}`);

    // Backbone: the notation where every block and transition agrees, explicit values where they do not.
    const b0 = s.blocks[0];
    const uniform = s.blocks.every((b) => b.growth === b0.growth && b.bottleneck === b0.bottleneck);
    const t0 = s.transitions[0];
    // θ from the first transition, the shortest decimal that gives its width (floor(C·θ), as the code computes it).
    const exact = t0.conv.conv!.out / t0.inChannels;
    const fits = (theta: number) => theta > 0 && theta <= 1 && Math.floor(t0.inChannels * theta) === t0.conv.conv!.out;
    const compression = [1, 2, 3, 4].map((d) => Math.round(exact * 10 ** d) / 10 ** d).find(fits) ?? (fits(exact) ? exact : 1);
    lines.push('', 'backbone:');
    lines.push(`  notation: ${formatNotation({ firstConv: s.firstConv, bottleneck: b0.bottleneck, growthRate: b0.growth, compression })}`);
    lines.push(`  stem: ${s.stemYaml}`);
    lines.push(
      `  blocks: ${uniform ? list(s.blocks.map((b) => b.layers)) : `[${s.blocks.map((b) => `{ layers: ${b.layers}, growth_rate: ${b.growth}, bottleneck: ${b.bottleneck} }`).join(', ')}]`}`,
    );
    const trans = s.transitions.map((t) =>
      Math.floor(t.inChannels * compression) === t.conv.conv!.out
        ? t.pool
          ? 'pool'
          : 'no-pool'
        : `{ pool: ${t.pool ? 'true' : 'false'}, channels: ${t.conv.conv!.out} }`,
    );
    lines.push(`  transitions: ${list(trans)}`);

    // Prediction structure.
    const l2 = heads.map((h) => h.l2norm);
    let l2yaml: string;
    if (l2.every((v) => v === null)) l2yaml = 'false';
    else {
      const init = l2.find((v) => v !== null)!;
      const bad = heads.find((h) => h.l2norm !== null && h.l2norm !== init);
      if (bad) fail({ line: bad.l2line }, `every Normalize starts at one scale (${init}); this one at ${bad.l2norm}`);
      const onlyFirst = l2[0] !== null && l2.slice(1).every((v) => v === null);
      const allScales = l2.every((v) => v !== null);
      if (!onlyFirst && !allScales) {
        const bad = l2[0] === null ? heads.find((h) => h.l2norm !== null)! : heads.find((h) => h.l2norm === null)!;
        fail({ line: bad.l2line }, 'L2 normalization is on every scale or on the first only in a DSOD spec');
      }
      l2yaml = `{ init: ${init}, scales: ${allScales ? 'all' : 'first'} }`;
    }
    lines.push(
      '',
      'prediction:',
      `  structure: ${s.structure}`,
      `  scales: ${heads.length}`,
      `  channels: ${list(s.scaleChannels)}`,
      `  first: ${s.firstIndex + 1}`,
      `  l2norm: ${l2yaml}`,
    );

    // Heads.
    const h0 = heads[0];
    for (const h of heads)
      if (h.kernel !== h0.kernel || (h.bnEps === null) !== (h0.bnEps === null) || h.bnEps !== h0.bnEps)
        fail(h.confOp, "every scale's head has the same kernel and batch norm in a DSOD spec");
    lines.push('', `heads: { kernel: ${h0.kernel}, batch_norm: ${h0.bnEps !== null}${h0.bnEps !== null ? `, bn_eps: ${h0.bnEps}` : ''} }`);

    // Default boxes.
    for (const h of heads) {
      const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
      if (h.flip !== h0.flip || h.clip !== h0.clip || !same(h.variances, h0.variances) || h.offset !== h0.offset)
        fail({ line: h.line }, 'flip, clip, variances and offset are one setting for all scales in a DSOD spec');
    }
    const firstMissing = heads.findIndex((h) => h.maxSize === null);
    if (firstMissing >= 0 && heads.slice(firstMissing).some((h) => h.maxSize !== null))
      fail({ line: heads[firstMissing].line }, 'max sizes can be left out only for the last scales in a DSOD spec');
    const maxSizes = heads.flatMap((h) => (h.maxSize === null ? [] : [h.maxSize]));
    lines.push('', 'priors:', `  min_sizes: ${list(heads.map((h) => h.minSize))}`);
    // Left out, the spec's max sizes would be SSD's generated ones: a net without any cannot be written.
    if (!maxSizes.length) fail({ line: heads[0].line }, 'a DSOD spec gives scale 1 a max_size at least (this PriorBox has none)');
    lines.push(`  max_sizes: ${list(maxSizes)}`);
    lines.push(`  aspect_ratios: [${heads.map((h) => list(h.ratios)).join(', ')}]`);
    lines.push(`  flip: ${h0.flip}`, `  clip: ${h0.clip}`);
    // Caffe's step default is input / feature size, which is the spec's too, except where the spec's default is
    // DSOD300's written steps (300x300, 6 scales): there the steps are written out.
    const steps = heads.map((h) => h.step);
    const dsod300 = s.height === 300 && s.width === 300 && heads.length === 6;
    if (steps.some((v) => v !== null) || dsod300) {
      const sizes = heads.map((h) => this.featureWidth(h.feature, s.width));
      lines.push(`  steps: ${list(steps.map((v, i) => v ?? s.width / sizes[i]))}`);
    }
    lines.push(`  offset: ${h0.offset}`, `  variances: ${list(h0.variances)}`);

    // Training, from the solver and the train net beside the file.
    lines.push(...this.train(options, notes));
    return `${lines.join('\n')}\n`;
  }

  /** A feature map's width in the net: Caffe's shape rules (conv floor, pool ceil) from the input. */
  private featureWidth(id: number, inputWidth: number): number {
    const widths: number[] = [];
    for (const o of this.ops) {
      if (o.kind === 'input') widths[o.id] = inputWidth;
      else if (o.kind === 'conv') widths[o.id] = Math.floor((widths[o.inputs[0]] + 2 * o.conv!.pad - o.conv!.kernel) / o.conv!.stride) + 1;
      else if (o.kind === 'pool') {
        const w = widths[o.inputs[0]];
        let out = Math.ceil((w + 2 * o.pool!.pad - o.pool!.kernel) / o.pool!.stride) + 1;
        if (o.pool!.pad > 0 && (out - 1) * o.pool!.stride >= w + o.pool!.pad) out--;
        widths[o.id] = out;
      } else if (o.inputs.length) widths[o.id] = widths[o.inputs[0]];
      if (o.id === id) return widths[o.id];
    }
    return widths[id];
  }

  private train(options: ImportOptions, notes: string[]): string[] {
    const out: string[] = [];
    const trainNet =
      this.dataLayer && sub(this.dataLayer, 'include') && ident(sub(this.dataLayer, 'include'), 'phase') === 'TRAIN'
        ? this.dataLayer
        : options.train
          ? trainDataLayer(options.train)
          : null;
    const solver = options.solver !== undefined ? parseOrFail(options.solver) : null;
    if (!solver && !trainNet) return out;
    const lines: string[] = [];
    const iterSize = num(solver ?? undefined, 'iter_size') ?? 1;
    const batch = num(sub(trainNet ?? undefined, 'data_param'), 'batch_size');
    if (batch !== undefined) lines.push(`  batch: ${batch * iterSize}`);
    if (solver) {
      const policy = str(solver, 'lr_policy');
      if (policy !== undefined && policy !== 'multistep' && policy !== 'fixed')
        notes.push(`the solver's lr_policy "${policy}" is not multistep: milestones are left at the spec's defaults`);
      lines.push(`  accumulate: ${iterSize}`);
      const pairs: [string, number | undefined][] = [
        ['lr', num(solver, 'base_lr')],
        ['momentum', num(solver, 'momentum')],
        ['weight_decay', num(solver, 'weight_decay')],
        ['gamma', num(solver, 'gamma')],
        ['iterations', num(solver, 'max_iter')],
        ['checkpoint_every', num(solver, 'snapshot')],
        ['seed', num(solver, 'random_seed')],
      ];
      for (const [k, v] of pairs) if (v !== undefined && !(k === 'checkpoint_every' && v === 0) && !(k === 'seed' && v < 0)) lines.push(`  ${k}: ${v}`);
      const steps = nums(solver, 'stepvalue');
      if (policy === 'multistep' && steps.length) lines.push(`  milestones: [${steps.join(', ')}]`);
    }
    if (trainNet) {
      const t = sub(trainNet, 'transform_param');
      const augment = sub(t, 'distort_param') || sub(t, 'expand_param') ? 'ssd' : bool(t, 'mirror') ? 'flip' : 'none';
      lines.push(`  augment: ${augment}`);
    }
    if (lines.length) out.push('', 'train:', ...lines);
    return out;
  }
}

function trainDataLayer(text: string): Message | null {
  const net = parseOrFail(text);
  for (const f of all(net, 'layer')) {
    if (!isMessage(f.value)) continue;
    const l = f.value as Message;
    if ((str(l, 'type') === 'AnnotatedData' || str(l, 'type') === 'Data') && ident(sub(l, 'include'), 'phase') !== 'TEST') return l;
  }
  return null;
}

interface Head {
  index: number;
  line: number;
  feature: number;
  l2norm: number | null;
  l2line: number;
  perLocation: number;
  loc: number;
  conf: number;
  confOp: Op;
  kernel: number;
  bnEps: number | null;
  minSize: number;
  maxSize: number | null;
  ratios: number[];
  flip: boolean;
  clip: boolean;
  variances: number[];
  step: number | null;
  offset: number;
}

interface Shape {
  name: string;
  channels: number;
  height: number;
  width: number;
  stemYaml: string;
  firstConv: number;
  blocks: { layers: number; growth: number; bottleneck: number }[];
  transitions: { conv: Op; pool: Op | null; inChannels: number }[];
  firstIndex: number;
  structure: 'dense' | 'plain';
  scaleChannels: number[];
  heads: Head[];
}
