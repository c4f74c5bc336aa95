// The quick fixes of issue 10, items 10 and 11: silence a hint kind in the spec itself (hints.ignore, written in the
// file's own style), and set the steps that no longer tile the image to what does. Both must pass the re-check that
// every fix passes before it is offered (it removes its own diagnostic and adds none).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSpec, type SpecFormat } from '../../core';
import { applyEdits } from '../../server/service/actions';
import { createLanguageService } from '../../server/service';
import { DSOD300_YAML, edit, readRepoFile } from '../helpers';

let version = 0;
const everywhere = { start: { line: 0, character: 0 }, end: { line: 9999, character: 0 } };
const service = createLanguageService();
const uriOf = (format: SpecFormat) => (format === 'json' ? 'file:///ws/spec.dsod.json' : 'file:///ws/spec.dsod.yaml');

function actions(text: string, format: SpecFormat = 'yaml') {
  return service.codeActions({ uri: uriOf(format), version: ++version, getText: () => text }, everywhere);
}

function apply(text: string, title: string | RegExp, format: SpecFormat = 'yaml'): string {
  const all = actions(text, format);
  const action = all.find((a) => (typeof title === 'string' ? a.title === title : title.test(a.title)));
  assert.ok(action, `no action ${title}; got ${all.map((a) => a.title).join(' | ')}`);
  return applyEdits(text, action.edit!.changes![uriOf(format)], checkSpec(text, format).document.offsetAt);
}

const codes = (text: string, format: SpecFormat = 'yaml') => checkSpec(text, format).diagnostics.map((d) => d.code);
const ignore = (kind: string) => `Ignore ${kind} in this spec`;

test('every design hint offers to ignore its kind in this spec, never as the preferred fix', () => {
  const row1 = readRepoFile('examples/ablation/01-ds32-12-16-0.5.dsod.yaml');
  const hints = checkSpec(row1, 'yaml').diagnostics.filter((d) => d.code.startsWith('principle/'));
  assert.equal(hints.length, 7);
  const all = actions(row1);
  for (const h of hints) {
    const a = all.find((x) => x.title === ignore(h.code));
    assert.ok(a, `no ignore fix for ${h.code}`);
    assert.equal(a.isPreferred, false);
    assert.deepEqual(
      a.diagnostics!.map((d) => d.code),
      [h.code],
    );
  }
  // Where the hint has a fix of its own, that one stays the preferred one.
  const lite = actions('dsod: 1\nbackbone: { notation: DS/64-64-16-1 }\n');
  assert.deepEqual(
    lite.map((a) => [a.title, a.isPreferred]),
    [
      ['Use growth rate 48 with a 4k bottleneck (192), as DSOD300', true],
      [ignore('principle/growth-rate'), false],
    ],
  );
});

test('on tiny, whose nested collections are mostly flow, a hints section is added in flow style', () => {
  const tiny = readRepoFile('examples/tiny.dsod.yaml');
  const once = apply(tiny, ignore('principle/growth-rate'));
  assert.equal(once, `${tiny}hints: { ignore: [principle/growth-rate] }\n`);
  assert.deepEqual(codes(once), ['principle/narrow-first-conv']);
  const twice = apply(once, ignore('principle/narrow-first-conv'));
  assert.equal(twice, `${tiny}hints: { ignore: [principle/growth-rate, principle/narrow-first-conv] }\n`);
  assert.deepEqual(codes(twice), []);
});

test('in a block-style YAML file the section is block style, at the file indentation, with its line breaks', () => {
  const block = 'dsod: 1\nbackbone:\n    notation: DS/32-192-48-1\n    blocks:\n        - 6\n        - 8\n        - 8\n        - 8';
  const fixed = apply(block, ignore('principle/narrow-first-conv'));
  // The file ends without a line break, and still does.
  assert.equal(fixed, `${block}\nhints:\n    ignore:\n        - principle/narrow-first-conv`);
  assert.deepEqual(codes(fixed), []);
  // A block list grows by one item, with the last item's dash and spacing, after its comment; CRLF stays CRLF.
  const crlf = 'dsod: 1\r\nbackbone:\r\n  notation: DS/32-64-16-1\r\nhints:\r\n  ignore:\r\n  -  principle/no-stem   # paper row\r\n# end\r\n';
  assert.equal(
    apply(crlf, ignore('principle/narrow-first-conv')),
    'dsod: 1\r\nbackbone:\r\n  notation: DS/32-64-16-1\r\nhints:\r\n  ignore:\r\n  -  principle/no-stem   # paper row\r\n  -  principle/narrow-first-conv\r\n# end\r\n',
  );
});

