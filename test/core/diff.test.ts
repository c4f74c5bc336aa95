// What an edit costs (issue 13, item 4): core's diff of two analysed networks equals the difference of their analyses.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Analysis, StageStats } from '../../core';
import { diffAnalyses, diffLayers, isUnchanged } from '../../core/analysis/diff';
import { formatBytes, formatSigned } from '../../core/format';
import { analyze, DSOD300_YAML, edit, readRepoFile, repoRoot } from '../helpers';

const dsod300 = analyze(DSOD300_YAML);
const rows = readdirSync(join(repoRoot, 'examples', 'ablation'))
  .filter((f) => f.endsWith('.dsod.yaml'))
  .sort();

const find = (a: Analysis, kind: string, index: number | null): StageStats | undefined => a.stages.find((s) => s.kind === kind && s.index === index);
const cost = (s: StageStats | undefined) => ({ paramsLearned: s?.paramsLearned ?? 0, macs: s?.macs ?? 0, activationBytes: s?.activationBytes ?? 0 });

test('the Table 3 rows are all there to compare with', () => {
  assert.equal(rows.length, 8, rows.join(', '));
});

for (const file of rows) {
  for (const [from, to, label] of [
    ['dsod300', file, `DSOD300 -> ${file}`],
    [file, 'dsod300', `${file} -> DSOD300`],
  ] as const) {
    test(`diff ${label}: totals, every stage and every scale are B - A`, () => {
      const other = analyze(readRepoFile(`examples/ablation/${file}`));
      const a = from === 'dsod300' ? dsod300 : other;
      const b = to === 'dsod300' ? dsod300 : other;
      const d = diffAnalyses(a, b);
      assert.deepEqual(d.totals.delta, {
        paramsLearned: b.totals.paramsLearned - a.totals.paramsLearned,
        macs: b.totals.macs - a.totals.macs,
        activationBytes: b.totals.activationBytesPerImage - a.totals.activationBytesPerImage,
        boxes: b.totals.defaultBoxes - a.totals.defaultBoxes,
      });
      // Every stage of either side appears once, matched by kind and index.
      const key = (s: { kind: string; index: number | null }) => `${s.kind}${s.index ?? ''}`;
      const union = new Set([...a.stages.map(key), ...b.stages.map(key)]);
      assert.deepEqual(new Set(d.stages.map(key)), union);
      assert.equal(d.stages.length, union.size);
      for (const s of d.stages) {
        const sa = find(a, s.kind, s.index);
        const sb = find(b, s.kind, s.index);
        assert.equal(s.change, sa && sb ? 'matched' : sb ? 'added' : 'removed', key(s));
        const [ca, cb] = [cost(sa), cost(sb)];
        assert.deepEqual(
          s.delta,
          { paramsLearned: cb.paramsLearned - ca.paramsLearned, macs: cb.macs - ca.macs, activationBytes: cb.activationBytes - ca.activationBytes },
          key(s),
        );
      }
      // The stages' changes add up to the totals' (every layer is in one stage).
      for (const q of ['paramsLearned', 'macs', 'activationBytes'] as const)
        assert.equal(
          d.stages.reduce((n, s) => n + s.delta[q], 0),
          d.totals.delta[q],
          q,
        );
      assert.deepEqual(d.added.map(key), d.stages.filter((s) => s.change === 'added').map(key));
      assert.deepEqual(d.removed.map(key), d.stages.filter((s) => s.change === 'removed').map(key));
      // Scales: the boxes, and the scale's own stages (its structure half and its head).
      for (const s of d.scales) {
        const own = (x: Analysis) => {
          const sc = x.scales.find((y) => y.index === s.index);
          const st = [find(x, 'scale', s.index), find(x, 'head', s.index)].map(cost);
          return {
            paramsLearned: st[0].paramsLearned + st[1].paramsLearned,
            macs: st[0].macs + st[1].macs,
            activationBytes: st[0].activationBytes + st[1].activationBytes,
            boxes: sc?.boxes ?? 0,
          };
        };
        const [oa, ob] = [own(a), own(b)];
        assert.deepEqual(s.delta, {
          paramsLearned: ob.paramsLearned - oa.paramsLearned,
          macs: ob.macs - oa.macs,
          activationBytes: ob.activationBytes - oa.activationBytes,
          boxes: ob.boxes - oa.boxes,
        });
      }
    });
  }
}

