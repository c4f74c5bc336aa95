// The report page's pure model (webview/report/model.ts): cells print exact numbers, sorting is numeric on the exact
// values (never on the printed text), ties keep the network's order, and the summary says what `dsod analyze` says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summaryLine } from '../../core/report';
import type { ReportData } from '../../protocol/lsp';
import { createLanguageService } from '../../server/service';
import { nextSort, SCALE_COLUMNS, sortRows, STAGE_COLUMNS, summaryItems } from '../../webview/report/model';
import { analyze, DSOD300_YAML } from '../helpers';

const report = (): ReportData => createLanguageService().report({ uri: 'file:///ws/dsod300.dsod.yaml', version: 1, getText: () => DSOD300_YAML })!;
const column = (key: string) => STAGE_COLUMNS.find((c) => c.key === key)!;

test('numeric columns sort on the exact numbers', () => {
  const r = report();
  const byMacs = sortRows(r.stages, STAGE_COLUMNS, { key: 'macs', dir: 'desc' });
  assert.deepEqual(
    byMacs.slice(0, 3).map((s) => s.name),
    ['block1', 'stem', 'block2'],
  );
  for (let i = 1; i < byMacs.length; i++) assert.ok(byMacs[i - 1].macs >= byMacs[i].macs);
  // As text "973,440,000" sorts above "4,406,400,000"; as numbers it does not.
  const asc = sortRows(r.stages, STAGE_COLUMNS, { key: 'macs', dir: 'asc' });
  for (let i = 1; i < asc.length; i++) assert.ok(asc[i - 1].macs <= asc[i].macs);
  // Equal values (the six heads' receptive fields differ, their params do not all) keep the network's order.
  const byParams = sortRows(r.stages, STAGE_COLUMNS, { key: 'params', dir: 'desc' }).filter((s) => s.paramsLearned === 230_856);
  assert.deepEqual(
    byParams.map((s) => s.name),
    r.stages.filter((s) => s.paramsLearned === 230_856).map((s) => s.name),
  );
  // Names sort in natural order (block2 before a block10).
  assert.deepEqual(
    sortRows(r.stages, STAGE_COLUMNS, { key: 'name', dir: 'asc' })
      .slice(0, 4)
      .map((s) => s.name),
    ['block1', 'block2', 'block3', 'block4'],
  );
  assert.deepEqual(
    sortRows(r.stages, STAGE_COLUMNS, null).map((s) => s.name),
    r.stages.map((s) => s.name),
  );
  assert.deepEqual(
    sortRows(r.scales, SCALE_COLUMNS, { key: 'boxes', dir: 'asc' }).map((s) => s.boxes),
    [16, 36, 150, 600, 2166, 5776],
  );
});

test('a header click starts descending for numbers, ascending for names, and flips on the same column', () => {
  assert.deepEqual(nextSort(null, column('macs')), { key: 'macs', dir: 'desc' });
  assert.deepEqual(nextSort({ key: 'macs', dir: 'desc' }, column('macs')), { key: 'macs', dir: 'asc' });
  assert.deepEqual(nextSort({ key: 'macs', dir: 'asc' }, column('name')), { key: 'name', dir: 'asc' });
});

test('cells print exact numbers, shares and both outputs of a head', () => {
  const r = report();
  const block1 = r.stages.find((s) => s.name === 'block1')!;
  assert.deepEqual(
    STAGE_COLUMNS.map((c) => c.cell(block1)),
    [['block1'], ['416×75×75'], ['788,640'], ['5.4%'], ['4,406,400,000'], ['29.2%'], ['61']],
  );
  const head1 = r.stages.find((s) => s.name === 'head1')!;
  assert.deepEqual(column('output').cell(head1), ['loc 16×38×38', 'conf 84×38×38']);
  assert.deepEqual(
    SCALE_COLUMNS.map((c) => c.cell(r.scales[0])),
    [['scale1'], ['800×38×38'], ['4'], ['5,776'], ['66.1%'], ['30/60'], ['1, 2, 0.5'], ['8'], ['193'], ['21.2–42.4'], ['loc 16×38×38', 'conf 84×38×38']],
  );
});

test('the summary says what the CLI summary line says', () => {
  const line = summaryLine(analyze(DSOD300_YAML), 1).replace('2 x MACs', '2 × MACs');
  const items = summaryItems(report());
  assert.equal(`DSOD300 summary: ${items.join(', ')}`, line);
});
