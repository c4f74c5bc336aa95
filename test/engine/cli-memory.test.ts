// `dsod analyze SPEC --memory`: core's training-memory model from the command line, per stage and in total, with
// --fit's largest micro-batch and the accumulation that reaches the spec's train.batch.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fitBatch, formatBytes, trainingMemory } from '../../core';
import { run } from '../../engine/cli/main';
import { analyze, readRepoFile, repoRoot } from '../helpers';

const DSOD300 = join(repoRoot, 'examples', 'dsod300.dsod.yaml');
const TINY = join(repoRoot, 'examples', 'tiny.dsod.yaml');
const dsod300 = analyze(readRepoFile('examples/dsod300.dsod.yaml'));

test('--memory prints every stage that keeps something, the total and the step peak, through formatBytes', () => {
  const r = run(['analyze', DSOD300, '--memory', '--engine', 'torch', '--no-hints']);
  assert.equal(r.exitCode, 0, r.stderr);
  const m = trainingMemory(dsod300, { engine: 'torch' });
  assert.match(r.stdout, /^DSOD300: training memory, torch fp32, micro-batch 32 \(train\.batch 128 = 32 x accumulate 4\)/);
  for (const s of m.stages.filter((s) => s.saved > 0)) assert.match(r.stdout, new RegExp(`^${s.name} +${formatBytes(s.saved)}$`, 'm'), s.name);
  assert.match(r.stdout, new RegExp(`^total +${formatBytes(m.saved)}$`, 'm'));
  assert.ok(r.stdout.includes(`one training step (peak): ${formatBytes(m.total)}`));
  assert.match(r.stdout, /not counted: allocator overhead/);
});

test('--batch sets the micro-batch; tfjs shows the backward pass column; bf16 goes with torch only', () => {
  const r = run(['analyze', TINY, '--memory', '--batch', '3', '--no-hints']);
  assert.equal(r.exitCode, 0, r.stderr);
  const m = trainingMemory(analyze(readRepoFile('examples/tiny.dsod.yaml')), { engine: 'tfjs', batch: 3 });
  assert.match(r.stdout, /tfjs fp32, micro-batch 3 /);
  assert.match(r.stdout, new RegExp(`^total +${formatBytes(m.saved)} +${formatBytes(m.backward)}$`, 'm'));
  const bf16 = run(['analyze', TINY, '--memory', '--precision', 'bf16']);
  assert.equal(bf16.exitCode, 2);
  assert.match(bf16.stderr, /--precision bf16 goes with --engine torch/);
});

test('--fit prints the largest micro-batch and the accumulation that reaches train.batch; --json carries both', () => {
  const r = run(['analyze', DSOD300, '--memory', '--engine', 'torch', '--fit', '24GB', '--no-hints']);
  assert.equal(r.exitCode, 0, r.stderr);
  const fit = fitBatch(dsod300, 24e9, { engine: 'torch' });
  assert.ok(fit.plan && fit.largest > fit.plan.microBatch);
  assert.ok(r.stdout.includes(`--fit ${formatBytes(24e9)}: at most ${fit.largest} images per micro-batch`));
  assert.ok(r.stdout.includes(`train.batch 128: micro-batch ${fit.plan.microBatch} x accumulate ${fit.plan.accumulate}`));
  const j = JSON.parse(run(['analyze', DSOD300, '--memory', '--engine', 'torch', '--fit', '24GB', '--json']).stdout);
  assert.deepEqual(j.fit, fit);
  assert.deepEqual(j.memory, trainingMemory(dsod300, { engine: 'torch' }));
  const none = run(['analyze', DSOD300, '--memory', '--fit', '1MB', '--no-hints']);
  assert.match(none.stdout, /not even one image fits/);
});

test('--memory usage errors name the option', () => {
  const cases: [string[], RegExp][] = [
    [['--memory', '--fit', '12XB'], /--fit must be a size like 24GB/],
    [['--fit', '12GB'], /--fit goes with --memory/],
    [['--engine', 'torch'], /--engine goes with --memory/],
    [['--memory', '--engine', 'caffe'], /--engine must be one of tfjs, torch/],
    [['--memory', '--format', 'csv'], /--memory prints text or --json/],
  ];
  for (const [args, message] of cases) {
    const r = run(['analyze', DSOD300, ...args]);
    assert.equal(r.exitCode, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
});
