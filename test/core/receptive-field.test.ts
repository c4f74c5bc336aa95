// Default boxes held against the receptive field that predicts them (issue 13, item 3).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boxSideRange, priorShapes } from '../../core/priors';
import { analyze, check, describe, DSOD300_FROZEN_YAML as base, DSOD300_YAML, edit } from '../helpers';

test("a location's box shapes are Caffe's, and their side range spans every width and height", () => {
  const shapes = priorShapes(60, 111, [2, 3], true);
  const r2 = Math.SQRT2;
  const r3 = Math.sqrt(3);
  const want = [
    { width: 60, height: 60 },
    { width: Math.sqrt(60 * 111), height: Math.sqrt(60 * 111) },
    { width: 60 * r2, height: 60 / r2 },
    { width: 60 / r2, height: 60 * r2 },
    { width: 60 * r3, height: 60 / r3 },
    { width: 60 / r3, height: 60 * r3 },
  ];
  assert.equal(shapes.length, want.length);
  const near = (x: number, y: number) => Math.abs(x - y) < 1e-9;
  shapes.forEach((b, i) => assert.ok(near(b.width, want[i].width) && near(b.height, want[i].height), `box ${i}: ${JSON.stringify(b)}`));
  const range = boxSideRange(shapes);
  assert.ok(near(range.min, 60 / r3) && near(range.max, 60 * r3), JSON.stringify(range));
  // No max size and no ratio: one square.
  assert.deepEqual(boxSideRange(priorShapes(30, null, [], true)), { min: 30, max: 30 });
});

test("DSOD300: every scale's boxes fit well inside its receptive field, so no warning", () => {
  const a = analyze(DSOD300_YAML);
  assert.deepEqual(
    a.scales.map((s) => s.receptiveField),
    [193, 713, 745, 809, 937, 1193],
  );
  const r2 = Math.SQRT2;
  const r3 = Math.sqrt(3);
  const expected = [
    { min: 30 / r2, max: 30 * r2 },
    { min: 60 / r3, max: 60 * r3 },
    { min: 111 / r3, max: 111 * r3 },
    { min: 162 / r3, max: 162 * r3 },
    { min: 213 / r2, max: 213 * r2 },
    { min: 264 / r2, max: 264 * r2 },
  ];
  a.scales.forEach((s, i) => {
    assert.ok(Math.abs(s.boxSides.min - expected[i].min) < 1e-9, `scale ${i + 1} min`);
    assert.ok(Math.abs(s.boxSides.max - expected[i].max) < 1e-9, `scale ${i + 1} max`);
    assert.ok(s.boxSides.max < s.receptiveField);
  });
  assert.ok(!check(DSOD300_YAML).diagnostics.some((d) => d.code === 'priors/beyond-receptive-field'));
});

test('an aspect-ratio box beyond the receptive field is reported at its min size, with both numbers', () => {
  // 30 * sqrt(50) = 212.1 px wide, against scale 1's 193 px field.
  const text = edit(base, 'aspect_ratios: [[2], [2, 3],', 'aspect_ratios: [[50], [2, 3],');
  const found = check(text).diagnostics.filter((d) => d.code === 'priors/beyond-receptive-field');
  assert.equal(found.length, 1);
  const v = describe(text, found[0]);
  assert.equal(v.covers, '30');
  assert.equal(v.at, '24:15-24:17');
  assert.equal(v.severity, 'warning');
  assert.match(
    v.message,
    /^Scale 1: its largest default box \(212\.1 px, min size 30 at aspect ratio 50\) is larger than the scale's receptive field \(193 px\)/,
  );
});

test('only the scales whose largest box passes the field are reported', () => {
  // Scale 6's field is 1,193 px: sqrt(264 * 5400) = 1,194 px passes it, sqrt(264 * 5390) = 1,192.8 px does not.
  const over = edit(base, '264, 315]', '264, 5400]');
  const under = edit(base, '264, 315]', '264, 5390]');
  const codes = (t: string) =>
    check(t)
      .diagnostics.filter((d) => d.code === 'priors/beyond-receptive-field')
      .map((d) => describe(t, d).covers);
  assert.deepEqual(codes(over), ['5400']);
  assert.deepEqual(codes(under), []);
});
