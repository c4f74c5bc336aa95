// Starting the torch engine from Node (engine/torch/launch.ts, the bridge `dsod train --engine torch` will use): the
// graph written into the run folder, events validated and handed on in order, a stop that checkpoints. Skipped, with
// the reason, where no Python with torch is found.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { startTorchTraining, TORCH_GRAPH_FILE } from '../../engine/torch/launch';
import type { EngineEvent } from '../../protocol/engine-events';
import { toGraphJson, validateGraphJson } from '../../protocol/graph-json';
import { analyze, readRepoFile } from '../helpers';
import { skipWithoutTorch as skip, torchEnv } from './torch-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'dsod-torch-launch-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const graph = toGraphJson(analyze(readRepoFile('examples/tiny.dsod.yaml')), { hash: '0011223344556677' });

test('a training started from Node: the graph in the run folder, every event valid and in order, done with exit 0', { skip }, async () => {
  const events: EngineEvent[] = [];
  // A run folder relative to the working folder: the engine is found through PYTHONPATH, so it means the same there.
  const runDir = relative(process.cwd(), join(dir, 'run'));
  const run = startTorchTraining({ graph, runDir, specPath: 'examples/tiny.dsod.yaml', steps: 2, batch: 2, env: torchEnv }, (e) => events.push(e));
  const end = await run.done;
  assert.equal(end.code, 0, end.stderr);
  assert.deepEqual(end.invalid, []);
  assert.deepEqual(
    events.map((e) => e.type),
    ['doctor', 'start', 'log', 'progress', 'progress', 'checkpoint', 'done'],
  );
  const written = JSON.parse(readFileSync(join(dir, 'run', TORCH_GRAPH_FILE), 'utf8'));
  assert.ok(validateGraphJson(written).ok);
  assert.equal(written.spec.hash, '0011223344556677');
  // Under the bridge the engine writes events to stdout only: the caller's sink is the one writer of events.jsonl.
  assert.equal(existsSync(join(dir, 'run', 'events.jsonl')), false);
});

test('stop(): the engine checkpoints and ends with done stopped, exit 143', { skip }, async () => {
  const events: EngineEvent[] = [];
  let run: ReturnType<typeof startTorchTraining> | null = null;
  run = startTorchTraining({ graph, runDir: join(dir, 'stopped'), specPath: 'tiny', steps: 100_000, batch: 1, env: torchEnv }, (e) => {
    events.push(e);
    if (e.type === 'progress' && e.step === 1) run!.stop();
  });
  const end = await run.done;
  assert.equal(end.code, 143, end.stderr);
  const last = events[events.length - 1];
  assert.equal(last.type, 'done');
  assert.equal((last as Extract<EngineEvent, { type: 'done' }>).reason, 'stopped');
  assert.equal((events[events.length - 2] as Extract<EngineEvent, { type: 'checkpoint' }>).reason, 'signal');
});

test('two processes (DDP, gloo) train the tiny example, stop together on SIGTERM, and one process resumes the run', { skip }, async () => {
  const runDir = join(dir, 'ddp');
  const events: EngineEvent[] = [];
  let run: ReturnType<typeof startTorchTraining> | null = null;
  run = startTorchTraining({ graph, runDir, specPath: 'tiny', steps: 1000, batch: 4, processes: 2, env: torchEnv }, (e) => {
    events.push(e);
    if (e.type === 'progress' && e.step === 2) run!.stop('SIGTERM');
  });
  const end = await run.done;
  assert.equal(end.code, 143, end.stderr);
  assert.deepEqual(end.invalid, []);
  assert.match((events[2] as Extract<EngineEvent, { type: 'log' }>).message, /2 processes \(gloo\)/);
  assert.deepEqual((events[0] as Extract<EngineEvent, { type: 'doctor' }>).torch?.distributed, 'gloo');
  // One set of events (rank 0's): one start, one checkpoint, one done.
  assert.deepEqual(
    ['start', 'checkpoint', 'done'].map((t) => events.filter((e) => e.type === t).length),
    [1, 1, 1],
  );
  const ck = events.find((e) => e.type === 'checkpoint') as Extract<EngineEvent, { type: 'checkpoint' }>;
  assert.equal(ck.reason, 'signal');
  assert.ok(ck.step >= 2);
  const done = events[events.length - 1] as Extract<EngineEvent, { type: 'done' }>;
  assert.deepEqual([done.type, done.reason, done.exitCode, done.step], ['done', 'stopped', 143, ck.step]);

  const resumed: EngineEvent[] = [];
  const again = startTorchTraining({ graph, runDir, specPath: 'tiny', steps: ck.step + 2, resume: true, env: torchEnv }, (e) => resumed.push(e));
  const end2 = await again.done;
  assert.equal(end2.code, 0, end2.stderr);
  assert.deepEqual(end2.invalid, []);
  const start = resumed[1] as Extract<EngineEvent, { type: 'start' }>;
  assert.deepEqual([start.resumed, start.step, start.batch], [true, ck.step, 4]);
  assert.match((resumed[2] as Extract<EngineEvent, { type: 'log' }>).message, /one process/);
  assert.deepEqual(
    resumed.filter((e) => e.type === 'progress').map((e) => (e as Extract<EngineEvent, { type: 'progress' }>).step),
    [ck.step + 1, ck.step + 2],
  );
  assert.equal((resumed[resumed.length - 1] as Extract<EngineEvent, { type: 'done' }>).reason, 'completed');
  assert.equal(existsSync(join(runDir, 'events.jsonl')), false);
});

test('without a Python that has torch, nothing starts and the error says what to install', () => {
  assert.throws(
    () =>
      startTorchTraining(
        { graph, runDir: join(dir, 'never'), specPath: 'tiny', env: { ...process.env, DSOD_PYTHON: join(dir, 'no-python') } },
        () => undefined,
      ),
    /no Python with PyTorch found: tried .*no-python \(not found\)\. Install it: apt-get install python3-torch/,
  );
  assert.equal(existsSync(join(dir, 'never')), false);
});
