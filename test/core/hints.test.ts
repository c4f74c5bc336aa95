// Design hints a spec can silence and that never contradict its own budget (issue 10, item 10); default boxes whose
// steps no longer tile the image (issue 10, item 11).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSpec } from '../../core';
import { PRINCIPLE_KINDS, tilingStep } from '../../core/analysis/lints';
import { conventionalStep } from '../../core/priors';
import { normalizeSpec } from '../../core/spec/normalize';
import { specSchema } from '../../core/spec/validate';
import { DSOD300_YAML, edit, readRepoFile } from '../helpers';

const TINY = readRepoFile('examples/tiny.dsod.yaml');
const codes = (text: string, format: 'yaml' | 'json' = 'yaml') => checkSpec(text, format).diagnostics.map((d) => d.code);
const hints = (text: string, format: 'yaml' | 'json' = 'yaml') => codes(text, format).filter((c) => c.startsWith('principle/'));

test('hints.ignore silences the kinds it lists, and only those', () => {
  assert.deepEqual(hints(TINY), ['principle/growth-rate', 'principle/narrow-first-conv']);
  const quiet = TINY.replace('\nbackbone:', '\nhints: { ignore: [principle/growth-rate] }\nbackbone:');
  assert.deepEqual(codes(quiet), ['principle/narrow-first-conv']);
  const silent = TINY.replace('\nbackbone:', '\nhints:\n  ignore:\n    - principle/narrow-first-conv\n    - principle/growth-rate\nbackbone:');
  assert.deepEqual(codes(silent), []);
  const json = JSON.stringify({ dsod: 1, backbone: { notation: 'DS/64-64-16-1' }, hints: { ignore: ['principle/growth-rate'] } });
  assert.deepEqual(hints(JSON.stringify({ dsod: 1, backbone: { notation: 'DS/64-64-16-1' } }), 'json'), ['principle/growth-rate']);
  assert.deepEqual(codes(json, 'json'), []);
  // An empty list is valid and silences nothing.
  assert.deepEqual(hints('dsod: 1\nbackbone: { notation: DS/64-64-16-1 }\nhints: { ignore: [] }\n'), ['principle/growth-rate']);
});

test('hints.ignore normalizes to a list of kinds; left out, to an empty one', () => {
  assert.deepEqual(normalizeSpec({ dsod: 1, hints: { ignore: ['principle/no-stem'] } }).spec.hints, { ignore: ['principle/no-stem'] });
  assert.deepEqual(normalizeSpec({ dsod: 1 }).spec.hints, { ignore: [] });
});

test('hints.ignore refuses what is not a hint kind, at the list item, and duplicates', () => {
  const bad = checkSpec('dsod: 1\nhints: { ignore: [principle/no-stem, shape/degenerate] }\n', 'yaml').diagnostics;
  assert.deepEqual(
    bad.map((d) => [d.code, d.range.start.line, d.range.start.character, d.range.end.character]),
    [['schema/enum', 1, 37, 53]],
  );
  assert.match(bad[0].message, /"shape\/degenerate" is not a kind of design-principle hint; hints.ignore takes principle\/no-stem, principle\/compression/);
  assert.deepEqual(codes('dsod: 1\nhints: { ignore: [principle/no-stem, principle/no-stem] }\n'), ['schema/unique']);
  assert.deepEqual(codes('dsod: 1\nhints: { ignore: principle/no-stem }\n'), ['schema/type']);
  assert.deepEqual(codes('dsod: 1\nhints: { silence: [] }\n'), ['schema/unknown-key']);
});

test("the schema's kinds are exactly the hints core gives (completion offers them from the enum)", () => {
  assert.deepEqual(specSchema.properties.hints.properties.ignore.items.enum, [...PRINCIPLE_KINDS]);
  // The first row of the paper's ablation departs from every principle.
  const all = hints(readRepoFile('examples/ablation/01-ds32-12-16-0.5.dsod.yaml'));
  assert.deepEqual([...all].sort(), [...PRINCIPLE_KINDS].sort());
});

test('a hint whose change would go over the budget is not given', () => {
  const lite = 'dsod: 1\nbackbone: { notation: DS/64-64-16-1 }\n';
  assert.deepEqual(hints(lite), ['principle/growth-rate']);
  // DS/64-192-48-1 is DSOD300: 14.7M learned parameters and 15.1 GMACs.
  assert.deepEqual(codes(`${lite}budget: { macs: 6G }\n`), []);
  assert.deepEqual(codes(`${lite}budget: { params: 10M }\n`), []);
  assert.deepEqual(codes(`${lite}budget: { activation_memory: 300MB }\n`), []);
  assert.deepEqual(codes(`${lite}budget: { params: 15M, macs: 16G }\n`), ['principle/growth-rate']);
  // Already over: the hint would take it further over.
  assert.deepEqual(codes(`${lite}budget: { macs: 1G }\n`), ['budget/macs']);
  // The stored count is the one compared when the budget says so: 14.72M learned, 14.80M stored.
  assert.deepEqual(hints(`${lite}budget: { params: 14.75M }\n`), ['principle/growth-rate']);
  assert.deepEqual(hints(`${lite}budget: { params: 14.75M, count: stored }\n`), []);
});

