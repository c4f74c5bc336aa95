// The status bar item (client/statusBar.ts) shows the error count AND the totals (issue 10, item 2): the summaries are
// the real language service's, the `vscode` module the stand-in of fakeVscode.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLanguageService } from '../../server/service';
import { DSOD300_YAML, edit } from '../helpers';
import { installFakeVscode, MarkdownString } from './fakeVscode';

const state = installFakeVscode();
// Loaded after the fake is in place: it imports `vscode`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StatusBar } = require('../../client/statusBar') as typeof import('../../client/statusBar');

const TOTALS = '14.7M params · 15.1 GMACs · 8,744 boxes';
let version = 0;
const uri = 'file:///ws/dsod300.dsod.yaml';
const doc = (text: string, at = uri) => ({ uri: at, version: ++version, getText: () => text });
const service = createLanguageService();
const bar = new StatusBar();

function shown(text: string, at = uri): { text: string; tooltip: string } {
  bar.update(service.summary(doc(text, at)));
  bar.show(at);
  const tip = state.status.tooltip;
  return { text: state.status.text, tooltip: tip instanceof MarkdownString ? tip.value : String(tip) };
}

test('a valid spec: its totals', () => {
  assert.equal(shown(DSOD300_YAML).text, `$(circuit-board) ${TOTALS}`);
  assert.equal(state.status.visible, true);
});

test('one key typo: the error count and the (partial) totals', () => {
  const s = shown(edit(DSOD300_YAML, '  stem: { convs', '  growth_rat: 48\n  stem: { convs'));
  assert.equal(s.text, `$(error) DSOD: 1 error · partial ${TOTALS}`);
  assert.match(s.tooltip, /^The spec has 1 error; see the Problems panel\.\n\n\*\*DSOD300\*\* \(partial: the parts with schema errors are left out\)/);
  assert.match(s.tooltip, /learned parameters: 14,715,804/);
});

test('an error that leaves no totals: the error count and the last valid totals', () => {
  shown(DSOD300_YAML);
  const s = shown(edit(DSOD300_YAML, 'size: [300, 300]', 'size: big'));
  assert.equal(s.text, `$(error) DSOD: 1 error · last valid ${TOTALS}`);
  assert.match(s.tooltip, /\*\*DSOD300\*\* \(last valid: the current text gives no totals\)/);
  // Opened broken, there are no totals to show: the count alone.
  const never = shown(edit(DSOD300_YAML, 'size: [300, 300]', 'size: big'), 'file:///ws/new.dsod.yaml');
  assert.equal(never.text, '$(error) DSOD: 1 error');
  assert.equal(never.tooltip, 'The spec has 1 error; see the Problems panel.');
});
