// One error does not wipe out the editor's numbers (issue 10, item 2): what the current text can still give is shown
// as it is (a partial analysis, or the sections that are fine), the rest from the document's last valid analysis,
// marked stale and placed on the current text by spec path; the code lens and the summary say which.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InlayHint } from 'vscode-languageserver-types';
import { createLanguageService } from '../../server/service';
import { STALE_MARK } from '../../server/service/inlay';
import { DSOD300_YAML, edit } from '../helpers';

const all = { start: { line: 0, character: 0 }, end: { line: 9999, character: 0 } };
let version = 0;
const doc = (text: string, uri = 'file:///ws/dsod300.dsod.yaml') => ({ uri, version: ++version, getText: () => text });
const label = (h: InlayHint) => h.label as string;
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length - 1;

const LENS = 'DSOD300: 14.7M params (14.8M stored) · 15.1 GMACs (30.2 GFLOPs) · 8,744 boxes';
const typo = edit(DSOD300_YAML, '  stem: { convs', '  growth_rat: 48\n  stem: { convs');
/** A broken input section: every number reads it, so all of them come from the last valid analysis. */
const badInput = edit(DSOD300_YAML, 'size: [300, 300]', 'size: big');

test('a key typo keeps every number: a partial analysis, said so by the lens and the summary', () => {
  const service = createLanguageService();
  const d = doc(typo);
  const hints = service.inlayHints(d, all);
  // The stem's hint and one per one-line list: blocks, transitions, channels, aspect ratios.
  assert.equal(hints.length, 5, hints.map(label).join('\n'));
  assert.ok(
    hints.every((h) => !label(h).startsWith(STALE_MARK)),
    'the partial analysis is current, not stale',
  );
  assert.ok(hints.some((h) => label(h) === 'params: 789k · 1.57M · 2.17M · 2.76M'));
  assert.equal(service.codeLenses(d)[0].command!.title, `partial (ignoring backbone.growth_rat): ${LENS}`);
  const s = service.summary(d);
  assert.equal(s.errors, 1);
  assert.equal(s.analysis, 'partial');
  assert.equal(s.paramsLearned, 14_715_804);
  assert.equal(s.lastValid, null);
});

test('when the text gives no analysis, the last valid one is shown stale, on the current text', () => {
  const service = createLanguageService();
  const uri = 'file:///ws/stale.dsod.yaml';
  const valid = service.inlayHints(doc(DSOD300_YAML, uri), all);
  // Two lines more above the backbone and an invalid input size: the hints move with their spec paths.
  const broken = edit(badInput, 'classes: 21', '# a comment\n# another\nclasses: 21');
  const d = doc(broken, uri);
  const stale = service.inlayHints(d, all);
  assert.equal(stale.length, valid.length);
  stale.forEach((h, i) => {
    // The mark can make a list's hint use its tight form (separators, a short unit) to stay within a line's 43 characters.
    const tight = (l: string) => l.replace(/ · /g, '·').replace('head params:', 'heads:');
    assert.equal(tight(label(h)), tight(STALE_MARK + label(valid[i])));
    assert.ok(label(h).length <= 43, label(h));
    assert.equal(h.position.line, valid[i].position.line + 2);
    assert.match((h.tooltip as { value: string }).value, /Last valid analysis: the spec has errors now/);
  });
  assert.equal(stale[0].position.line, lineOf(broken, '  stem: {'));
  assert.equal(service.codeLenses(d)[0].command!.title, `last valid: ${LENS}`);
  const s = service.summary(d);
  assert.equal(s.analysis, 'none');
  assert.equal(s.paramsLearned, 0);
  const { name, paramsLearned, paramsStored, macs, flops, defaultBoxes } = service.summary(doc(DSOD300_YAML, uri));
  assert.deepEqual(s.lastValid, { name, paramsLearned, paramsStored, macs, flops, defaultBoxes });
  assert.deepEqual([name, paramsLearned, macs, defaultBoxes], ['DSOD300', 14_715_804, 15_079_798_528, 8_744]);
  // The document fixed again: current numbers, nothing stale, no last valid in the summary.
  const fixed = doc(DSOD300_YAML, uri);
  assert.ok(service.inlayHints(fixed, all).every((h) => !label(h).startsWith(STALE_MARK)));
  assert.equal(service.summary(fixed).lastValid, null);
  assert.equal(service.codeLenses(fixed)[0].command!.title, LENS);
});

