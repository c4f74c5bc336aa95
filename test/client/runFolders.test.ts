// The run manager's vscode-free parts: run folder names, reading run folders (state, spec, metric, checkpoints) as the
// code lens and the quick picks say them, in agreement with the dashboard, the default inference images of a spec, the
// wording of progress and cost, `file:line:col` parsing, and the engine's argument arrays.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { evalArgs, inferArgs, trainArgs } from '../../client/runs/engineArgs';
import {
  isImagePath,
  isSpecPath,
  listRuns,
  newRunDir,
  runDirName,
  runsOfSpec,
  specOfRun,
  specStem,
  testImagesOfSpec,
  weightsOfRun,
} from '../../client/runs/runFolders';
import { CostMeter, eventLine, lastRunText, parseWhere, progressText, runLineText } from '../../client/runs/runText';
import { listRuns as dashboardRunList, readRunSnapshot, readRunStatus, type RunStatus } from '../../engine/report/run-folder';
import { formatEngineEvent, makeEvent, type EngineEvent, type EventBody, type ProgressEvent, type StartEvent } from '../../protocol/engine-events';
import { RunModel, STATE_TEXT } from '../../webview/dashboard/model';
import { copyFixtureRun, copySecondRun } from '../webview/dashboard-fixture';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dsod-run-folders-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const at = (iso: string) => new Date(iso);
function ev<E extends EventBody>(body: E, time = '2026-01-01T10:00:00.000Z'): EngineEvent {
  return makeEvent(body, at(time)) as unknown as EngineEvent;
}
function writeEvents(runDir: string, events: EngineEvent[]): void {
  mkdirSync(runDir, { recursive: true });
  appendFileSync(join(runDir, 'events.jsonl'), events.map((e) => formatEngineEvent(e) + '\n').join(''));
}
const start = (spec: string, step = 0, command: 'train' | 'eval' | 'infer' = 'train'): EventBody =>
  ({
    type: 'start',
    command,
    spec,
    name: 'tiny',
    runDir: null,
    step,
    steps: 100,
    batch: 8,
    accumulate: 1,
    images: { train: 32, test: 8 },
    resumed: step > 0,
  }) as EventBody;
const progress = (step: number, etaSec: number | null = null): EventBody =>
  ({
    type: 'progress',
    epoch: step / 4,
    step,
    steps: 100,
    loss: 3,
    parts: { loc: 1, conf: 2 },
    lr: 0.01,
    imgPerSec: 20,
    etaSec,
    elapsedSec: step,
  }) as EventBody;
const done = (reason: 'completed' | 'stopped' | 'failed' | 'step-limit', step: number | null): EventBody =>
  ({ type: 'done', reason, step, elapsedSec: 1, exitCode: reason === 'stopped' ? 130 : reason === 'failed' ? 1 : 0, metric: null }) as EventBody;

test('run folder names: <spec>-<yyyymmdd>-<hhmmss>, never an existing folder', () => {
  const now = new Date(2026, 0, 2, 3, 4, 5);
  assert.equal(specStem('/a/b/tiny.dsod.yaml'), 'tiny');
  assert.equal(specStem('/a/b/My Net.dsod.json'), 'My-Net');
  assert.equal(runDirName('/x/tiny.dsod.yaml', now), 'tiny-20260102-030405');
  const root = join(dir, 'names');
  const first = newRunDir(root, '/x/tiny.dsod.yaml', now);
  assert.equal(first, join(root, 'tiny-20260102-030405'));
  mkdirSync(first, { recursive: true });
  assert.equal(newRunDir(root, '/x/tiny.dsod.yaml', now), join(root, 'tiny-20260102-030405-2'));
  assert.ok(isSpecPath('a/b.dsod.yml') && isSpecPath('B.DSOD.JSON') && !isSpecPath('b.yaml'));
  assert.ok(isImagePath('x.JPG') && isImagePath('x.webp') && !isImagePath('x.gif'));
});

