// The torch engine trains the tiny example as well as the tfjs engine (issue 12): both engines, the same seed, data and
// steps, both learn and reach held-out mAPs within the spread that separates two runs of the same recipe. Why a spread
// and not 0.03: the two runs start from the same weights on the same batches and agree to 1e-6 for the first steps,
// then float32 sums in another order part them (training is chaotic), and from there each is one draw of the recipe.
// Measured over 8 seeds (npm run bench:parity; engine/torch/README.md), one pair's difference has a standard
// deviation of 0.023 at this length (the largest of the 8: +0.054, this seed's), so one pair is held to 0.08, about 3.5
// of those; the means over seeds are the bench's to compare at 0.03 (+0.006 +- 0.008). Both engines are deterministic
// on a given machine: this pair gives the same numbers each run, and a change that makes either engine learn worse
// moves them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paritySpec, trainRun } from '../../bench/parity-runs';
import { synthesize } from '../../engine/data/synth/generate';
import { skipWithoutTorch as skip } from './torch-fixtures';

const STEPS = 1000;
const IMAGES = 1000;
/** About 3.5 standard deviations of one pair's difference at STEPS steps (bench:parity, 8 seeds). */
const PAIR_TOLERANCE = 0.08;
/** Both runs learn: a run that does not stays near 0 (seen on these data: 0.45-0.53 at 1000 steps). */
const LEARNED = 0.3;

test(
  `the tiny example, ${STEPS} steps on ${IMAGES} synthetic images: torch and tfjs both learn, to held-out mAPs within ${PAIR_TOLERANCE}`,
  { skip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dsod-parity-'));
    try {
      const data = join(dir, 'synth');
      await synthesize({ out: data, count: IMAGES });
      const spec = join(dir, 'tiny.dsod.yaml');
      writeFileSync(spec, paritySpec(STEPS, 0, data));
      // Side by side: each engine trains on one thread, the machine has two.
      const [tfjs, torch] = await Promise.all([trainRun('tfjs', spec, join(dir, 'tfjs')), trainRun('torch', spec, join(dir, 'torch'))]);
      t.diagnostic(
        `VOC07 mAP at step ${STEPS}: tfjs ${tfjs.map.toFixed(4)} (${tfjs.seconds.toFixed(0)} s), torch ${torch.map.toFixed(4)} (${torch.seconds.toFixed(0)} s)`,
      );
      assert.ok(tfjs.map > LEARNED, `the tfjs engine learned: ${tfjs.map}`);
      assert.ok(torch.map > LEARNED, `the torch engine learned: ${torch.map}`);
      assert.ok(Math.abs(torch.map - tfjs.map) < PAIR_TOLERANCE, `torch ${torch.map} vs tfjs ${tfjs.map}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
