// The torch engine's data (issue 12, item 2): Node parses the dataset once and writes its index into the run folder
// (engine/torch/data-index.ts); Python decodes the images and augments them with a port of engine/data/augment.ts
// and rng.ts (engine/torch/dsod_torch/data.py). For every augmentation preset and for evaluation, the same images
// and seed give the tfjs engine's batches (BatchLoader): the same images in the same order, the same pixels, boxes
// and matched targets, the same images skipped. Skipped, with the reason, without a Python with torch and Pillow.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { defaultBoxes } from '../../core';
import { BatchLoader, type Batch } from '../../engine/data/batches';
import { loadSplit, resolveDataSource } from '../../engine/data/source';
import { synthesize } from '../../engine/data/synth/generate';
import type { DetectionDataset } from '../../engine/data/types';
import { decodeWeights, type WeightMap } from '../../engine/model';
import { DATA_INDEX_FORMAT, writeDataIndex, type DataIndex } from '../../engine/torch/data-index';
import { torchPackageRoot } from '../../engine/torch/python';
import { augmentOptions } from '../../engine/train/augment';
import { parseEngineEventLine, type EngineEvent } from '../../protocol/engine-events';
import { toGraphJson } from '../../protocol/graph-json';
import { analyze, readRepoFile } from '../helpers';
import { skipWithoutTorch, torchEnv, torchPython as found } from './torch-fixtures';

/** Torch and an image decoder (Pillow or torchvision), or why not and the command that fixes it. */
function skipReason(): false | string {
  if (skipWithoutTorch || !found.ok) return skipWithoutTorch || 'no Python with torch';
  const r = spawnSync(found.python, ['-c', 'import importlib.util as u; print(bool(u.find_spec("PIL") or u.find_spec("torchvision")))'], { encoding: 'utf8' });
  return r.stdout.trim() === 'True' ? false : `${found.python} has neither Pillow nor torchvision: apt-get install python3-pil (bash scripts/torch-setup.sh)`;
}
const skip = skipReason();

