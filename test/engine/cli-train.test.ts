// `dsod train | eval | infer | synth` as users run them: the built bundle (dist/dsod.js) in child processes.
// SIGKILL then --resume continues from the last checkpoint; SIGTERM checkpoints and exits 143; --json events
// validate; a batch that cannot fit is refused; eval agrees on VOC- and COCO-format copies of the same images;
// infer writes detections and drawn PNGs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { loadVoc } from '../../engine/data/voc';
import { listCheckpoints } from '../../engine/train/checkpoint';
import { parseEngineEventLine, type EngineEvent } from '../../protocol/engine-events';
import { parseEventLines, repoRoot } from '../helpers';
import { startDsod, type RunningDsod } from './cli-process';
import { microSpec, microWorkspace, tempDir } from './train-fixtures';

const bin = join(repoRoot, 'dist', 'dsod.js');
let dir: ReturnType<typeof tempDir>;
let spec: string;
let data: string;
let weights: string;

before(async () => {
  ({ dir, data, spec } = await microWorkspace(
    'cli-train',
    40,
    '{ batch: 8, lr: 0.05, warmup: 2, milestones: [100000], iterations: 100000, checkpoint_every: 4, seed: 1 }',
  ));
});
after(() => dir.remove());

type Running = RunningDsod;
const start = (args: string[]): Running => startDsod(dir.path, args);