test('a hint whose change costs less stays, even where the spec is over its budget', () => {
  // Plain -> dense prediction saves parameters (the paper's 18.2M against 14.8M): still worth saying when over.
  const plain = readRepoFile('examples/ablation/07-stem.dsod.yaml');
  assert.deepEqual(hints(plain), ['principle/plain-prediction']);
  const over = `${plain}budget: { params: 1M }\n`;
  assert.deepEqual(codes(over).sort(), ['budget/params', 'principle/plain-prediction']);
});

test("SSD's convention for steps: input / feature map size, written as the scale's stride where that tiles", () => {
  // SSD300 (VGG; its last two scales come from stride-1 convs, stride 64): the released [8, 16, 32, 64, 100, 300].
  const ssd300 = [
    [38, 8],
    [19, 16],
    [10, 32],
    [5, 64],
    [3, 64],
    [1, 64],
  ].map(([map, stride]) => conventionalStep(300, map, stride));
  assert.deepEqual(ssd300, [8, 16, 32, 64, 100, 300]);
  // SSD512: [8, 16, 32, 64, 128, 256, 512].
  const ssd512 = [64, 32, 16, 8, 4, 2, 1].map((map, i) => conventionalStep(512, map, Math.min(8 * 2 ** i, 128)));
  assert.deepEqual(ssd512, [8, 16, 32, 64, 128, 256, 512]);
  // Cells of a few pixels: a whole pixel would not tile 41 cells of 100 px (2 x 41 = 82), so 1/1000 px.
  assert.equal(conventionalStep(100, 41, 4), 2.439);
  // One step for both sides of a non-square map, or none.
  assert.equal(tilingStep(512, 512, 4, 4, 128), 128);
  assert.equal(tilingStep(300, 500, 3, 4, 128), null);
});

test('steps copied from DSOD300 into a 512x512 spec are flagged at each step that no longer tiles', () => {
  assert.deepEqual(codes(DSOD300_YAML), []);
  const d = checkSpec(edit(DSOD300_YAML, 'size: [300, 300]', 'size: [512, 512]'), 'yaml').diagnostics;
  assert.deepEqual(
    d.map((x) => [x.code, x.severity, x.path.join('.')]),
    [
      ['priors/steps-mismatch', 'warning', 'priors.steps.4'],
      ['priors/steps-mismatch', 'warning', 'priors.steps.5'],
    ],
  );
  assert.match(d[1].message, /Scale 6: its 2x2 feature map × step 300 spans 600x600 px, but the input is 512x512: .*A step of 256 tiles it \(512 \/ 2 = 256\)/);
  // 600: scale 5's 600 / 5 = 120 is written as its stride, 128 (6.7% over, as SSD300's 32 for 300 / 10).
  const six = checkSpec(edit(DSOD300_YAML, 'size: [300, 300]', 'size: [600, 600]'), 'yaml').diagnostics;
  assert.match(
    six[0].message,
    /Scale 5: its 5x5 feature map × step 100 spans 500x500 px, .*A step of 128 tiles it \(600 \/ 5 = 120, written as the scale's stride as SSD does\)/,
  );
  // Non-square: no single step, the message says how to get one per side.
  const wide = checkSpec(edit(DSOD300_YAML, 'size: [300, 300]', 'size: [300, 500]'), 'yaml').diagnostics;
  assert.ok(
    wide.some((x) => /No one step tiles both sides of this map: leave priors.steps out/.test(x.message)),
    wide.map((x) => x.message).join('\n'),
  );
});

test('steps that tile stay quiet: written within 10%, left out, or the input side on the last scale', () => {
  assert.deepEqual(
    codes(readRepoFile('examples/tiny.dsod.yaml')).filter((c) => c.startsWith('priors/')),
    [],
  );
  // Left out, the steps follow the input (input / feature map size).
  assert.deepEqual(codes('dsod: 1\ninput: { size: 512 }\n'), []);
  // 5 x 64 = 320 px for a 300 input is SSD's own (6.7%); 5 x 70 = 350 px is 17% over.
  const steps = (list: string) => codes(edit(DSOD300_YAML, '[8, 16, 32, 64, 100, 300]', list));
  assert.deepEqual(steps('[8, 16, 32, 62, 100, 300]'), []);
  assert.deepEqual(steps('[8, 16, 32, 70, 100, 300]'), ['priors/steps-mismatch']);
  // The input side on a scale other than the last does not pass for SSD's global scale.
  assert.deepEqual(steps('[8, 16, 32, 64, 300, 300]'), ['priors/steps-mismatch']);
});
