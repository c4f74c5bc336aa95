// core's front door refuses a spec too large to check before any parsing, whatever its shape (one line of 5 MB is as
// large as 40,000 lines), and reports U+FFFD (text decoded from bytes that were not UTF-8) where it is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSpec, oversizedSpec } from '../../core';
import { DSOD300_YAML } from '../helpers';

const oneLine = (n: number) => `{dsod: 1, name: huge, sizes: [${'12345, '.repeat(n)}0]}`;

for (const [name, text, format] of [
  ['a 5 MB YAML spec on one line', oneLine(750_000), 'yaml'],
  ['a 5 MB JSON spec on one line', `{"dsod": 1, "sizes": [${'12345, '.repeat(750_000)}0]}`, 'json'],
  ['a 5 MB spec of many lines', 'dsod: 1\n' + `# ${'x'.repeat(80)}\n`.repeat(60_000), 'yaml'],
] as const) {
  test(`${name} is refused with one diagnostic, unparsed`, () => {
    const started = performance.now();
    const c = checkSpec(text, format);
    const ms = performance.now() - started;
    assert.deepEqual(
      c.diagnostics.map((d) => `${d.code} ${d.severity}`),
      ['spec/too-large error'],
    );
    assert.match(c.diagnostics[0].message, /^This spec is \d+ KB; specs over 512 KB are not checked/);
    // The parser saw at most the first 256 characters of the first line: what the diagnostic covers.
    assert.ok(c.document.text.length <= 256, `parsed ${c.document.text.length} characters`);
    assert.equal(c.diagnostics[0].range.start.line, 0);
    assert.ok(c.diagnostics[0].range.end.character <= 256);
    assert.equal(c.spec, null);
    assert.equal(c.analysis, null);
    assert.ok(ms < 500, `took ${ms.toFixed(0)} ms`);
  });
}

test('the first line of a too-large spec is what its diagnostic covers, as before', () => {
  const c = checkSpec('dsod: 1\n' + `# ${'x'.repeat(80)}\n`.repeat(40_000), 'yaml');
  assert.deepEqual(c.diagnostics[0].range, { start: { line: 0, character: 0 }, end: { line: 0, character: 7 } });
  // The CLI's way in: a head of the file and its size in bytes.
  const fromHead = oversizedSpec('dsod: 1\nname: x\n', 6_000_000, 'yaml');
  assert.deepEqual(
    fromHead.diagnostics.map((d) => d.message),
    ['This spec is 5859 KB; specs over 512 KB are not checked (a DSOD spec is a few KB).'],
  );
});

test('U+FFFD is a spec/invalid-utf8 warning at each run of them; the spec is still checked', () => {
  const text = DSOD300_YAML.replace(/^name: .*$/m, 'name: "Caf\uFFFD\uFFFD DSOD" # r\uFFFDsum\uFFFD');
  const c = checkSpec(text, 'yaml');
  const bad = c.diagnostics.filter((d) => d.code === 'spec/invalid-utf8');
  const line = text.split('\n').findIndex((l) => l.startsWith('name: '));
  assert.deepEqual(
    bad.map((d) => [d.severity, d.range.start.line, d.range.start.character, d.range.end.character]),
    [
      ['warning', line, 10, 12],
      ['warning', line, 22, 23],
      ['warning', line, 26, 27],
    ],
  );
  assert.match(bad[0].message, /^2 replacement characters \(U\+FFFD\)/);
  assert.ok(c.analysis, 'the spec is still analysed');
  assert.deepEqual(
    checkSpec(DSOD300_YAML, 'yaml').diagnostics.filter((d) => d.code === 'spec/invalid-utf8'),
    [],
  );
});