function dsodSync(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir.path, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A training in run folder `name` whose only checkpoint will be one a stop asks for, once it has taken two steps. */
async function trainingUnderway(name: string): Promise<{ run: string; p: Running }> {
  const run = join(dir.path, name);
  const rare = join(dir.path, `${name}.dsod.yaml`);
  writeFileSync(rare, microSpec('{ batch: 8, lr: 0.05, iterations: 100000, checkpoint_every: 100000, seed: 1 }'));
  const p = start(['train', rare, '--data', data, '--out', run]);
  await p.waitFor((e) => e.type === 'progress' && e.step >= 2);
  return { run, p };
}

test('SIGKILL mid-run, then --resume continues from the last checkpoint on disk', async () => {
  const run = join(dir.path, 'run-kill');
  const first = start(['train', spec, '--data', data, '--out', run]);
  await first.waitFor((e) => e.type === 'checkpoint' && e.step >= 8);
  first.kill('SIGKILL');
  const killed = await first.exit;
  assert.equal(killed.signal, 'SIGKILL');
  assert.deepEqual(killed.bad, []);
  const last = listCheckpoints(run).at(-1)!;
  assert.ok(last.step >= 8 && last.step % 4 === 0, `last checkpoint at step ${last.step}`);
  assert.ok(readdirSync(join(run, 'checkpoints')).every((n) => n.endsWith('.dsodckpt') || n.includes('.tmp-')));

  const second = start(['train', spec, '--data', data, '--out', run, '--resume', '--steps', String(last.step + 3)]);
  const end = await second.exit;
  assert.equal(end.code, 0, end.stderr);
  assert.deepEqual(end.bad, []);
  const startEvent = second.events.find((e) => e.type === 'start');
  assert.ok(startEvent && startEvent.type === 'start' && startEvent.resumed && startEvent.step === last.step);
  assert.deepEqual(
    second.events.filter((e) => e.type === 'progress').map((e) => e.type === 'progress' && e.step),
    [last.step + 1, last.step + 2, last.step + 3],
  );
  const done = second.events.at(-1)!;
  assert.ok(done.type === 'done' && done.reason === 'step-limit' && done.step === last.step + 3 && done.metric !== null);
  // events.jsonl holds both processes' events, every line valid.
  const lines = readFileSync(join(run, 'events.jsonl'), 'utf8').trim().split('\n');
  assert.ok(lines.every((l) => parseEngineEventLine(l).ok));
  assert.equal(lines.filter((l) => l.includes('"type":"start"')).length, 2);
  assert.ok(existsSync(join(run, 'weights.dsodw')) && existsSync(join(run, 'metrics.json')) && existsSync(join(run, 'pr-curves.json')));
  weights = join(run, 'weights.dsodw');
});

test('SIGTERM writes a checkpoint, ends the event stream with done "stopped" and exits 143', async () => {
  const { p } = await trainingUnderway('run-term');
  p.kill('SIGTERM');
  const end = await p.exit;
  assert.equal(end.code, 143, end.stderr);
  const checkpoints = p.events.filter((e) => e.type === 'checkpoint');
  assert.equal(checkpoints.length, 1, 'the only checkpoint is the one the signal asked for');
  const ckpt = checkpoints[0];
  assert.ok(ckpt.type === 'checkpoint' && ckpt.reason === 'signal');
  assert.ok(existsSync(ckpt.path));
  const done = p.events.at(-1)!;
  assert.ok(done.type === 'done' && done.reason === 'stopped' && done.exitCode === 143 && done.step === ckpt.step);
});

test('when the reader of its output goes away (the editor died), training checkpoints and stops as on SIGTERM', async () => {
  const { run, p } = await trainingUnderway('run-epipe');
  p.closeOutput();
  const end = await p.exit;
  assert.equal(end.code, 143, 'stopped as on SIGTERM');
  // What it could no longer print is in the run folder: the stop's checkpoint, then done "stopped".
  const events = readFileSync(join(run, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EngineEvent);
  const ckpt = events.find((e) => e.type === 'checkpoint');
  assert.ok(ckpt && ckpt.type === 'checkpoint' && ckpt.reason === 'signal' && existsSync(ckpt.path));
  const done = events.at(-1)!;
  assert.ok(done.type === 'done' && done.reason === 'stopped' && done.step === ckpt.step);
  assert.ok(existsSync(join(run, 'report.html')), 'the run leaves its report');
});

test('a batch that cannot fit the wasm heap is refused before training, with the number, and leaves no run', () => {
  const huge = join(dir.path, 'huge.dsod.yaml');
  writeFileSync(huge, microSpec('{ batch: 65536, lr: 0.1, iterations: 5 }'));
  const r = dsodSync(['train', huge, '--data', data, '--out', join(dir.path, 'run-huge'), '--json']);
  assert.equal(r.code, 1);
  const events = parseEventLines(r.stdout);
  const error = events.find((e) => e.type === 'error');
  assert.ok(error && error.type === 'error' && error.code === 'out-of-memory');
  assert.match(error.message, /micro-batch 65536 needs about \d+\.\d\d GiB: .*capped at 4 GiB \(wasm32\)/);
  assert.equal(events.at(-1)!.type, 'done');
  assert.ok(!existsSync(join(dir.path, 'run-huge', 'events.jsonl')));
});

test('eval gives the same VOC07 mAP on the VOC folder and on a COCO-format copy of the same images', async () => {
  assert.ok(weights, 'the SIGKILL test trained these weights');
  const coco = await writeCocoCopy(data, join(dir.path, 'coco'));
  const voc = dsodSync(['eval', spec, '--weights', weights, '--data', data, '--json']);
  assert.equal(voc.code, 0, voc.stderr);
  const fromCoco = dsodSync(['eval', spec, '--weights', weights, '--data', coco, '--json', '--out', join(dir.path, 'eval-coco')]);
  assert.equal(fromCoco.code, 0, fromCoco.stderr);
  const metric = (stdout: string) => parseEventLines(stdout).find((e) => e.type === 'metric')!;
  const a = metric(voc.stdout);
  const b = metric(fromCoco.stdout);
  assert.ok(a.type === 'metric' && b.type === 'metric');
  assert.equal(a.metric, 'voc07');
  assert.equal(a.images, b.images);
  assert.ok(Math.abs(a.value - b.value) < 1e-9, `${a.value} vs ${b.value}`);
  assert.ok(existsSync(join(dir.path, 'eval-coco', 'pr-curves.json')));
  const cocoMetric = dsodSync(['eval', spec, '--weights', weights, '--data', coco, '--metric', 'coco', '--json']);
  const c = metric(cocoMetric.stdout);
  assert.ok(c.type === 'metric' && c.metric === 'coco' && c.value >= 0 && c.value <= 1 && 'ap50' in c.extras);
  const table = dsodSync(['eval', spec, '--weights', weights, '--data', data]);
  assert.match(table.stdout, /^circle +\d\.\d{4}$/m);
  assert.equal(dsodSync(['eval', spec, '--data', data]).code, 2, '--weights is required');
});

test('infer writes detections as JSON and PNGs with the boxes drawn', async () => {
  const images = join(data, 'JPEGImages');
  const some = readdirSync(images)
    .sort()
    .slice(0, 3)
    .map((n) => join(images, n));
  const out = join(dir.path, 'infer');
  const r = dsodSync(['infer', spec, '--weights', weights, ...some, '--out', out, '--draw', '--threshold', '0']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(join(out, 'detections.json'), 'utf8'));
  assert.equal(doc.images.length, 3);
  for (const im of doc.images) {
    assert.deepEqual([im.width, im.height], [32, 32]);
    assert.ok(im.detections.length > 0);
    for (const d of im.detections) {
      assert.ok(d.label >= 1 && d.label <= 5 && typeof d.name === 'string' && d.score >= 0);
      assert.equal(d.box.length, 4);
    }
    const png = join(
      out,
      im.image
        .split('/')
        .pop()
        .replace(/\.jpg$/, '.png'),
    );
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 32, 32]);
  }
  // Without --out: one JSON document on stdout, a folder expanded to its images.
  const folder = join(dir.path, 'two');
  mkdirSync(folder);
  for (const f of some.slice(0, 2)) writeFileSync(join(folder, f.split('/').pop()!), readFileSync(f));
  writeFileSync(join(folder, 'notes.txt'), 'not an image');
  const printed = dsodSync(['infer', spec, '--weights', weights, folder]);
  assert.equal(printed.code, 0, printed.stderr);
  assert.equal(JSON.parse(printed.stdout).images.length, 2);
  assert.equal(dsodSync(['infer', spec, '--weights', weights, folder, '--draw']).code, 2, '--draw needs --out');
});