const dir = mkdtempSync(join(tmpdir(), 'dsod-torch-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const tiny = analyze(readRepoFile('examples/tiny.dsod.yaml'));
const priors = defaultBoxes(tiny);
const SEED = 5;
const [H, W] = [tiny.spec.input.height, tiny.spec.input.width];

/** The tiny graph with another seed (the samples are drawn from the spec's seed, as in training). */
function graphFile(): string {
  const g = toGraphJson(tiny, { hash: 'feedfacecafebeef' });
  const path = join(dir, 'tiny.graph.json');
  writeFileSync(path, JSON.stringify({ ...g, spec: { ...g.spec, train: { ...g.spec.train, seed: SEED } } }));
  return path;
}

/** Deterministic, colourful pixels: gradients, a grey band, saturated blocks and noise (every branch of the HSV code). */
function pixels(w: number, h: number, seed: number): Buffer {
  const out = Buffer.alloc(w * h * 3);
  let s = seed >>> 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const noise = s >>> 26;
      const k = 3 * (y * w + x);
      if (y % 17 < 3) out.fill(((x * 255) / w) | 0, k, k + 3);
      else if ((x >> 3) % 5 === 0) out.set([255, (y * 7) & 255, 0], k);
      else out.set([((x * 255) / w + noise) & 255, ((y * 255) / h) | 0, (x * y + noise * 3) & 255], k);
    }
  return out;
}

interface Obj {
  name: string;
  box: [number, number, number, number];
  difficult?: boolean;
}

/** A VOC folder of PNGs (lossless: both decoders give the same bytes); `bad` images break in the ways data breaks. */
async function vocSet(root: string, images: { id: string; w: number; h: number; objects: Obj[]; file?: Buffer | 'size' }[], split: string): Promise<void> {
  for (const d of ['Annotations', 'JPEGImages', 'ImageSets/Main']) mkdirSync(join(root, d), { recursive: true });
  for (const [i, im] of images.entries()) {
    const objects = im.objects
      .map(
        (o) =>
          `<object><name>${o.name}</name><difficult>${o.difficult ? 1 : 0}</difficult><bndbox><xmin>${o.box[0]}</xmin><ymin>${o.box[1]}</ymin><xmax>${o.box[2]}</xmax><ymax>${o.box[3]}</ymax></bndbox></object>`,
      )
      .join('');
    writeFileSync(
      join(root, 'Annotations', `${im.id}.xml`),
      `<annotation><filename>${im.id}.png</filename><size><width>${im.w}</width><height>${im.h}</height><depth>3</depth></size>${objects}</annotation>`,
    );
    const [w, h] = im.file === 'size' ? [im.w + 6, im.h] : [im.w, im.h];
    const png = Buffer.isBuffer(im.file)
      ? im.file
      : await sharp(pixels(w, h, i + 1), { raw: { width: w, height: h, channels: 3 } })
          .png()
          .toBuffer();
    writeFileSync(join(root, 'JPEGImages', `${im.id}.png`), png);
  }
  writeFileSync(join(root, 'ImageSets', 'Main', `${split}.txt`), images.map((im) => im.id).join('\n') + '\n');
}

const SET = join(dir, 'voc');
let train: DetectionDataset;
let testSplit: DetectionDataset;
let index: string;

before(async () => {
  // Sizes below the decode limit (2 x 96): sharp keeps the pixels as stored, so both engines start from the same bytes.
  const many: Obj[] = [
    { name: 'circle', box: [10, 12, 60, 70] },
    { name: 'square', box: [70, 20, 140, 110], difficult: true },
    { name: 'star', box: [30, 60, 50, 118] },
  ];
  const images = [
    {
      id: 'a',
      w: 80,
      h: 60,
      objects: [
        { name: 'circle', box: [5, 5, 40, 50] },
        { name: 'cross', box: [42, 10, 78, 58] },
      ] as Obj[],
    },
    { id: 'b', w: 150, h: 120, objects: many },
    { id: 'c', w: 40, h: 50, objects: [{ name: 'triangle', box: [8, 10, 30, 44] }] as Obj[] },
    {
      id: 'd',
      w: 190,
      h: 100,
      objects: [
        { name: 'square', box: [100, 30, 180, 95] },
        { name: 'star', box: [2, 2, 20, 20] },
      ] as Obj[],
    },
    { id: 'empty', w: 64, h: 64, objects: [] as Obj[] },
    { id: 'corrupt', w: 64, h: 64, objects: [{ name: 'circle', box: [1, 1, 30, 30] }] as Obj[], file: Buffer.from('\x89PNG\r\n\x1a\n not really') },
    { id: 'resized', w: 64, h: 64, objects: [{ name: 'cross', box: [5, 5, 60, 60] }] as Obj[], file: 'size' as const },
    { id: 'e', w: 96, h: 96, objects: [{ name: 'circle', box: [30, 30, 70, 70] }] as Obj[] },
  ];
  await vocSet(SET, images, 'trainval');
  writeFileSync(join(SET, 'ImageSets', 'Main', 'test.txt'), 'a\nb\nempty\ne\nc\n');
  const src = resolveDataSource(tiny.spec, null, SET);
  train = await loadSplit(src, 'train', tiny.spec);
  testSplit = await loadSplit(src, 'test', tiny.spec);
  index = writeDataIndex(join(dir, 'run'), { train, test: testSplit });
});

function samples(data: string, ...args: string[]): { out: WeightMap; steps: { size: number; ids: string[]; positions: number[]; problems: string[] }[] } {
  if (!found.ok) throw new Error(found.message);
  const file = join(dir, 'samples.dsodw');
  const r = spawnSync(found.python, ['-m', 'dsod_torch', 'samples', graphFile(), '--data', data, '--out', file, ...args], {
    cwd: torchPackageRoot(),
    env: torchEnv,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.status, 0, r.stderr);
  return { out: decodeWeights(readFileSync(file)), steps: JSON.parse(r.stdout).steps };
}

async function tfjsBatches(ds: DetectionDataset, preset: 'ssd' | 'flip' | 'none' | null, batchSize: number, first: number, steps?: number) {
  const skipped: string[] = [];
  const loader = new BatchLoader(
    { ...ds, report: { ...ds.report, problems: [] } },
    {
      batchSize,
      width: W,
      height: H,
      seed: SEED,
      priors,
      targets: { variances: tiny.spec.priors.variances },
      augment: preset === null ? false : augmentOptions(preset),
      startStep: first,
      ...(steps !== undefined ? { steps } : {}),
      onSkip: (p) => skipped.push(p.path),
    },
  );
  const batches: Batch[] = [];
  for await (const b of loader) batches.push(b);
  return { batches, skipped };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Every batch the same in both engines: images, boxes, labels, difficult flags, matched targets. Returns how far the
 * pixels are apart: the largest difference and the mean one.
 */
function compare(tfjs: Batch[], torch: ReturnType<typeof samples>, what: string): { worst: number; mean: number } {
  assert.equal(torch.steps.length, tfjs.length, `${what}: batches`);
  let worst = 0;
  let sum = 0;
  let count = 0;
  tfjs.forEach((b, s) => {
    const t = torch.steps[s];
    assert.deepEqual(
      t.ids,
      b.records.map((r) => r.id),
      `${what}, batch ${s}: the images`,
    );
    if (!b.size) return;
    const img = torch.out[`images/${s}`];
    assert.deepEqual(img.shape, [b.size, H, W, 3]);
    worst = Math.max(worst, maxDiff(img.values, b.images));
    for (let i = 0; i < b.images.length; i++) sum += Math.abs(img.values[i] - b.images[i]);
    count += b.images.length;
    b.annotations.forEach((ann, k) => {
      assert.ok(maxDiff(torch.out[`boxes/${s}/${k}`].values, ann.boxes) <= 1e-5, `${what}, batch ${s}, sample ${k}: boxes`);
      assert.deepEqual(Array.from(torch.out[`labels/${s}/${k}`].values), Array.from(ann.labels), `${what}, batch ${s}, sample ${k}: labels`);
      assert.deepEqual(Array.from(torch.out[`difficult/${s}/${k}`].values), Array.from(ann.difficult), `${what}, batch ${s}, sample ${k}: difficult`);
    });
    assert.deepEqual(Array.from(torch.out[`labels_t/${s}`].values), Array.from(b.targets!.labels), `${what}, batch ${s}: matched labels`);
    assert.ok(maxDiff(torch.out[`loc_t/${s}`].values, b.targets!.loc) <= 1e-5, `${what}, batch ${s}: offsets`);
  });
  return { worst, mean: sum / Math.max(1, count) };
}

// Pixels: from the same decoded bytes (PNG is lossless) both engines compute the same double-precision expressions
// (+ - x / and floor only: no libm function whose last bit may differ) in the same order and store float32 at the
// same points, so they agree to the bit (seen: 0). The tolerance, one float32 step at 255 (1.5e-5), allows a torch
// that turns one division into a multiplication; a tap weight left unrounded where the TypeScript rounds it to
// float32 already moves pixels by 6e-5, a different random draw or tap by whole levels.
const PIXEL_TOLERANCE = 2e-5;

for (const preset of ['ssd', 'flip', 'none'] as const) {
  test(`augmentation preset ${preset}: the tfjs engine's batches (images, pixels, boxes, targets), unusable images skipped alike`, { skip }, async () => {
    const first = 3;
    const steps = preset === 'ssd' ? 8 : 4;
    const tfjs = await tfjsBatches(train, preset, 4, first, steps);
    const torch = samples(
      index,
      '--augment',
      preset,
      '--first',
      String(first),
      '--steps',
      String(steps),
      '--batch',
      '4',
      '--workers',
      preset === 'ssd' ? '2' : '0',
    );
    const { worst } = compare(tfjs.batches, torch, preset);
    assert.ok(worst <= PIXEL_TOLERANCE, `${preset}: pixels differ by ${worst}`);
    // The two broken images are found and left out by both (each reported once per engine).
    const problems = torch.steps.flatMap((s) => s.problems);
    const paths = [...new Set(problems.map((p) => p.slice(0, p.indexOf(': '))))].sort();
    assert.deepEqual(paths, [...new Set(tfjs.skipped)].sort());
    assert.deepEqual(
      paths.map((p) => p.replace(/.*\//, '')),
      ['corrupt.png', 'resized.png'],
    );
    assert.ok(
      problems.some((p) => /resized\.png: the annotation gives its size as 64x64 \(.*resized\.xml\), the image is 70x64: skipped \[image\]$/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /corrupt\.png: unreadable image, skipped: /.test(p)),
      problems.join('\n'),
    );
  });
}

test('evaluation batches: every image once, in order, resized as the tfjs engine resizes (the last batch short)', { skip }, async () => {
  const tfjs = await tfjsBatches(testSplit, null, 2, 0);
  const torch = samples(index, '--split', 'test', '--batch', '2');
  assert.deepEqual(
    torch.steps.map((s) => s.ids),
    [['a', 'b'], ['empty', 'e'], ['c']],
  );
  assert.ok(compare(tfjs.batches, torch, 'test').worst <= PIXEL_TOLERANCE);
});

test(
  'images larger than twice the input are shrunk while decoding: the same images, boxes and targets, pixels close (two Lanczos filters)',
  { skip },
  async () => {
    const root = join(dir, 'large');
    const objects: Obj[] = [
      { name: 'circle', box: [20, 20, 150, 160] },
      { name: 'star', box: [160, 40, 290, 190] },
    ];
    await vocSet(
      root,
      [
        { id: 'wide', w: 300, h: 200, objects },
        { id: 'square', w: 400, h: 400, objects },
      ],
      'trainval',
    );
    const ds = await loadSplit(resolveDataSource(tiny.spec, null, root), 'train', tiny.spec);
    const data = writeDataIndex(join(dir, 'large-run'), { train: ds });
    const tfjs = await tfjsBatches(ds, 'ssd', 2, 0, 3);
    const { worst, mean } = compare(tfjs.batches, samples(data, '--augment', 'ssd', '--steps', '3', '--batch', '2'), 'large');
    // Measured: a mean of 0.2 to 0.5 levels (of 255), single pixels at sharp edges up to ~30.
    assert.ok(mean < 1, `pixels differ by ${mean} on average (at most ${worst})`);
  },
);

test('the index: versioned, every usable image with its absolute path, size, boxes, labels, difficult flags, and what loading skipped', () => {
  const ix = JSON.parse(readFileSync(index, 'utf8')) as DataIndex;
  assert.equal(ix.format, DATA_INDEX_FORMAT);
  assert.equal(ix.version, 1);
  assert.deepEqual(ix.classes, ['background', 'circle', 'square', 'triangle', 'star', 'cross']);
  assert.deepEqual(
    ix.train!.items.map((i) => i.id),
    train.records.map((r) => r.id),
  );
  const b = ix.train!.items.find((i) => i.id === 'b')!;
  assert.deepEqual(
    { image: b.image, width: b.width, height: b.height, labels: b.labels, difficult: b.difficult },
    { image: join(SET, 'JPEGImages', 'b.png'), width: 150, height: 120, labels: [1, 2, 4], difficult: [0, 1, 0] },
  );
  // VOC's 1-based inclusive pixels as continuous normalised corners, as the readers give them.
  assert.deepEqual(b.boxes[0], [9 / 150, 11 / 120, 60 / 150, 70 / 120]);
  assert.deepEqual(
    ix.test!.items.map((i) => i.id),
    ['a', 'b', 'empty', 'e', 'c'],
  );
  assert.equal(ix.train!.report.images, train.report.images);
});

test('a damaged index and a Python without decoders are refused before training, with what to do', { skip }, () => {
  if (!found.ok) return;
  const python = found.python;
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ format: DATA_INDEX_FORMAT, version: 1, classes: [], train: { items: [{ id: 'x', image: 'relative.png' }] } }));
  const run = (data: string, env: NodeJS.ProcessEnv) =>
    spawnSync(python, ['-m', 'dsod_torch', 'train', graphFile(), '--out', join(dir, 'refused'), '--data', data, '--steps', '1'], {
      cwd: torchPackageRoot(),
      env,
      encoding: 'utf8',
    });
  const r = run(bad, torchEnv);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.json: train\.items\[0\]: not an item of a dsod-data-index/);
  assert.equal(r.stdout, '');
  // Neither Pillow nor torchvision importable (packages that refuse to import, first on the path).
  const blocked = join(dir, 'blocked');
  for (const name of ['PIL', 'torchvision']) {
    mkdirSync(join(blocked, name), { recursive: true });
    writeFileSync(join(blocked, name, '__init__.py'), 'raise ImportError("blocked by the test")\n');
  }
  const none = run(index, { ...torchEnv, PYTHONPATH: blocked });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /needs Pillow or torchvision .*: `apt-get install python3-pil` on Debian .*, or `pip install pillow`/);
});

