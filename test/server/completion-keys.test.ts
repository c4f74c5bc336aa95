// Accepting a key writes what its value needs in the file's own indentation (a mapping on the next line, a list of
// mappings with its first dash, a scalar on the line; JSON braces), and the dense-block and prediction-scales
// snippets appear where their keys belong, in block style, flow style and JSON, giving a spec that analyses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletionItemKind, InsertTextMode, type CompletionItem, type Position, type TextEdit } from 'vscode-languageserver-types';
import { checkSpec, type SpecFormat } from '../../core';
import { createLanguageService } from '../../server/service';
import { DSOD300_YAML } from '../helpers';

let version = 0;
const service = createLanguageService();

/**
 * The text with `|` as the cursor: the completion items there, and `pick(label)`, the text after accepting that item
 * with its snippet expanded as an editor does (placeholders take their defaults, `|` marks where `$0` leaves the cursor).
 */
function complete(marked: string, uri = 'file:///ws/spec.dsod.yaml') {
  const i = marked.indexOf('|');
  const text = marked.slice(0, i) + marked.slice(i + 1);
  const before = text.slice(0, i).split('\n');
  const position: Position = { line: before.length - 1, character: before[before.length - 1].length };
  const items = service.completion({ uri, version: ++version, getText: () => text }, position);
  const pick = (label: string): string => {
    const item = items.find((c) => c.label === label);
    assert.ok(item, `no item "${label}" at ${JSON.stringify(marked)}; got ${items.map((c) => c.label).join(', ')}`);
    const edit = item.textEdit as TextEdit | undefined;
    assert.ok(edit && 'range' in edit, `${label} carries a textEdit with a range`);
    // The text is indented by the server: the editor must insert it as it is.
    if (edit.newText.includes('\n')) assert.equal(item.insertTextMode, InsertTextMode.asIs, `${label} is inserted as is`);
    const offset = (p: Position) =>
      text
        .split('\n')
        .slice(0, p.line)
        .reduce((n, l) => n + l.length + 1, 0) + p.character;
    const inserted = edit.newText
      .replace(/\$\{\d+:([^}]*)\}/g, '$1')
      .replace(/\$0/, '|')
      .replace(/\$\d/g, '');
    return text.slice(0, offset(edit.range.start)) + inserted + text.slice(offset(edit.range.end));
  };
  return { items, pick };
}

const totals = (text: string, format: SpecFormat = 'yaml') => {
  const c = checkSpec(text, format);
  assert.deepEqual(
    c.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
    [],
    text,
  );
  return { learned: c.analysis!.totals.paramsLearned, boxes: c.analysis!.totals.defaultBoxes };
};
const DSOD300_TOTALS = { learned: 14_715_804, boxes: 8_744 };

test('accepting an object key puts the newline and one indentation step after it', () => {
  // A new file: two spaces, as the snippets and the editor default for the language.
  assert.equal(complete('dsod: 1\nback|').pick('backbone'), 'dsod: 1\nbackbone:\n  |');
  assert.equal(complete('back|\n').pick('backbone'), 'backbone:\n  |\n');
  // A file indented by four: four, also under a nested key.
  const four = 'dsod: 1\nbackbone:\n    notation: DS/64-192-48-1\n';
  assert.equal(complete(`${four}pri|`).pick('priors'), `${four}priors:\n    |`);
  assert.equal(
    complete('dsod: 1\nbackbone:\n    blocks: [6, 8]\n    tr|').pick('transitions'),
    'dsod: 1\nbackbone:\n    blocks: [6, 8]\n    transitions:\n        - |',
  );
  // A list that holds mappings starts its first item.
  assert.equal(complete('dsod: 1\nbackbone:\n  tran|\n').pick('transitions'), 'dsod: 1\nbackbone:\n  transitions:\n    - |\n');
  assert.equal(complete(`${four}    bl|`).pick('blocks'), `${four}    blocks:\n        - |`);
  // In a list item's mapping the step is counted from the key's column, not the dash's.
  assert.equal(
    complete('dsod: 1\nbackbone:\n  blocks:\n    - layers: 6\n      gr|').pick('growth_rate'),
    'dsod: 1\nbackbone:\n  blocks:\n    - layers: 6\n      growth_rate: ',
  );
});

