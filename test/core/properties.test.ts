// Properties that hold for every valid spec, checked on the examples and on random members of the DSOD family.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { defaultBoxes, type Analysis } from '../../core';
import { analyze, exampleFiles, readRepoFile, rng } from '../helpers';

/** A random member of the DSOD family as spec data: backbone, structure, scales, classes, input. */
function randomSpec(seed: number): Record<string, any> {
  const r = rng(seed);
  const blocks = Array.from({ length: r.int(2, 4) }, () => r.int(1, 6));
  const size = r.pick([96, 128, 160, 300, 320]);
  const k = r.int(4, 48);
  const spec: Record<string, any> = {
    dsod: 1,
    name: `random-${seed}`,
    input: { size: r.next() < 0.3 ? [size, size + 32] : size },
    classes: r.int(2, 100),
    backbone: {
      notation: `DS/${r.pick([16, 32, 64])}-${r.int(1, 4) * k}-${k}-${r.pick([0.5, 0.75, 1])}`,
      stem: r.next() < 0.8,
      blocks,
    },
    prediction: { structure: r.pick(['dense', 'plain']), scales: r.int(2, 5) },
  };
  return spec;
}

/** Tries this many seeds for a valid spec: most random specs are valid, so running out means the generator broke. */
const MAX_TRIES = 50;

function randomValid(seed: number): { data: Record<string, any>; a: Analysis } {
  const failures: string[] = [];
  for (let t = 0, s = seed; t < MAX_TRIES; t++, s += 1000) {
    const data = randomSpec(s);
    try {
      return { data, a: analyze(YAML.stringify(data)) };
    } catch (e) {
      // a random spec may be invalid (a prior list, a degenerate scale): try the next one
      failures.push(`seed ${s}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no valid random spec in ${MAX_TRIES} seeds from ${seed}:\n${failures.slice(0, 5).join('\n')}`);
}

const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);

function checkTotals(a: Analysis, label: string) {
  assert.equal(a.totals.paramsLearned, sum(a.layers.map((l) => l.paramsLearned)), label);
  assert.equal(a.totals.paramsStored, sum(a.layers.map((l) => l.paramsStored)), label);
  assert.equal(a.totals.macs, sum(a.layers.map((l) => l.macs)), label);
  assert.equal(a.totals.flops, 2 * a.totals.macs, label);
  assert.equal(a.totals.paramsLearned, sum(a.stages.map((s) => s.paramsLearned)), label);
  assert.equal(a.totals.macs, sum(a.stages.map((s) => s.macs)), label);
  for (const s of a.stages) {
    const mine = a.layers.filter((l) => l.stage === s.name);
    assert.equal(s.ops, mine.length, label);
    assert.equal(s.denseLayers, s.kind === 'block' ? a.spec.backbone.blocks[s.index! - 1].layers : 0, label);
    assert.equal(s.paramsStored, sum(mine.map((l) => l.paramsStored)), label);
  }
  assert.equal(a.totals.defaultBoxes, sum(a.scales.map((s) => s.shape[1] * s.shape[2] * s.priorsPerLocation)), label);
  assert.equal(defaultBoxes(a).length, 4 * a.totals.defaultBoxes, label);
  assert.equal(a.totals.paramsStored - a.totals.paramsLearned, sum(a.layers.filter((l) => l.kind === 'bn').map((l) => 2 * l.shape[0] + 1)), label);
}

test('every example analyzes, and its totals are the sums over its layers and stages', () => {
  const files = exampleFiles();
  assert.ok(files.length >= 12, `only ${files.length} examples`);
  for (const f of files) checkTotals(analyze(readRepoFile(f)), f);
});

test('random specs: totals are the sums over layers and stages', () => {
  for (let seed = 1; seed <= 60; seed++) checkTotals(randomValid(seed).a, `seed ${seed}`);
});

/** What the confidence heads must change by when the class count changes by `delta`, from first principles. */
function expectedConfDelta(a: Analysis, delta: number) {
  const k = a.spec.heads.kernel;
  let learned = 0;
  let stored = 0;
  let macs = 0;
  for (const s of a.scales) {
    const c = s.shape[0];
    const out = delta * s.priorsPerLocation;
    learned += c * k * k * out + 2 * out; // conv weights, BN gamma/beta
    stored += c * k * k * out + 4 * out; // + BN mean and variance (the moving-average factor does not depend on width)
    macs += c * k * k * out * s.shape[1] * s.shape[2];
  }
  return { learned, stored, macs };
}

test('changing the class count changes only the confidence heads, by the computed amount', () => {
  const cases: [string, Record<string, any>][] = [['dsod300', YAML.parse(readRepoFile('examples/dsod300.dsod.yaml'))]];
  for (let seed = 100; seed < 130; seed++) cases.push([`seed ${seed}`, randomValid(seed).data]);
  for (const [label, data] of cases) {
    const before = analyze(YAML.stringify(data));
    const delta = 1 + (label.length % 7) * 10;
    const after = analyze(YAML.stringify({ ...data, classes: before.spec.classes.count + delta }));
    const want = expectedConfDelta(before, delta);
    assert.equal(after.totals.paramsLearned - before.totals.paramsLearned, want.learned, label);
    assert.equal(after.totals.paramsStored - before.totals.paramsStored, want.stored, label);
    assert.equal(after.totals.macs - before.totals.macs, want.macs, label);
    assert.equal(after.layers.length, before.layers.length, label);
    after.layers.forEach((l, i) => {
      const b = before.layers[i];
      if (l.name.includes('/conf/')) return;
      assert.deepEqual(l, b, `${label}: ${l.name} changed`);
    });
  }
  // The COCO head of DSOD300 differs from the VOC one by exactly 60 classes' worth of confidence heads.
  const voc = analyze(readRepoFile('examples/dsod300.dsod.yaml'));
  const coco = analyze(readRepoFile('examples/dsod300-coco.dsod.yaml'));
  assert.equal(coco.totals.paramsLearned - voc.totals.paramsLearned, expectedConfDelta(voc, 60).learned);
});

test('the notation and its explicit expansion give identical graphs', () => {
  for (let seed = 200; seed < 240; seed++) {
    const { data, a } = randomValid(seed);
    const [A, B, k, theta] = data.backbone.notation.slice(3).split('-').map(Number);
    const explicit = structuredClone(data);
    delete explicit.backbone.notation;
    Object.assign(explicit.backbone, { first_conv: A, bottleneck: B, growth_rate: k, compression: theta });
    if (explicit.backbone.stem) explicit.backbone.stem = { convs: [A, A, 2 * A], pool: 'max' };
    explicit.backbone.blocks = explicit.backbone.blocks.map((layers: number) => ({ layers, growth_rate: k, bottleneck: B }));
    const e = analyze(YAML.stringify(explicit));
    assert.deepEqual(e.graph.nodes, a.graph.nodes, `seed ${seed}`);
    assert.deepEqual(e.totals, a.totals, `seed ${seed}`);
  }
});

test('YAML and JSON forms of the same spec give the same analysis', () => {
  for (let seed = 300; seed < 320; seed++) {
    const { data, a } = randomValid(seed);
    const j = analyze(JSON.stringify(data), 'json');
    assert.deepEqual(j.layers, a.layers, `seed ${seed}`);
  }
});

test('receptive fields grow monotonically along every edge', () => {
  for (const f of exampleFiles()) {
    const a = analyze(readRepoFile(f));
    for (const n of a.graph.nodes) for (const i of n.inputs) assert.ok(a.layers[n.id].receptiveField >= a.layers[i].receptiveField, `${f} ${n.name}`);
  }
});