test('no training image decodes: an error event with code data, then done failed (exit 1), as the tfjs engine ends', { skip }, async () => {
  if (!found.ok) return;
  const python = found.python;
  const root = join(dir, 'broken');
  const junk = Buffer.from('not an image');
  await vocSet(
    root,
    ['x', 'y'].map((id) => ({ id, w: 64, h: 64, objects: [{ name: 'circle', box: [1, 1, 30, 30] }] as Obj[], file: junk })),
    'trainval',
  );
  const data = writeDataIndex(join(dir, 'broken-run'), { train: await loadSplit(resolveDataSource(tiny.spec, null, root), 'train', tiny.spec) });
  const r = spawnSync(
    python,
    ['-m', 'dsod_torch', 'train', graphFile(), '--out', join(dir, 'broken-run'), '--data', data, '--steps', '2', '--batch', '2', '--workers', '0'],
    {
      cwd: torchPackageRoot(),
      env: torchEnv,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 1, r.stderr);
  const events = r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const p = parseEngineEventLine(line);
      assert.ok(p.ok, p.ok ? '' : `${p.error}: ${line}`);
      return p.event;
    });
  const warned = events.filter((e) => e.type === 'log' && e.level === 'warn').map((e) => (e as Extract<EngineEvent, { type: 'log' }>).message);
  assert.deepEqual(
    warned.map((m) => m.replace(/: unreadable image, skipped: .*/, '')).sort(),
    ['x', 'y'].map((id) => `training data: ${join(root, 'JPEGImages', `${id}.png`)}`),
  );
  const [error, done] = events.slice(-2) as [Extract<EngineEvent, { type: 'error' }>, Extract<EngineEvent, { type: 'done' }>];
  assert.deepEqual(
    [error.type, error.code, error.message, error.fatal, done.type, done.reason, done.step, done.exitCode],
    ['error', 'data', 'the training data ran out of readable images', true, 'done', 'failed', 0, 1],
  );
});