test('scalar keys stay on their line; flow style and a key that has its colon get the key alone', () => {
  assert.equal(complete('dsod: 1\nbackbone:\n  gro|\n').pick('growth_rate'), 'dsod: 1\nbackbone:\n  growth_rate: \n');
  assert.equal(complete('dsod: 1\nna|').pick('name'), 'dsod: 1\nname: ');
  // `l2norm` is `true`, `false` or a mapping: a scalar key. Inside braces every key stays on the line.
  assert.equal(complete('dsod: 1\nprediction:\n  l2|\n').pick('l2norm'), 'dsod: 1\nprediction:\n  l2norm: \n');
  assert.equal(complete('dsod: 1\nprediction: { l2| }\n').pick('l2norm'), 'dsod: 1\nprediction: { l2norm:  }\n');
  assert.equal(complete('{ dsod: 1, hea| }\n').pick('heads'), '{ dsod: 1, heads:  }\n');
  // The typed key is replaced whole, and an existing colon is not doubled.
  assert.equal(complete('dsod: 1\nbackb|xx: \n').pick('backbone'), 'dsod: 1\nbackbone: \n');
});

test("JSON keys get the JSON equivalent, in the file's indentation", () => {
  const uri = 'file:///ws/spec.dsod.json';
  assert.equal(complete('{\n  "dsod": 1,\n  "|"\n}', uri).pick('backbone'), '{\n  "dsod": 1,\n  "backbone": {\n    |\n  }\n}');
  assert.equal(complete('{\n    "dsod": 1,\n    "ba|"\n}', uri).pick('backbone'), '{\n    "dsod": 1,\n    "backbone": {\n        |\n    }\n}');
  assert.equal(complete('{\n\t"dsod": 1,\n\t"|"\n}', uri).pick('backbone'), '{\n\t"dsod": 1,\n\t"backbone": {\n\t\t|\n\t}\n}');
  assert.equal(complete('{"dsod": 1, "backbone": {"tr|"}}', uri).pick('transitions'), '{"dsod": 1, "backbone": {"transitions": [|]}}');
  assert.equal(complete('{"dsod": 1, "backbone": {"gr|"}}', uri).pick('growth_rate'), '{"dsod": 1, "backbone": {"growth_rate": }}');
});

test('in a list of scalars or mappings, what starts a value gets values; what starts no value gets the keys', () => {
  const list = 'dsod: 1\nbackbone:\n  transitions:\n    - pool\n    - ';
  const noP = complete(`${list}no-p|\n`);
  assert.equal(noP.pick('no-pool'), `${list}no-pool\n`);
  assert.deepEqual(
    noP.items.filter((c) => c.kind === CompletionItemKind.Property).map((c) => c.label),
    [],
    'no keys for `- no-p`',
  );
  assert.equal(complete(`${list}|\n`).items.filter((c) => c.kind === CompletionItemKind.Property).length, 0);
  // `- ch` starts no value: the first key of a mapping item.
  assert.equal(complete(`${list}ch|\n`).pick('channels'), `${list}channels: \n`);
});

test('the dense block snippet: in a block list, a flow list, a flow item and JSON; not where a block key is written', () => {
  const head = 'dsod: 1\nbackbone:\n  notation: DS/64-192-48-1\n  blocks:\n    - 6\n    - ';
  const block = complete(`${head}|\n`).pick('dense block');
  assert.equal(block, `${head}layers: 8\n      growth_rate: 48\n      bottleneck: 192\n`);
  assert.deepEqual(checkSpec(block, 'yaml').document.draft, {
    dsod: 1,
    backbone: { notation: 'DS/64-192-48-1', blocks: [6, { layers: 8, growth_rate: 48, bottleneck: 192 }] },
  });
  // Half typed: `- la` (no value starts so) gets the keys and the snippet, which replaces the `la`.
  assert.equal(complete(`${head}la|\n`).pick('dense block'), block);
  const flow = 'dsod: 1\nbackbone:\n  blocks: [6, |]\n';
  assert.equal(complete(flow).pick('dense block'), 'dsod: 1\nbackbone:\n  blocks: [6, { layers: 8, growth_rate: 48, bottleneck: 192 }]\n');
  assert.equal(
    complete('dsod: 1\nbackbone:\n  blocks: [6, { l| }]\n').pick('dense block'),
    'dsod: 1\nbackbone:\n  blocks: [6, { layers: 8, growth_rate: 48, bottleneck: 192 }]\n',
  );
  const json = complete('{"dsod": 1, "backbone": {"blocks": [6, |]}}', 'file:///ws/spec.dsod.json').pick('dense block');
  assert.equal(json, '{"dsod": 1, "backbone": {"blocks": [6, { "layers": 8, "growth_rate": 48, "bottleneck": 192 }]}}');
  // A block that has its layers already, and places that are no block, get no dense block.
  const labels = (marked: string) => complete(marked).items.map((c) => c.label);
  assert.ok(!labels('dsod: 1\nbackbone:\n  blocks:\n    - layers: 6\n      gr|\n').includes('dense block'));
  assert.ok(!labels('dsod: 1\nbackbone:\n  transitions:\n    - |\n').includes('dense block'));
  assert.ok(!labels('dsod: 1\nbackbone:\n  gr|\n').includes('dense block'));
});

