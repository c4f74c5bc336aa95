// A spec with schema errors is still checked for what they do not touch (issue 10, item 2): unknown keys are dropped,
// an invalid section takes its defaults, the semantic errors elsewhere show at once, and no number is invented for a
// section that is broken.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSpec } from '../../core';
import { DSOD300_YAML, edit } from '../helpers';

const check = (text: string) => checkSpec(text, 'yaml');
const codes = (text: string) => check(text).diagnostics.map((d) => d.code);
/** DSOD300 with the e2e scenario's typo: `growth_rat: 48` under the notation line. */
const typo = edit(DSOD300_YAML, '  stem: { convs', '  growth_rat: 48\n  stem: { convs');
const DSOD300_LEARNED = 14_715_804;
const DSOD300_MACS = 15_079_798_528;

test('a valid spec is analysed in full, nothing set aside', () => {
  const c = check(DSOD300_YAML);
  assert.equal(c.analysisFrom, 'full');
  assert.deepEqual(c.setAside, []);
  assert.equal(c.provisional, null);
  assert.equal(c.analysis!.totals.paramsLearned, DSOD300_LEARNED);
});

test("an unknown key is set aside: the rest is analysed, its numbers are the spec's own", () => {
  const c = check(typo);
  assert.deepEqual(
    c.diagnostics.map((d) => d.code),
    ['schema/unknown-key'],
  );
  assert.equal(c.analysisFrom, 'partial');
  assert.deepEqual(c.setAside, [{ path: ['backbone', 'growth_rat'], why: 'unknown-key' }]);
  assert.equal(c.analysis!.totals.paramsLearned, DSOD300_LEARNED);
  assert.equal(c.analysis!.totals.macs, DSOD300_MACS);
  assert.equal(c.spec!.name, 'DSOD300');
  // Unknown keys at the top and deep in a list are dropped the same way.
  const deep = check(
    edit(DSOD300_YAML, 'dsod: 1\n', 'dsod: 1\nnotes: draft\n').replace('{ pool: false, channels: 256 }', '{ pool: false, channels: 256, chanels: 8 }'),
  );
  assert.deepEqual(
    deep.setAside.map((s) => s.path),
    [['notes'], ['backbone', 'transitions', 3, 'chanels']],
  );
  assert.equal(deep.analysis!.totals.paramsLearned, DSOD300_LEARNED);
  // JSON specs the same.
  const json = checkSpec('{ "dsod": 1, "backbone": { "notation": "DS/64-192-48-1", "growth_rat": 48 } }', 'json');
  assert.equal(json.analysisFrom, 'partial');
  assert.equal(json.analysis!.totals.paramsLearned, DSOD300_LEARNED);
});

test('a key typo no longer hides a notation error elsewhere', () => {
  const both = edit(typo, 'DS/64-192-48-1 ', 'DS/64-192-48-x ');
  assert.deepEqual(codes(both), ['notation/invalid', 'schema/unknown-key']);
  const other = edit(edit(DSOD300_YAML, 'classes: 21', 'clases: 21'), 'DS/64-192-48-1 ', 'DS/64-192 ');
  assert.deepEqual(codes(other), ['schema/unknown-key', 'notation/invalid']);
});

test('an invalid section that shapes no number is set aside and the analysis stays', () => {
  const c = check(edit(DSOD300_YAML, 'lr: 0.1', 'lr: fast'));
  assert.deepEqual(
    c.diagnostics.map((d) => d.code),
    ['schema/type'],
  );
  assert.equal(c.analysisFrom, 'partial');
  assert.deepEqual(c.setAside, [{ path: ['train'], why: 'invalid-section' }]);
  assert.equal(c.analysis!.totals.paramsLearned, DSOD300_LEARNED);
});

