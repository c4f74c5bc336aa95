// DSOD300 (VOC) must be the network of the official code, number for number (docs/dsod.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { defaultBoxes } from '../../core';
import { convOutSize, poolOutSize } from '../../core/graph/build';
import { analyze, DSOD300_FROZEN_YAML, DSOD300_YAML } from '../helpers';

const a = analyze(DSOD300_YAML);
const node = (name: string) => {
  const n = a.graph.nodes.find((x) => x.name === name);
  assert.ok(n, `no layer named ${name}`);
  return n;
};
const shapeOf = (name: string) => node(name).shape;

test('totals equal the official network', () => {
  assert.equal(a.totals.paramsLearned, 14_715_804);
  assert.equal(a.totals.bnStatistics, 80_024);
  assert.equal(a.totals.paramsStored, 14_795_828);
  assert.equal(a.totals.macs, 15_079_798_528);
  assert.equal(a.totals.flops, 2 * 15_079_798_528);
  assert.equal(a.totals.defaultBoxes, 8_744);
  assert.equal(a.totals.bnLayers, 92);
});

test('every batch norm stores 2C+1 running statistics besides its 2C learned values', () => {
  const bns = a.layers.filter((l) => l.kind === 'bn');
  assert.equal(bns.length, 92);
  for (const l of bns) {
    assert.equal(l.paramsLearned, 2 * l.shape[0]);
    assert.equal(l.paramsStored - l.paramsLearned, 2 * l.shape[0] + 1);
  }
  assert.equal(
    bns.reduce((n, l) => n + 2 * l.shape[0] + 1, 0),
    80_024,
  );
});

test('no convolution has a bias, and only convolutions cost MACs', () => {
  for (const l of a.layers) {
    if (l.kind === 'conv') {
      const n = node(l.name);
      const cin = a.layers[n.inputs[0]].shape[0];
      assert.equal(l.paramsLearned, cin * n.conv!.kernel ** 2 * n.conv!.out, l.name);
      assert.equal(l.macs, l.paramsLearned * l.shape[1] * l.shape[2], l.name);
    } else {
      assert.equal(l.macs, 0, l.name);
    }
  }
});

test('stem: three 3x3 convs (64, 64, 128, first stride 2) and a 2x2 max pool', () => {
  assert.deepEqual(shapeOf('stem/conv1'), [64, 150, 150]);
  assert.equal(node('stem/conv1').conv!.stride, 2);
  assert.deepEqual(shapeOf('stem/conv2'), [64, 150, 150]);
  assert.deepEqual(shapeOf('stem/conv3'), [128, 150, 150]);
  assert.deepEqual(shapeOf('stem/pool'), [128, 75, 75]);
  // post-activation: conv -> BN -> ReLU
  assert.deepEqual(node('stem/conv1/relu').inputs, [node('stem/conv1/bn').id]);
  assert.deepEqual(node('stem/conv1/bn').inputs, [node('stem/conv1').id]);
});

test('backbone stages have the shapes of the table in docs/dsod.md', () => {
  const expected: Record<string, [number, number, number]> = {
    'block1/layer6/concat': [416, 75, 75],
    'transition1/pool': [416, 38, 38],
    'block2/layer8/concat': [800, 38, 38],
    'transition2/conv1x1/conv': [800, 38, 38],
    'transition2/pool': [800, 19, 19],
    'block3/layer8/concat': [1184, 19, 19],
    'transition3/conv1x1/conv': [1184, 19, 19],
    'block4/layer8/concat': [1568, 19, 19],
    'transition4/conv1x1/conv': [256, 19, 19],
  };
  for (const [name, shape] of Object.entries(expected)) assert.deepEqual(shapeOf(name), shape, name);
  assert.equal(a.layers.filter((l) => l.name.endsWith('/concat') && l.stage.startsWith('block')).length, 6 + 8 + 8 + 8);
});

test('a dense layer is BN-ReLU-conv1x1 (192) then BN-ReLU-conv3x3 (48), concatenated after its input', () => {
  const bottleneck = node('block2/layer1/conv1x1/conv');
  const fresh = node('block2/layer1/conv3x3/conv');
  assert.deepEqual([bottleneck.conv!.out, bottleneck.conv!.kernel], [192, 1]);
  assert.deepEqual([fresh.conv!.out, fresh.conv!.kernel, fresh.conv!.pad], [48, 3, 1]);
  const concat = node('block2/layer1/concat');
  assert.deepEqual(concat.inputs, [node('transition1/pool').id, fresh.id]);
  assert.deepEqual(concat.shape, [464, 38, 38]);
});

