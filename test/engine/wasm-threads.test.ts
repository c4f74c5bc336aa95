// The threaded SIMD wasm build under Node (engine/backend/wasm-threads.ts): `dsod train` on 2 threads reports them in
// its doctor event and takes the same first steps as on 1 thread (the single-threaded SIMD build); 1 thread unless
// $DSOD_WASM_THREADS asks for more. Each run is its own process: a process has one wasm module.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MAX_WASM_THREADS, WASM_THREADS_ENV, wasmThreadsWanted } from '../../engine/backend/wasm-threads';
import { EngineError } from '../../engine/errors';
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

test(`threads wanted: ${WASM_THREADS_ENV} when set (1 to ${MAX_WASM_THREADS}), else 1 (slower on shared cores); a bad value is a usage error`, () => {
  assert.deepEqual(wasmThreadsWanted({}, 2), { threads: 1, why: `the default; ${WASM_THREADS_ENV}=2 for the threaded build` });
  assert.deepEqual(wasmThreadsWanted({}, 1), { threads: 1, why: `the default; ${WASM_THREADS_ENV}=2 for the threaded build` });
  assert.deepEqual(wasmThreadsWanted({}, 64), { threads: 1, why: `the default; ${WASM_THREADS_ENV}=8 for the threaded build` });
  assert.deepEqual(wasmThreadsWanted({ [WASM_THREADS_ENV]: '1' }, 16), { threads: 1, why: `${WASM_THREADS_ENV}=1` });
  assert.deepEqual(wasmThreadsWanted({ [WASM_THREADS_ENV]: ' 3 ' }, 2), { threads: 3, why: `${WASM_THREADS_ENV}=3` });
  assert.deepEqual(wasmThreadsWanted({ [WASM_THREADS_ENV]: '' }, 2), { threads: 1, why: `the default; ${WASM_THREADS_ENV}=2 for the threaded build` });
  for (const bad of ['0', '9', '1.5', 'two', '-1']) {
    assert.throws(
      () => wasmThreadsWanted({ [WASM_THREADS_ENV]: bad }, 2),
      (e: unknown) => e instanceof EngineError && e.code === 'usage' && e.message.startsWith(`${WASM_THREADS_ENV}=${bad}: expected`),
    );
  }
});