test('the section goes before a document end marker and after a block scalar', () => {
  const kind = 'principle/narrow-first-conv';
  const ended = '---\ndsod: 1\nbackbone: { notation: DS/32-64-16-1 }\n...\n';
  assert.equal(apply(ended, ignore(kind)), `---\ndsod: 1\nbackbone: { notation: DS/32-64-16-1 }\nhints: { ignore: [${kind}] }\n...\n`);
  const scalar = 'dsod: 1\nbackbone: { notation: DS/32-64-16-1 }\ndescription: |\n  A small one.\n';
  assert.equal(apply(scalar, ignore(kind)), `${scalar}hints: { ignore: [${kind}] }\n`);
});

test('an existing flow list or empty section is extended in place', () => {
  const lite = 'dsod: 1\nbackbone: { notation: DS/32-64-16-1 }\n';
  const kind = 'principle/narrow-first-conv';
  assert.equal(apply(`${lite}hints: { ignore: [principle/no-stem] }\n`, ignore(kind)), `${lite}hints: { ignore: [principle/no-stem, ${kind}] }\n`);
  assert.equal(apply(`${lite}hints: { ignore: [] }\n`, ignore(kind)), `${lite}hints: { ignore: [${kind}] }\n`);
  assert.equal(apply(`${lite}hints: {}\n`, ignore(kind)), `${lite}hints: { ignore: [${kind}] }\n`);
  assert.equal(
    apply(`${lite}hints:\n  ignore: [\n    principle/no-stem\n  ]\n`, ignore(kind)),
    `${lite}hints:\n  ignore: [\n    principle/no-stem,\n    ${kind}\n  ]\n`,
  );
  assert.equal(
    apply('{dsod: 1, backbone: { notation: DS/32-64-16-1 }}\n', ignore(kind)),
    `{dsod: 1, backbone: { notation: DS/32-64-16-1 }, hints: { ignore: [${kind}] }}\n`,
  );
});

test('JSON specs get JSON, on a line of its own where the object spans lines', () => {
  const kind = 'principle/narrow-first-conv';
  const multi = '{\n  "dsod": 1,\n  "backbone": { "notation": "DS/32-64-16-1" }\n}\n';
  const fixed = apply(multi, ignore(kind), 'json');
  assert.equal(fixed, `{\n  "dsod": 1,\n  "backbone": { "notation": "DS/32-64-16-1" },\n  "hints": { "ignore": ["${kind}"] }\n}\n`);
  assert.deepEqual(codes(fixed, 'json'), ['principle/growth-rate']);
  assert.equal(
    apply('{"dsod": 1, "backbone": {"notation": "DS/32-64-16-1"}}', ignore(kind), 'json'),
    `{"dsod": 1, "backbone": {"notation": "DS/32-64-16-1"}, "hints": { "ignore": ["${kind}"] }}`,
  );
  assert.equal(
    apply('{"dsod": 1, "backbone": {"notation": "DS/32-64-16-1"}, "hints": {"ignore": ["principle/no-stem"]}}', ignore(kind), 'json'),
    `{"dsod": 1, "backbone": {"notation": "DS/32-64-16-1"}, "hints": {"ignore": ["principle/no-stem", "${kind}"]}}`,
  );
  const list = '{\n  "dsod": 1,\n  "backbone": { "notation": "DS/32-64-16-1" },\n  "hints": {\n    "ignore": [\n      "principle/no-stem"\n    ]\n  }\n}\n';
  assert.equal(apply(list, ignore(kind), 'json'), list.replace('"principle/no-stem"\n', `"principle/no-stem",\n      "${kind}"\n`));
  assert.equal(
    apply('{"dsod": 1, "backbone": {"notation": "DS/32-64-16-1"}, "hints": {}}', ignore(kind), 'json'),
    `{"dsod": 1, "backbone": {"notation": "DS/32-64-16-1"}, "hints": { "ignore": ["${kind}"] }}`,
  );
});