test('the prediction scales snippet: under prediction and at the top, in block style, flow style and JSON', () => {
  // DSOD300 without its prediction section: each way of writing it back gives DSOD300's numbers.
  const withoutPrediction = DSOD300_YAML.replace(/^prediction:\n(?: {2}.*\n)+/m, '');
  assert.notEqual(withoutPrediction, DSOD300_YAML);
  const label = 'prediction scales (dense)';
  const under = complete(withoutPrediction.replace(/^heads:/m, 'prediction:\n  |\nheads:')).pick(label);
  assert.match(
    under,
    /^prediction:\n {2}structure: dense\n {2}scales: 6\n {2}channels: \[800, 512, 512, 256, 256, 256\]\n {2}l2norm: \{ init: 20, scales: all \}\n/m,
  );
  assert.deepEqual(totals(under), DSOD300_TOTALS);
  const top = complete(withoutPrediction.replace(/^heads:/m, 'pred|\nheads:')).pick(label);
  assert.equal(top, under);
  const flow = complete(withoutPrediction.replace(/^heads:/m, 'prediction: { | }\nheads:')).pick(label);
  assert.match(flow, /^prediction: \{ structure: dense, scales: 6, channels: \[800, 512, 512, 256, 256, 256\], l2norm: \{ init: 20, scales: all \} \}$/m);
  assert.deepEqual(totals(flow), DSOD300_TOTALS);
  // A file indented by four: the snippet too.
  const four = withoutPrediction.replace(/^ {2}(?=\S)/gm, '    ');
  const under4 = complete(four.replace(/^heads:/m, 'pred|\nheads:')).pick(label);
  assert.match(under4, /^prediction:\n {4}structure: dense\n {4}scales: 6\n {4}channels: .*\n {4}l2norm: .*\n/m);
  assert.deepEqual(totals(under4), DSOD300_TOTALS);
  // JSON: in the prediction object and at the top.
  const spec = checkSpec(withoutPrediction, 'yaml').document.draft as Record<string, unknown>;
  const jsonText = JSON.stringify(spec, null, 2);
  const jsonUri = 'file:///ws/spec.dsod.json';
  const inObject = complete(jsonText.replace('"heads":', '"prediction": { "|" },\n  "heads":'), jsonUri).pick(label);
  assert.deepEqual(totals(inObject, 'json'), DSOD300_TOTALS);
  const atTop = complete(jsonText.replace('"heads":', '"pre|",\n  "heads":'), jsonUri).pick(label);
  assert.deepEqual(totals(atTop, 'json'), DSOD300_TOTALS);
  // Not where its keys are written already, nor elsewhere.
  const labels = (marked: string) => complete(marked).items.map((c) => c.label);
  assert.ok(!labels('dsod: 1\nprediction:\n  structure: dense\n  |\n').includes(label));
  assert.ok(!labels('dsod: 1\nbackbone:\n  |\n').includes(label));
  assert.ok(!labels(`${DSOD300_YAML}|`).includes(label));
});

test('the DSOD300 snippet and new keys agree on the indentation of a new file', () => {
  const snippet = complete('|').items.find((c) => c.label === 'DSOD300') as CompletionItem;
  const nested = snippet
    .insertText!.split('\n')
    .filter((l) => /^\s+\S/.test(l))
    .map((l) => /^\s*/.exec(l)![0].length);
  assert.deepEqual([...new Set(nested)], [2]);
  assert.equal(complete('pri|').pick('priors'), 'priors:\n  |');
});
