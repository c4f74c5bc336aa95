// The torch engine's default boxes, matching and box coding (engine/torch/dsod_torch/boxes.py, issue 12 item 2):
// the same priors as core's and, for the same ground truth, the same training targets as the tfjs engine's
// (engine/boxes/targets.ts), ties included; and the same detections from the same outputs (engine/boxes/detect-arrays.ts). Skipped, with the reason, where no Python with torch is found.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultBoxes } from '../../core';
import { detectArrays } from '../../engine/boxes/detect-arrays';
import { encodeTargets } from '../../engine/boxes/targets';
import { decodeWeights, encodeWeights } from '../../engine/model';
import { toGraphJson } from '../../protocol/graph-json';
import { analyze, readRepoFile } from '../helpers';
import { dsodTorch, relativeError, skipWithoutTorch as skip, values } from './torch-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'dsod-torch-boxes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `count` boxes inside the image (normalised corners), sizes 2% to 60% of a side; the last two identical (a tie). */
function groundTruth(count: number, seed: number): { boxes: Float32Array; labels: Float32Array } {
  const r = values(count * 4, 0, 1, seed);
  const boxes = new Float32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const w = 0.02 + 0.58 * r[4 * i + 2];
    const h = 0.02 + 0.58 * r[4 * i + 3];
    const x0 = r[4 * i] * (1 - w);
    const y0 = r[4 * i + 1] * (1 - h);
    boxes.set([x0, y0, x0 + w, y0 + h], 4 * i);
  }
  if (count >= 2) boxes.copyWithin(4 * (count - 1), 4 * (count - 2), 4 * (count - 1));
  const labels = new Float32Array(count).map((_, i) => 1 + (i % 5));
  return { boxes, labels };
}

for (const spec of ['examples/tiny.dsod.yaml', 'examples/dsod300.dsod.yaml']) {
  test(`${spec}: core's default boxes, and the tfjs engine's targets for the same ground truth`, { skip }, () => {
    const a = analyze(readRepoFile(spec));
    const graphFile = join(dir, `${spec.replace(/\W/g, '_')}.json`);
    writeFileSync(graphFile, JSON.stringify(toGraphJson(a)));
    const priors = defaultBoxes(a);
    for (const [count, seed] of [
      [1, 3],
      [6, 4],
      [24, 5],
    ]) {
      const gt = groundTruth(count, seed);
      const gtFile = join(dir, 'gt.dsodw');
      const outFile = join(dir, 'targets.dsodw');
      writeFileSync(gtFile, encodeWeights({ boxes: { shape: [count, 4], values: gt.boxes }, labels: { shape: [count], values: gt.labels } }));
      dsodTorch('targets', graphFile, '--gt', gtFile, '--out', outFile);
      const mine = decodeWeights(readFileSync(outFile));
      assert.deepEqual(mine.priors.shape, [priors.length / 4, 4]);
      assert.ok(relativeError(mine.priors.values, priors) < 1e-6, `priors differ by ${relativeError(mine.priors.values, priors)}`);
      const want = encodeTargets(priors, gt.boxes, Int32Array.from(gt.labels));
      const labels = Array.from(mine.labels.values);
      const differing = labels.flatMap((l, i) => (l === want.labels[i] ? [] : [`prior ${i}: torch ${l}, tfjs ${want.labels[i]}`]));
      assert.deepEqual(differing, [], `${count} objects`);
      assert.ok(want.positives >= count - 1, `${want.positives} positives for ${count} objects`);
      assert.ok(relativeError(mine.loc_t.values, want.loc) < 1e-6, `${count} objects: offsets differ by ${relativeError(mine.loc_t.values, want.loc)}`);
    }
  });
}

test('tiny example: from the same network outputs, the same detections as the tfjs engine (order, classes, boxes, scores)', { skip }, () => {
  const a = analyze(readRepoFile('examples/tiny.dsod.yaml'));
  const graphFile = join(dir, 'tiny-detect.json');
  writeFileSync(graphFile, JSON.stringify(toGraphJson(a)));
  const priors = defaultBoxes(a);
  const P = priors.length / 4;
  const C = a.spec.classes.count;
  const N = 2;
  // Offsets that move boxes a little and logits spread enough that every class has candidates above 0.01, many
  // overlapping (NMS has work), and a few scores tie (the same logits repeated).
  const loc = values(N * P * 4, -1, 1, 21);
  const conf = values(N * P * C, -4, 4, 22);
  conf.copyWithin(C * 10, C * 20, C * 30);
  const outputs = join(dir, 'tiny-outputs.dsodw');
  writeFileSync(outputs, encodeWeights({ loc: { shape: [N, P, 4], values: loc }, conf: { shape: [N, P, C], values: conf } }));
  const detsFile = join(dir, 'tiny-dets.json');
  dsodTorch('detect', graphFile, '--outputs', outputs, '--out', detsFile);
  const mine: { box: number[]; label: number; score: number }[][] = JSON.parse(readFileSync(detsFile, 'utf8'));
  const want = detectArrays(loc, conf, priors, C);
  assert.equal(mine.length, N);
  for (let n = 0; n < N; n++) {
    assert.equal(mine[n].length, want[n].length, `image ${n}: ${mine[n].length} detections, tfjs ${want[n].length}`);
    assert.equal(want[n].length, 200, 'keep_top_k reached');
    const labels = new Set(want[n].map((d) => d.label));
    assert.ok(labels.size >= 3, `${labels.size} classes`);
    for (const [i, d] of want[n].entries()) {
      const m = mine[n][i];
      assert.equal(m.label, d.label, `image ${n}, detection ${i}: class`);
      assert.ok(Math.abs(m.score - d.score) <= 1e-7, `image ${n}, detection ${i}: score ${m.score} vs ${d.score}`);
      assert.ok(relativeError(m.box, d.box) < 1e-6, `image ${n}, detection ${i}: box [${m.box}] vs [${d.box}]`);
    }
  }
});