/** The run a folder holds, as the code lens and the quick picks read it. */
async function readRun(runDir: string): Promise<RunStatus> {
  const r = await readRunStatus(runDir);
  assert.ok(r, `${runDir} is not a run folder`);
  return r;
}
const names = (runs: RunStatus[]) => runs.map((r) => basename(r.runDir));
/** A lock as a training leaves it (engine/train/run-lock.ts). */
const lock = (runDir: string, pid: number) =>
  writeFileSync(join(runDir, '.lock'), JSON.stringify({ pid, host: hostname(), started: new Date().toISOString() }) + '\n');
/** The pid of a process that has exited: a trainer killed by SIGKILL leaves its lock with such a pid. */
const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

test('reading run folders: state, spec, step, metric, checkpoints, newest first, by spec', async () => {
  const root = join(dir, 'runs');
  const spec = join(dir, 'tiny.dsod.yaml');
  writeFileSync(spec, 'dsod: 1\n');
  const other = join(dir, 'other.dsod.yaml');
  const a = join(root, 'tiny-20260101-100000');
  writeEvents(a, [ev(start(spec)), ev(progress(1)), ev(progress(2)), ev(done('stopped', 2))]);
  mkdirSync(join(a, 'checkpoints'));
  writeFileSync(join(a, 'checkpoints', 'step-00000002.dsodckpt'), '');
  let info = await readRun(a);
  assert.equal(info.state, 'stopped');
  assert.equal(info.step, 2);
  assert.equal(info.steps, 100);
  assert.equal(info.spec, spec);
  assert.equal(info.metric, null);
  assert.deepEqual(
    info.checkpoints.map((c) => c.path),
    [join(a, 'checkpoints', 'step-00000002.dsodckpt')],
  );
  assert.equal(weightsOfRun(info), join(a, 'checkpoints', 'step-00000002.dsodckpt'));
  assert.equal(specOfRun(info), spec);
  assert.equal(lastRunText(info), 'last run: stopped at step 2');
  // Resumed and completed, then evaluated by `dsod eval --run` (a metric event, and metrics.json).
  writeEvents(a, [
    ev(start(spec, 2), '2026-01-01T10:05:00.000Z'),
    ev(progress(3)),
    ev(done('completed', 3)),
    ev(start(spec, 3, 'eval')),
    ev({ type: 'metric', metric: 'voc07', value: 0.5, extras: {}, perClass: [], step: 3, elapsedSec: 1, split: 'test', images: 8, curves: null } as EventBody),
    ev(done('completed', 3)),
  ]);
  info = await readRun(a);
  assert.equal(info.state, 'completed');
  assert.equal(info.step, 3);
  assert.deepEqual(info.metric, { metric: 'voc07', value: 0.5, step: 3 });
  assert.deepEqual(info.commands, ['train', 'eval']);
  assert.equal(lastRunText(info), 'last run: 0.500 mAP');
  assert.equal(runLineText(info), 'step 3/100 · mAP 0.500 · completed');
  // metrics.json counts when the events hold no evaluation (the dashboard's rule): here they hold one.
  writeFileSync(
    join(a, 'metrics.json'),
    JSON.stringify({
      version: 1,
      evaluations: [{ metric: 'voc07', value: 0.803, extras: {}, perClass: [], step: 3, elapsedSec: 1, split: 'test', images: 8 }],
    }),
  );
  assert.equal((await readRun(a)).metric?.value, 0.5);
  writeFileSync(join(a, 'weights.dsodw'), '');
  assert.equal(weightsOfRun(await readRun(a)), join(a, 'weights.dsodw'));

  // A newer run killed mid-way (no done event), one of another spec, a folder of the spec's name whose spec is
  // unknown (no events yet), and a folder that is no run.
  const b = join(root, 'tiny-20260101-110000');
  writeEvents(b, [ev(start(spec), '2026-01-01T11:00:00.000Z'), ev(progress(1))]);
  writeFileSync(join(b, 'metrics.json'), readFileSync(join(a, 'metrics.json')));
  const c = join(root, 'other-20260101-120000');
  writeEvents(c, [ev(start(other), '2026-01-01T12:00:00.000Z')]);
  const d = join(root, 'tiny-20260101-130000');
  mkdirSync(join(d, 'checkpoints'), { recursive: true });
  mkdirSync(join(root, 'not-a-run'));
  info = await readRun(b);
  assert.equal(info.state, 'interrupted', 'no live process holds its lock');
  assert.deepEqual(info.metric, { metric: 'voc07', value: 0.803, step: 3 }, 'metrics.json when the events hold no evaluation');
  assert.equal(lastRunText(info), `last run: 0.803 mAP · ${STATE_TEXT.interrupted} at step 1`);
  assert.equal((await readRun(d)).state, 'empty');
  assert.deepEqual(
    names(await listRuns(root)).filter((n) => n !== 'tiny-20260101-130000'),
    ['other-20260101-120000', 'tiny-20260101-110000', 'tiny-20260101-100000'],
  );
  const mine = names(await runsOfSpec(root, spec));
  assert.ok(mine.includes('tiny-20260101-130000'), 'a folder named after the spec counts while its spec is unknown');
  assert.deepEqual(
    mine.filter((n) => n !== 'tiny-20260101-130000'),
    ['tiny-20260101-110000', 'tiny-20260101-100000'],
  );
  assert.deepEqual(names(await runsOfSpec(root, other)), ['other-20260101-120000']);
  assert.deepEqual(await listRuns(join(dir, 'no-such-root')), []);
  assert.equal(await readRunStatus(join(root, 'not-a-run')), null);
});

