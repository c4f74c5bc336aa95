// detectArrays (plain JS, used by evaluation and inference) against detect (tfjs ops, the reference): the same
// detections on random network outputs, peaked like a trained detector's and flat like an untrained one's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { detect } from '../../engine/boxes/detect';
import { detectArrays } from '../../engine/boxes/detect-arrays';
import { tinyPriors } from './data-fixtures';
import { rng } from '../helpers';

function outputs(N: number, P: number, C: number, seed: number, peak: number): { loc: Float32Array; conf: Float32Array } {
  const r = rng(seed);
  const loc = Float32Array.from({ length: N * P * 4 }, () => (r.next() - 0.5) * 2);
  const conf = Float32Array.from({ length: N * P * C }, () => (r.next() - 0.5) * 2);
  // A few priors per image strongly believe in a class: clusters that NMS must thin out.
  for (let k = 0; k < N * 30; k++) conf[r.int(0, N * P - 1) * C + r.int(1, C - 1)] += peak;
  return { loc, conf };
}

for (const [name, peak, options] of [
  ['untrained (flat scores)', 0, {}],
  ['trained-like (peaked scores)', 8, {}],
  ['other thresholds', 8, { nmsThreshold: 0.3, topK: 50, keepTopK: 20, confidenceThreshold: 0.2 }],
] as const) {
  test(`detectArrays equals detect on the tiny example's priors: ${name}`, async () => {
    await tf.setBackend('cpu');
    const priors = tinyPriors();
    const P = priors.length / 4;
    const C = 6;
    const { loc, conf } = outputs(2, P, C, 11 + peak, peak);
    const locT = tf.tensor3d(loc, [2, P, 4]);
    const confT = tf.tensor3d(conf, [2, P, C]);
    const reference = await detect(locT, confT, priors, options);
    tf.dispose([locT, confT]);
    const fast = detectArrays(loc, conf, priors, C, options);
    assert.equal(fast.length, reference.length);
    fast.forEach((dets, n) => {
      assert.equal(dets.length, reference[n].length, `image ${n}: ${dets.length} vs ${reference[n].length} detections`);
      dets.forEach((d, i) => {
        const e = reference[n][i];
        assert.equal(d.label, e.label, `image ${n} detection ${i}`);
        assert.ok(Math.abs(d.score - e.score) < 1e-5, `score ${d.score} vs ${e.score}`);
        d.box.forEach((v, j) => assert.ok(Math.abs(v - e.box[j]) < 1e-5, `box ${d.box} vs ${e.box}`));
      });
    });
  });
}
