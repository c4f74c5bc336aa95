// The language service as plain functions: exact ranges and messages, hover text, completion, fixes applied and re-checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Position } from 'vscode-languageserver-types';
import { checkSpec } from '../../core';
import type { DiagnosticCode } from '../../core/codes';
import { applyEdits } from '../../server/service/actions';
import { createLanguageService, DEFAULT_SETTINGS } from '../../server/service';
import { DSOD300_YAML, edit, readRepoFile } from '../helpers';

let version = 0;
const doc = (text: string, uri = 'file:///ws/spec.dsod.yaml') => ({ uri, version: ++version, getText: () => text });

/** The position of the first `|` marker (removed from the text). */
function at(marked: string): { text: string; position: Position } {
  const i = marked.indexOf('|');
  const text = marked.slice(0, i) + marked.slice(i + 1);
  const lines = text.slice(0, i).split('\n');
  return { text, position: { line: lines.length - 1, character: lines[lines.length - 1].length } };
}

const positionOf = (text: string, needle: string, delta = 0): Position => {
  const i = text.indexOf(needle) + delta;
  const lines = text.slice(0, i).split('\n');
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
};

const service = createLanguageService();

test('diagnostics carry code, source, severity and the exact range', () => {
  const text = 'dsod: 1\nbackbone:\n  growth_rat: 32\n';
  const [d] = service.diagnostics(doc(text));
  assert.deepEqual(d, {
    range: { start: { line: 2, character: 2 }, end: { line: 2, character: 12 } },
    severity: 1,
    code: 'schema/unknown-key',
    source: 'dsod',
    message: 'Unknown property "growth_rat" in backbone. Did you mean "growth_rate"?',
    data: { suggestion: 'growth_rate' },
  });
  const hints = service.diagnostics(doc('dsod: 1\nbackbone: { stem: false }\n'));
  assert.deepEqual(
    hints.map((h) => [h.code, h.severity]),
    [['principle/no-stem', 3]],
  );
  const quiet = createLanguageService({ ...DEFAULT_SETTINGS, designHints: false });
  assert.deepEqual(quiet.diagnostics(doc('dsod: 1\nbackbone: { stem: false }\n')), []);
});

test('hover on a block shows its exact numbers and the key documentation', () => {
  const text = DSOD300_YAML;
  const h = service.hover(doc(text), positionOf(text, 'blocks: [6', 9))!;
  const md = (h.contents as { value: string }).value;
  assert.match(md, /\*\*block1\*\* · block/);
  assert.match(md, /\| output \| 416×75×75 \|/);
  assert.match(md, /\| learned params \| 788,640 \(5\.4%\) \|/);
  assert.match(md, /\| MACs \| 4,406,400,000 \(29\.2%\) · 8\.81 GFLOPs \|/);
  assert.match(md, /\| receptive field \| 61 px \|/);
  // A block counts its dense layers (6), not the 42 primitive ops (6 × BN-ReLU-conv1x1, BN-ReLU-conv3x3, concat) it lowers to.
  assert.match(md, /\| dense layers \| 6 \|/);
  assert.match(md, /\| primitive ops \| 42 \(conv, batch norm, ReLU, pool, concat, L2Norm\) \|/);
  assert.doesNotMatch(md, /\| layers \|/);
  assert.match(md, /\*\*backbone\.blocks\*\*: The dense blocks/);
  assert.deepEqual(h.range, { start: positionOf(text, 'blocks: [6', 9), end: positionOf(text, 'blocks: [6', 10) });
});