test('a stale hint whose spec path is gone is dropped', () => {
  const service = createLanguageService();
  const uri = 'file:///ws/gone.dsod.yaml';
  service.inlayHints(doc(DSOD300_YAML, uri), all);
  const shorter = edit(badInput, 'blocks: [6, 8, 8, 8]', 'blocks: [6, 8, 8]');
  const hints = service.inlayHints(doc(shorter, uri), all);
  const line = lineOf(shorter, '  blocks: [');
  const onLine = hints.filter((h) => h.position.line === line);
  assert.deepEqual(onLine.map(label), [`${STALE_MARK}params: 789k · 1.57M · 2.17M`], hints.map((h) => `${h.position.line}: ${label(h)}`).join('\n'));
});

test('an invalid section hides only the numbers that read it: the backbone stays current, the heads go stale', () => {
  const service = createLanguageService();
  const uri = 'file:///ws/priors.dsod.yaml';
  service.inlayHints(doc(DSOD300_YAML, uri), all);
  const badPriors = edit(DSOD300_YAML, 'flip: true', 'flip: yes please');
  const d = doc(badPriors, uri);
  const hints = service.inlayHints(d, all);
  const backbone = hints.filter((h) => h.position.line <= lineOf(badPriors, '  transitions:'));
  const rest = hints.filter((h) => h.position.line > lineOf(badPriors, '  transitions:'));
  assert.equal(backbone.length, 3);
  assert.ok(
    backbone.every((h) => !label(h).startsWith(STALE_MARK)),
    backbone.map(label).join('\n'),
  );
  assert.equal(rest.length, 2);
  assert.ok(
    rest.every((h) => label(h).startsWith(STALE_MARK)),
    rest.map(label).join('\n'),
  );
  // The totals read the priors: the lens is the last valid one.
  assert.equal(service.codeLenses(d)[0].command!.title, `last valid: ${LENS}`);
  // Without a last valid analysis (opened broken), only the current numbers show.
  const fresh = createLanguageService().inlayHints(doc(badPriors, 'file:///ws/new.dsod.yaml'), all);
  assert.deepEqual(fresh.map(label), backbone.map(label));
});

test('a text with a syntax error keeps the last valid numbers too; a document never valid shows none', () => {
  const service = createLanguageService();
  const uri = 'file:///ws/syntax.dsod.yaml';
  const valid = service.inlayHints(doc(DSOD300_YAML, uri), all);
  const unclosed = edit(DSOD300_YAML, 'heads: { kernel: 3, batch_norm: true, bn_eps: 0.001 }', 'heads: { kernel: 3, batch_norm: true, bn_eps: 0.001');
  const d = doc(unclosed, uri);
  const hints = service.inlayHints(d, all);
  assert.ok(hints.length >= valid.length - 1 && hints.length > 0, `${hints.length} of ${valid.length}`);
  assert.ok(hints.every((h) => label(h).startsWith(STALE_MARK)));
  assert.equal(service.codeLenses(d)[0].command!.title, `last valid: ${LENS}`);
  const never = createLanguageService();
  const opened = doc(badInput, 'file:///ws/never.dsod.yaml');
  assert.deepEqual(never.inlayHints(opened, all), []);
  assert.deepEqual(never.codeLenses(opened), []);
  assert.equal(never.summary(opened).lastValid, null);
});
