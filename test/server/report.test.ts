// The analysis report as the language server answers `dsod/report` (server/service/report.ts): the rows of
// `dsod analyze` as data, with exact numbers that agree with the CLI text, shares of the totals, both outputs of every
// head, and the spec range of every row; it follows edits, and is null while the spec has errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderReport } from '../../core/report';
import { formatExact, formatShape } from '../../core/format';
import type { Position } from 'vscode-languageserver-types';
import { createLanguageService } from '../../server/service';
import { analyze, DSOD300_YAML, edit } from '../helpers';

let version = 0;
const doc = (text: string, uri = 'file:///ws/dsod300.dsod.yaml') => ({ uri, version: ++version, getText: () => text });
const service = createLanguageService();

const positionOf = (text: string, needle: string, delta = 0): Position => {
  const i = text.indexOf(needle) + delta;
  assert.ok(i >= delta, `${needle} is in the text`);
  const lines = text.slice(0, i).split('\n');
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
};

test('the report is structured data with the numbers dsod analyze prints', () => {
  const r = service.report(doc(DSOD300_YAML))!;
  assert.ok(r && typeof r === 'object', 'dsod/report returns data, not text');
  assert.equal(r.name, 'DSOD300');
  assert.equal(r.file, 'dsod300.dsod.yaml');
  assert.deepEqual(r.input, { channels: 3, height: 300, width: 300 });
  assert.equal(r.classes, 21);
  assert.equal(r.totals.paramsLearned, 14_715_804);
  assert.equal(r.totals.macs, 15_079_798_528);
  assert.equal(r.totals.flops, 2 * 15_079_798_528);
  assert.equal(r.totals.defaultBoxes, 8744);
  assert.equal(r.totals.batch, 1);
  // The stages of the CLI table, in the network's order, without the input.
  assert.deepEqual(
    r.stages.map((s) => s.name),
    [
      'stem',
      'block1',
      'transition1',
      'block2',
      'transition2',
      'block3',
      'transition3',
      'block4',
      'transition4',
      'scale2',
      'scale3',
      'scale4',
      'scale5',
      'scale6',
      'head1',
      'head2',
      'head3',
      'head4',
      'head5',
      'head6',
    ],
  );
  assert.equal(
    r.stages.reduce((n, s) => n + s.paramsLearned, 0),
    r.totals.paramsLearned,
  );
  assert.equal(
    r.stages.reduce((n, s) => n + s.macs, 0),
    r.totals.macs,
  );
  assert.ok(Math.abs(r.stages.reduce((n, s) => n + s.paramsShare, 0) - 1) < 1e-9);
  assert.ok(Math.abs(r.stages.reduce((n, s) => n + s.macsShare, 0) - 1) < 1e-9);
  assert.deepEqual(
    r.scales.map((s) => s.boxes),
    [5776, 2166, 600, 150, 36, 16],
  );
  assert.ok(Math.abs(r.scales.reduce((n, s) => n + s.boxesShare, 0) - 1) < 1e-9);

  // Every row agrees with the text `dsod analyze` prints for the same spec (core/report.ts is unchanged for the CLI).
  const text = renderReport('dsod300.dsod.yaml', analyze(DSOD300_YAML), 1);
  const lines = text.split('\n');
  for (const s of r.stages) {
    const line = lines.find((l) => l.startsWith(`${s.name} `));
    assert.ok(line, `the CLI has a ${s.name} row`);
    const cells = line.trim().split(/\s{2,}/);
    assert.deepEqual(cells, [
      s.name,
      formatShape(s.shape, true),
      formatExact(s.paramsLearned),
      `${(100 * s.paramsShare).toFixed(1)}%`,
      formatExact(s.macs),
      `${(100 * s.macsShare).toFixed(1)}%`,
      String(s.receptiveField),
    ]);
  }
  for (const s of r.scales) {
    const line = lines.find((l) => l.startsWith(`${s.name} `) && l.includes(`${s.minSize}/`));
    assert.ok(line, `the CLI has a ${s.name} scale row`);
    assert.deepEqual(
      line
        .trim()
        .split(/\s{2,}/)
        .slice(0, 4),
      [s.name, formatShape(s.shape, true), String(s.priorsPerLocation), formatExact(s.boxes)],
    );
  }
});

test("the heads' loc and conf outputs are both in the report", () => {
  const r = service.report(doc(DSOD300_YAML))!;
  // DSOD300: 4 or 6 priors per location; 4 offsets and 21 class scores per prior.
  const priors = [4, 6, 6, 6, 4, 4];
  const maps = [38, 19, 10, 5, 3, 2];
  for (let k = 0; k < 6; k++) {
    const head = r.stages.find((s) => s.name === `head${k + 1}`)!;
    const loc: [number, number, number] = [4 * priors[k], maps[k], maps[k]];
    const conf: [number, number, number] = [21 * priors[k], maps[k], maps[k]];
    assert.deepEqual(head.head, { loc, conf }, head.name);
    assert.deepEqual([r.scales[k].loc, r.scales[k].conf], [loc, conf], r.scales[k].name);
  }
  assert.ok(r.stages.filter((s) => s.kind !== 'head').every((s) => s.head === null));
});

test('every row carries the spec range that made it', () => {
  const r = service.report(doc(DSOD300_YAML))!;
  const block1 = r.stages.find((s) => s.name === 'block1')!;
  assert.deepEqual(block1.source.path, ['backbone', 'blocks', 0]);
  assert.deepEqual(block1.source.range.start, positionOf(DSOD300_YAML, 'blocks: [6', 9));
  assert.equal(block1.source.range.end.character - block1.source.range.start.character, 1, 'the `6`');
  const head1 = r.stages.find((s) => s.name === 'head1')!;
  assert.deepEqual(head1.source.path, ['priors', 'aspect_ratios', 0]);
  assert.equal(head1.source.range.start.line, positionOf(DSOD300_YAML, 'aspect_ratios:').line);
  for (const row of [...r.stages, ...r.scales]) {
    const { start, end } = row.source.range;
    assert.ok(end.line > start.line || (end.line === start.line && end.character > start.character), `${row.name} has a non-empty range`);
  }
});

test('the report follows edits, and is null while the spec has errors', () => {
  const uri = 'file:///ws/edited.dsod.yaml';
  const before = service.report(doc(DSOD300_YAML, uri))!;
  const after = service.report(doc(edit(DSOD300_YAML, 'classes: 21', 'classes: 81'), uri))!;
  assert.ok(after.version > before.version);
  assert.ok(after.totals.paramsLearned > before.totals.paramsLearned);
  assert.deepEqual(after.stages.find((s) => s.name === 'head1')!.head!.conf, [4 * 81, 38, 38]);
  assert.equal(service.report(doc('dsod: 2\n', uri)), null);
  // An unknown key is set aside: the report shows the rest of the spec, and says what it ignored.
  const partial = service.report(doc('dsod: 1\nbackbone:\n  growth_rat: 32\n', uri))!;
  assert.equal(partial.partial, 'ignoring backbone.growth_rat');
  assert.equal(before.partial, null);
});