test('hover on a scale, on a transition, on a section and on a plain key', () => {
  const text = DSOD300_YAML;
  const scale = (service.hover(doc(text), positionOf(text, '[800, 512', 6))!.contents as { value: string }).value;
  assert.match(scale, /\*\*scale2\*\* · prediction scale 2/);
  assert.match(scale, /\| feature map \| 512×19×19 \|/);
  assert.match(scale, /\| default boxes \| 2,166 /);
  // Its boxes (60/√3 to 60·√3 px) beside its receptive field: the largest takes 103.9 / 713 of it.
  assert.match(scale, /\| default box sides \| 34\.6 to 103\.9 px \|/);
  assert.match(scale, /\| receptive field \| 713 px · largest box 14\.6% of it \|/);
  // Past its field (√(30·1300) = 197.5 px against 193 px), the hover says so as the warning does.
  const wide = edit(text, 'max_sizes: [60, 111,', 'max_sizes: [1300, 111,');
  const first = (service.hover(doc(wide), positionOf(wide, '[800, 512', 2))!.contents as { value: string }).value;
  assert.match(first, /\*\*scale1\*\*/);
  assert.match(first, /\| receptive field \| 193 px · ⚠ largest box 102\.3% of it: its boxes are larger than what it sees \|/);
  const transition = (service.hover(doc(text), positionOf(text, 'no-pool', 1))!.contents as { value: string }).value;
  assert.match(transition, /\*\*transition3\*\*/);
  assert.match(transition, /1,404,224/);
  const backbone = (service.hover(doc(text), positionOf(text, 'backbone:', 2))!.contents as { value: string }).value;
  assert.match(backbone, /\*\*Backbone\*\* · 10,032,608 learned params/);
  const lr = (service.hover(doc(text), positionOf(text, 'lr: 0.1', 1))!.contents as { value: string }).value;
  assert.match(lr, /\*\*train\.lr\*\*: Base learning rate\./);
  assert.equal(service.hover(doc(text), { line: 0, character: 0 }), null);
});

test('inlay hints at each stage, block and scale, and the totals lens', () => {
  const all = { start: { line: 0, character: 0 }, end: { line: 999, character: 0 } };
  const blockStyle = edit(
    edit(DSOD300_YAML, 'blocks: [6, 8, 8, 8]', 'blocks:\n    - 6\n    - 8\n    - 8\n    - 8'),
    'channels: [800, 512, 512, 256, 256, 256]',
    'channels:\n    - 800\n    - 512\n    - 512\n    - 256\n    - 256\n    - 256',
  );
  const labels = service.inlayHints(doc(blockStyle), all).map((h) => h.label as string);
  assert.ok(labels.includes('416×75×75 · 789k params · 4.41 GMACs'), labels.join('\n'));
  assert.ok(labels.includes('128×75×75 · 113k params · 2.53 GMACs'));
  assert.ok(labels.includes('1568×19×19 · 2.76M params · 989 MMACs'));
  assert.ok(labels.includes('800×38×38 · 5,776 boxes'));
  assert.ok(labels.includes('512×19×19 · 2,166 boxes · 206k params'));
  const stored = createLanguageService({ ...DEFAULT_SETTINGS, inlayHints: { enabled: true, params: 'stored' } });
  assert.ok(stored.inlayHints(doc(blockStyle), all).some((h) => h.label === '416×75×75 · 794k stored · 4.41 GMACs'));
  // A list written on one line gets one hint after it, every value under its unit, so "6 788.6k, 8 1.57M" can no longer
  // read as "81.57M": VS Code cuts all of a line's hints together at 43 characters, too few for a label per block.
  const text = DSOD300_YAML;
  const hints = service.inlayHints(doc(text), all);
  const line = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle));
  const on = (needle: string) => hints.filter((h) => h.position.line === line(needle)).map((h) => h.label);
  assert.deepEqual(on('blocks: [6'), ['params: 789k · 1.57M · 2.17M · 2.76M']);
  assert.deepEqual(on('transitions: [pool'), ['params: 174k · 642k · 1.40M · 405k']);
  assert.deepEqual(on('channels: [800'), ['boxes: 5,776 · 2,166 · 600 · 150 · 36 · 16']);
  assert.deepEqual(on('aspect_ratios:'), ['head params: 721k·692k·692k·346k·231k·231k']);
  assert.deepEqual(on('stem: {'), ['128×75×75 · 113k params · 2.53 GMACs']);
  for (const h of hints) assert.ok((h.label as string).length <= 43, `${h.label} is longer than VS Code shows on a line`);
  // After the list's closing bracket; its tooltip is the table of every item's shape, params and MACs.
  const blocks = hints.find((h) => h.label === 'params: 789k · 1.57M · 2.17M · 2.76M')!;
  assert.deepEqual(blocks.position, positionOf(text, 'blocks: [6, 8, 8, 8]', 20));
  const table = (blocks.tooltip as { kind: string; value: string }).value;
  assert.match(table, /^\| stage \| output \| learned params \| MACs \|$/m);
  assert.match(table, /^\| block1 \| 416×75×75 \| 788,640 \| 4,406,400,000 \(4\.41 GMACs\) \|$/m);
  assert.match(table, /^\| block4 \| 1568×19×19 \| 2,764,928 \| 989,220,864 \(989 MMACs\) \|$/m);
  assert.equal(hints.length, 5);
  assert.deepEqual(createLanguageService({ ...DEFAULT_SETTINGS, inlayHints: { enabled: false, params: 'learned' } }).inlayHints(doc(text), all), []);
  const firstLines = { start: { line: 0, character: 0 }, end: { line: 11, character: 0 } };
  assert.equal(service.inlayHints(doc(text), firstLines).length, 1);
  const [lens] = service.codeLenses(doc(text));
  assert.equal(lens.command!.title, 'DSOD300: 14.7M params (14.8M stored) · 15.1 GMACs (30.2 GFLOPs) · 8,744 boxes');
  // Over budget says by how much, in each quantity's own unit.
  const budget = service.codeLenses(doc(text + 'budget: { target: mobile }\n'))[0];
  assert.match(budget.command!.title, /· over budget: params by 145\.3% \(8\.72M\), macs by 402\.\d% \(12\.1 GMACs\)$/);
  assert.match(service.codeLenses(doc(text + 'budget: { params: 20M, macs: 20G }\n'))[0].command!.title, /within budget$/);
});

