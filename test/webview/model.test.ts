// The graph view's model, without a browser: which nodes and edges DSOD300 becomes, collapsed and expanded, with
// core's exact numbers; the topology key that decides when a layout can be reused; keyboard moves over a real layout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLanguageService } from '../../server/service';
import { heatAmount, MAX_MIX, parseColor } from '../../webview/graph/colors';
import { neighbour } from '../../webview/graph/keyboard';
import { nodeLabel, tooltipRows } from '../../webview/graph/labels';
import { LayoutEngine } from '../../webview/graph/layout';
import { buildViewGraph, type Unit, type ViewGraph } from '../../webview/graph/model';
import { DSOD300_YAML, edit, exampleFiles, readRepoFile } from '../helpers';

const service = createLanguageService();
let version = 0;
const graphOf = (text: string) => service.graph({ uri: 'file:///ws/spec.dsod.yaml', version: ++version, getText: () => text });
const dsod300 = graphOf(DSOD300_YAML);
const ALL_BLOCKS = new Set(['block1', 'block2', 'block3', 'block4']);

const unit = (g: ViewGraph, id: string): Unit => {
  const u = g.units.find((x) => x.id === id);
  assert.ok(u, `no unit ${id}`);
  return u;
};
const countBy = <T>(xs: T[], key: (x: T) => string) => xs.reduce<Record<string, number>>((m, x) => ((m[key(x)] = (m[key(x)] ?? 0) + 1), m), {});

test('DSOD300 collapsed: 50 nodes, one per stage, pool, half and head branch, plus the boxes of each of the 6 scales', () => {
  const g = buildViewGraph(dsod300, new Set())!;
  assert.equal(g.units.length, 50);
  // Transitions 1 and 2 pool: each is drawn as its 1x1 conv and its pool.
  assert.deepEqual(
    countBy(g.units, (u) => u.kind),
    {
      input: 1,
      stem: 1,
      block: 4,
      transition: 4,
      pool: 2,
      reused: 5,
      learned: 4,
      concat: 5,
      l2norm: 6,
      loc: 6,
      conf: 6,
      boxes: 6,
    },
  );
  assert.equal(g.edges.length, 60);
  // The boxes of every scale: core's priors per location and boxes.
  const boxes = g.units.filter((u) => u.kind === 'boxes').map((u) => `${u.title} | ${u.detail}`);
  assert.deepEqual(boxes, [
    'scale 1 · 38×38 | 4 priors/location · 5,776 boxes',
    'scale 2 · 19×19 | 6 priors/location · 2,166 boxes',
    'scale 3 · 10×10 | 6 priors/location · 600 boxes',
    'scale 4 · 5×5 | 6 priors/location · 150 boxes',
    'scale 5 · 3×3 | 4 priors/location · 36 boxes',
    'scale 6 · 2×2 | 4 priors/location · 16 boxes',
  ]);
});

test('each dense scale concatenates one learned and one reused half; scale 2 learns through the backbone', () => {
  const g = buildViewGraph(dsod300, new Set())!;
  const into = (id: string) => g.edges.filter((e) => e.target === id).map((e) => `${e.source} ${e.role}`);
  assert.deepEqual(into('scale2/concat'), ['transition4 learned', 'scale2/reused reused']);
  assert.deepEqual(into('scale2/reused'), ['transition2 reused']); // the "First" map, pooled
  for (let k = 3; k <= 6; k++) {
    assert.deepEqual(into(`scale${k}/concat`), [`scale${k}/reused reused`, `scale${k}/learned learned`]);
    assert.deepEqual(into(`scale${k}/reused`), [`scale${k - 1}/concat reused`]);
    assert.deepEqual(into(`scale${k}/learned`), [`scale${k - 1}/concat learned`]);
  }
  // Scale 1 is transition 2's 1x1 conv before its pooling, normalized by L2Norm.
  assert.deepEqual(into('head1/l2norm'), ['transition2 data']);
  for (const e of g.edges.filter((x) => x.role === 'learned' || x.role === 'reused')) assert.ok(e.scale! >= 2, e.id);
});