test('a train that failed before its start event is a failed run', async () => {
  const r = join(dir, 'runs-failed', 'x');
  writeEvents(r, [ev({ type: 'error', code: 'data', message: 'no data', where: null, fatal: true } as EventBody), ev(done('failed', null))]);
  assert.equal((await readRun(r)).state, 'failed');
  assert.equal(lastRunText(await readRun(r)), 'last run: failed');
});

test('a training without a done event is running while its trainer holds the lock, interrupted once it was killed', async () => {
  const r = join(dir, 'runs-killed', 'tiny-20260101-100000');
  writeEvents(r, [ev(start('/x/tiny.dsod.yaml')), ev(progress(1)), ev(progress(7))]);
  lock(r, process.pid);
  assert.equal((await readRun(r)).state, 'running');
  assert.equal(lastRunText(await readRun(r)), 'last run: running at step 7');
  // SIGKILL: the lock stays, its process is gone. No file changed but the lock: the cached fold must not be reused.
  lock(r, deadPid());
  assert.equal((await readRun(r)).state, 'interrupted');
  assert.equal(lastRunText(await readRun(r)), `last run: ${STATE_TEXT.interrupted} at step 7`);
  assert.equal(runLineText(await readRun(r)), `step 7/100 · ${STATE_TEXT.interrupted}`);
  rmSync(join(r, '.lock'));
  assert.equal((await readRun(r)).state, 'interrupted');
});

/** What the dashboard shows of a run folder: its snapshot folded by the page's model, as the page does. */
async function dashboardView(runDir: string) {
  const snap = await readRunSnapshot(runDir);
  const m = new RunModel(snap.runDir, snap.name);
  m.addAll(snap.events);
  m.setMetricRecords(snap.metrics);
  m.setCheckpointFiles(snap.checkpoints);
  const latest = m.latestEvaluation;
  return {
    state: m.shownState({ training: snap.training, following: false }),
    step: m.step,
    steps: m.steps,
    metric: latest ? { metric: latest.metric, value: latest.value, step: latest.step } : null,
    checkpoints: m.checkpoints.filter((c) => c.exists).map((c) => c.path),
    weights: snap.weights,
  };
}