test('a network against itself changes nothing', () => {
  const d = diffAnalyses(dsod300, dsod300);
  assert.ok(d.stages.every((s) => s.change === 'matched' && s.delta.paramsLearned === 0 && s.delta.macs === 0 && s.delta.activationBytes === 0));
  assert.deepEqual(d.totals.delta, { paramsLearned: 0, macs: 0, activationBytes: 0, boxes: 0 });
  assert.deepEqual([d.added, d.removed], [[], []]);
  assert.ok(isUnchanged(d));
  // A change that moves cost between stages but not the totals is still a change.
  const moved = {
    ...d,
    stages: d.stages.map((s, i) => (i === 2 ? { ...s, delta: { ...s.delta, macs: 1 } } : i === 3 ? { ...s, delta: { ...s.delta, macs: -1 } } : s)),
  };
  assert.ok(!isUnchanged(moved));
  assert.ok(!isUnchanged(diffAnalyses(dsod300, analyze(readRepoFile('examples/ablation/07-stem.dsod.yaml')))));
});

test('removed stages are listed where they stood in A, added ones where they stand in B', () => {
  // Table 3's first row has three dense blocks: DSOD300's block4 and transition4 (and its scale2 half) are gone.
  const three = analyze(readRepoFile('examples/ablation/01-ds32-12-16-0.5.dsod.yaml'));
  const d = diffAnalyses(dsod300, three);
  assert.deepEqual(
    d.removed.map((s) => s.name),
    ['block4', 'transition4', 'scale2'],
  );
  assert.deepEqual(d.stages.map((s) => s.name).slice(7, 12), ['transition3', 'block4', 'transition4', 'scale2', 'scale3']);
  const back = diffAnalyses(three, dsod300);
  assert.deepEqual(
    back.added.map((s) => s.name),
    ['block4', 'transition4', 'scale2'],
  );
  assert.deepEqual(back.stages.find((s) => s.name === 'block4')?.delta, cost(find(dsod300, 'block', 4)));
});

// The graph's colouring by change (issue 13, item 4, VS Code part): each layer of B matched to A's by its typed place.
test('diffLayers: DSOD300 against itself: every layer the same, none removed', () => {
  const d = diffLayers(dsod300, analyze(DSOD300_YAML));
  assert.equal(d.layers.length, dsod300.graph.nodes.length);
  assert.ok(d.layers.every((c) => c === 'same'));
  assert.equal(d.removed, 0);
});

test("diffLayers: scale 6's aspect ratios [2] -> [2, 3]: only head 6's loc and conf layers change, nothing is added", () => {
  const b = analyze(edit(DSOD300_YAML, 'aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]]', 'aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2, 3]]'));
  const d = diffLayers(dsod300, b);
  const changed = b.graph.nodes.filter((_, i) => d.layers[i] !== 'same');
  // Each branch's conv and the batch norm after it (heads.batch_norm) have more channels; nothing else moved.
  assert.deepEqual(
    changed.map((n) => [n.stageKind, n.stageIndex, n.headRole, n.kind, d.layers[n.id]]),
    [
      ['head', 6, 'loc', 'conv', 'changed'],
      ['head', 6, 'loc', 'bn', 'changed'],
      ['head', 6, 'conf', 'conv', 'changed'],
      ['head', 6, 'conf', 'bn', 'changed'],
    ],
  );
  assert.equal(d.removed, 0);
});

test('diffLayers: two more dense layers in block 4: their layers added, block 4 and what it feeds changed, block 1 the same', () => {
  const b = analyze(edit(DSOD300_YAML, 'blocks: [6, 8, 8, 8]', 'blocks: [6, 8, 8, 10]'));
  const d = diffLayers(dsod300, b);
  const at = (pick: (n: (typeof b.graph.nodes)[number]) => boolean) => [...new Set(b.graph.nodes.filter(pick).map((n) => d.layers[n.id]))].sort();
  assert.deepEqual(
    at((n) => n.stageKind === 'block' && n.stageIndex === 4 && (n.denseLayer ?? 0) > 8),
    ['added'],
  );
  // Layer 1 of block 4 reads the same input as before: the same; block 4's last concat is wider: changed.
  assert.deepEqual(
    at((n) => n.stageKind === 'block' && n.stageIndex === 4 && n.denseLayer === 1),
    ['same'],
  );
  assert.deepEqual(
    at((n) => n.stageKind === 'transition' && n.stageIndex === 4),
    ['changed'],
  );
  assert.deepEqual(
    at((n) => n.stageKind === 'block' && n.stageIndex === 1),
    ['same'],
  );
  assert.equal(d.removed, 0);
  // The other way round, the two layers are A's only: removed, and no layer of B is added.
  const back = diffLayers(b, dsod300);
  assert.ok(back.removed > 0);
  assert.ok(!back.layers.includes('added'));
});

test('formatSigned: a plus or a true minus sign, and 0 unsigned', () => {
  assert.equal(formatSigned(1_234_567), '+1.23M');
  assert.equal(formatSigned(-340_000), '\u2212340k');
  assert.equal(formatSigned(0), '0');
  assert.equal(formatSigned(-2 * 2 ** 20, formatBytes), '\u22122.0 MiB');
});
