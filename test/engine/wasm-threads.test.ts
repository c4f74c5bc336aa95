// The threaded SIMD wasm build under Node (engine/backend/wasm-threads.ts): `dsod train` on 2 threads reports them in
// its doctor event and takes the same first steps as on 1 thread (the single-threaded SIMD build). Each run is its own
// process: a process has one wasm module.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WASM_THREADS_ENV } from '../../engine/backend/wasm-threads';
import { parseEngineEventLine, type DoctorEvent, type EngineEvent, type ProgressEvent } from '../../protocol/engine-events';
import { repoRoot } from '../helpers';
import { microWorkspace } from './train-fixtures';

const cli = join(repoRoot, 'out', 'engine', 'cli', 'main.js');
let ws: Awaited<ReturnType<typeof microWorkspace>>;

before(async () => {
  ws = await microWorkspace('wasm-threads', 24, '{ batch: 8, lr: 0.02, warmup: 2, milestones: [100], iterations: 200, checkpoint_every: 100, seed: 1 }');
});
after(() => ws.dir.remove());

/** `dsod train` for 3 steps on the wasm backend with $DSOD_WASM_THREADS = threads; its events, each validated. */
function train3(threads: string, name: string): EngineEvent[] {
  const args = [cli, 'train', ws.spec, '--data', ws.data, '--out', join(ws.dir.path, name), '--steps', '3', '--eval-every', '0'];
  const r = spawnSync(process.execPath, [...args, '--backend', 'wasm', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, [WASM_THREADS_ENV]: threads },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const p = parseEngineEventLine(l);
      assert.ok(p.ok, `${p.ok ? '' : p.error}: ${l}`);
      return p.event;
    });
}

test('2 threads: the doctor event says 2, and the first 3 losses equal 1 thread within 1e-5 relative', () => {
  const one = train3('1', 'one');
  const two = train3('2', 'two');
  const doctor = (es: EngineEvent[]) => es.find((e): e is DoctorEvent => e.type === 'doctor')!;
  assert.equal(doctor(one).threads, 1);
  assert.equal(doctor(two).threads, 2);
  assert.match(doctor(two).attempts.at(-1)!.detail, /, 2 threads \(DSOD_WASM_THREADS=2\),/);
  const losses = (es: EngineEvent[]) => es.filter((e): e is ProgressEvent => e.type === 'progress').map((e) => e.loss);
  const [l1, l2] = [losses(one), losses(two)];
  assert.equal(l1.length, 3);
  assert.equal(l2.length, 3);
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(l2[i] - l1[i]) <= 1e-5 * Math.abs(l1[i]), `step ${i + 1}: ${l2[i]} on 2 threads vs ${l1[i]} on 1`);
  }
});