test('demo: trains examples/tiny.dsod.yaml with progress and prints the held-out mAP; run again, it re-evaluates', () => {
  const out = join(dir.path, 'run-demo');
  const r = dsodSync(['demo', '--data', data, '--out', out, '--steps', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^training tiny DSOD .*examples\/tiny\.dsod\.yaml\) at step 0 of 4000: batch 8/m);
  assert.match(r.stdout, /^step 1\/4000 epoch [\d.]+ loss [\d.]+ \(loc [\d.]+, conf [\d.]+\) lr [\d.e-]+ [\d.]+ img\/s ETA /m);
  assert.match(r.stdout, /\nheld-out VOC07 mAP \(11-point\): \d\.\d{4}\n/);
  // The last line is where the run's report is: a page with the same curves and tables as the VS Code dashboard.
  assert.equal(r.stdout.trim().split('\n').at(-1), `report: ${join(out, 'report.html')}`);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /^<!DOCTYPE html>/);
  const again = dsodSync(['demo', '--data', data, '--out', out, '--steps', '2']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /resuming from .*step-00000002\.dsodckpt \(step 2/);
  assert.doesNotMatch(again.stdout, /^step \d/m, 'nothing left to train: only the evaluation runs');
});

test('synth writes a VOC dataset with its split lists', () => {
  const out = join(dir.path, 'synth');
  const r = dsodSync(['synth', '--out', out, '--count', '12', '--size', '48', '--seed', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote 12 images \(48x48, seed 2\)/);
  for (const f of ['train', 'val', 'test', 'trainval']) assert.ok(existsSync(join(out, 'ImageSets', 'Main', `${f}.txt`)));
  assert.equal(readdirSync(join(out, 'JPEGImages')).length, 12);
  assert.equal(dsodSync(['synth', '--count', 'x']).code, 2);
});

/** The VOC test split as COCO: instances JSON with sparse category ids, difficult objects as crowd regions. */
async function writeCocoCopy(vocRoot: string, root: string): Promise<string> {
  const names = ['circle', 'square', 'triangle', 'star', 'cross'];
  const ds = await loadVoc({ root: vocRoot, splits: 'test', classNames: names });
  mkdirSync(join(root, 'images'), { recursive: true });
  const images: object[] = [];
  const annotations: object[] = [];
  ds.records.forEach((r, i) => {
    const file = `${r.id}.jpg`;
    writeFileSync(join(root, 'images', file), readFileSync(r.imagePath));
    images.push({ id: 100 + i, file_name: file, width: r.width, height: r.height });
    for (const o of r.objects) {
      const [x0, y0, x1, y1] = o.box;
      annotations.push({
        id: annotations.length + 1,
        image_id: 100 + i,
        category_id: 10 * o.label + 1,
        bbox: [x0 * r.width, y0 * r.height, (x1 - x0) * r.width, (y1 - y0) * r.height],
        area: (x1 - x0) * (y1 - y0) * r.width * r.height,
        iscrowd: o.difficult ? 1 : 0,
      });
    }
  });
  const categories = names.map((name, k) => ({ id: 10 * (k + 1) + 1, name }));
  const file = join(root, 'instances_test.json');
  writeFileSync(file, JSON.stringify({ images, annotations, categories }));
  return file;
}
