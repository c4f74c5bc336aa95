// Value completion replaces the whole scalar being typed (block, flow, quoted, plain; YAML and JSON), ranks
// the values by closeness to what is typed and says what each notation is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompletionItem, Position, TextEdit } from 'vscode-languageserver-types';
import { createLanguageService } from '../../server/service';

let version = 0;
const service = createLanguageService();

/** The text with `|` as the cursor: the completion items there, and a way to accept one. */
function complete(marked: string, uri = 'file:///ws/spec.dsod.yaml') {
  const i = marked.indexOf('|');
  const text = marked.slice(0, i) + marked.slice(i + 1);
  const before = text.slice(0, i).split('\n');
  const position: Position = { line: before.length - 1, character: before[before.length - 1].length };
  const items = service.completion({ uri, version: ++version, getText: () => text }, position);
  const accept = (item: CompletionItem): string => {
    const edit = item.textEdit as TextEdit | undefined;
    assert.ok(edit && 'range' in edit, `${item.label} carries a textEdit with a range`);
    const offset = (p: Position) =>
      text
        .split('\n')
        .slice(0, p.line)
        .reduce((n, l) => n + l.length + 1, 0) + p.character;
    return text.slice(0, offset(edit.range.start)) + edit.newText + text.slice(offset(edit.range.end));
  };
  const pick = (label: string) => accept(items.find((c) => c.label === label || c.textEdit?.newText === label)!);
  return { items, accept, pick };
}

const ranked = (items: CompletionItem[]) => [...items].sort((a, b) => (a.sortText ?? '').localeCompare(b.sortText ?? '')).map((c) => c.label);

test('accepting a notation replaces the whole typed scalar, in every style', () => {
  const DSOD = 'DS/64-192-48-1';
  const cases: [string, string][] = [
    ['dsod: 1\nbackbone:\n  notation: DS/64-6|\n', `dsod: 1\nbackbone:\n  notation: ${DSOD}\n`],
    ['dsod: 1\nbackbone:\n  notation: DS/64-|6   # the paper\n', `dsod: 1\nbackbone:\n  notation: ${DSOD}   # the paper\n`],
    ['dsod: 1\nbackbone: { notation: DS/64-6| }\n', `dsod: 1\nbackbone: { notation: ${DSOD} }\n`],
    ['dsod: 1\nbackbone: { notation: DS/64-6|, blocks: [6, 8] }\n', `dsod: 1\nbackbone: { notation: ${DSOD}, blocks: [6, 8] }\n`],
    ["dsod: 1\nbackbone:\n  notation: 'DS/64-6|'\n", `dsod: 1\nbackbone:\n  notation: '${DSOD}'\n`],
    ['dsod: 1\nbackbone:\n  notation: "DS/64-6|"\n', `dsod: 1\nbackbone:\n  notation: "${DSOD}"\n`],
    ['dsod: 1\nbackbone: { notation: "DS/64-|6" }\n', `dsod: 1\nbackbone: { notation: "${DSOD}" }\n`],
    ["dsod: 1\nbackbone:\n  notation: 'DS/64-6|\n", `dsod: 1\nbackbone:\n  notation: '${DSOD}\n`],
    ['dsod: 1\r\nbackbone:\r\n  notation: DS/64-6|\r\n', `dsod: 1\r\nbackbone:\r\n  notation: ${DSOD}\r\n`],
    ['dsod: 1\nbackbone:\n  notation: |\n', `dsod: 1\nbackbone:\n  notation: ${DSOD}\n`],
  ];
  for (const [marked, expected] of cases) assert.equal(complete(marked).pick(DSOD), expected, JSON.stringify(marked));
});

