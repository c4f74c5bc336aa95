// Prior matching scales with the overlapping pairs, not priors x objects x objects, and gives exactly the matches of
// Caffe's dense algorithm (kept here as the reference: the code matchPriors had before it was made to scale).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { iouMatrix } from '../../engine/boxes/iou';
import { matchPriors } from '../../engine/boxes/match';
import { createRng } from '../../engine/data/rng';
import { tinyPriors } from './data-fixtures';

const MIN_OVERLAP = 1e-6;

/** The dense reference: a P x G IoU matrix, G bipartite rounds over all of it, then per prediction. */
function denseMatch(priors: ArrayLike<number>, gt: ArrayLike<number>, threshold = 0.5): { gt: Int32Array; overlap: Float32Array } {
  const P = priors.length / 4;
  const G = gt.length / 4;
  const match = new Int32Array(P).fill(-1);
  const overlap = new Float32Array(P);
  if (G === 0) return { gt: match, overlap };
  const ov = iouMatrix(priors, gt);
  for (let i = 0; i < P; i++) {
    let m = 0;
    for (let j = 0; j < G; j++) if (ov[i * G + j] > m) m = ov[i * G + j];
    overlap[i] = m;
  }
  const gtFree = new Uint8Array(G).fill(1);
  for (let round = 0; round < G; round++) {
    let best = -1;
    let bi = -1;
    let bj = -1;
    for (let i = 0; i < P; i++) {
      if (match[i] !== -1) continue;
      for (let j = 0; j < G; j++) {
        const o = ov[i * G + j];
        if (gtFree[j] && o > MIN_OVERLAP && o > best) {
          best = o;
          bi = i;
          bj = j;
        }
      }
    }
    if (bi < 0) break;
    match[bi] = bj;
    gtFree[bj] = 0;
  }
  for (let i = 0; i < P; i++) {
    if (match[i] !== -1) continue;
    let best = -1;
    let bj = -1;
    for (let j = 0; j < G; j++) {
      const o = ov[i * G + j];
      if (o > MIN_OVERLAP && o >= threshold && o > best) {
        best = o;
        bj = j;
      }
    }
    if (bj >= 0) match[i] = bj;
  }
  return { gt: match, overlap };
}

function randomBoxes(rng: () => number, n: number, o: { grid?: number; wild?: boolean } = {}): Float32Array {
  const out = new Float32Array(4 * n);
  for (let k = 0; k < n; k++) {
    let x0: number, y0: number, x1: number, y1: number;
    if (o.grid) {
      // Snapped to a coarse grid: many exactly equal IoUs, so the tie-breaking is exercised.
      const g = o.grid;
      x0 = Math.floor(rng() * g) / g;
      y0 = Math.floor(rng() * g) / g;
      x1 = x0 + (1 + Math.floor(rng() * 3)) / g;
      y1 = y0 + (1 + Math.floor(rng() * 3)) / g;
    } else {
      const w = rng() ** 2;
      const h = rng() ** 2;
      x0 = rng() * 1.2 - 0.1;
      y0 = rng() * 1.2 - 0.1;
      x1 = x0 + w;
      y1 = y0 + h;
    }
    out.set([x0, y0, x1, y1], 4 * k);
    if (o.wild && rng() < 0.1) {
      const bad = [NaN, Infinity, -Infinity, -0.5, 2, 0][Math.floor(rng() * 6)];
      out[4 * k + Math.floor(rng() * 4)] = bad;
    }
  }
  return out;
}

test('matching: exactly the dense algorithm on random cases (ties, boxes outside, degenerate and non-finite boxes)', () => {
  const r = createRng(2024);
  const rng = () => r.next();
  const tiny = tinyPriors();
  let cases = 0;
  let matched = 0;
  for (let c = 0; c < 300; c++) {
    const kind = c % 5;
    const priors =
      kind === 0
        ? tiny
        : randomBoxes(rng, 1 + Math.floor(rng() * 300), {
            grid: kind === 1 ? 8 : undefined,
            wild: kind === 3,
          });
    const G = Math.floor(rng() * (kind === 4 ? 60 : 12));
    const gt = randomBoxes(rng, G, {
      grid: kind === 1 || kind === 4 ? 6 : undefined,
      wild: kind === 3,
    });
    const threshold = [0.5, 0.3, 0.7][c % 3];
    const want = denseMatch(priors, gt, threshold);
    const got = matchPriors(priors, gt, threshold);
    assert.deepEqual([...got.gt], [...want.gt], `case ${c}: matches differ`);
    assert.deepEqual([...got.overlap], [...want.overlap], `case ${c}: overlaps differ`);
    cases++;
    matched += want.gt.filter((j) => j >= 0).length;
  }
  assert.equal(cases, 300);
  assert.ok(matched > 1000, `the random cases match something (${matched} matches)`);
});

test('matching: 20,000 objects in one image against the tiny priors take well under a second', () => {
  const r = createRng(7);
  const rng = () => r.next();
  const priors = tinyPriors();
  const G = 20000;
  const gt = new Float32Array(4 * G);
  for (let j = 0; j < G; j++) {
    const s = 0.005 + rng() * 0.03;
    const x = rng() * (1 - s);
    const y = rng() * (1 - s);
    gt.set([x, y, x + s, y + s], 4 * j);
  }
  const t0 = performance.now();
  const m = matchPriors(priors, gt);
  const ms = performance.now() - t0;
  assert.ok(m.gt.some((j) => j >= 0));
  // The dense algorithm takes minutes here (G rounds over a P x G matrix of 61 million IoUs).
  assert.ok(ms < 1500, `matching 20,000 objects took ${ms.toFixed(0)} ms`);
  // And equal to the dense one on a slice small enough for it.
  const small = gt.subarray(0, 4 * 300);
  assert.deepEqual([...matchPriors(priors, small).gt], [...denseMatch(priors, small).gt]);
});