test("train.sync_bn: hover shows the schema's documentation, completion offers the key and its values", () => {
  const text = 'dsod: 1\ntrain:\n  sync_bn: true\n';
  const h = (service.hover(doc(text), positionOf(text, 'sync_bn', 1))!.contents as { value: string }).value;
  assert.match(h, /\*\*train\.sync_bn\*\*: Batch-norm statistics when training on several GPUs or processes/);
  const { text: t, position } = at('dsod: 1\ntrain:\n  sync|\n');
  assert.ok(
    service
      .completion(doc(t), position)
      .map((c) => c.label)
      .includes('sync_bn'),
  );
  const v = at('dsod: 1\ntrain: { sync_bn: |');
  assert.deepEqual(
    service.completion(doc(v.text), v.position).map((c) => c.label),
    ['true', 'false'],
  );
});

test('completion of keys, values and snippets from the schema', () => {
  const labels = (marked: string, uri?: string) => {
    const { text, position } = at(marked);
    return service.completion(doc(text, uri), position).map((c) => c.label);
  };
  assert.deepEqual(labels('dsod: 1\nbackbone:\n  notation: DS/64-192-48-1\n  gro|\n'), [
    'first_conv',
    'bottleneck',
    'growth_rate',
    'compression',
    'stem',
    'blocks',
    'transitions',
  ]);
  assert.deepEqual(labels('dsod: 1\nprediction:\n  structure: |\n'), ['dense', 'plain']);
  assert.deepEqual(labels('dsod: 1\nprediction: { structure: d| }\n'), ['dense', 'plain']);
  assert.deepEqual(labels('dsod: 1\nbackbone:\n  transitions: [pool, |]\n'), ['pool', 'no-pool']);
  assert.deepEqual(labels('dsod: 1\nbackbone:\n  transitions:\n    - pool\n    - |\n'), ['pool', 'no-pool']);
  // `layers` is there already: the dense block snippet (which writes layers again) is not offered.
  assert.deepEqual(labels('dsod: 1\nbackbone:\n  blocks:\n    - layers: 6\n      gr|\n'), ['growth_rate', 'bottleneck']);
  assert.deepEqual(labels('dsod: 1\nbudget:\n  target: |\n'), ['server', 'desktop', 'mobile', 'embedded']);
  assert.deepEqual(labels('dsod: 1\nheads: { batch_norm: |'), ['true', 'false']);
  assert.ok(labels('|').includes('DSOD300'));
  assert.deepEqual(labels('{"dsod": 1, "backbone": {"|"}}', 'file:///a.dsod.json').slice(0, 2), ['notation', 'first_conv']);
  assert.deepEqual(labels('{"dsod": 1, "prediction": {"structure": |}}', 'file:///a.dsod.json'), ['"dense"', '"plain"']);
  const { text, position } = at('dsod: 1\nprediction:\n  struct|\n');
  const structure = service.completion(doc(text), position).find((c) => c.label === 'structure')!;
  assert.match((structure.documentation as { value: string }).value, /learns half of its maps/);
  assert.equal(structure.insertText, 'structure: ');
  assert.match(structure.detail!, /"dense" \| "plain" \(default "dense"\)/);
});