test('the ignore fix is offered on a spec that has other problems (they stay, none is added)', () => {
  const plain = `${readRepoFile('examples/ablation/07-stem.dsod.yaml')}budget: { params: 1M }\n`;
  assert.deepEqual(codes(plain).sort(), ['budget/params', 'principle/plain-prediction']);
  assert.deepEqual(codes(apply(plain, ignore('principle/plain-prediction'))), ['budget/params']);
});

test('steps copied from DSOD300 into a 512x512 spec: one fix sets each step that no longer tiles', () => {
  const big = edit(DSOD300_YAML, 'size: [300, 300]', 'size: [512, 512]');
  const steps = actions(big).filter((a) => /steps/.test(a.title));
  assert.deepEqual(
    steps.map((a) => [a.title, a.isPreferred, a.diagnostics!.map((d) => d.code)]),
    [['Set priors.steps to [8, 16, 32, 64, 128, 256] (input 512 / feature map size)', true, ['priors/steps-mismatch', 'priors/steps-mismatch']]],
  );
  const fixed = apply(big, /Set priors.steps/);
  assert.equal(fixed, edit(big, 'steps: [8, 16, 32, 64, 100, 300]', 'steps: [8, 16, 32, 64, 128, 256]'));
  assert.deepEqual(codes(fixed), []);
  // A step that still tiles is left as written: 3 x 100 = 300 px of a 320 input.
  const near = edit(DSOD300_YAML, 'size: [300, 300]', 'size: [320, 320]');
  assert.equal(apply(near, /Set priors.steps/), edit(near, 'steps: [8, 16, 32, 64, 100, 300]', 'steps: [8, 16, 32, 64, 100, 160]'));
  // JSON, and 600 (600 / 5 = 120 written as the stride, 128).
  const json = JSON.stringify({ dsod: 1, input: { size: 600 }, priors: { steps: [8, 16, 32, 64, 100, 300] } }, null, 2);
  assert.deepEqual(codes(json, 'json'), ['priors/steps-mismatch', 'priors/steps-mismatch']);
  const fixedJson = apply(json, /Set priors.steps to \[8, 16, 32, 64, 128, 200\]/, 'json');
  assert.deepEqual(JSON.parse(fixedJson).priors.steps, [8, 16, 32, 64, 128, 200]);
  assert.deepEqual(codes(fixedJson, 'json'), []);
});

test('no steps fix where no single step tiles both sides of a map', () => {
  const wide = edit(DSOD300_YAML, 'size: [300, 300]', 'size: [300, 500]');
  assert.ok(codes(wide).includes('priors/steps-mismatch'));
  assert.ok(!actions(wide).some((a) => /steps/.test(a.title)));
});

test('completion offers the known hint kinds in hints.ignore (from the schema enum), block and flow', () => {
  const kinds = (text: string, line: number, character: number) =>
    service.completion({ uri: uriOf('yaml'), version: ++version, getText: () => text }, { line, character }).map((i) => i.label);
  const all = [
    'principle/no-stem',
    'principle/compression',
    'principle/no-transition-without-pooling',
    'principle/narrow-bottleneck',
    'principle/narrow-first-conv',
    'principle/growth-rate',
    'principle/plain-prediction',
  ];
  assert.deepEqual([...kinds('dsod: 1\nhints:\n  ignore:\n    - \n', 3, 6)].sort(), [...all].sort());
  assert.ok(kinds('dsod: 1\nhints: { ignore: [growth] }\n', 1, 24).includes('principle/growth-rate'));
  assert.ok(kinds('dsod: 1\nhi', 1, 2).includes('hints'));
});
