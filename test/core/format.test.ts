// One way to print each kind of number: the unit follows the magnitude, shares and durations read the same everywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatBoxes,
  formatBytes,
  formatCount,
  formatDuration,
  formatExact,
  formatExcess,
  formatFlops,
  formatMacs,
  formatParams,
  formatShape,
  formatShare,
} from '../../core/format';

test('counts keep three significant digits with the prefix of their magnitude', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [800, '800'],
    [999, '999'],
    [1000, '1.00k'],
    [52_700, '52.7k'],
    [228_190, '228k'],
    [788_640, '789k'],
    [999_499, '999k'],
    [999_500, '1.00M'],
    [1_570_000, '1.57M'],
    [14_720_441, '14.7M'],
    [15_080_000_000, '15.1G'],
    [-1_820_000, '-1.82M'],
  ];
  for (const [n, text] of cases) assert.equal(formatCount(n), text, String(n));
});

test('MACs and FLOPs choose their unit by magnitude (tiny reads 52.7 MMACs / 105 MFLOPs, not 0.05 GMACs)', () => {
  assert.equal(formatMacs(52_700_000), '52.7 MMACs');
  assert.equal(formatFlops(52_700_000), '105 MFLOPs');
  assert.equal(formatMacs(15_080_000_000), '15.1 GMACs');
  assert.equal(formatFlops(15_080_000_000), '30.2 GFLOPs');
  assert.equal(formatMacs(0), '0 MACs');
  assert.equal(formatMacs(800), '800 MACs');
  assert.equal(formatParams(800), '800 params');
  assert.equal(formatBoxes(8744), '8,744 boxes');
  assert.equal(formatBoxes(1), '1 box');
});

test('exact numbers group thousands; shapes join with ×, or x for plain text', () => {
  assert.equal(formatExact(14_720_441), '14,720,441');
  assert.equal(formatShape([800, 38, 38]), '800×38×38');
  assert.equal(formatShape([800, 38, 38], true), '800x38x38');
});

test('shares: one decimal, an en dash when there is no whole', () => {
  assert.equal(formatShare(292, 1000), '29.2%');
  assert.equal(formatShare(0, 1000), '0.0%');
  assert.equal(formatShare(5, 0), '–');
  assert.equal(formatExcess(16_540_000, 14_720_000), '12.4% (1.82M)');
  assert.equal(formatExcess(2_000_000_000, 1_500_000_000, formatMacs), '33.3% (500 MMACs)');
});

test('bytes in binary units, durations compact', () => {
  assert.equal(formatBytes(17), '17 B');
  assert.equal(formatBytes(4096), '4.0 KiB');
  assert.equal(formatBytes(64 * 2 ** 20), '64.0 MiB');
  assert.equal(formatBytes(1.5 * 2 ** 30), '1.50 GiB');
  assert.equal(formatDuration(59.4), '59s');
  assert.equal(formatDuration(125), '2m05s');
  assert.equal(formatDuration(3 * 3600 + 120), '3h02m');
  assert.equal(formatDuration(-1), '–');
  assert.equal(formatDuration(Number.NaN), '–');
});
