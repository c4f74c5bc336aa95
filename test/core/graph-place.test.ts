// Every layer carries its place in the detector as typed data (stage kind and number, dense layer, head role, scale
// half), so that no room has to recover it from a layer's name (issue 11, item 1).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findStage, type LayerNode } from '../../core';
import { analyze, DSOD300_YAML, readRepoFile } from '../helpers';

const dsod300 = analyze(DSOD300_YAML);
const plain = analyze(readRepoFile('examples/ablation/07-stem.dsod.yaml'));

const byStage = (nodes: LayerNode[], kind: LayerNode['stageKind']) => nodes.filter((n) => n.stageKind === kind);

test('every head layer has a role: its L2Norm, its box offsets (loc) or its class scores (conf)', () => {
  for (const a of [dsod300, plain]) {
    const heads = byStage(a.graph.nodes, 'head');
    assert.ok(heads.length > 0);
    for (const n of heads) assert.notEqual(n.headRole, null, `${n.name} has no head role`);
    // The scale table's loc and conf outputs are the layers of those roles, in the head of that scale.
    for (const s of a.graph.scales) {
      assert.equal(a.graph.nodes[s.loc].headRole, 'loc');
      assert.equal(a.graph.nodes[s.conf].headRole, 'conf');
      assert.equal(a.graph.nodes[s.loc].stageIndex, s.index);
      assert.equal(a.graph.nodes[s.conf].stageIndex, s.index);
    }
    for (const n of a.graph.nodes) if (n.stageKind !== 'head') assert.equal(n.headRole, null, `${n.name} is no head layer`);
  }
  // DSOD300 normalizes every scale's map: six L2Norms, each head's first layer.
  assert.equal(dsod300.graph.nodes.filter((n) => n.headRole === 'l2norm').length, 6);
});

test('every layer of a dense scale is one of its halves, except the concatenation of the two', () => {
  const scales = byStage(dsod300.graph.nodes, 'scale');
  for (const n of scales) {
    if (n.kind === 'concat') assert.equal(n.half, null, n.name);
    else assert.ok(n.half === 'reused' || n.half === 'learned', `${n.name} has no half`);
  }
  // Scale 2 reuses half (its learned half is the backbone output); scales 3-6 have both: pool + BN-ReLU-conv reused,
  // two BN-ReLU-convs learned.
  const halves = (k: number, half: 'reused' | 'learned') => scales.filter((n) => n.stageIndex === k && n.half === half).length;
  assert.deepEqual(
    [2, 3, 4, 5, 6].map((k) => [halves(k, 'reused'), halves(k, 'learned')]),
    [
      [4, 0],
      [4, 6],
      [4, 6],
      [4, 6],
      [4, 6],
    ],
  );
  // The plain structure has no halves.
  for (const n of plain.graph.nodes) assert.equal(n.half, null, n.name);
});

test('every layer of a dense block knows its dense layer, and a block counts them', () => {
  for (const a of [dsod300, plain]) {
    for (const n of a.graph.nodes) {
      if (n.stageKind === 'block') assert.ok(n.denseLayer !== null && n.denseLayer >= 1, `${n.name} has no dense layer`);
      else assert.equal(n.denseLayer, null, n.name);
    }
  }
  assert.deepEqual(
    dsod300.stages.filter((s) => s.kind === 'block').map((s) => [s.index, s.denseLayers]),
    [
      [1, 6],
      [2, 8],
      [3, 8],
      [4, 8],
    ],
  );
});

test('stages are found by kind and number', () => {
  assert.equal(findStage(dsod300.stages, 'stem')?.kind, 'stem');
  assert.equal(findStage(dsod300.stages, 'head', 3)?.index, 3);
  assert.equal(findStage(dsod300.stages, 'scale', 1), undefined, 'scale 1 is the First map: no stage of its own');
  assert.equal(findStage(dsod300.stages, 'transition', 4)?.shape[0], dsod300.graph.nodes[dsod300.graph.backboneOutput].shape[0]);
});
