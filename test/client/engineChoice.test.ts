// The setting dsod.engine (client/runs/engineChoice.ts): tfjs and torch as named, auto = torch where a Python with
// PyTorch is found, else tfjs with the reason; a value settings.json should not hold is the default, tfjs. The probe
// is the real findTorchPython with DSOD_PYTHON pointing at a Python that is not there, and at the one that has torch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineOption, engineSetting, resolveEngine, type TorchProbe } from '../../client/runs/engineChoice';
import { findTorchPython } from '../../engine/torch/python';
import { skipWithoutTorch, torchPython } from '../engine/torch-fixtures';

const probeWith =
  (python: string): TorchProbe =>
  () => {
    const found = findTorchPython({ ...process.env, DSOD_PYTHON: python });
    return found.ok ? null : found.message;
  };
const never: TorchProbe = () => {
  throw new Error('tfjs and torch, named, need no probe');
};

test('tfjs and torch are taken as named, without looking for Python', () => {
  assert.equal(resolveEngine('tfjs', never).engine, 'tfjs');
  assert.equal(resolveEngine('torch', never).engine, 'torch');
  assert.deepEqual(engineOption('torch'), ['--engine', 'torch']);
  assert.deepEqual(engineOption('tfjs'), []);
});

test('a value the setting cannot hold is the default, tfjs', () => {
  for (const v of [undefined, null, 'TORCH', 3]) assert.equal(engineSetting(v), 'tfjs');
  assert.equal(resolveEngine('pytorch', never).engine, 'tfjs');
});

test('auto without a Python that has torch: tfjs, saying what was tried and how to install it', () => {
  const r = resolveEngine('auto', probeWith('/nonexistent/python3'));
  assert.equal(r.engine, 'tfjs');
  assert.match(
    r.why,
    /dsod\.engine is auto and the torch engine cannot run \(no Python with PyTorch found: tried \/nonexistent\/python3 \(not found\).*apt-get install python3-torch/,
  );
});

test('auto with a Python that has torch: torch', { skip: skipWithoutTorch }, () => {
  if (!torchPython.ok) return;
  assert.deepEqual(resolveEngine('auto', probeWith(torchPython.python)), { engine: 'torch', why: 'dsod.engine is auto and a Python with PyTorch was found' });
});