test(
  'python -m dsod_torch train --data: a few steps of the tiny example on a `dsod synth` set, valid events, unreadable images warned about',
  { skip },
  async () => {
    if (!found.ok) return;
    const python = found.python;
    const root = join(dir, 'synth');
    await synthesize({ out: root, count: 24, seed: 3 });
    // One image broken after the index was made: found while training, skipped with a warning, training goes on.
    const src = resolveDataSource(tiny.spec, null, root);
    const ds = await loadSplit(src, 'train', tiny.spec);
    const runDir = join(dir, 'synth-run');
    const data = writeDataIndex(runDir, { train: ds, test: await loadSplit(src, 'test', tiny.spec) });
    const broken = ds.records.filter((r) => r.objects.length)[0].imagePath;
    writeFileSync(broken, 'not a jpeg');
    const g = join(runDir, 'graph.json');
    writeFileSync(g, JSON.stringify(toGraphJson(tiny, { hash: 'feedfacecafebeef' })));
    const r = spawnSync(
      python,
      [
        '-m',
        'dsod_torch',
        'train',
        g,
        '--out',
        runDir,
        '--spec',
        'examples/tiny.dsod.yaml',
        '--data',
        data,
        '--steps',
        '3',
        '--batch',
        '8',
        '--accumulate',
        '2',
        '--workers',
        '1',
      ],
      { cwd: torchPackageRoot(), env: torchEnv, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((line) => {
        const p = parseEngineEventLine(line);
        assert.ok(p.ok, p.ok ? '' : `${p.error}: ${line}`);
        return p.event;
      });
    // The doctor comes first (its image decoder named), then start.
    assert.match((events[0] as Extract<EngineEvent, { type: 'doctor' }>).torch?.imageDecoder ?? '', /^(pillow|torchvision)/);
    const start = events[1] as Extract<EngineEvent, { type: 'start' }>;
    const withObjects = ds.records.filter((x) => x.objects.length).length;
    assert.deepEqual([start.type, start.images.train, start.batch, start.accumulate], ['start', withObjects, 8, 2]);
    const logs = events.filter((e) => e.type === 'log') as Extract<EngineEvent, { type: 'log' }>[];
    assert.match(logs[0].message, new RegExp(`${withObjects} training images \\(.*data\\.json\\), decoded by (pillow|torchvision) in 1 worker processes`));
    const warned = logs.filter((l) => l.level === 'warn' && l.message.startsWith(`training data: ${broken}: unreadable image, skipped`));
    assert.equal(warned.length, 1, JSON.stringify(logs));
    const progress = events.filter((e) => e.type === 'progress') as Extract<EngineEvent, { type: 'progress' }>[];
    assert.deepEqual(
      progress.map((p) => [p.step, p.epoch]),
      [1, 2, 3].map((s) => [s, (s * 8) / withObjects]),
    );
    for (const p of progress) assert.ok(Number.isFinite(p.loss) && p.loss > 0);
    assert.deepEqual(
      events.slice(-2).map((e) => e.type),
      ['checkpoint', 'done'],
    );
    assert.equal((events[events.length - 1] as Extract<EngineEvent, { type: 'done' }>).reason, 'completed');
    // Resumed after 2 steps, step 3 sees the same batch: the same loss as the run that went through.
    const resumedDir = join(dir, 'synth-resumed');
    const again = (steps: string, ...more: string[]) =>
      spawnSync(
        python,
        ['-m', 'dsod_torch', 'train', g, '--out', resumedDir, '--data', data, '--steps', steps, '--batch', '8', '--accumulate', '2', '--workers', '1', ...more],
        {
          cwd: torchPackageRoot(),
          env: torchEnv,
          encoding: 'utf8',
        },
      );
    assert.equal(again('2').status, 0);
    const resumed = again('3', '--resume');
    assert.equal(resumed.status, 0, resumed.stderr);
    const last = resumed.stdout
      .split('\n')
      .filter((l) => l.includes('"type":"progress"'))
      .map((l) => JSON.parse(l) as Extract<EngineEvent, { type: 'progress' }>);
    assert.deepEqual(
      last.map((p) => [p.step, p.loss]),
      [[3, progress[2].loss]],
    );
  },
);
