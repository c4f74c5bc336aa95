// `python -m dsod_torch train` (issue 12, item 2, a skeleton on synthetic data): the torch engine speaks the engine's
// events (protocol/engine-events.ts), every line accepted by the protocol's validator, on stdout and in the run
// folder's events.jsonl; it checkpoints atomically at the end and on SIGTERM. Skipped, with the reason, where no
// Python with torch is found (engine/torch/python.ts).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { multiboxLoss } from '../../engine/boxes/loss';
import { createModel, decodeWeights, encodeWeights } from '../../engine/model';
import { torchPackageRoot } from '../../engine/torch/python';
import { MomentumSgd } from '../../engine/train/sgd';
import { parseEngineEventLine, type EngineEvent } from '../../protocol/engine-events';
import { toGraphJson } from '../../protocol/graph-json';
import { analyze, readRepoFile } from '../helpers';
import { dsodTorch, mixedLabels, relativeError, skipWithoutTorch, torchEnv, torchPython as found, trainedLike, values } from './torch-fixtures';

const skip = skipWithoutTorch;
const dir = mkdtempSync(join(tmpdir(), 'dsod-torch-train-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = torchEnv;

function tinyGraph(): string {
  const path = join(dir, 'tiny.graph.json');
  if (!existsSync(path)) writeFileSync(path, JSON.stringify(toGraphJson(analyze(readRepoFile('examples/tiny.dsod.yaml')), { hash: 'feedfacecafebeef' })));
  return path;
}

/** Every line through the protocol's validator; the first invalid one fails the test with its error. */
function parseEvents(text: string): EngineEvent[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const r = parseEngineEventLine(line);
      assert.ok(r.ok, r.ok ? '' : `${r.error}: ${line}`);
      return r.event;
    });
}

