// Bad input gets diagnostics, never an exception, a hang or an internal error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSpec, type SpecCheck, type SpecFormat } from '../../core';
import { exampleFiles, readRepoFile, rng } from '../helpers';

function survives(text: string, format: SpecFormat = 'yaml', label = '') {
  let result: SpecCheck | undefined;
  assert.doesNotThrow(() => {
    result = checkSpec(text, format);
  }, label);
  const r = result!;
  assert.ok(!r.diagnostics.some((d) => d.code === 'internal'), `${label}: ${r.diagnostics.find((d) => d.code === 'internal')?.message}`);
  for (const d of r.diagnostics) {
    assert.ok(d.range.start.line >= 0 && d.range.start.character >= 0, label);
    assert.ok(
      d.range.end.line > d.range.start.line || (d.range.end.line === d.range.start.line && d.range.end.character >= d.range.start.character),
      `${label}: inverted range`,
    );
    assert.ok(d.message.length > 0 && d.code.length > 0, label);
  }
  return r;
}

const errorsOf = (text: string, format: SpecFormat = 'yaml') => survives(text, format, text.slice(0, 40)).diagnostics.filter((d) => d.severity === 'error');

test('empty and near-empty input', () => {
  for (const t of ['', ' ', '\n\n\n', '# only a comment\n', '---\n', '~', 'null']) assert.ok(errorsOf(t).length > 0, JSON.stringify(t));
  assert.ok(errorsOf('', 'json').length > 0);
});

test('documents of the wrong shape', () => {
  for (const t of ['42', '"dsod"', '[1, 2, 3]', '- a\n- b\n', 'true', 'dsod', '{}', 'dsod: 1\n---\ndsod: 1\n']) assert.ok(errorsOf(t).length > 0, t);
  for (const t of ['42', '[]', '"x"', '{"dsod": "1"}', '{"dsod": 1, "dsod": 1}']) survives(t, 'json', t);
});

test('wrong types in every section', () => {
  const sections = ['input', 'classes', 'backbone', 'prediction', 'heads', 'priors', 'train', 'data', 'budget', 'name'];
  const values = ['1', '-1', '"x"', '[]', '{}', 'null', 'true', '[[[]]]', '1e308', '.nan', '.inf', '-.inf'];
  for (const s of sections) for (const v of values) survives(`dsod: 1\n${s}: ${v}\n`, 'yaml', `${s}: ${v}`);
  const keys = [
    'size',
    'channels',
    'notation',
    'stem',
    'blocks',
    'transitions',
    'structure',
    'scales',
    'channels',
    'l2norm',
    'min_sizes',
    'aspect_ratios',
    'params',
  ];
  for (const s of ['input', 'backbone', 'prediction', 'priors', 'budget'])
    for (const k of keys) for (const v of values) survives(`dsod: 1\n${s}: { ${k}: ${v} }\n`, 'yaml', `${s}.${k}: ${v}`);
});

test('absurd numbers give range errors, not overflow or a hang', () => {
  for (const t of [
    'dsod: 1\ninput: { size: 99999999999 }\n',
    'dsod: 1\nbackbone: { blocks: [10000] }\n',
    'dsod: 1\nbackbone: { blocks: [10000, 10000, 10000, 10000] }\n',
    'dsod: 1\nbackbone: { growth_rate: 1e12 }\n',
    'dsod: 1\nprediction: { scales: 1000 }\n',
    'dsod: 1\nclasses: 1e9\n',
  ])
    assert.ok(errorsOf(t).length > 0, t);
  // A generous limit is no error.
  assert.deepEqual(errorsOf('dsod: 1\nbudget: { params: 99999999999999999999999T }\n'), []);
  // The largest network the schema allows is still counted, or refused as too large to count exactly.
  const huge = survives('dsod: 1\ninput: { size: 8192 }\nbackbone:\n  blocks: [1000, 1000, 1000, 1000]\n  growth_rate: 4096\n  bottleneck: 16384\n');
  assert.ok(huge.diagnostics.some((d) => d.code === 'analysis/too-large'));
});

test('binary junk and random bytes', () => {
  const r = rng(7);
  for (let i = 0; i < 300; i++) {
    const bytes = Array.from({ length: r.int(1, 400) }, () => String.fromCharCode(r.int(0, 0xffff)));
    survives(bytes.join(''), i % 2 ? 'json' : 'yaml', `junk ${i}`);
  }
  survives('\u0000\u0001\u0002dsod: 1\u0000');
  survives('\uFEFFdsod: 1\n');
});

test('pathological YAML and JSON: deep nesting, alias bombs, huge files', () => {
  survives('['.repeat(20_000) + ']'.repeat(20_000));
  survives('['.repeat(20_000) + ']'.repeat(20_000), 'json');
  survives('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000), 'json');
  const bomb = [
    'a: &a [1,1,1,1,1,1,1,1,1]',
    'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  ].join('\n');
  assert.ok(errorsOf(bomb).length > 0);
  const big = 'dsod: 1\npriors:\n  min_sizes: [' + Array.from({ length: 1_000_000 }, () => '1.5').join(', ') + ']\n';
  const started = Date.now();
  assert.deepEqual(
    errorsOf(big).map((d) => d.code),
    ['spec/too-large'],
  );
  assert.ok(Date.now() - started < 2000, 'a 4 MB file is refused without parsing it');
  // Just under the limit, a long list is parsed and judged by the schema.
  const long = 'dsod: 1\npriors:\n  min_sizes: [' + Array.from({ length: 20_000 }, () => '1.5').join(', ') + ']\n';
  assert.ok(errorsOf(long).some((d) => d.code === 'schema/items'));
});

test('CRLF line endings keep exact ranges', () => {
  const text = 'dsod: 1\r\nbackbone:\r\n  growth_rat: 3\r\n';
  const d = survives(text).diagnostics.find((x) => x.code === 'schema/unknown-key')!;
  assert.deepEqual(d.range, { start: { line: 2, character: 2 }, end: { line: 2, character: 12 } });
});

test('2,000 random edits of the examples (deleting, duplicating, swapping, mutating lines) never break the checker', () => {
  const r = rng(42);
  const sources = exampleFiles().map((f) => readRepoFile(f));
  const tokens = [
    '',
    ':',
    '-',
    '[',
    ']',
    '{',
    '}',
    ',',
    '#',
    '&a',
    '*a',
    '!!str',
    '"',
    "'",
    '0',
    '-1',
    '1e9',
    'null',
    'true',
    '  ',
    '\t',
    'pool',
    'dense',
    '|',
  ];
  for (let i = 0; i < 2000; i++) {
    const lines = r.pick(sources).split('\n');
    const edits = r.int(1, 4);
    for (let e = 0; e < edits; e++) {
      const at = r.int(0, lines.length - 1);
      switch (r.int(0, 4)) {
        case 0:
          lines.splice(at, 1);
          break;
        case 1:
          lines.splice(at, 0, lines[at]);
          break;
        case 2: {
          const b = r.int(0, lines.length - 1);
          [lines[at], lines[b]] = [lines[b], lines[at]];
          break;
        }
        case 3: {
          const l = lines[at] ?? '';
          const c = r.int(0, l.length);
          lines[at] = l.slice(0, c) + r.pick(tokens) + l.slice(c + 1);
          break;
        }
        default:
          lines[at] = (lines[at] ?? '').replace(/[0-9]+/, String(r.int(0, 5000)));
      }
    }
    survives(lines.join('\n'), 'yaml', `edit ${i}`);
  }
});