test("labels carry core's exact numbers, and the nodes add up to the totals", () => {
  const g = buildViewGraph(dsod300, new Set())!;
  const block1 = unit(g, 'block1');
  assert.deepEqual(nodeLabel(block1), {
    title: 'block1 · dense block',
    shape: '416×75×75',
    detail: '6 layers · k 48 · B 192 · 128→416 ch',
    numbers: '788,640 params · 4,406,400,000 MACs',
  });
  assert.deepEqual(tooltipRows(block1, dsod300.summary).slice(0, 3), [
    ['output', '416×75×75'],
    ['learned params', '788,640 (5.4%)'],
    ['stored values', '793,932'],
  ]);
  assert.equal(nodeLabel(unit(g, 'transition3')).detail, '1×1 conv 1184→1184 · no pooling');
  assert.equal(nodeLabel(unit(g, 'transition1')).detail, '1×1 conv 416→416 · then max pool');
  assert.deepEqual(nodeLabel(unit(g, 'transition1/pool')), {
    title: 'transition1 · pool',
    shape: '416×38×38',
    detail: 'max pool 75×75 → 38×38',
    numbers: null,
  });
  assert.equal(nodeLabel(unit(g, 'scale3/learned')).detail, '1×1 conv 256 → 3×3/2 conv 256');
  assert.equal(nodeLabel(unit(g, 'head1/conf')).detail, 'class scores · 4 priors × 21 classes');
  assert.equal(nodeLabel(unit(g, 'head1/conf')).numbers, '604,968 params · 873,331,200 MACs');
  const sum = (key: 'paramsLearned' | 'paramsStored' | 'macs') => g.units.reduce((s, u) => s + u[key], 0);
  assert.equal(sum('paramsLearned'), 14_715_804);
  assert.equal(sum('paramsStored'), 14_795_828);
  assert.equal(sum('macs'), 15_079_798_528);
});

test('DSOD300 expanded: every dense layer, the block input and output, and all dense connections', () => {
  const g = buildViewGraph(dsod300, ALL_BLOCKS)!;
  assert.equal(g.units.length, 88); // 50 + (6 + 2) + 3 x (8 + 2)
  const dense = g.edges.filter((e) => e.role === 'dense');
  assert.equal(dense.length, 28 + 3 * 45); // all pairs of input, layers and output: C(8,2) for block 1, C(10,2) for the others
  const block1 = dense.filter((e) => e.source.startsWith('block1/'));
  assert.equal(block1.length, 28);
  assert.equal(block1.filter((e) => e.chain).length, 7); // input -> layer1 -> ... -> layer6 -> output
  // Layer 3 receives the block input and layers 1 and 2: dense connectivity.
  assert.deepEqual(
    dense.filter((e) => e.target === 'block1/layer3').map((e) => e.source),
    ['block1/in', 'block1/layer1', 'block1/layer2'],
  );
  // Outside edges attach to the block's frame, and the layers add up to the block.
  assert.ok(g.edges.some((e) => e.id === 'stem->block1') && g.edges.some((e) => e.id === 'block1->transition1'));
  const layers = g.units.filter((u) => u.parent === 'block1' && u.kind === 'layer');
  assert.equal(
    layers.reduce((s, u) => s + u.paramsLearned, 0),
    788_640,
  );
  assert.equal(nodeLabel(layers[2]).numbers, '126,784 params · 708,480,000 MACs');
  assert.equal(nodeLabel(layers[2]).detail, '1×1 conv 192 → 3×3 conv 48 · concat 272');
});

