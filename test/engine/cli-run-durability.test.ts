// A run folder after real SIGKILLs (the built bundle, dist/dsod.js, in child processes): a kill between a checkpoint
// and its evaluation loses no evaluation (the resumed run, `--resume` or `--from`, evaluates the checkpoint with the
// number the uninterrupted run reports; one whose checkpoint is gone is named in a warning), and the temporary files
// of interrupted atomic writes are removed when the next training of the run starts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkpointName, listCheckpoints } from '../../engine/train/checkpoint';
import type { EngineEvent } from '../../protocol/engine-events';
import { alive, parseEventLines, repoRoot } from '../helpers';
import { startDsod } from './cli-process';
import { microWorkspace, tempDir } from './train-fixtures';

const bin = join(repoRoot, 'dist', 'dsod.js');
let dir: ReturnType<typeof tempDir>;
let spec: string;
let data: string;
/** The uninterrupted run's evaluations (--steps 12 --eval-every 4), by step. */
let reference: Map<number, number>;

interface Evaluation {
  step: number;
  value: number;
  metric: string;
}

const metrics = (run: string): Evaluation[] =>
  existsSync(join(run, 'metrics.json')) ? (JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')).evaluations as Evaluation[]) : [];

before(async () => {
  ({ dir, data, spec } = await microWorkspace(
    'run-durability',
    40,
    '{ batch: 8, lr: 0.05, warmup: 2, milestones: [100000], iterations: 100000, checkpoint_every: 4, seed: 1 }',
  ));
  const ref = join(dir.path, 'run-reference');
  const r = spawnSync(process.execPath, [bin, 'train', spec, '--data', data, '--out', ref, '--steps', '12', '--eval-every', '4', '--json'], {
    cwd: dir.path,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  reference = new Map(metrics(ref).map((e) => [e.step, e.value]));
  assert.deepEqual([...reference.keys()], [4, 8, 12]);
});
after(() => dir.remove());

const start = (args: string[]) => startDsod(dir.path, args);

function dsod(args: string[]): EngineEvent[] {
  const r = spawnSync(process.execPath, [bin, ...args, '--json'], { cwd: dir.path, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return parseEventLines(r.stdout);
}

/** A pid no process has now. */
function deadPid(): number {
  for (let pid = 4_000_000; ; pid--) if (!alive(pid)) return pid;
}

const run = () => join(dir.path, 'run-killed');

test("a SIGKILL between a checkpoint and its evaluation: --resume evaluates that checkpoint first, with the uninterrupted run's number", async () => {
  const first = start(['train', spec, '--data', data, '--out', run(), '--eval-every', '4']);
  await first.waitFor((e) => e.type === 'checkpoint' && e.step === 8);
  first.kill('SIGKILL');
  const killed = await first.exit;
  assert.equal(killed.signal, 'SIGKILL');
  assert.deepEqual(killed.bad, [], 'every line it printed is an event');
  assert.deepEqual(
    metrics(run()).map((e) => e.step),
    [4],
    'the kill came before the evaluation of step 8 (else this test proves nothing)',
  );
  assert.ok(existsSync(join(run(), 'checkpoints', checkpointName(8))));

  const second = dsod(['train', spec, '--data', data, '--out', run(), '--resume', '--steps', '12', '--eval-every', '4']);
  const kinds = second.map((e) => (e.type === 'metric' || e.type === 'progress' ? `${e.type} ${e.step}` : e.type)).filter((k) => k !== 'log');
  const from = kinds.indexOf('start');
  assert.deepEqual(
    kinds.slice(from, from + 3),
    ['start', 'metric 8', 'progress 9'],
    'the lost evaluation comes right after the resumed start, before training continues',
  );
  const late = second.find((e) => e.type === 'metric' && e.step === 8);
  assert.ok(late && late.type === 'metric');
  assert.equal(late.value, reference.get(8), 'the same number as the uninterrupted run, exactly');
  const all = metrics(run());
  assert.deepEqual(
    all.map((e) => [e.step, e.value]),
    [...reference.entries()],
    'metrics.json holds every checkpoint step, equal to the uninterrupted run',
  );
});

test('--from an earlier checkpoint evaluates it when its evaluation is missing, and names the steps whose checkpoint is gone', () => {
  // As after more kills: metrics.json lost steps 4 and 8, and checkpoint 4 has been deleted (a run keeps its last 3).
  const file = join(run(), 'metrics.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  doc.evaluations = doc.evaluations.filter((e: Evaluation) => e.step > 8);
  writeFileSync(file, JSON.stringify(doc));
  unlinkSync(join(run(), 'checkpoints', checkpointName(4)));

  const events = dsod(['train', '--out', run(), '--from', '8', '--data', data, '--steps', '12', '--eval-every', '4']);
  const warning = events.find((e) => e.type === 'log' && e.level === 'warn' && /evaluation of step 4\b/.test(e.message));
  assert.ok(warning && warning.type === 'log', `a warning names step 4: ${JSON.stringify(events.filter((e) => e.type === 'log'))}`);
  assert.match(warning.message, /cannot be evaluated/);
  const kinds = events.map((e) => (e.type === 'metric' || e.type === 'progress' ? `${e.type} ${e.step}` : e.type)).filter((k) => k !== 'log');
  const from = kinds.indexOf('start');
  assert.deepEqual(kinds.slice(from, from + 3), ['start', 'metric 8', 'progress 9']);
  assert.deepEqual(
    metrics(run()).map((e) => [e.step, e.value]),
    [
      [8, reference.get(8)],
      [12, reference.get(12)],
    ],
  );

  // A checkpoint that cannot be read: named in a warning, the run goes on.
  const again = JSON.parse(readFileSync(file, 'utf8'));
  again.evaluations = again.evaluations.filter((e: Evaluation) => e.step !== 8);
  writeFileSync(file, JSON.stringify(again));
  const eight = join(run(), 'checkpoints', checkpointName(8));
  writeFileSync(eight, readFileSync(eight).subarray(0, 1000));
  const resumed = dsod(['train', '--out', run(), '--resume', '--data', data, '--steps', '12', '--eval-every', '4']);
  assert.ok(
    resumed.some((e) => e.type === 'log' && e.level === 'warn' && e.message.startsWith(`step 8 cannot be evaluated: its checkpoint ${eight} is unreadable`)),
    JSON.stringify(resumed.filter((e) => e.type === 'log')),
  );
  assert.ok(!resumed.some((e) => e.type === 'metric' && e.step === 8));
  assert.deepEqual(
    metrics(run()).map((e) => e.step),
    [12],
  );
});

test('a training removes the temporary files interrupted writes left in its run folder, and says which', async (t) => {
  const folder = join(dir.path, 'run-temp');
  mkdirSync(join(folder, 'checkpoints'), { recursive: true });
  // A real one: SIGKILL as soon as a checkpoint's temporary file appears (before its rename, most times).
  let real: string | null = null;
  for (let attempt = 0; attempt < 8 && !real; attempt++) {
    const p = start(['train', spec, '--data', data, '--out', folder, '--resume', '--eval-every', '0']);
    const watcher = watch(join(folder, 'checkpoints'), (_, name) => {
      if (name && String(name).includes('.tmp-')) p.kill('SIGKILL');
    });
    assert.deepEqual((await p.exit).bad, [], 'every line it printed is an event');
    watcher.close();
    real = readdirSync(join(folder, 'checkpoints')).find((n) => n.includes('.tmp-')) ?? null;
  }
  if (!real) t.diagnostic('no kill landed between a checkpoint write and its rename: planted files only');
  mkdirSync(join(folder, 'inference'), { recursive: true });
  const dead = deadPid();
  const planted: Record<string, Buffer> = {
    [`checkpoints/${checkpointName(8)}.tmp-${dead}-0a1b2c3d`]: Buffer.alloc(20_000, 7),
    [`metrics.json.tmp-${dead}-deadbeef`]: Buffer.from('{"version":1,"evalua'),
    [`weights.dsodw.tmp-${dead}-00000000`]: Buffer.alloc(100),
    [`inference/detections.json.tmp-${dead}-12345678`]: Buffer.from('{'),
  };
  // Not stale: a write in progress by a live process (this one), and files that only look alike.
  const kept = [`report.html.tmp-${process.pid}-abcdef01`, 'notes.tmp-1-x', `checkpoints/keep.tmp-${dead}-0a1b2c3`];
  for (const [f, bytes] of Object.entries(planted)) writeFileSync(join(folder, f), bytes);
  for (const f of kept) writeFileSync(join(folder, f), 'x');
  const removed = { ...planted, ...(real ? { [`checkpoints/${real}`]: readFileSync(join(folder, 'checkpoints', real)) } : {}) };

  const steps = String((listCheckpoints(folder).at(-1)?.step ?? 0) + 1);
  const events = dsod(['train', spec, '--data', data, '--out', folder, '--resume', '--steps', steps, '--eval-every', '0']);
  for (const f of Object.keys(removed)) assert.ok(!existsSync(join(folder, f)), `${f} removed`);
  for (const f of kept) assert.ok(existsSync(join(folder, f)), `${f} kept`);
  const bytes = Object.values(removed).reduce((n, b) => n + b.length, 0);
  const log = events.find((e) => e.type === 'log' && /temporary file/.test(e.message));
  assert.ok(log && log.type === 'log', 'a log event says what was removed');
  assert.match(log.message, new RegExp(`removed ${Object.keys(removed).length} temporary files \\(${bytes} bytes\\)`));
  for (const f of Object.keys(removed)) assert.ok(log.message.includes(f), `the log names ${f}: ${log.message}`);
  // The run folder's own events record it too, after the run was accepted.
  assert.ok(readFileSync(join(folder, 'events.jsonl'), 'utf8').includes('temporary file'));
  assert.ok(readdirSync(join(folder, 'checkpoints')).every((n) => !n.includes('.tmp-') || n.startsWith('keep.')));
  // Nothing is left to remove the next time: no log line.
  const again = dsod(['train', spec, '--data', data, '--out', folder, '--resume', '--steps', String(Number(steps) + 1), '--eval-every', '0']);
  assert.ok(!again.some((e) => e.type === 'log' && /temporary file/.test(e.message)));
});