test('the DSOD300 snippet is DSOD300', () => {
  const snippet = service.completion(doc(''), { line: 0, character: 0 }).find((c) => c.label === 'DSOD300')!;
  const text = snippet.insertText!.replace(/\$\{\d+:([^}]*)\}/g, '$1');
  const a = checkSpec(text, 'yaml').analysis!;
  assert.equal(a.totals.paramsLearned, 14_715_804);
  assert.equal(a.totals.defaultBoxes, 8_744);
});

/** Apply the action titled `title` for the diagnostic at the text, and return the new text. */
function fix(text: string, title: RegExp, uri = 'file:///ws/spec.dsod.yaml'): string {
  const d = doc(text, uri);
  const check = service.check(d);
  const everywhere = { start: { line: 0, character: 0 }, end: { line: 9999, character: 0 } };
  const actions = service.codeActions(d, everywhere);
  const action = actions.find((a) => title.test(a.title));
  assert.ok(action, `no action ${title}; got ${actions.map((a) => a.title).join(' | ')}`);
  return applyEdits(text, action.edit!.changes![uri], check.document.offsetAt);
}

const errors = (text: string, format: 'yaml' | 'json' = 'yaml') => checkSpec(text, format).diagnostics.filter((d) => d.severity === 'error');
const codes = (text: string) => checkSpec(text, 'yaml').diagnostics.map((d) => d.code);

test('quick fix: a key typo, in YAML and JSON', () => {
  const fixed = fix('dsod: 1\nbackbone:\n  growth_rat: 32\n  bottleneck: 128\n', /Change to "growth_rate"/);
  assert.equal(fixed, 'dsod: 1\nbackbone:\n  growth_rate: 32\n  bottleneck: 128\n');
  assert.deepEqual(errors(fixed), []);
  const json = fix('{\n  "dsod": 1,\n  "clases": 21\n}', /Change to "classes"/, 'file:///ws/spec.dsod.json');
  assert.equal(json, '{\n  "dsod": 1,\n  "classes": 21\n}');
});

test('quick fix: an enum typo', () => {
  assert.equal(fix('dsod: 1\nprediction: { structure: dens }\n', /Change to "dense"/), 'dsod: 1\nprediction: { structure: dense }\n');
});

test('quick fix: prior lists of the wrong length', () => {
  const short = edit(DSOD300_YAML, 'min_sizes: [30, 60, 111, 162, 213, 264]', 'min_sizes: [30, 60, 111, 162]');
  const fixed = fix(short, /Add entries so that priors.min_sizes has one per scale \(6\)/);
  assert.match(fixed, /min_sizes: \[30, 60, 111, 162, 213, 264\]/);
  assert.deepEqual(errors(fixed), []);
  const long = edit(DSOD300_YAML, 'aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]]', 'aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2], [3]]');
  const trimmed = fix(long, /Drop entries so that priors.aspect_ratios has one per scale \(6\)/);
  assert.match(trimmed, /aspect_ratios: \[\[2\], \[2, 3\], \[2, 3\], \[2, 3\], \[2\], \[2\]\]/);
  assert.deepEqual(errors(trimmed), []);
});