test('accepting other values replaces the scalar too (plain, flow list, block list, JSON)', () => {
  assert.equal(complete('dsod: 1\nprediction:\n  structure: den|\n').pick('dense'), 'dsod: 1\nprediction:\n  structure: dense\n');
  assert.equal(complete('dsod: 1\nprediction: { structure: d|e }\n').pick('dense'), 'dsod: 1\nprediction: { structure: dense }\n');
  assert.equal(complete('dsod: 1\nbackbone:\n  transitions: [pool, no-|]\n').pick('no-pool'), 'dsod: 1\nbackbone:\n  transitions: [pool, no-pool]\n');
  assert.equal(
    complete('dsod: 1\nbackbone:\n  transitions:\n    - pool\n    - |\n').pick('no-pool'),
    'dsod: 1\nbackbone:\n  transitions:\n    - pool\n    - no-pool\n',
  );
  const json = complete('{"dsod": 1, "prediction": {"structure": "de|"}}', 'file:///a.dsod.json');
  assert.equal(json.pick('"dense"'), '{"dsod": 1, "prediction": {"structure": "dense"}}');
  for (const c of complete('dsod: 1\nbackbone:\n  notation: DS/6|\n').items) assert.ok(c.textEdit, `${c.label} has a textEdit`);
});

test('values are ranked by closeness to what is typed', () => {
  assert.equal(ranked(complete('dsod: 1\nbackbone:\n  notation: DS/64-6|\n').items)[0], 'DS/64-64-16-1');
  assert.equal(ranked(complete('dsod: 1\nbackbone:\n  notation: DS/64-1|\n').items)[0], 'DS/64-192-48-1');
  assert.equal(ranked(complete('dsod: 1\nbackbone:\n  notation: DS/32-12-16-0|\n').items)[0], 'DS/32-12-16-0.5');
  assert.equal(ranked(complete('dsod: 1\nbackbone:\n  notation: DS/32-12|\n').items)[0], 'DS/32-12-16-1');
  // A prefix match beats a closer non-prefix value; a typo still finds its value by edit distance.
  assert.equal(ranked(complete('dsod: 1\nprediction:\n  structure: pl|\n').items)[0], 'plain');
  assert.equal(ranked(complete('dsod: 1\nprediction:\n  structure: dnese|\n').items)[0], 'dense');
});

test('each notation says what it is', () => {
  const items = complete('dsod: 1\nbackbone:\n  notation: |\n').items;
  const detail = (label: string) => items.find((c) => c.label === label)?.detail ?? '';
  assert.match(detail('DS/64-192-48-1'), /^DSOD300 \(DS\/64-192-48-1\)/);
  assert.match(detail('DS/64-64-16-1'), /the lite variant/);
  assert.match(detail('DS/32-12-16-0.5'), /Table 3 rows? 1/);
  assert.match(detail('DS/32-64-16-1'), /Table 3 row 4/);
});

test('the editor keeps every ranked value: each filterText starts with what is typed', () => {
  // VS Code drops items whose filterText does not fuzzy-match the typed text (`DS/64-6` is no subsequence of
  // DS/64-192-48-1, `dnese` none of dense): led by the typed text, they stay and the ranking above orders them.
  for (const [marked, typed, value] of [
    ['dsod: 1\nbackbone:\n  notation: DS/64-6|\n', 'DS/64-6', 'DS/64-192-48-1'],
    ['dsod: 1\nprediction:\n  structure: dnese|\n', 'dnese', 'dense'],
    ['{"dsod": 1, "prediction": {"structure": "dn|"}}', '"dn', '"dense"'],
  ]) {
    const items = complete(marked, marked.startsWith('{') ? 'file:///a.dsod.json' : undefined).items;
    assert.ok(
      items.some((c) => c.label === value),
      `${value} offered for ${typed}`,
    );
    for (const c of items) assert.ok(c.filterText?.startsWith(typed), `${c.label}: filterText ${c.filterText} starts with ${typed}`);
  }
  // Nothing typed: the value itself.
  assert.ok(complete('dsod: 1\nprediction:\n  structure: |\n').items.every((c) => c.filterText === c.label));
});