test('the code lens, the quick picks and the dashboard agree on the recorded runs and on a killed one', async () => {
  const root = mkdtempSync(join(dir, 'agree-'));
  const tiny = copyFixtureRun(root, 'tiny');
  const lr002 = copySecondRun(root, 'tiny-lr002');
  // The recorded run cut right after a progress event of its last training, its trainer killed (its lock left behind).
  const killed = copyFixtureRun(root, 'tiny-killed');
  const lines = readFileSync(join(killed, 'events.jsonl'), 'utf8').trim().split('\n');
  const lastTrain = lines.map((l) => l.includes('"type":"start"') && l.includes('"command":"train"')).lastIndexOf(true);
  const cut = lines.findIndex((l, i) => i > lastTrain && l.includes('"type":"progress"'));
  writeFileSync(join(killed, 'events.jsonl'), lines.slice(0, cut + 1).join('\n') + '\n');
  lock(killed, deadPid());

  const list = await dashboardRunList(root);
  const expected = { [tiny]: 'step-limit', [lr002]: 'step-limit', [killed]: 'interrupted' } as const;
  for (const runDir of [tiny, lr002, killed]) {
    const status = await readRun(runDir);
    const shown = await dashboardView(runDir);
    assert.equal(status.state, expected[runDir], runDir);
    assert.deepEqual(
      {
        state: status.state,
        step: status.step,
        steps: status.steps,
        metric: status.metric,
        checkpoints: status.checkpoints.map((c) => c.path),
        weights: status.weights,
      },
      shown,
      `${runDir}: the lens and quick picks read what the dashboard shows`,
    );
    const row = list.find((r) => r.runDir === runDir);
    assert.ok(row, `${runDir} in the dashboard's run list`);
    assert.deepEqual(
      { state: row.state, step: row.step, steps: row.steps, metric: row.metric },
      { state: shown.state, step: shown.step, steps: shown.steps, metric: shown.metric && { metric: shown.metric.metric, value: shown.metric.value } },
    );
    // The same words: the dashboard's state badge (STATE_TEXT) in the quick pick, and in the lens unless a metric says
    // all of a run that ended as asked.
    const words = STATE_TEXT[shown.state];
    assert.ok(runLineText(status).includes(words), runLineText(status));
    assert.equal(runLineText(status), runLineText(row), "the dashboard's own run picker says the same");
    if (shown.state !== 'step-limit' || !status.metric) assert.ok(lastRunText(status).includes(words), lastRunText(status));
  }
  // The killed run never reads as running.
  const k = await readRun(killed);
  assert.match(lastRunText(k), /interrupted/);
  assert.doesNotMatch(lastRunText(k) + runLineText(k), /running/);
  assert.equal(lastRunText(await readRun(tiny)), `last run: ${(await dashboardView(tiny)).metric!.value.toFixed(3)} mAP`);
});

test("the default inference images of a spec are its held-out split's (VOC lists, COCO JSON), at most a limit", () => {
  const voc = join(dir, 'voc');
  mkdirSync(join(voc, 'ImageSets', 'Main'), { recursive: true });
  mkdirSync(join(voc, 'JPEGImages'));
  writeFileSync(join(voc, 'ImageSets', 'Main', 'test.txt'), 'a\nb\nc\n');
  for (const id of ['a', 'b']) writeFileSync(join(voc, 'JPEGImages', `${id}.jpg`), '');
  writeFileSync(join(voc, 'JPEGImages', 'c.png'), '');
  const spec = join(dir, 'voc.dsod.yaml');
  writeFileSync(spec, 'dsod: 1\ndata: { format: voc, root: voc, test: test }\n');
  const all = testImagesOfSpec(spec);
  assert.deepEqual(all.images, [join(voc, 'JPEGImages', 'a.jpg'), join(voc, 'JPEGImages', 'b.jpg'), join(voc, 'JPEGImages', 'c.png')]);
  assert.equal(all.total, 3);
  const two = testImagesOfSpec(spec, 2);
  assert.equal(two.images.length, 2);
  assert.equal(two.total, 3);

  const coco = join(dir, 'coco');
  mkdirSync(join(coco, 'annotations'), { recursive: true });
  mkdirSync(join(coco, 'val'));
  writeFileSync(join(coco, 'annotations', 'instances_val.json'), JSON.stringify({ images: [{ id: 1, file_name: 'x.jpg' }], annotations: [], categories: [] }));
  const cspec = join(dir, 'coco.dsod.yaml');
  writeFileSync(cspec, 'dsod: 1\ndata: { format: coco, root: coco }\n');
  assert.deepEqual(testImagesOfSpec(cspec).images, [join(coco, 'val', 'x.jpg')]);

  const none = join(dir, 'none.dsod.yaml');
  writeFileSync(none, 'dsod: 1\n');
  assert.throws(() => testImagesOfSpec(none), /has no data.root: run inference on image files or folders/);
  const missing = join(dir, 'missing.dsod.yaml');
  writeFileSync(missing, 'dsod: 1\ndata: { root: nowhere }\n');
  assert.throws(() => testImagesOfSpec(missing), /does not exist/);
});