test('quick fixes for design-principle hints: each removes its hint and adds no error', () => {
  const cases: [string, RegExp, DiagnosticCode][] = [
    [edit(DSOD300_YAML, 'stem: { convs: [64, 64, 128], pool: max }', 'stem: false'), /stem block/, 'principle/no-stem'],
    [edit(DSOD300_YAML, 'DS/64-192-48-1 ', 'DS/64-192-48-0.5 '), /θ = 1/, 'principle/compression'],
    [edit(DSOD300_YAML, 'DS/64-192-48-1 ', 'DS/64-96-48-1 '), /4k = 192/, 'principle/narrow-bottleneck'],
    ['dsod: 1\nbackbone: { notation: DS/64-64-16-1 }\n', /growth rate 48/, 'principle/growth-rate'],
    ['dsod: 1\nbackbone: { notation: DS/32-192-48-1 }\n', /A = 64/, 'principle/narrow-first-conv'],
    [readRepoFile('examples/ablation/07-stem.dsod.yaml'), /dense prediction structure/, 'principle/plain-prediction'],
  ];
  for (const [text, title, code] of cases) {
    assert.ok(codes(text).includes(code), code);
    const fixed = fix(text, title);
    assert.ok(!codes(fixed).includes(code), `${code} still there`);
    assert.deepEqual(errors(fixed), [], code);
  }
  assert.match(fix('dsod: 1\nbackbone: { notation: DS/64-64-16-1 }\n', /growth rate 48/), /notation: DS\/64-192-48-1/);
});

test('outline and folding', () => {
  const symbols = service.documentSymbols(doc(DSOD300_YAML));
  assert.deepEqual(
    symbols.map((s) => s.name),
    ['dsod', 'name', 'input', 'classes', 'backbone', 'prediction', 'heads', 'priors', 'train', 'data'],
  );
  const backbone = symbols.find((s) => s.name === 'backbone')!;
  assert.deepEqual(
    backbone.children!.map((c) => c.name),
    ['stem', 'block 1', 'block 2', 'block 3', 'block 4', 'transition 1', 'transition 2', 'transition 3', 'transition 4'],
  );
  assert.equal(backbone.children![1].detail, '416×75×75 · 789k params · 4.41 GMACs');
  const prediction = symbols.find((s) => s.name === 'prediction')!;
  assert.equal(prediction.children!.length, 6);
  const folds = service.foldingRanges(doc(DSOD300_YAML));
  const backboneLine = DSOD300_YAML.split('\n').findIndex((l) => l.startsWith('backbone:'));
  assert.ok(
    folds.some((f) => f.startLine === backboneLine && f.endLine === backboneLine + 4),
    JSON.stringify(folds),
  );
});

test('the graph payload carries every node with its numbers and source range', () => {
  const g = service.graph(doc(DSOD300_YAML));
  assert.equal(g.summary.paramsLearned, 14_715_804);
  assert.equal(
    g.graph!.nodes.reduce((n, x) => n + x.macs, 0),
    15_079_798_528,
  );
  assert.deepEqual(
    g.graph!.scales.map((s) => s.boxes),
    [5776, 2166, 600, 150, 36, 16],
  );
  const block = g.graph!.nodes.find((n) => n.name === 'block1/layer1/concat')!;
  assert.deepEqual(block.source.path, ['backbone', 'blocks', 0]);
  assert.deepEqual(block.source.range.start, positionOf(DSOD300_YAML, 'blocks: [6', 9));
  assert.equal(service.graph(doc('dsod: 1\nclasses: x\n')).graph, null);
});

// The report's data (dsod/report): test/server/report.test.ts.
