// A run folder used by `dsod eval`, `dsod infer` and `dsod train` after (and while) it trains: a mid-run checkpoint
// scores exactly what the run reported, eval and infer --run add to the run's files, train --from rewinds a run,
// and a second training of a folder in use is refused. A micro spec trains for a few dozen steps in-process.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../../engine/cli/main';
import { loadVoc } from '../../engine/data/voc';
import { readWeightsFile } from '../../engine/train/checkpoint';
import type { EngineEvent, MetricEvent } from '../../protocol/engine-events';
import { parseEventLines, repoRoot } from '../helpers';
import { dsodInProcess, microWorkspace, tempDir } from './train-fixtures';

const CLASSES = ['circle', 'square', 'triangle', 'star', 'cross'];
let dir: ReturnType<typeof tempDir>;
let spec: string;
let data: string;
let run: string;
let trained: EngineEvent[];

/** `dsod ...args --json` in this process, its events parsed and validated. */
const dsod = (...args: string[]) => dsodInProcess([...args, '--json']);

const metrics = (events: EngineEvent[]) => events.filter((e): e is MetricEvent => e.type === 'metric');
const logs = (events: EngineEvent[]) => events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
const checkpoint = (step: number) => join(run, 'checkpoints', `step-${String(step).padStart(8, '0')}.dsodckpt`);
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const runEvents = () => parseEventLines(readFileSync(join(run, 'events.jsonl'), 'utf8'));

before(async () => {
  ({ dir, data, spec } = await microWorkspace(
    'eval-run',
    48,
    '{ batch: 8, lr: 0.05, warmup: 2, milestones: [100000], iterations: 100000, checkpoint_every: 15, seed: 1 }',
  ));
  run = join(dir.path, 'run');
  // Checkpoints at 15 (mid-run: running averages) and 30 (the end: recalibrated); evaluations at both.
  const r = await dsod('train', spec, '--data', data, '--out', run, '--steps', '30', '--eval-every', '15', '--eval-images', '8');
  assert.equal(r.code, 0, r.stderr);
  trained = r.events;
});
after(() => dir.remove());

test("dsod eval on a mid-run checkpoint gives the run's own number exactly (batch-norm statistics recomputed as the run did)", async () => {
  const [mid, end] = metrics(trained);
  assert.deepEqual([mid.step, mid.images, end.step], [15, 8, 30]);
  assert.ok(mid.value > 0, `a number worth comparing: ${mid.value}`);
  const again = await dsod('eval', spec, '--weights', checkpoint(15), '--data', data, '--eval-images', '8');
  assert.equal(again.code, 0, again.stderr);
  const m = metrics(again.events)[0];
  assert.equal(m.value, mid.value);
  assert.deepEqual(m.perClass, mid.perClass);
  assert.equal(m.extras.mapArea, mid.extras.mapArea);
  assert.ok(logs(again.events).some((l) => /batch-norm statistics of step-00000015\.dsodckpt \(step 15\) recomputed over \d+ training images/.test(l)));
  // What eval gave before: the checkpoint's running averages as stored, a different number.
  const stored = await dsod('eval', spec, '--weights', checkpoint(15), '--data', data, '--eval-images', '8', '--stored-stats');
  assert.notEqual(metrics(stored.events)[0].value, mid.value);
  // The last checkpoint's statistics were recalibrated for good: used as stored, and the run's final number again.
  const last = await dsod('eval', '--run', run);
  assert.equal(last.code, 0, last.stderr);
  assert.equal(metrics(last.events)[0].value, end.value);
  assert.equal(metrics(last.events)[0].step, 30);
  assert.ok(!logs(last.events).some((l) => l.includes('recomputed')));
});

test('eval --run adds its evaluation to metrics.json (keeping the others), appends its events and writes pr-curves.json', async () => {
  const before = readJson(join(run, 'metrics.json')).evaluations as MetricEvent[];
  const r = await dsod('eval', '--run', run, '--weights', checkpoint(15), '--metric', 'coco');
  assert.equal(r.code, 0, r.stderr);
  const m = metrics(r.events)[0];
  assert.equal(m.curves, join(run, 'pr-curves.json'));
  assert.equal(m.elapsedSec, readWeightsFile(checkpoint(15)).meta!.elapsedSec, "on the run's time axis: its seconds of training");
  const after = readJson(join(run, 'metrics.json')).evaluations as MetricEvent[];
  // In step order: the new step-15 evaluation between the run's own two, which stay as they were.
  assert.deepEqual(
    after.map((e) => [e.step, e.metric, e.images]),
    [
      [15, 'voc07', 8],
      [15, 'coco', m.images],
      [30, 'voc07', m.images],
    ],
  );
  assert.deepEqual(after[0], before[0]);
  assert.deepEqual(after[2], before.at(-1));
  assert.ok(readJson(join(run, 'pr-curves.json')).coco, 'the latest evaluation (COCO) has COCO curves');
  // The same evaluation again replaces itself.
  await dsod('eval', '--run', run, '--weights', checkpoint(15), '--metric', 'coco');
  assert.equal(readJson(join(run, 'metrics.json')).evaluations.length, 3);
  const starts = runEvents().filter((e) => e.type === 'start');
  assert.ok(starts.some((e) => e.type === 'start' && e.command === 'eval' && e.step === 15 && e.runDir === run));
  assert.equal(runEvents().at(-1)!.type, 'done');
});