test('prediction scales: First, then learned half + reused half', () => {
  assert.deepEqual(
    a.scales.map((s) => s.shape),
    [
      [800, 38, 38],
      [512, 19, 19],
      [512, 10, 10],
      [256, 5, 5],
      [256, 3, 3],
      [256, 2, 2],
    ],
  );
  assert.equal(a.graph.scales[0].feature, node('transition2/conv1x1/conv').id);
  // Scale 2: concat[learned (last transition, 256), reused (pool of First -> BN-ReLU-conv1x1 256)].
  assert.deepEqual(node('scale2/concat').inputs, [node('transition4/conv1x1/conv').id, node('scale2/reused/conv1x1/conv').id]);
  assert.deepEqual(node('scale2/reused/pool').inputs, [node('transition2/conv1x1/conv').id]);
  // Scales 3-6: concat[reused, learned], c = 256, 128, 128, 128.
  [256, 128, 128, 128].forEach((c, i) => {
    const k = i + 3;
    assert.deepEqual(node(`scale${k}/concat`).inputs, [node(`scale${k}/reused/conv1x1/conv`).id, node(`scale${k}/learned/conv3x3/conv`).id]);
    assert.equal(node(`scale${k}/reused/conv1x1/conv`).conv!.out, c);
    assert.equal(node(`scale${k}/learned/conv1x1/conv`).conv!.out, c);
    assert.deepEqual(node(`scale${k}/learned/conv3x3/conv`).conv, { out: c, kernel: 3, stride: 2, pad: 1 });
  });
});

test('L2 normalization on all six scales, initial scale 20; heads are conv 3x3 + BN (eps 0.001)', () => {
  const l2 = a.graph.nodes.filter((n) => n.kind === 'l2norm');
  assert.equal(l2.length, 6);
  assert.ok(l2.every((n) => n.l2norm!.init === 20));
  assert.equal(
    a.layers.filter((l) => l.kind === 'l2norm').reduce((n, l) => n + l.paramsLearned, 0),
    800 + 512 + 512 + 256 + 256 + 256,
  );
  const priors = [4, 6, 6, 6, 4, 4];
  a.graph.scales.forEach((s, i) => {
    assert.equal(s.priorsPerLocation, priors[i]);
    const loc = a.graph.nodes[s.loc];
    const conf = a.graph.nodes[s.conf];
    assert.equal(loc.kind, 'bn');
    assert.equal(loc.bn!.eps, 0.001);
    assert.equal(loc.shape[0], 4 * priors[i]);
    assert.equal(conf.shape[0], 21 * priors[i]);
  });
});

test('pooling rounds up and convolutions round down, as in Caffe', () => {
  assert.deepEqual(
    [75, 19, 5, 3].map((n) => poolOutSize(n, 2, 2, 0)),
    [38, 10, 3, 2],
  );
  assert.equal(convOutSize(300, 3, 2, 1), 150);
  assert.equal(convOutSize(19, 3, 2, 1), 10);
  assert.equal(convOutSize(5, 3, 2, 1), 3);
  assert.equal(convOutSize(2, 3, 2, 1), 1);
  // Caffe drops a last window that would start in the padding.
  assert.equal(poolOutSize(150, 3, 2, 1), 76);
  assert.equal(poolOutSize(4, 3, 2, 1), 3);
  assert.equal(poolOutSize(5, 2, 2, 1), 3);
});

test('default boxes: 8,744 corners in Caffe PriorBox order', () => {
  const boxes = defaultBoxes(a);
  assert.equal(boxes.length, 8_744 * 4);
  const box = (i: number) => Array.from(boxes.slice(4 * i, 4 * i + 4));
  const close = (got: number[], want: number[]) => got.forEach((g, j) => assert.ok(Math.abs(g - want[j]) < 1e-6, `${got} vs ${want}`));
  // Scale 1, location (0, 0): centre (4, 4); min box 30, then sqrt(30*60), then ratio 2 and 1/2.
  close(box(0), [-11 / 300, -11 / 300, 19 / 300, 19 / 300]);
  const s = Math.sqrt(30 * 60) / 2;
  close(box(1), [(4 - s) / 300, (4 - s) / 300, (4 + s) / 300, (4 + s) / 300]);
  const w = (30 * Math.SQRT2) / 2;
  const h = 30 / Math.SQRT2 / 2;
  close(box(2), [(4 - w) / 300, (4 - h) / 300, (4 + w) / 300, (4 + h) / 300]);
  close(box(3), [(4 - h) / 300, (4 - w) / 300, (4 + h) / 300, (4 + w) / 300]);
  // Scale 6 (2x2, step 300, no clipping): the last box is centred at (450, 450).
  const last = box(8_743);
  close([(last[0] + last[2]) / 2, (last[1] + last[3]) / 2], [1.5, 1.5]);
});

test('a spec of only `dsod: 1` is DSOD300: every default is the official value', () => {
  const minimal = analyze('dsod: 1\n');
  assert.deepEqual(minimal.totals, a.totals);
  assert.deepEqual(minimal.layers, a.layers);
});

test('the JSON form of DSOD300 gives the same network', () => {
  const json = JSON.stringify(parseYaml(DSOD300_YAML), null, 2);
  const fromJson = analyze(json, 'json');
  assert.deepEqual(fromJson.totals, a.totals);
  assert.deepEqual(fromJson.layers, a.layers);
});

test("left-out priors are DSOD300's, box for box", () => {
  const minimal = analyze('dsod: 1\n');
  assert.deepEqual(defaultBoxes(minimal), defaultBoxes(a));
});

test('the frozen DSOD300 that position-pinning tests use is the same network as the example', () => {
  const example = analyze(DSOD300_YAML);
  const frozen = analyze(DSOD300_FROZEN_YAML);
  assert.deepEqual(frozen.totals, example.totals);
  assert.deepEqual(
    frozen.layers.map((l) => [l.name, l.shape]),
    example.layers.map((l) => [l.name, l.shape]),
  );
});