test('the topology key changes with the structure, not with the numbers', () => {
  const key = (text: string, expanded = new Set<string>()) => buildViewGraph(graphOf(text), expanded)!.topology;
  const base = key(DSOD300_YAML);
  assert.equal(key(edit(DSOD300_YAML, 'classes: 21', 'classes: 81')), base);
  assert.equal(key(edit(DSOD300_YAML, 'size: [300, 300]', 'size: [320, 320]')), base);
  assert.equal(key(edit(DSOD300_YAML, 'DS/64-192-48-1', 'DS/64-128-48-1')), base); // a narrower bottleneck
  assert.notEqual(key(DSOD300_YAML, new Set(['block1'])), base);
  // One more layer in block 4: the same drawing while the block is collapsed, a new one once it is expanded.
  const nine = edit(DSOD300_YAML, 'blocks: [6, 8, 8, 8]', 'blocks: [6, 8, 8, 9]');
  assert.equal(key(nine), base);
  assert.notEqual(key(nine, new Set(['block4'])), key(DSOD300_YAML, new Set(['block4'])));
  assert.notEqual(key(edit(DSOD300_YAML, 'scales: all }', 'scales: first }')), base); // L2Norm on scale 1 only
});

test('the plain prediction structure and the DenseNet entry are drawn as what they are', () => {
  const plain = buildViewGraph(graphOf(readRepoFile('examples/ablation/07-stem.dsod.yaml')), new Set())!;
  const kinds = countBy(plain.units, (u) => u.kind);
  assert.equal(kinds.learned, undefined);
  assert.equal(kinds.reused, undefined);
  assert.equal(kinds.plain, 4); // scales 3..6; scale 2 is the backbone output
  assert.equal(plain.edges.filter((e) => e.role === 'learned' || e.role === 'reused').length, 0);
  assert.equal(nodeLabel(unit(plain, 'scale3')).detail, '1×1 conv 256 → 3×3/2 conv 512');
  const noStem = buildViewGraph(graphOf(readRepoFile('examples/ablation/01-ds32-12-16-0.5.dsod.yaml')), new Set())!;
  assert.match(unit(noStem, 'stem').detail, /^7×7\/2 conv \d+ · max pool$/);
});

test("the drawing reads the layers' typed places, never their names: renamed layers draw the same graph", () => {
  // Names are for people; a renamed layer (another engine's naming, a refactor of core's) must change nothing drawn.
  for (const text of [DSOD300_YAML, readRepoFile('examples/ablation/07-stem.dsod.yaml')]) {
    const result = graphOf(text);
    const renamed = { ...result, graph: { ...result.graph!, nodes: result.graph!.nodes.map((n) => ({ ...n, name: `layer #${n.id}` })) } };
    for (const expanded of [new Set<string>(), ALL_BLOCKS]) assert.deepEqual(buildViewGraph(renamed, expanded), buildViewGraph(result, expanded));
  }
});

test('a spec with errors has no graph to draw', () => {
  const broken = graphOf(edit(DSOD300_YAML, 'blocks: [6, 8, 8, 8]', 'blocks: [6, 8, 8, 8, 8]'));
  assert.equal(broken.graph, null);
  assert.equal(buildViewGraph(broken, new Set()), null);
  assert.ok(broken.summary.errors > 0);
});