test('an invalid section that shapes the network: no analysis, a provisional one whose other numbers are real', () => {
  const c = check(edit(DSOD300_YAML, 'flip: true', 'flip: yes please'));
  assert.equal(c.analysis, null);
  assert.equal(c.analysisFrom, null);
  assert.equal(c.spec, null);
  assert.deepEqual(c.provisional?.invalid, ['priors']);
  // The backbone reads nothing of the priors: its stages are DSOD300's exactly.
  const full = check(DSOD300_YAML).analysis!;
  const backbone = (a: typeof full) =>
    a.stages.filter((s) => s.kind === 'stem' || s.kind === 'block' || s.kind === 'transition').map((s) => [s.name, s.paramsLearned, s.macs]);
  assert.deepEqual(backbone(c.provisional!.analysis), backbone(full));
  // A semantic error in a section that reads nothing invalid still shows; the defaults stand in silently.
  const notation = check(edit(edit(DSOD300_YAML, 'flip: true', 'flip: yes please'), 'DS/64-192-48-1 ', 'DS/64-192-48-x '));
  assert.deepEqual(
    notation.diagnostics.map((d) => d.code),
    ['notation/invalid', 'schema/type'],
  );
});

test('findings that read an invalid section are not reported: they would be artefacts of its defaults', () => {
  // prediction.scales is invalid: the default 6 scales would make the 5-entry priors lists look wrong.
  const five = edit(
    edit(DSOD300_YAML, 'scales: 6', 'scales: six'),
    '  aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]]',
    '  aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2]]',
  );
  const c = check(five);
  assert.deepEqual(
    c.diagnostics.map((d) => d.code),
    ['schema/type'],
  );
  assert.deepEqual(c.provisional?.invalid, ['prediction']);
  // The same priors list with valid prediction is the real error it is.
  assert.ok(
    codes(edit(DSOD300_YAML, '  aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]]', '  aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2]]')).includes(
      'priors/length-mismatch',
    ),
  );
});

test('an error of the whole spec leaves nothing to analyse', () => {
  for (const text of [edit(DSOD300_YAML, 'dsod: 1\n', 'dsod: 2\n'), edit(DSOD300_YAML, 'dsod: 1\n', ''), '- 1\n- 2\n']) {
    const c = check(text);
    assert.equal(c.analysis, null, text.slice(0, 40));
    assert.equal(c.provisional, null);
    assert.deepEqual(c.setAside, []);
  }
});

test('a section left empty while its keys are being typed (`backbone:` then nothing) reads as an empty mapping, not a type error', () => {
  for (const text of ['dsod: 1\nbackbone:\n', 'dsod: 1\nbackbone:\n  stem:\n', 'dsod: 1\ninput:\nprediction:\n  l2norm:\n']) {
    const c = checkSpec(text, 'yaml');
    assert.deepEqual(
      c.diagnostics.filter((d) => d.severity === 'error'),
      [],
      text,
    );
    assert.equal(c.analysisFrom, 'full', text);
  }
  // Only what may be a mapping: an empty list or number is still the type error it was.
  assert.deepEqual(
    checkSpec('dsod: 1\nbackbone:\n  blocks:\n', 'yaml').diagnostics.map((d) => d.code),
    ['schema/type'],
  );
  assert.deepEqual(
    checkSpec('dsod: 1\nclasses:\n', 'yaml').diagnostics.map((d) => d.code),
    ['schema/type'],
  );
});

test('a section normalization cannot read (an invalid notation, a channels list of another length) gives no numbers of its own', () => {
  // The notation does not parse: the backbone would take defaults, so no analysis claims to be this spec's.
  const notation = checkSpec(edit(DSOD300_YAML, 'notation: DS/64-192-48-1', 'notation: DS/64-6'), 'yaml');
  assert.deepEqual(
    notation.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
    ['notation/invalid'],
  );
  assert.equal(notation.analysis, null);
  assert.deepEqual(notation.provisional?.invalid, ['backbone']);
  // Five channels for six scales: the backbone's numbers stand, the prediction's do not.
  const channels = checkSpec(edit(DSOD300_YAML, 'channels: [800, 512, 512, 256, 256, 256]', 'channels: [800, 512, 512, 256, 256]'), 'yaml');
  assert.equal(channels.analysis, null);
  assert.deepEqual(channels.provisional?.invalid, ['prediction']);
  assert.ok(channels.diagnostics.some((d) => d.code === 'prediction/channels-length'));
});
