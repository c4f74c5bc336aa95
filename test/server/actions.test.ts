// Quick fixes are judged on their own: offered when, re-checked with the fix applied, their diagnostic is gone and no
// new one appears, whatever else is wrong elsewhere in the file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSpec } from '../../core';
import { applyEdits } from '../../server/service/actions';
import { createLanguageService, DEFAULT_SETTINGS } from '../../server/service';
import { DSOD300_YAML, edit, readRepoFile } from '../helpers';

let version = 0;
const uri = 'file:///ws/spec.dsod.yaml';
const doc = (text: string) => ({ uri, version: ++version, getText: () => text });
const everywhere = { start: { line: 0, character: 0 }, end: { line: 9999, character: 0 } };
const service = createLanguageService();

function titles(text: string, s = service): string[] {
  return s.codeActions(doc(text), everywhere).map((a) => a.title);
}

function apply(text: string, title: RegExp): string {
  const action = service.codeActions(doc(text), everywhere).find((a) => title.test(a.title));
  assert.ok(action, `no action ${title}; got ${titles(text).join(' | ')}`);
  return applyEdits(text, action.edit!.changes![uri], checkSpec(text, 'yaml').document.offsetAt);
}

const codes = (text: string) => checkSpec(text, 'yaml').diagnostics.map((d) => d.code);

test('a key typo keeps its fix when the file has another, unrelated error', () => {
  // The notation error shows beside the typo (issue 10, item 2: a key typo hides no semantic error) and stays after the fix.
  const typo = edit(edit(DSOD300_YAML, 'blocks: [6', 'block: [6'), 'DS/64-192-48-1 ', 'DS/64-192-48-x ');
  assert.deepEqual(codes(typo), ['notation/invalid', 'schema/unknown-key']);
  const fixed = apply(typo, /Change to "blocks"/);
  assert.equal(fixed, edit(DSOD300_YAML, 'DS/64-192-48-1 ', 'DS/64-192-48-x '));
  assert.ok(!codes(fixed).includes('schema/unknown-key'));
  assert.ok(codes(fixed).includes('notation/invalid'), codes(fixed).join());
  // An error of the same stage, visible before and still there after, does not withhold the fix either.
  const two = edit(edit(DSOD300_YAML, 'blocks: [6', 'block: [6'), 'classes: 21', 'classes: x');
  assert.deepEqual(titles(two), ['Change to "blocks"']);
  assert.equal(apply(two, /Change to "blocks"/), edit(DSOD300_YAML, 'classes: 21', 'classes: x'));
  // Other diagnostics are matched at their place after the edit: a longer key moves the next typo on its line.
  const sameLine = 'dsod: 1\nbackbone: { growth_rat: 32, bottlenek: 128 }\nclasses: x\n';
  assert.deepEqual(titles(sameLine), ['Change to "growth_rate"', 'Change to "bottleneck"']);
});

test('a fix that adds a diagnostic is withheld, even where the error count stays the same', () => {
  // Dense prediction halves each scale into learned and reused maps: an odd width becomes an error the plain one had not.
  const plain = readRepoFile('examples/ablation/07-stem.dsod.yaml');
  const odd = edit(plain, 'channels: [800, 256, 512, 256, 256, 256]', 'channels: [800, 256, 512, 256, 256, 255]');
  assert.deepEqual(codes(odd), ['principle/plain-prediction']);
  assert.ok(!titles(odd).some((t) => /dense prediction structure/.test(t)), titles(odd).join(' | '));
  // With even widths the same fix is offered.
  assert.ok(
    titles(plain).some((t) => /dense prediction structure/.test(t)),
    titles(plain).join(' | '),
  );
});

test('fixes on a file with nothing else wrong still work, with design hints on or off', () => {
  const typo = edit(DSOD300_YAML, 'blocks: [6', 'block: [6');
  const fixed = apply(typo, /Change to "blocks"/);
  assert.equal(fixed, DSOD300_YAML);
  assert.deepEqual(
    checkSpec(fixed, 'yaml').diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  const quiet = createLanguageService({ ...DEFAULT_SETTINGS, designHints: false });
  assert.deepEqual(titles('dsod: 1\nbackbone:\n  growth_rat: 16\n', quiet), ['Change to "growth_rate"']);
  assert.deepEqual(titles('dsod: 1\nbackbone:\n  growth_rat: 16\n'), ['Change to "growth_rate"']);
});