test('infer --run writes RUNDIR/inference/detections.json with image sizes and ground truth (VOC, COCO, else null)', async () => {
  const ds = await loadVoc({ root: data, splits: 'test', classNames: CLASSES });
  const [a, b] = ds.records;
  const elsewhere = join(dir.path, 'loose');
  mkdirSync(elsewhere, { recursive: true });
  copyFileSync(a.imagePath, join(elsewhere, 'loose.jpg'));
  const r = await dsod('infer', '--run', run, a.imagePath, b.imagePath, join(elsewhere, 'loose.jpg'), '--threshold', '0.05');
  assert.equal(r.code, 0, r.stderr);
  const doc = readJson(join(run, 'inference', 'detections.json'));
  assert.equal(doc.spec, join(run, 'spec.dsod.yaml'));
  assert.equal(doc.weights, checkpoint(30));
  assert.deepEqual(
    doc.images.map((im: { width: number; height: number }) => [im.width, im.height]),
    [
      [32, 32],
      [32, 32],
      [32, 32],
    ],
  );
  const pixels = (o: { name: string; box: number[]; difficult: boolean }) => ({
    name: o.name,
    box: o.box.map((v) => Math.round(v * 32 * 10) / 10),
    difficult: o.difficult,
  });
  assert.deepEqual(doc.images[0].truth, a.objects.map(pixels));
  assert.deepEqual(doc.images[1].truth, b.objects.map(pixels));
  assert.equal(doc.images[2].truth, null, 'not in a VOC folder, not in the COCO JSON: unknown');
  assert.ok(runEvents().some((e) => e.type === 'start' && e.command === 'infer'));
  // An image listed in a COCO instances JSON gets its annotations from there.
  const json = join(dir.path, 'instances_loose.json');
  writeFileSync(
    json,
    JSON.stringify({
      images: [{ id: 7, file_name: 'loose.jpg', width: 32, height: 32 }],
      annotations: [{ id: 1, image_id: 7, category_id: 2, bbox: [4, 6, 10, 12], area: 120, iscrowd: 0 }],
      categories: CLASSES.map((name, k) => ({ id: k + 1, name })),
    }),
  );
  const coco = await dsod('infer', '--run', run, join(elsewhere, 'loose.jpg'), '--data', json);
  assert.equal(coco.code, 0, coco.stderr);
  assert.deepEqual(readJson(join(run, 'inference', 'detections.json')).images[0].truth, [{ name: 'square', box: [4, 6, 14, 18], difficult: false }]);
});