test('progress and cost: steps, images per second measured over the first steps, time to the end', () => {
  const s = ev(start('/x/tiny.dsod.yaml')) as StartEvent;
  assert.equal(CostMeter.before(s), '100 steps of batch 8 (800 images) on 32 training images; measuring the speed…');
  const meter = new CostMeter(5);
  assert.equal(meter.add(s), null);
  // Step 1 at t=0 (pays for compilation), then 0.5 s a step: 8 images / 0.5 s = 16 img/s.
  const t0 = Date.parse('2026-01-01T10:00:00.000Z');
  const p = (step: number, eta: number | null = null) => makeEvent(progress(step, eta), new Date(t0 + (step - 1) * 500)) as ProgressEvent;
  for (let k = 1; k <= 5; k++) assert.equal(meter.add(p(k)), null);
  const cost = meter.add(p(6));
  assert.ok(cost);
  assert.equal(cost.imgPerSec, 16);
  assert.equal(cost.steps, 100);
  assert.equal(cost.etaSec, (94 * 8) / 16);
  assert.equal(cost.text, '100 steps × batch 8 = 800 images; 16.0 img/s measured over steps 2-6; about 47s to the end');
  assert.equal(meter.add(p(7)), null, 'said once');
  // The engine's ETA (it knows a --minutes budget) wins when it has one.
  const m2 = new CostMeter(1);
  m2.add(s);
  m2.add(p(1));
  assert.equal(m2.add(p(2, 600))?.etaSec, 600);
  assert.equal(progressText(p(6, 125)), 'step 6/100 · loss 3.000 · 20.0 img/s · ETA 2m05s');
  assert.match(eventLine(ev(done('stopped', 5))), /^done \(stopped, exit 130\) at step 5/);
});

test('file:line:col of error events', () => {
  assert.deepEqual(parseWhere('/a/b.dsod.yaml:3:7'), { file: '/a/b.dsod.yaml', line: 3, column: 7 });
  assert.deepEqual(parseWhere('C:\\a\\b.dsod.yaml:12:1'), { file: 'C:\\a\\b.dsod.yaml', line: 12, column: 1 });
  assert.deepEqual(parseWhere('b.dsod.yaml:4'), { file: 'b.dsod.yaml', line: 4, column: 1 });
  assert.equal(parseWhere(null), null);
  assert.equal(parseWhere('nowhere'), null);
  assert.equal(parseWhere('a:0:1'), null);
});

test('argument arrays: one element per path, the resume flags, --run for eval and infer', () => {
  assert.deepEqual(trainArgs({ spec: '/s p/a.dsod.yaml', runDir: '/r/x' }), ['/s p/a.dsod.yaml', '--out', '/r/x']);
  assert.deepEqual(trainArgs({ spec: 's', runDir: 'r', resume: true }), ['s', '--out', 'r', '--resume']);
  assert.deepEqual(trainArgs({ spec: 's', runDir: 'r', resume: true, from: 'r/checkpoints/step-00000500.dsodckpt' }), [
    's',
    '--out',
    'r',
    '--from',
    'r/checkpoints/step-00000500.dsodckpt',
  ]);
  assert.deepEqual(evalArgs({ spec: null, runDir: 'r', weights: 'w' }), ['--run', 'r', '--weights', 'w']);
  assert.deepEqual(evalArgs({ spec: 's', runDir: 'r' }), ['s', '--run', 'r']);
  assert.deepEqual(inferArgs({ spec: 's', runDir: 'r', inputs: ['a.jpg', 'dir'] }), ['s', '--run', 'r', 'a.jpg', 'dir']);
});