test('train on the tiny example: start, progress per step, checkpoint, done, all valid events, the same in events.jsonl', { skip }, () => {
  if (!found.ok) return;
  const run = join(dir, 'run');
  const r = spawnSync(
    found.python,
    ['-m', 'dsod_torch', 'train', tinyGraph(), '--out', run, '--spec', 'examples/tiny.dsod.yaml', '--steps', '3', '--batch', '2'],
    {
      cwd: torchPackageRoot(),
      env,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const events = parseEvents(r.stdout);
  assert.deepEqual(
    events.map((e) => e.type),
    ['doctor', 'start', 'log', 'progress', 'progress', 'progress', 'checkpoint', 'done'],
  );
  const doctor = events[0] as Extract<EngineEvent, { type: 'doctor' }>;
  assert.deepEqual([doctor.engine, doctor.torch?.device, doctor.torch?.worldSize], ['torch', 'cpu', 1]);
  const start = events[1] as Extract<EngineEvent, { type: 'start' }>;
  assert.deepEqual(
    { command: start.command, spec: start.spec, name: start.name, runDir: start.runDir, step: start.step, steps: start.steps, batch: start.batch },
    { command: 'train', spec: 'examples/tiny.dsod.yaml', name: 'tiny DSOD (DS/16-32-8-1, 96x96)', runDir: run, step: 0, steps: 3, batch: 2 },
  );
  const progress = events.filter((e) => e.type === 'progress') as Extract<EngineEvent, { type: 'progress' }>[];
  assert.deepEqual(
    progress.map((p) => p.step),
    [1, 2, 3],
  );
  // The tiny spec's warm-up (100 steps from lr 0.05): lr/warmup x (step + 1).
  assert.deepEqual(
    progress.map((p) => +p.lr.toFixed(6)),
    [0.0005, 0.001, 0.0015],
  );
  for (const p of progress) assert.ok(Math.abs(p.loss - (p.parts.loc + p.parts.conf)) < 1e-4 * p.loss, `loss = loc + conf at step ${p.step}`);
  const ck = events[6] as Extract<EngineEvent, { type: 'checkpoint' }>;
  assert.equal(ck.step, 3);
  assert.equal(ck.reason, 'end');
  assert.equal(statSync(ck.path).size, ck.bytes);
  const done = events[7] as Extract<EngineEvent, { type: 'done' }>;
  assert.deepEqual({ reason: done.reason, step: done.step, exitCode: done.exitCode }, { reason: 'completed', step: 3, exitCode: 0 });
  assert.equal(readFileSync(join(run, 'events.jsonl'), 'utf8'), r.stdout);
  // The checkpoint: the spec's hash, weights under the tfjs engine's names and layouts, one momentum buffer per learned tensor.
  const probe = spawnSync(
    found.python,
    [
      '-c',
      'import sys, json, torch; c = torch.load(sys.argv[1], weights_only=True); m = json.loads(c["meta"]); w = c["weights"]; print(json.dumps([c["format"], m["step"], m["spec"]["hash"], list(w["stem/conv1/weight"].shape), len(w), len(c["optimizer"])]))',
      ck.path,
    ],
    { env, encoding: 'utf8' },
  );
  assert.equal(probe.status, 0, probe.stderr);
  const [format, step, hash, convShape, tensors, buffers] = JSON.parse(probe.stdout);
  const a = analyze(readRepoFile('examples/tiny.dsod.yaml'));
  const bn = a.graph.nodes.filter((n) => n.kind === 'bn').length;
  const conv = a.graph.nodes.filter((n) => n.kind === 'conv').length;
  const l2 = a.graph.nodes.filter((n) => n.kind === 'l2norm').length;
  assert.deepEqual([format, step, hash, convShape], ['dsod-torch-checkpoint', 3, 'feedfacecafebeef', [3, 3, 3, 16]]);
  assert.equal(tensors, conv + 5 * bn + l2);
  assert.equal(buffers, conv + 2 * bn + l2);
});

function trainRun(run: string, ...more: string[]): { events: EngineEvent[]; code: number | null; stderr: string } {
  if (!found.ok) throw new Error(found.message);
  const r = spawnSync(found.python, ['-m', 'dsod_torch', 'train', tinyGraph(), '--out', run, ...(more.includes('--batch') ? [] : ['--batch', '2']), ...more], {
    cwd: torchPackageRoot(),
    env,
    encoding: 'utf8',
  });
  return { events: r.status === 0 ? parseEvents(r.stdout) : [], code: r.status, stderr: r.stderr };
}

test('--resume continues exactly: 2 steps + 2 resumed steps give the weights and momentum of 4 uninterrupted steps', { skip }, () => {
  if (!found.ok) return;
  const whole = trainRun(join(dir, 'whole'), '--steps', '4');
  assert.equal(whole.code, 0, whole.stderr);
  const split = join(dir, 'split');
  assert.equal(trainRun(split, '--steps', '2').code, 0);
  const resumed = trainRun(split, '--steps', '4', '--resume');
  assert.equal(resumed.code, 0, resumed.stderr);
  const start = resumed.events[1] as Extract<EngineEvent, { type: 'start' }>;
  assert.deepEqual([start.type, start.step, start.steps, start.resumed], ['start', 2, 4, true]);
  const steps = resumed.events.filter((e) => e.type === 'progress').map((e) => (e as Extract<EngineEvent, { type: 'progress' }>).step);
  assert.deepEqual(steps, [3, 4]);
  const lossesWhole = whole.events.filter((e) => e.type === 'progress').map((e) => (e as Extract<EngineEvent, { type: 'progress' }>).loss);
  const lossesResumed = resumed.events.filter((e) => e.type === 'progress').map((e) => (e as Extract<EngineEvent, { type: 'progress' }>).loss);
  assert.deepEqual(lossesResumed, lossesWhole.slice(2));
  const a = (whole.events.find((e) => e.type === 'checkpoint') as Extract<EngineEvent, { type: 'checkpoint' }>).path;
  const b = (resumed.events.find((e) => e.type === 'checkpoint') as Extract<EngineEvent, { type: 'checkpoint' }>).path;
  const compare = spawnSync(
    found.python,
    [
      '-c',
      'import sys, torch; a, b = (torch.load(p, weights_only=True) for p in sys.argv[1:]); print(max(float((a[k][n] - b[k][n]).abs().max()) for k in ("weights", "optimizer") for n in a[k]), len(a["weights"]), len(a["optimizer"]))',
      a,
      b,
    ],
    { env, encoding: 'utf8' },
  );
  assert.equal(compare.status, 0, compare.stderr);
  const [diff, weights, momentum] = compare.stdout.trim().split(' ').map(Number);
  assert.equal(diff, 0);
  assert.ok(weights > 100 && momentum > 50, `${weights} tensors, ${momentum} momentum buffers`);
  // A run folder of another spec is refused, with the reason.
  const other = join(dir, 'other.graph.json');
  const g = JSON.parse(readFileSync(tinyGraph(), 'utf8'));
  writeFileSync(other, JSON.stringify({ ...g, spec: { ...g.spec, hash: '0123456789abcdef' } }));
  const refused = spawnSync(found.python, ['-m', 'dsod_torch', 'train', other, '--out', split, '--steps', '5', '--resume'], {
    cwd: torchPackageRoot(),
    env,
    encoding: 'utf8',
  });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /cannot resume: .*step-00000004\.pt was written for another spec \(hash feedfacecafebeef, this spec's is 0123456789abcdef\)/);
});

test('--accumulate: the batch in micro-batches (start says so); a batch that does not divide is refused', { skip }, () => {
  const r = trainRun(join(dir, 'accumulate'), '--steps', '2', '--accumulate', '2', '--batch', '4');
  assert.equal(r.code, 0, r.stderr);
  const start = r.events[1] as Extract<EngineEvent, { type: 'start' }>;
  assert.deepEqual([start.batch, start.accumulate], [4, 2]);
  assert.deepEqual(
    r.events.map((e) => e.type),
    ['doctor', 'start', 'log', 'progress', 'progress', 'checkpoint', 'done'],
  );
  const odd = trainRun(join(dir, 'odd'), '--steps', '2', '--accumulate', '2', '--batch', '3');
  assert.equal(odd.code, 2);
  assert.match(odd.stderr, /the batch \(3\) must be a multiple of accumulate \(2\)/);
});

test('SIGTERM during training: a checkpoint (reason signal), then done stopped with exit 143, all valid events', { skip }, async () => {
  if (!found.ok) return;
  const run = join(dir, 'stopped');
  const child = spawn(found.python, ['-m', 'dsod_torch', 'train', tinyGraph(), '--out', run, '--steps', '100000', '--batch', '1'], {
    cwd: torchPackageRoot(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    // Stop once training is under way: after the first progress event.
    if (!signalled && stdout.includes('"type":"progress"')) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 143, stderr);
  const events = parseEvents(stdout);
  const ck = events.find((e) => e.type === 'checkpoint') as Extract<EngineEvent, { type: 'checkpoint' }>;
  const done = events[events.length - 1] as Extract<EngineEvent, { type: 'done' }>;
  assert.equal(ck.reason, 'signal');
  assert.ok(ck.step >= 1 && existsSync(ck.path));
  assert.deepEqual(
    { type: done.type, reason: done.reason, exitCode: done.exitCode, step: done.step },
    { type: 'done', reason: 'stopped', exitCode: 143, step: ck.step },
  );
});

test('one training step from the same weights and batch: torch and the tfjs trainer agree (loss, updated weights, running statistics)', { skip }, async () => {
  const text = readRepoFile('examples/tiny.dsod.yaml');
  const a = analyze(text);
  const model = createModel(a.graph, { seed: 5 });
  const vars = model.trainableVariables();
  const named = model.params.filter((p) => p.trainable).map((p) => ({ name: p.name, variable: p.variable }));
  const sgd = new MomentumSgd(named, { momentum: a.spec.train.momentum, weightDecay: a.spec.train.weightDecay });
  try {
    const before = trainedLike(await model.getWeights());
    model.setWeights(before);
    const weightsFile = join(dir, 'step-before.dsodw');
    writeFileSync(weightsFile, encodeWeights(before));
    const [c, h, w] = a.graph.nodes[0].shape;
    const batch = 2;
    const boxes = a.totals.defaultBoxes;
    const nhwc = values(batch * h * w * c, -100, 100, 11);
    const inputFile = join(dir, 'step-input.dsodw');
    const nchw = tf.tidy(() => tf.transpose(tf.tensor4d(nhwc, [batch, h, w, c]), [0, 3, 1, 2]));
    writeFileSync(inputFile, encodeWeights({ input: { shape: [batch, c, h, w], values: nchw.dataSync() as Float32Array } }));
    nchw.dispose();
    const labels = mixedLabels(batch * boxes, a.spec.classes.count);
    const locT = values(batch * boxes * 4, -1.5, 1.5, 13);
    const targetsFile = join(dir, 'step-targets.dsodw');
    writeFileSync(targetsFile, encodeWeights({ loc_t: { shape: [batch, boxes, 4], values: locT }, labels: { shape: [batch, boxes], values: labels } }));
    // A large learning rate, so the update is far above float32 noise relative to the weights.
    const lr = 0.05;
    const outFile = join(dir, 'step-after.dsodw');
    dsodTorch('step', tinyGraph(), '--weights', weightsFile, '--input', inputFile, '--targets', targetsFile, '--lr', String(lr), '--out', outFile);
    const torchAfter = decodeWeights(readFileSync(outFile));

    // The tfjs trainer's step (engine/train/trainer.ts runStep, accumulate 1): forward with batch statistics folded
    // into the running ones, MultiBox loss, gradients of every trainable variable, Caffe's SGD.
    const x = tf.tensor4d(nhwc, [batch, h, w, c]);
    const locTarget = tf.tensor3d(locT, [batch, boxes, 4]);
    const lab = tf.tensor2d(labels, [batch, boxes], 'int32');
    let parts: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(x, { training: true });
      const l = multiboxLoss(out.loc, out.conf, locTarget, lab);
      parts = [tf.keep(l.loc), tf.keep(l.conf)];
      return l.total;
    }, vars);
    const tfjsLoss = [value.dataSync()[0], parts[0].dataSync()[0], parts[1].dataSync()[0]];
    sgd.apply(
      vars.map((v) => grads[v.name]),
      lr,
    );
    tf.dispose([x, locTarget, lab, value, ...parts, ...Object.values(grads)]);
    const tfjsAfter = await model.getWeights();

    ['total', 'loc', 'conf'].forEach((part, i) => {
      const err = Math.abs(torchAfter.loss.values[i] - tfjsLoss[i]) / Math.abs(tfjsLoss[i]);
      assert.ok(err < 1e-4, `the ${part} loss: torch ${torchAfter.loss.values[i]}, tfjs ${tfjsLoss[i]}`);
    });
    // Every tensor: the update (after - before) of learned ones, the value of running statistics.
    const worst: [string, number][] = [];
    for (const [name, t] of Object.entries(tfjsAfter)) {
      const mine = torchAfter[name];
      assert.ok(mine, `torch wrote no ${name}`);
      assert.deepEqual(mine.shape, t.shape, name);
      const learned = model.param(name)!.trainable;
      const err = learned
        ? relativeError(
            mine.values.map((v, i) => v - before[name].values[i]),
            t.values.map((v, i) => v - before[name].values[i]),
          )
        : relativeError(mine.values, t.values);
      worst.push([name, err]);
    }
    worst.sort((p, q) => q[1] - p[1]);
    // float32 reductions in another order: BN gamma's gradient (a sum of dy x xhat that mostly cancels) differs by up
    // to ~3e-4 of its update here; a wrong term (eps, Bessel's correction, weight decay, the layout) is far above.
    assert.ok(
      worst[0][1] < 1e-3,
      `largest relative difference: ${worst
        .slice(0, 3)
        .map(([n, e]) => `${n} ${e.toExponential(2)}`)
        .join(', ')}`,
    );
    assert.equal(Object.keys(torchAfter).length, Object.keys(tfjsAfter).length + 1, 'every tensor and the loss');
  } finally {
    sgd.dispose();
    model.dispose();
  }
});