test('keyboard moves follow the data down and up, and step sideways in a row', async () => {
  const g = buildViewGraph(dsod300, new Set(['block1']))!;
  const { layout } = await new LayoutEngine().layout(g);
  assert.equal(neighbour('input', 'down', g, layout), 'stem');
  assert.equal(neighbour('stem', 'down', g, layout), 'block1');
  assert.equal(neighbour('block1', 'down', g, layout), 'block1/in'); // into the expanded block
  assert.equal(neighbour('block1/in', 'up', g, layout), 'block1');
  assert.equal(neighbour('block1/layer6', 'down', g, layout), 'block1/out');
  assert.equal(neighbour('block1/out', 'down', g, layout), 'transition1'); // and out of it
  // The pyramid is one row of scales: beside a head is the same head of the next scale.
  assert.equal(neighbour('head1/loc', 'right', g, layout), 'head2/loc');
  assert.equal(neighbour('head2/conf', 'left', g, layout), 'head1/conf');
  assert.equal(neighbour('head1/loc', 'down', g, layout), 'scale1/boxes');
  assert.equal(neighbour('input', 'up', g, layout), null);
  // Every node is placed, and the dense connections are arcs inside their block's frame.
  for (const u of g.units) assert.ok(layout.boxes.has(u.id), u.id);
  const frame = layout.boxes.get('block1')!;
  const inside = (x: number, y: number) => x >= frame.x && x <= frame.x + frame.w && y >= frame.y && y <= frame.y + frame.h;
  for (const e of g.edges.filter((x) => x.source.startsWith('block1/'))) {
    const points = layout.edges.get(e.id)!;
    assert.ok(points.length >= 2, e.id);
    if (layout.curved.has(e.id)) {
      // An arc [start, c1, c2, end] with c1.x = c2.x bulges to start.x + 3/4 (c1.x - start.x).
      const [a, c1, , z] = points;
      assert.ok(inside(a.x, a.y) && inside(z.x, z.y) && inside(a.x + 0.75 * (c1.x - a.x), a.y), `${e.id} leaves its frame`);
    } else {
      for (const p of points) assert.ok(inside(p.x, p.y), `${e.id} leaves its frame`);
    }
  }
  assert.equal(layout.curved.size, 21); // the 28 dense connections of block 1 but the 7 of its spine
});

test('theme colours parse, and the heat scale grows with the share', () => {
  assert.deepEqual(parseColor('#1f1f1f'), [31, 31, 31]);
  assert.deepEqual(parseColor('#fff'), [255, 255, 255]);
  assert.deepEqual(parseColor('#d1861680'), [209, 134, 22]);
  assert.deepEqual(parseColor('rgba(0, 0, 0, 0.36)'), [0, 0, 0]);
  assert.equal(parseColor('var(--x)'), null);
  assert.equal(heatAmount(0, 0.3), 0);
  assert.equal(heatAmount(0.3, 0.3), MAX_MIX);
  assert.ok(heatAmount(0.01, 0.3) < heatAmount(0.02, 0.3));
});

test("every example, collapsed and expanded: no two nodes overlap, and every edge runs from its source's box to its target's", async () => {
  const engine = new LayoutEngine();
  const onBorder = (p: { x: number; y: number }, b: { x: number; y: number; w: number; h: number }) =>
    p.x >= b.x - 0.5 &&
    p.x <= b.x + b.w + 0.5 &&
    p.y >= b.y - 0.5 &&
    p.y <= b.y + b.h + 0.5 &&
    (Math.abs(p.x - b.x) < 0.5 || Math.abs(p.x - b.x - b.w) < 0.5 || Math.abs(p.y - b.y) < 0.5 || Math.abs(p.y - b.y - b.h) < 0.5);
  for (const file of exampleFiles()) {
    const result = graphOf(readRepoFile(file));
    for (const expanded of [new Set<string>(), ALL_BLOCKS]) {
      const g = buildViewGraph(result, new Set([...expanded].filter((b) => result.graph!.nodes.some((n) => n.stage === b))))!;
      const { layout } = await engine.layout(g);
      const placed = g.units.filter((u) => !(u.kind === 'block' && u.expanded)).map((u) => ({ id: u.id, b: layout.boxes.get(u.id)! }));
      for (let i = 0; i < placed.length; i++) {
        for (let j = i + 1; j < placed.length; j++) {
          const [a, c] = [placed[i].b, placed[j].b];
          const overlap = a.x < c.x + c.w && c.x < a.x + a.w && a.y < c.y + c.h && c.y < a.y + a.h;
          assert.ok(!overlap, `${file}: ${placed[i].id} overlaps ${placed[j].id}`);
        }
      }
      for (const e of g.edges) {
        const points = layout.edges.get(e.id);
        assert.ok(points && points.length >= 2, `${file}: ${e.id} is not routed`);
        assert.ok(onBorder(points[0], layout.boxes.get(e.source)!), `${file}: ${e.id} does not start on ${e.source}`);
        assert.ok(onBorder(points.at(-1)!, layout.boxes.get(e.target)!), `${file}: ${e.id} does not end on ${e.target}`);
      }
    }
  }
});
