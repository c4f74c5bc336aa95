// Every edge the graph view draws carries the tensor it says it carries: the source node's drawn shape is the shape of
// the layer in core's layer graph that the target consumes. Checked for every example, collapsed and with every block
// expanded. (Issue 10, item 1: scale 1 hung off a pooling transition, drawn with its pooled 19x19 output, while its
// L2Norm reads the 38x38 map of the transition's conv, before the pooling.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GraphNode } from '../../protocol/lsp';
import { createLanguageService } from '../../server/service';
import { blockIds, buildViewGraph, type Unit, type ViewGraph } from '../../webview/graph/model';
import { exampleFiles, readRepoFile } from '../helpers';

const service = createLanguageService();

/** The maps a concatenation is made of, concatenations inside it flattened. */
function parts(nodes: GraphNode[], id: number): number[] {
  const n = nodes[id];
  return n.kind === 'concat' ? n.inputs.flatMap((i) => parts(nodes, i)) : [id];
}

/** Problems with the drawn edges of one view, as "edge: why" lines (empty when every edge agrees with core). */
function edgeProblems(g: ViewGraph, nodes: GraphNode[], feature: Map<number, number>): string[] {
  const units = new Map(g.units.map((u) => [u.id, u]));
  const shape = (s: readonly number[] | null) => (s ? s.join('x') : 'none');
  const problems: string[] = [];
  for (const e of g.edges) {
    const s = units.get(e.source);
    const t = units.get(e.target);
    if (!s || !t) {
      problems.push(`${e.id}: joins a unit that is not drawn`);
      continue;
    }
    if (t.kind === 'boxes') {
      // A head predicts its boxes on the grid of its scale's feature map.
      const f = nodes[feature.get(t.scale!)!].shape;
      if (!s.shape || s.shape[1] !== f[1] || s.shape[2] !== f[2]) problems.push(`${e.id}: ${shape(s.shape)} predicts boxes on a ${f[1]}x${f[2]} map`);
      continue;
    }
    if (e.role === 'dense') {
      // A dense connection: what the source adds (the block's input, or a layer's fresh maps) is one of the maps the
      // target's input concatenates.
      const carried = denseCarried(s, nodes, units);
      const consumed = t.kind === 'blockOut' ? units.get(t.parent!)!.members.at(-1)! : nodes[t.members[0]].inputs[0];
      if (!parts(nodes, consumed).includes(carried)) problems.push(`${e.id}: ${nodes[carried].name} is not part of what ${t.id} reads`);
      else if (shape(s.shape) !== shape(nodes[carried].shape)) problems.push(`${e.id}: drawn ${shape(s.shape)}, carries ${shape(nodes[carried].shape)}`);
      continue;
    }
    // Any other edge stands for core's connections from a layer of the source to a layer of the target.
    const from = new Set(s.members);
    const into = new Set(t.members);
    const links = nodes.flatMap((n) => (into.has(n.id) ? n.inputs.filter((i) => from.has(i)) : []));
    if (!links.length) problems.push(`${e.id}: no layer of ${s.id} feeds a layer of ${t.id} in core's graph`);
    for (const i of new Set(links)) {
      if (shape(s.shape) !== shape(nodes[i].shape))
        problems.push(`${e.id}: ${s.id} is drawn ${shape(s.shape)} but ${t.id} reads ${nodes[i].name}, ${shape(nodes[i].shape)}`);
    }
  }
  return problems;
}

/** The layer whose maps a dense connection leaving `s` carries. */
function denseCarried(s: Unit, nodes: GraphNode[], units: Map<string, Unit>): number {
  if (s.kind === 'blockIn') return nodes[units.get(s.parent!)!.members[0]].inputs[0];
  // A dense layer: the input of its concatenation that the layer computed itself.
  const own = new Set(s.members);
  const concat = s.members.map((m) => nodes[m]).find((n) => n.kind === 'concat')!;
  return concat.inputs.find((i) => own.has(i))!;
}

for (const file of exampleFiles()) {
  test(`${file}: every drawn edge joins nodes whose shapes agree with core's layer graph, collapsed and expanded`, () => {
    const result = service.graph({ uri: `file:///ws/${file}`, version: 1, getText: () => readRepoFile(file) });
    assert.ok(result.graph, `${file} has no graph`);
    const nodes = result.graph.nodes;
    const feature = new Map(result.graph.scales.map((s) => [s.index, s.feature]));
    for (const expanded of [new Set<string>(), new Set(blockIds(result))]) {
      const g = buildViewGraph(result, expanded)!;
      assert.deepEqual(edgeProblems(g, nodes, feature), [], `${file}, ${expanded.size ? 'all blocks expanded' : 'collapsed'}`);
    }
  });
}

test("scale 1 of DSOD300 and of the tiny example is read from the transition's conv, drawn before its pooling", () => {
  for (const [file, stage, map] of [
    ['examples/dsod300.dsod.yaml', 'transition2', [800, 38, 38]],
    ['examples/tiny.dsod.yaml', 'transition1', [56, 24, 24]],
  ] as const) {
    const result = service.graph({ uri: `file:///ws/${file}`, version: 1, getText: () => readRepoFile(file) });
    const g = buildViewGraph(result, new Set())!;
    const into = (id: string) => g.edges.filter((e) => e.target === id).map((e) => e.source);
    assert.deepEqual(into('head1/l2norm'), [stage], file);
    assert.deepEqual(g.units.find((u) => u.id === stage)!.shape, map, file);
    // The pool is a node of its own, after the tap, and the backbone goes on from it.
    assert.deepEqual(into(`${stage}/pool`), [stage], file);
    const pooled = g.units.find((u) => u.id === `${stage}/pool`)!;
    assert.equal(pooled.kind, 'pool');
    assert.deepEqual(pooled.shape, [map[0], Math.ceil(map[1] / 2), Math.ceil(map[2] / 2)], file);
    assert.ok(
      g.edges.some((e) => e.source === `${stage}/pool` && e.target.startsWith('block')),
      file,
    );
  }
});
