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
import { findTorchPython, torchPackageRoot } from '../../engine/torch/python';
import { parseEngineEventLine, type EngineEvent } from '../../protocol/engine-events';
import { toGraphJson } from '../../protocol/graph-json';
import { analyze, readRepoFile } from '../helpers';

const found = findTorchPython();
const skip = found.ok ? false : found.message;
const dir = mkdtempSync(join(tmpdir(), 'dsod-torch-train-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' };

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
  const r = spawnSync(found.python, ['-m', 'dsod_torch', 'train', tinyGraph(), '--out', run, '--spec', 'examples/tiny.dsod.yaml', '--steps', '3', '--batch', '2'], {
    cwd: torchPackageRoot(),
    env,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const events = parseEvents(r.stdout);
  assert.deepEqual(
    events.map((e) => e.type),
    ['start', 'log', 'progress', 'progress', 'progress', 'checkpoint', 'done'],
  );
  const start = events[0] as Extract<EngineEvent, { type: 'start' }>;
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
  const ck = events[5] as Extract<EngineEvent, { type: 'checkpoint' }>;
  assert.equal(ck.step, 3);
  assert.equal(ck.reason, 'end');
  assert.equal(statSync(ck.path).size, ck.bytes);
  const done = events[6] as Extract<EngineEvent, { type: 'done' }>;
  assert.deepEqual({ reason: done.reason, step: done.step, exitCode: done.exitCode }, { reason: 'completed', step: 3, exitCode: 0 });
  assert.equal(readFileSync(join(run, 'events.jsonl'), 'utf8'), r.stdout);
  // The checkpoint: the spec's hash, weights under the tfjs engine's names and layouts, one momentum buffer per learned tensor.
  const probe = spawnSync(
    found.python,
    [
      '-c',
      'import sys, json, torch; c = torch.load(sys.argv[1]); w = c["weights"]; print(json.dumps([c["format"], c["meta"]["step"], c["meta"]["spec"]["hash"], list(w["stem/conv1/weight"].shape), len(w), len(c["optimizer"])]))',
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
  assert.deepEqual({ type: done.type, reason: done.reason, exitCode: done.exitCode, step: done.step }, { type: 'done', reason: 'stopped', exitCode: 143, step: ck.step });
});
