// Caffe interop (issue 14, items 1 and 2): `dsod export --caffe` writes the official DSOD layer set; its deploy net,
// counted here layer by layer by Caffe's own rules (independently of the exporter), holds core's parameters; `dsod
// import --caffe` reads every example's export back into a spec with the identical analysis; bad input (a truncated
// file, an unknown layer type, a layer outside the family, an unwritable folder) gets a clear error and no output.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Analysis } from '../../core';
import {
  all,
  first,
  Ident,
  isMessage,
  num,
  nums,
  parsePrototxt,
  PrototxtError,
  str,
  strs,
  sub,
  writePrototxt,
  type Message,
  type TextFields,
} from '../../engine/caffe/prototxt';
import { dsodInProcess } from './train-fixtures';
import { analyze, edit, exampleFiles, readRepoFile, repoRoot } from '../helpers';

const dir = mkdtempSync(join(tmpdir(), 'dsod-caffe-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const dsod = (...args: string[]) => dsodInProcess(args);

const outFor = (file: string) => join(dir, file.replace(/[/\\]/g, '_'));

async function exported(file: string): Promise<string> {
  const out = outFor(file);
  if (!existsSync(join(out, 'deploy.prototxt'))) {
    const r = await dsod('export', '--caffe', join(repoRoot, file), '--out', out);
    assert.equal(r.code, 0, r.stderr);
  }
  return out;
}

/**
 * Learned and stored values per layer of a Caffe net, by Caffe's rules: Convolution weights (and its bias unless
 * bias_term is false), BatchNorm's mean, variance and moving-average factor (stored, not learned), Scale's gamma and
 * beta (counted with the BatchNorm whose output it scales), Normalize's per-channel scale. Channels follow the blobs.
 */
function caffeCounts(net: Message): Map<string, { learned: number; stored: number }> {
  const channels = new Map<string, number>();
  const input = strs(net, 'input')[0];
  if (input) channels.set(input, nums(sub(net, 'input_shape'), 'dim')[1]);
  const counts = new Map<string, { learned: number; stored: number }>();
  const bnOf = new Map<string, string>();
  for (const f of all(net, 'layer')) {
    const layer = f.value as Message;
    const name = str(layer, 'name')!;
    const type = str(layer, 'type')!;
    const bottoms = strs(layer, 'bottom');
    const tops = strs(layer, 'top');
    const c = channels.get(bottoms[0]);
    if (c === undefined) continue; // past the heads' Permute: no more parameters
    let out = c;
    const add = (owner: string, learned: number, stored: number) => {
      const x = counts.get(owner) ?? { learned: 0, stored: 0 };
      counts.set(owner, { learned: x.learned + learned, stored: x.stored + stored });
    };
    switch (type) {
      case 'Convolution': {
        const p = sub(layer, 'convolution_param')!;
        const k = num(p, 'kernel_size')!;
        out = num(p, 'num_output')!;
        const weights = out * (c / (num(p, 'group') ?? 1)) * k * k;
        const bias = first(p, 'bias_term')?.value === false ? 0 : out;
        add(name, weights + bias, weights + bias);
        break;
      }
      case 'BatchNorm':
        add(name, 0, 2 * c + 1);
        for (const t of tops) bnOf.set(t, name);
        break;
      case 'Scale': {
        const bias = first(sub(layer, 'scale_param')!, 'bias_term')?.value === true;
        const owner = bnOf.get(bottoms[0]) ?? name;
        add(owner, (bias ? 2 : 1) * c, (bias ? 2 : 1) * c);
        break;
      }
      case 'Normalize': {
        const shared = first(sub(layer, 'norm_param')!, 'channel_shared')?.value === true;
        add(name, shared ? 1 : c, shared ? 1 : c);
        break;
      }
      case 'Concat':
        if ((num(sub(layer, 'concat_param'), 'axis') ?? 1) !== 1 || bottoms.some((b) => !channels.has(b))) continue;
        out = bottoms.reduce((s, b) => s + channels.get(b)!, 0);
        break;
      case 'Pooling':
      case 'ReLU':
        break;
      default:
        continue;
    }
    for (const t of tops) channels.set(t, out);
  }
  return counts;
}

function coreCounts(a: Analysis): Map<string, { learned: number; stored: number }> {
  return new Map(a.layers.filter((l) => l.paramsStored > 0).map((l) => [l.name, { learned: l.paramsLearned, stored: l.paramsStored }]));
}

const examples = exampleFiles();

test('the examples are DSOD300, COCO, lite, tiny and the eight ablation rows', () => {
  for (const f of ['dsod300.dsod.yaml', 'dsod300-coco.dsod.yaml', 'dsod300-lite.dsod.yaml', 'tiny.dsod.yaml'])
    assert.ok(examples.includes(join('examples', f)), f);
  assert.equal(examples.filter((f) => f.includes('ablation')).length, 8);
});

for (const file of examples) {
  test(`${file}: the exported deploy net holds core's learned and stored parameters, layer by layer`, async () => {
    const out = await exported(file);
    assert.deepEqual(readdirSync(out).sort(), ['deploy.prototxt', 'solver.prototxt', 'test.prototxt', 'train.prototxt']);
    const a = analyze(readRepoFile(file));
    const caffe = caffeCounts(parsePrototxt(readFileSync(join(out, 'deploy.prototxt'), 'utf8')));
    const core = coreCounts(a);
    assert.deepEqual([...caffe.keys()].sort(), [...core.keys()].sort(), 'the same layers carry parameters');
    for (const [name, c] of core) assert.deepEqual(caffe.get(name), c, name);
    const sum = (k: 'learned' | 'stored') => [...caffe.values()].reduce((s, c) => s + c[k], 0);
    assert.equal(sum('learned'), a.totals.paramsLearned);
    assert.equal(sum('stored'), a.totals.paramsStored);
  });

  test(`${file}: export then import (deploy, and train) gives the identical analysis`, async () => {
    const out = await exported(file);
    const a = analyze(readRepoFile(file));
    for (const net of ['deploy.prototxt', 'train.prototxt']) {
      const r = await dsod('import', '--caffe', join(out, net));
      assert.equal(r.code, 0, r.stderr);
      const b = analyze(r.stdout);
      assert.deepEqual(b.totals, a.totals, `${net}: totals`);
      assert.deepEqual(
        b.layers.map((l) => [l.name, l.kind, l.shape, l.paramsLearned, l.paramsStored, l.macs]),
        a.layers.map((l) => [l.name, l.kind, l.shape, l.paramsLearned, l.paramsStored, l.macs]),
        `${net}: every layer`,
      );
      assert.deepEqual(b.scales, a.scales, `${net}: scales and default boxes`);
      assert.equal(b.spec.classes.count, a.spec.classes.count);
      const t = (x: Analysis) => ({ ...x.spec.train, warmup: 0, augment: x.spec.train.augment });
      assert.deepEqual(t(b), t(a), `${net}: the train section, from the solver and the train net (less the warm-up)`);
    }
  });
}

/**
 * The net as Caffe's NetSpec names things (Convolution1, BatchNorm7, blobs by their layer), with every BatchNorm whose
 * input nothing else reads computed in place, as SSD's heads are: nothing of the exporter's naming is left.
 */
function renamed(text: string): string {
  const net = parsePrototxt(text);
  const blobs = new Map<string, string>();
  const readers = new Map<string, number>();
  for (const f of all(net, 'layer')) for (const b of strs(f.value as Message, 'bottom')) readers.set(b, (readers.get(b) ?? 0) + 1);
  const perType = new Map<string, number>();
  const fields = (m: Message): TextFields => m.fields.map((f) => [f.name, isMessage(f.value) ? fields(f.value) : f.value]);
  const layers = all(net, 'layer').map((f) => {
    const layer = f.value as Message;
    const type = str(layer, 'type')!;
    const n = (perType.get(type) ?? 0) + 1;
    perType.set(type, n);
    const bottoms = strs(layer, 'bottom');
    const inPlace = type === 'BatchNorm' && readers.get(bottoms[0]) === 1;
    const out: TextFields = [];
    for (const x of layer.fields) {
      if (x.name === 'name') out.push(['name', `${type}${n}`]);
      else if (x.name === 'bottom') out.push(['bottom', blobs.get(x.value as string) ?? (x.value as string)]);
      else if (x.name === 'top') {
        const old = x.value as string;
        if (!bottoms.includes(old)) blobs.set(old, inPlace ? blobs.get(bottoms[0])! : `${type}${n}`);
        out.push(['top', blobs.get(old)!]);
      } else out.push([x.name, isMessage(x.value) ? fields(x.value) : x.value]);
    }
    return ['layer', out] as [string, TextFields];
  });
  return writePrototxt([
    ...net.fields
      .filter((f) => f.name !== 'layer')
      .map((f): [string, TextFields | (typeof f)['value']] => [f.name, isMessage(f.value) ? fields(f.value) : f.value]),
    ...layers,
  ] as TextFields);
}

for (const file of [join('examples', 'dsod300.dsod.yaml'), join('examples', 'ablation', '01-ds32-12-16-0.5.dsod.yaml'), join('examples', 'tiny.dsod.yaml')]) {
  test(`${file}: import reads the structure, not the names: renamed layers and blobs, BatchNorm in place, the same analysis`, async () => {
    const out = await exported(file);
    const d = join(dir, `renamed-${file.replace(/[/\\]/g, '_')}`);
    mkdirSync(d, { recursive: true });
    const text = renamed(readFileSync(join(out, 'deploy.prototxt'), 'utf8'));
    assert.ok(!/"(stem|block|transition|scale|head)\d*\//.test(text), 'no name of the graph is left');
    assert.match(text, /name: "BatchNorm\d+"\n {2}type: "BatchNorm"\n {2}bottom: "(Convolution\d+)"\n {2}top: "\1"/);
    writeFileSync(join(d, 'deploy.prototxt'), text);
    const r = await dsod('import', '--caffe', join(d, 'deploy.prototxt'));
    assert.equal(r.code, 0, r.stderr);
    const a = analyze(readRepoFile(file));
    const b = analyze(r.stdout);
    assert.deepEqual(b.totals, a.totals);
    assert.deepEqual(b.scales, a.scales);
    assert.deepEqual(
      b.layers.map((l) => [l.name, l.shape, l.paramsStored]),
      a.layers.map((l) => [l.name, l.shape, l.paramsStored]),
    );
  });
}

/** What the spec language says beyond the examples, each an edit of the tiny spec. */
const VARIANTS: [string, [string, string][]][] = [
  ['heads without batch norm', [['batch_norm: true, bn_eps: 0.001', 'batch_norm: false']]],
  ['L2Norm on scale 1 only, init 10', [['l2norm: { init: 20, scales: all }', 'l2norm: { init: 10, scales: first }']]],
  ['no L2Norm', [['l2norm: { init: 20, scales: all }', 'l2norm: false']]],
  [
    'a stem without its pool',
    [
      ['pool: max }', 'pool: none }'],
      ['  steps: [4, 8, 16, 32]\n', ''],
    ],
  ],
  ['grey input', [['channels: 3 }', 'channels: 1 }']]],
  ['a 96x128 input', [['size: [96, 96]', 'size: [96, 128]']]],
  ['default steps', [['  steps: [4, 8, 16, 32]\n', '']]],
  ['1x1 heads', [['kernel: 3, batch_norm', 'kernel: 1, batch_norm']]],
  [
    'the plain structure',
    [
      ['structure: dense  ', 'structure: plain  '],
      ['channels: [56, 96, 96, 48]', 'channels: [56, 48, 96, 48]'],
    ],
  ],
  ['a block of its own widths', [['blocks: [3, 4, 4]', 'blocks: [3, { layers: 4, growth_rate: 12, bottleneck: 24 }, 4]']]],
  [
    'compression 0.5',
    [
      ['notation: DS/16-32-8-1 ', 'notation: DS/16-32-8-0.5'],
      ['channels: [56, 96, 96, 48]', 'channels: [28, 96, 96, 48]'],
    ],
  ],
];

for (const [what, edits] of VARIANTS) {
  test(`the tiny spec with ${what}: export then import gives the identical analysis`, async () => {
    const text = edits.reduce((t, [from, to]) => edit(t, from, to), readRepoFile(join('examples', 'tiny.dsod.yaml')));
    const spec = join(dir, `variant-${what.replace(/\W+/g, '-')}.dsod.yaml`);
    writeFileSync(spec, text);
    const out = `${spec}-caffe`;
    const r = await dsod('export', '--caffe', spec, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const back = await dsod('import', '--caffe', join(out, 'deploy.prototxt'));
    assert.equal(back.code, 0, back.stderr);
    const a = analyze(text);
    const b = analyze(back.stdout);
    assert.deepEqual(b.totals, a.totals);
    assert.deepEqual(b.scales, a.scales);
    assert.deepEqual(
      b.layers.map((l) => [l.name, l.shape, l.paramsLearned, l.paramsStored, l.macs]),
      a.layers.map((l) => [l.name, l.shape, l.paramsLearned, l.paramsStored, l.macs]),
    );
    assert.deepEqual([b.spec.heads, b.spec.prediction.l2norm, b.spec.input], [a.spec.heads, a.spec.prediction.l2norm, a.spec.input]);
  });
}

test("DSOD300's deploy net, counted by Caffe's rules, is the published 14,715,804 learned and 14,795,828 stored", async () => {
  const out = await exported(join('examples', 'dsod300.dsod.yaml'));
  const caffe = caffeCounts(parsePrototxt(readFileSync(join(out, 'deploy.prototxt'), 'utf8')));
  const sum = (k: 'learned' | 'stored') => [...caffe.values()].reduce((s, c) => s + c[k], 0);
  assert.equal(sum('learned'), 14_715_804);
  assert.equal(sum('stored'), 14_795_828);
});

test('the nets use the official layer set and parameters: no conv bias, BatchNorm + Scale, ceil pooling, PriorBox, loss and detection', async () => {
  const out = await exported(join('examples', 'dsod300.dsod.yaml'));
  const layers = (f: string) => all(parsePrototxt(readFileSync(join(out, f), 'utf8')), 'layer').map((x) => x.value as Message);
  const deploy = layers('deploy.prototxt');
  const types = new Set(deploy.map((l) => str(l, 'type')));
  for (const t of ['Convolution', 'BatchNorm', 'Scale', 'ReLU', 'Concat', 'Pooling', 'Normalize', 'PriorBox', 'Permute', 'Flatten', 'DetectionOutput'])
    assert.ok(types.has(t), t);
  assert.ok(!types.has('MultiBoxLoss') && !types.has('AnnotatedData'));
  for (const c of deploy.filter((l) => str(l, 'type') === 'Convolution')) assert.equal(first(sub(c, 'convolution_param')!, 'bias_term')?.value, false);
  const pools = deploy.filter((l) => str(l, 'type') === 'Pooling').map((l) => sub(l, 'pooling_param')!);
  assert.ok(pools.every((p) => (first(p, 'pool')?.value as Ident).name === 'MAX'));
  const priors = deploy.filter((l) => str(l, 'type') === 'PriorBox').map((l) => sub(l, 'prior_box_param')!);
  assert.deepEqual(
    priors.map((p) => [num(p, 'min_size'), num(p, 'max_size'), nums(p, 'aspect_ratio'), num(p, 'step')]),
    [
      [30, 60, [2], 8],
      [60, 111, [2, 3], 16],
      [111, 162, [2, 3], 32],
      [162, 213, [2, 3], 64],
      [213, 264, [2], 100],
      [264, 315, [2], 300],
    ],
  );
  assert.deepEqual(nums(priors[0], 'variance'), [0.1, 0.1, 0.2, 0.2]);
  const train = layers('train.prototxt');
  assert.equal(str(train[0], 'type'), 'AnnotatedData');
  assert.ok(sub(sub(train[0], 'transform_param'), 'distort_param') && sub(sub(train[0], 'transform_param'), 'expand_param'), 'SSD augmentation');
  assert.equal(all(sub(train[0], 'annotated_data_param')!, 'batch_sampler').length, 7);
  assert.equal(num(sub(train[0], 'data_param'), 'batch_size'), 32);
  const loss = train.find((l) => str(l, 'type') === 'MultiBoxLoss')!;
  assert.deepEqual(strs(loss, 'bottom'), ['mbox_loc', 'mbox_conf', 'mbox_priorbox', 'label']);
  const solver = parsePrototxt(readFileSync(join(out, 'solver.prototxt'), 'utf8'));
  assert.deepEqual(
    [num(solver, 'base_lr'), num(solver, 'momentum'), num(solver, 'weight_decay'), num(solver, 'iter_size'), num(solver, 'max_iter'), str(solver, 'lr_policy')],
    [0.1, 0.9, 0.0005, 4, 100000, 'multistep'],
  );
  assert.deepEqual(nums(solver, 'stepvalue'), [20000, 40000, 60000, 80000]);
});

test('the tiny spec warms up: the export says Caffe has no warm-up, at the spec line, and still writes', async () => {
  const r = await dsod('export', '--caffe', join(repoRoot, 'examples', 'tiny.dsod.yaml'), '--out', join(dir, 'tiny-warn'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /tiny\.dsod\.yaml:\d+:\d+: warning: Caffe's multistep policy has no warm-up/);
});

test('what Caffe cannot express is an error at the spec location, and nothing is written', async () => {
  const spec = join(dir, 'four-channels.dsod.yaml');
  writeFileSync(spec, readRepoFile(join('examples', 'tiny.dsod.yaml')).replace('channels: 3 }', 'channels: 4 }'));
  const out = join(dir, 'four-out');
  const r = await dsod('export', '--caffe', spec, '--out', out);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /four-channels\.dsod\.yaml:10:\d+: error: Caffe cannot express this spec: the input has 4 channels/);
  assert.ok(!existsSync(out));
  // A batch that Caffe's iter_size cannot split evenly.
  const odd = join(dir, 'odd-batch.dsod.yaml');
  writeFileSync(odd, readRepoFile(join('examples', 'tiny.dsod.yaml')).replace('  batch: 8\n', '  batch: 9\n  accumulate: 2\n'));
  const b = await dsod('export', '--caffe', odd, '--out', join(dir, 'odd-out'));
  assert.equal(b.code, 1);
  assert.match(b.stderr, /odd-batch\.dsod\.yaml:43:3: error: Caffe cannot express this spec: a batch of 9 does not split into 2 equal parts/);
  assert.ok(!existsSync(join(dir, 'odd-out')));
});

test('an unwritable output folder is an I/O error naming it; no file and no temporary folder is left', async () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const r = await dsod('export', '--caffe', join(repoRoot, 'examples', 'tiny.dsod.yaml'), '--out', join(file, 'out'));
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /cannot write .*a-file/);
  // A folder whose deploy.prototxt is a folder: refused before any file is moved in.
  const taken = join(dir, 'taken');
  mkdirSync(join(taken, 'deploy.prototxt'), { recursive: true });
  const t = await dsod('export', '--caffe', join(repoRoot, 'examples', 'tiny.dsod.yaml'), '--out', taken);
  assert.equal(t.code, 3, t.stderr);
  assert.match(t.stderr, /deploy\.prototxt/);
  assert.deepEqual(readdirSync(taken), ['deploy.prototxt']);
  assert.ok(!readdirSync(dir).some((n) => n.includes('.tmp-')));
});

test('exporting into an existing folder replaces the four files and keeps the rest', async () => {
  const out = join(dir, 'existing');
  mkdirSync(out);
  writeFileSync(join(out, 'notes.txt'), 'mine');
  writeFileSync(join(out, 'deploy.prototxt'), 'old');
  const r = await dsod('export', '--caffe', join(repoRoot, 'examples', 'tiny.dsod.yaml'), '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['deploy.prototxt', 'notes.txt', 'solver.prototxt', 'test.prototxt', 'train.prototxt']);
  assert.notEqual(readFileSync(join(out, 'deploy.prototxt'), 'utf8'), 'old');
});

/** The tiny example's deploy net, altered, as a file to import (no solver beside it). */
async function altered(name: string, change: (text: string) => string): Promise<string> {
  const text = readFileSync(join(await exported(join('examples', 'tiny.dsod.yaml')), 'deploy.prototxt'), 'utf8');
  const d = join(dir, `import-${name}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'deploy.prototxt'), change(text));
  return join(d, 'deploy.prototxt');
}

const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

test('a truncated prototxt is an error with its line; --out is not written', async () => {
  const file = await altered('truncated', (t) => t.slice(0, Math.floor(t.length / 2)));
  const out = join(dir, 'truncated.dsod.yaml');
  const r = await dsod('import', '--caffe', file, '--out', out);
  assert.equal(r.code, 1);
  const lines = readFileSync(file, 'utf8').split('\n').length;
  assert.match(r.stderr, new RegExp(`deploy\\.prototxt:${lines}: error: the file ends too early`));
  assert.ok(!existsSync(out));
});

test('an unknown layer type is an error naming the layer, with its line', async () => {
  const file = await altered('unknown', (t) => t.replace('type: "ReLU"', 'type: "Frobnicate"'));
  const r = await dsod('import', '--caffe', file);
  assert.equal(r.code, 1);
  const text = readFileSync(file, 'utf8');
  const line = lineOf(text, 'type: "Frobnicate"') - 2; // the `layer {` line
  assert.match(r.stderr, new RegExp(`deploy\\.prototxt:${line}: error: layer "stem/conv1/relu" \\(Frobnicate\\): unknown layer type "Frobnicate"`));
});

test('a Caffe layer outside the family, or one more layer in the structure, is an error naming the first such layer', async () => {
  const prelu = await altered('prelu', (t) => t.replace('type: "ReLU"', 'type: "PReLU"'));
  const r = await dsod('import', '--caffe', prelu);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: layer "stem\/conv1\/relu" \(PReLU\): a PReLU layer cannot be expressed in a DSOD spec/);
  // An extra pool reading a dense block: every layer is a known type, but this one is in no DSOD place.
  const extra = await altered('extra', (t) =>
    t.replace(
      'layer {\n  name: "transition1/conv1x1/bn"',
      'layer {\n  name: "stray"\n  type: "Pooling"\n  bottom: "block1/layer3/concat"\n  top: "stray"\n  pooling_param {\n    pool: MAX\n    kernel_size: 2\n    stride: 2\n  }\n}\nlayer {\n  name: "transition1/conv1x1/bn"',
    ),
  );
  const e = await dsod('import', '--caffe', extra);
  assert.equal(e.code, 1);
  assert.match(
    e.stderr,
    new RegExp(
      `deploy\\.prototxt:${lineOf(readFileSync(extra, 'utf8'), 'name: "stray"') - 1}: error: layer "stray" \\(Pooling\\): this layer is not part of the DSOD structure`,
    ),
  );
  // SSD's VGG: a convolution with a bias (Caffe's default) is where it stops.
  const vgg = join(dir, 'vgg.prototxt');
  writeFileSync(
    vgg,
    'name: "VGG_SSD"\ninput: "data"\ninput_shape { dim: 1 dim: 3 dim: 300 dim: 300 }\nlayer {\n  name: "conv1_1"\n  type: "Convolution"\n  bottom: "data"\n  top: "conv1_1"\n  convolution_param { num_output: 64 pad: 1 kernel_size: 3 }\n}\n',
  );
  const v = await dsod('import', '--caffe', vgg);
  assert.equal(v.code, 1);
  assert.match(v.stderr, /vgg\.prototxt:4: error: layer "conv1_1" \(Convolution\): DSOD's convolutions have no bias/);
});

test('the text-format parser: nested messages, repeated fields, lists, comments, escapes; errors with their line', () => {
  const m = parsePrototxt('# c\nname: "a\\"b" # tail\nlayer { top: "x" top: "y" p <k: 1> }\nv: [1, 2.5e-1, -3]\ne: MAX\nb: true\n');
  assert.equal(str(m, 'name'), 'a"b');
  const layer = sub(m, 'layer')!;
  assert.deepEqual(strs(layer, 'top'), ['x', 'y']);
  assert.equal(num(sub(layer, 'p'), 'k'), 1);
  assert.deepEqual(nums(m, 'v'), [1, 0.25, -3]);
  assert.ok(first(m, 'e')!.value instanceof Ident);
  assert.equal(first(m, 'b')!.value, true);
  assert.equal(first(m, 'layer')!.line, 3);
  assert.ok(isMessage(first(m, 'layer')!.value));
  const err = (text: string) => {
    try {
      parsePrototxt(text);
    } catch (e) {
      assert.ok(e instanceof PrototxtError);
      return [e.line, e.reason];
    }
    return null;
  };
  assert.deepEqual(err('layer {\n  name: "x"\n'), [3, 'the file ends too early: a message opened on line 1 is not closed']);
  assert.deepEqual(err('a: "open\n'), [1, 'a string is not closed']);
  assert.deepEqual(err('a: 1\nb 2\n'), [2, 'expected : or { after b, found "2"']);
  assert.deepEqual(err('a: 1\n}\n'), [2, 'expected a field name, found "}"']);
});

test('usage errors: --caffe without --out, two formats at once, import without --caffe', async () => {
  const spec = join(repoRoot, 'examples', 'tiny.dsod.yaml');
  const noOut = await dsod('export', '--caffe', spec);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /export --caffe writes four files: say where with --out <folder>/);
  const both = await dsod('export', '--caffe', spec, '--graph', spec);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /one format at a time/);
  const none = await dsod('import', 'x.prototxt');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /unexpected argument "x\.prototxt"/);
  const missing = await dsod('import', '--caffe', join(dir, 'nowhere.prototxt'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*nowhere\.prototxt: ENOENT/);
});

test('dsod --help lists import --caffe and export --caffe', async () => {
  const r = await dsod('--help');
  assert.match(r.stdout, /import --caffe <file\.prototxt>/);
  assert.match(r.stdout, /export --caffe <spec> --out <folder>/);
});