test('a damaged metrics.json: eval --run, train --resume and train --from report it (code input, exit 2, the file named) and leave the run as it was', async () => {
  const copy = join(dir.path, 'run-damaged');
  cpSync(run, copy, { recursive: true });
  const file = join(copy, 'metrics.json');
  const text = readFileSync(file, 'utf8').slice(0, 40);
  writeFileSync(file, text);
  const checkpoints = readdirSync(join(copy, 'checkpoints')).sort();
  const attempts = [
    ['eval', '--run', copy],
    ['train', spec, '--data', data, '--out', copy, '--resume', '--steps', '31'],
    ['train', '--from', join(copy, 'checkpoints', 'step-00000015.dsodckpt')],
  ];
  for (const args of attempts) {
    const r = await dsod(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const error = r.events.find((e) => e.type === 'error');
    assert.ok(error && error.type === 'error' && error.code === 'input' && error.where === file, JSON.stringify(error));
    assert.match(error.message, /metrics\.json: not valid JSON \(.*\)\. It holds the run's evaluations, so it is not overwritten/);
    assert.ok(!r.events.some((e) => e.type === 'progress' || e.type === 'metric'), `${args[0]} refused before any work`);
    assert.equal(readFileSync(file, 'utf8'), text, `${args.join(' ')} left metrics.json as it was`);
    assert.deepEqual(readdirSync(join(copy, 'checkpoints')).sort(), checkpoints, 'no checkpoint moved or added');
  }
});

test('weights that cannot be loaded: infer and eval report the error code weights with exit status 1', async () => {
  const garbage = join(dir.path, 'garbage.dsodckpt');
  writeFileSync(garbage, 'DSODCK01 a truncated checkpoint');
  const image = (await loadVoc({ root: data, splits: 'test', classNames: CLASSES })).records[0].imagePath;
  for (const args of [
    ['infer', spec, '--weights', garbage, image, '--out', join(dir.path, 'garbage-out')],
    ['eval', spec, '--weights', garbage, '--data', data],
  ]) {
    const r = await dsod(...args);
    assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
    const error = r.events.find((e) => e.type === 'error');
    assert.ok(error && error.type === 'error' && error.code === 'weights' && error.message.includes(garbage), JSON.stringify(error));
  }
});

test('train --from an earlier checkpoint: continues exactly from it, sets later checkpoints aside, drops later evaluations', async () => {
  const copy = join(dir.path, 'run-from');
  cpSync(run, copy, { recursive: true });
  // As the dashboard's "resume from this checkpoint" runs it: no spec (the run's copy) and no --data (the run's).
  const r = await dsod('train', '--from', join(copy, 'checkpoints', 'step-00000015.dsodckpt'), '--steps', '17', '--eval-every', '0');
  assert.equal(r.code, 0, r.stderr);
  const start = r.events.find((e) => e.type === 'start');
  assert.ok(start && start.type === 'start' && start.step === 15 && start.resumed && start.runDir === copy && start.spec === join(copy, 'spec.dsod.yaml'));
  const said = logs(r.events).find((l) => l.startsWith('continuing from step 15'));
  assert.match(
    said ?? '',
    /^continuing from step 15 of the 30 the run had reached: 1 later checkpoint moved to .*checkpoints\/superseded-.*, 1 later evaluation dropped from metrics\.json/,
  );
  // Exact: steps 16 and 17 repeat the original run's losses bit for bit.
  const losses = (events: EngineEvent[]) => events.flatMap((e) => (e.type === 'progress' && e.step > 15 && e.step <= 17 ? [e.loss] : []));
  assert.deepEqual(losses(r.events), losses(trained));
  assert.deepEqual(
    readdirSync(join(copy, 'checkpoints'))
      .filter((n) => n.endsWith('.dsodckpt'))
      .sort(),
    ['step-00000015.dsodckpt', 'step-00000017.dsodckpt'],
  );
  const aside = readdirSync(join(copy, 'checkpoints')).find((n) => n.startsWith('superseded-'))!;
  assert.deepEqual(readdirSync(join(copy, 'checkpoints', aside)), ['step-00000030.dsodckpt']);
  const steps = (readJson(join(copy, 'metrics.json')).evaluations as MetricEvent[]).map((e) => e.step);
  assert.deepEqual(steps, [15, 15, 17], 'the step-15 evaluations stay (run and eval), 30 is gone, 17 is new');
  // A checkpoint of another run, or no checkpoint at all, is refused.
  assert.equal((await dsod('train', spec, '--from', checkpoint(15), '--out', copy)).code, 2);
  assert.equal((await dsod('train', spec, '--from', '999', '--out', copy)).code, 2);
});

test('a second dsod train on a folder being trained is refused with a clear message; a stale lock is taken over', async () => {
  const folder = join(dir.path, 'run-lock');
  const text = { stdout: '' };
  const io = { stdout: { write: (s: string) => ((text.stdout += s), true) }, stderr: { write: () => true } };
  const first = main(['train', spec, '--data', data, '--out', folder, '--steps', '40', '--eval-every', '0', '--json'], io);
  let ended = false;
  void first.finally(() => (ended = true));
  while (!text.stdout.includes('"type":"progress"')) {
    assert.ok(!ended, `the first training ended before its first step: ${text.stdout}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const second = await dsod('train', spec, '--data', data, '--out', folder, '--resume');
  assert.equal(second.code, 2);
  const error = second.events.find((e) => e.type === 'error');
  assert.ok(error && error.type === 'error' && error.code === 'run-busy');
  assert.match(error.message, new RegExp(`is being trained by process ${process.pid} on .*: stop that run first .* or choose another --out`));
  assert.equal(await first, 0);
  assert.ok(!existsSync(join(folder, '.lock')), 'released at the end');
  assert.ok(!readFileSync(join(folder, 'events.jsonl'), 'utf8').includes('run-busy'), 'the refused process left no trace in the run');
  // A lock left by a process that no longer runs (killed, say) does not block --resume.
  const gone = spawnSync(process.execPath, ['-e', 'process.pid'], { encoding: 'utf8' }).pid!;
  writeFileSync(join(folder, '.lock'), JSON.stringify({ pid: gone, host: hostname(), started: 'earlier' }));
  const resumed = await dsod('train', spec, '--data', data, '--out', folder, '--resume', '--steps', '41', '--eval-every', '0');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(logs(resumed.events).includes(`took over the lock of process ${gone}, which no longer runs`));
});

test('two processes: the second `dsod train` exits 2 naming the first, which then stops on SIGTERM and frees the folder', async () => {
  const folder = join(dir.path, 'run-two');
  const cli = join(repoRoot, 'out', 'engine', 'cli', 'main.js');
  const args = ['train', spec, '--data', data, '--out', folder, '--eval-every', '0', '--json'];
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (c: Buffer) => {
      seen += c.toString();
      if (seen.includes('"type":"progress"')) resolve();
    });
    void exit.then(() => reject(new Error(`the first training ended early: ${seen}`)));
  });
  const second = spawnSync(process.execPath, [cli, ...args, '--resume'], { encoding: 'utf8' });
  assert.equal(second.status, 2);
  assert.match(second.stderr, new RegExp(`dsod: ${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is being trained by process ${child.pid} on `));
  child.kill('SIGTERM');
  assert.equal(await exit, 143);
  assert.ok(!existsSync(join(folder, '.lock')));
});
