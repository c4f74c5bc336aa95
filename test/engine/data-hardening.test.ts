// Hostile and corrupted datasets (issue 9): paths that lead out of the dataset folder are refused and never opened;
// images that cannot be decoded are reported one by one and counted, and an evaluation that loses too many fails;
// a VOC <size> that is not the image's, and boxes beyond the image, are caught with the file and object index.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, realpathSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { defaultBoxes } from '../../core';
import { BatchLoader } from '../../engine/data/batches';
import { loadCoco } from '../../engine/data/coco';
import { resolveInside } from '../../engine/data/types';
import { formatProblem, MAX_OBJECTS_PER_IMAGE, type DataProblem, type DetectionDataset } from '../../engine/data/types';
import { loadVoc } from '../../engine/data/voc';
import { vocAnnotationXml } from '../../engine/data/voc-annotation';
import { createModel } from '../../engine/model';
import { evaluateModel, EvaluationDataError, MAX_SKIPPED_SHARE } from '../../engine/eval/evaluate';
import { tempDir } from './data-fixtures';
import { analyzeText, microData, microSpec, MICRO_SPEC, trainMicro } from './train-fixtures';

const CLASSES = ['background', 'circle', 'square', 'triangle', 'star', 'cross'];

// One synthetic set (32x32 images); each test works on its own copy: <tmp>/data (the dataset) and <tmp>/outside.
let pristine: ReturnType<typeof tempDir>;
before(async () => {
  pristine = tempDir('hardening-src');
  await microData(pristine.path, 24);
});
after(() => pristine.remove());

function copy(): { dir: string; data: string; outside: string; remove(): void } {
  const t = tempDir('hardening');
  const data = join(t.path, 'data');
  const outside = join(t.path, 'outside');
  cpSync(pristine.path, data, { recursive: true });
  mkdirSync(outside);
  return { dir: t.path, data, outside, remove: t.remove };
}

function ids(root: string, split: string): string[] {
  return readFileSync(join(root, 'ImageSets', 'Main', `${split}.txt`), 'utf8')
    .split('\n')
    .filter(Boolean);
}

function assertInside(ds: DetectionDataset, root: string): void {
  const real = realpathSync(root);
  for (const r of ds.records) {
    const rel = relative(real, realpathSync(r.imagePath));
    assert.ok(!rel.startsWith('..'), `${r.imagePath} resolves outside ${root}`);
  }
}

/** Decode every record (an evaluation pass); returns the paths the loader decoded. */
async function decodeAll(ds: DetectionDataset, onSkip?: (p: DataProblem) => void): Promise<string[]> {
  const loader = new BatchLoader(ds, { batchSize: 4, width: 32, height: 32, augment: false, onSkip });
  const seen: string[] = [];
  for (let b = await loader.next(); b; b = await loader.next()) seen.push(...b.records.map((r) => r.imagePath));
  return seen;
}

// ---------------------------------------------------------------- 1. paths that lead outside

test('resolveInside: relative paths inside pass; absolute, "..", NUL and links out are refused', () => {
  const c = copy();
  try {
    const jpeg = join(c.data, 'JPEGImages');
    const first = `${ids(c.data, 'test')[0]}.jpg`;
    writeFileSync(join(c.outside, 'secret.jpg'), readFileSync(join(jpeg, first)));
    symlinkSync(join(c.outside, 'secret.jpg'), join(jpeg, 'out.jpg'));
    symlinkSync(join(jpeg, first), join(jpeg, 'in.jpg')); // a link that stays inside is fine
    assert.deepEqual(resolveInside(jpeg, first), { path: join(jpeg, first) });
    assert.deepEqual(resolveInside(jpeg, 'in.jpg'), { path: join(jpeg, 'in.jpg') });
    assert.deepEqual(resolveInside(jpeg, 'missing/x.jpg'), { path: join(jpeg, 'missing/x.jpg') });
    for (const bad of ['../../outside/secret.jpg', join(c.outside, 'secret.jpg'), 'out.jpg', 'a/../../x.jpg', '..', 'x\0.jpg', 'C:\\x.jpg'])
      assert.ok('refused' in resolveInside(jpeg, bad), bad);
  } finally {
    c.remove();
  }
});

test('COCO: a file_name that leads outside (.., absolute, a link) is refused with the file and reason, never read', async () => {
  const c = copy();
  try {
    const jpeg = join(c.data, 'JPEGImages');
    const voc = await loadVoc({ root: c.data, splits: 'test', classNames: CLASSES });
    const good = voc.records.slice(0, 4);
    // The outside file is a real JPEG (the old loader trained on it) and is also reached by a link.
    writeFileSync(join(c.outside, 'secret.jpg'), readFileSync(good[0].imagePath));
    symlinkSync(join(c.outside, 'secret.jpg'), join(jpeg, 'link.jpg'));
    const names = [...good.map((r) => relative(jpeg, r.imagePath)), '../../outside/secret.jpg', join(c.outside, 'secret.jpg'), 'link.jpg'];
    const doc = {
      images: names.map((file_name, i) => ({ id: i + 1, file_name, width: 32, height: 32 })),
      annotations: names.map((_, i) => ({ id: i + 1, image_id: i + 1, category_id: 1, bbox: [4, 4, 12, 12] })),
      categories: [{ id: 1, name: 'circle' }],
    };
    const file = join(c.dir, 'instances.json');
    writeFileSync(file, JSON.stringify(doc));
    const ds = await loadCoco({ annotationFile: file, imageDir: jpeg });
    assert.equal(ds.records.length, 4);
    assertInside(ds, jpeg);
    const refused = ds.report.problems.filter((p) => /refused/.test(p.message));
    assert.deepEqual(
      refused.map((p) => [p.path, p.where, p.stage]),
      [
        [file, 'images[4] (id 5)', 'image'],
        [file, 'images[5] (id 6)', 'image'],
        [file, 'images[6] (id 7)', 'image'],
      ],
    );
    assert.match(refused[0].message, /"\.\.\/\.\.\/outside\/secret\.jpg" leads outside/);
    assert.match(refused[1].message, /is an absolute path/);
    assert.match(refused[2].message, /"link\.jpg" is a link to .*outside/);
    assert.equal(ds.report.skippedImages, 3);
    // The annotations of refused images are not "unknown image" problems: the image is what was refused.
    assert.equal(ds.report.problems.length, 3, ds.report.problems.map(formatProblem).join('\n'));
    // Training or evaluating on the set opens only the four images inside.
    const seen = await decodeAll(ds);
    assert.deepEqual(seen.sort(), good.map((r) => r.imagePath).sort());
  } finally {
    c.remove();
  }
});

test('VOC: list entries, annotations and <filename> that lead outside (links included) are refused and reported', async () => {
  const c = copy();
  try {
    const list = ids(c.data, 'test');
    const [a, b, d, e] = list;
    const ann = (id: string) => join(c.data, 'Annotations', `${id}.xml`);
    const img = (id: string) => join(c.data, 'JPEGImages', `${id}.jpg`);
    // a: its annotation is a link to an annotation outside (which names an outside image).
    cpSync(ann(a), join(c.outside, 'evil.xml'));
    unlinkSync(ann(a));
    symlinkSync(join(c.outside, 'evil.xml'), ann(a));
    // b: its image is a link to a file outside.
    cpSync(img(b), join(c.outside, 'secret.jpg'));
    unlinkSync(img(b));
    symlinkSync(join(c.outside, 'secret.jpg'), img(b));
    // d, e: no image by id; <filename> climbs out, or is absolute.
    for (const [id, fname] of [
      [d, '../../outside/secret.jpg'],
      [e, join(c.outside, 'secret.jpg')],
    ]) {
      unlinkSync(img(id));
      writeFileSync(ann(id), readFileSync(ann(id), 'utf8').replace(/<filename>[^<]*<\/filename>/, `<filename>${fname}</filename>`));
    }
    const ds = await loadVoc({ root: c.data, splits: 'test', classNames: CLASSES });
    assertInside(ds, c.data);
    assert.equal(ds.records.length, list.length - 4);
    const lines = ds.report.problems.map(formatProblem);
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.match(lines[0], new RegExp(`Annotations/${a}\\.xml: refused: "${a}\\.xml" is a link to .*outside.* \\[annotation\\]$`));
    assert.match(lines[1], new RegExp(`JPEGImages/${b}\\.jpg: refused: "${b}\\.jpg" is a link to .*outside.* \\[image\\]$`));
    assert.match(lines[2], new RegExp(`Annotations/${d}\\.xml:\\d+:\\d+: <filename> refused: "\\.\\./\\.\\./outside/secret\\.jpg" leads outside`));
    assert.match(lines[3], new RegExp(`Annotations/${e}\\.xml:\\d+:\\d+: <filename> refused: ".*" is an absolute path`));
    assert.equal(ds.report.skippedImages, 4);
    assert.ok((await decodeAll(ds)).every((p) => !p.includes('outside')));
  } finally {
    c.remove();
  }
});

test('a FIFO outside the dataset, named by a COCO file_name, is refused without being opened (no hang)', async () => {
  const c = copy();
  try {
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [join(c.outside, 'pipe.jpg')]);
    const file = join(c.dir, 'instances.json');
    writeFileSync(
      file,
      JSON.stringify({
        images: [{ id: 1, file_name: '../../outside/pipe.jpg', width: 32, height: 32 }],
        annotations: [],
        categories: [{ id: 1, name: 'x' }],
      }),
    );
    const ds = await loadCoco({ annotationFile: file, imageDir: join(c.data, 'JPEGImages'), checkFiles: false });
    assert.equal(ds.records.length, 0); // checkFiles: false once let any path through unchecked
    assert.match(ds.report.problems[0].message, /refused/);
  } finally {
    c.remove();
  }
});

// ---------------------------------------------------------------- 2. images that cannot be decoded

tf.setBackend('cpu');

/** Corrupt images of a copy in four ways: truncated, empty, random bytes, a link to a text file inside the set. */
function corrupt(data: string, which: string[]): string[] {
  const img = (id: string) => join(data, 'JPEGImages', `${id}.jpg`);
  const kinds = [
    (p: string) => truncateSync(p, Math.floor(readFileSync(p).length / 3)),
    (p: string) => writeFileSync(p, ''),
    (p: string) => writeFileSync(p, Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919 + 13) % 256))),
    (p: string) => {
      writeFileSync(join(data, 'JPEGImages', 'notes.txt'), 'not an image\n');
      unlinkSync(p);
      symlinkSync(join(data, 'JPEGImages', 'notes.txt'), p);
    },
  ];
  return which.map((id, k) => {
    kinds[k % kinds.length](img(id));
    return img(id);
  });
}

async function microEval(ds: DetectionDataset) {
  const analysis = analyzeText(MICRO_SPEC);
  const model = createModel(analysis.graph, { seed: 1 });
  const skipped: DataProblem[] = [];
  try {
    const r = await evaluateModel(model, ds, defaultBoxes(analysis), { metric: 'voc07', onSkip: (p) => skipped.push(p) });
    return { r, skipped };
  } catch (e) {
    return { error: e as Error, skipped };
  } finally {
    model.dispose();
  }
}

test('evaluation: an undecodable image is reported with its path and reason and counted in the result', async () => {
  const c = copy();
  try {
    const all = [...ids(c.data, 'trainval'), ...ids(c.data, 'test')];
    assert.equal(all.length, 24);
    const [bad] = corrupt(c.data, [all[5]]);
    const ds = await loadVoc({ root: c.data, splits: ['trainval', 'test'], classNames: CLASSES });
    const { r, skipped } = await microEval(ds);
    assert.ok(r, 'one image in 24 (4.2%) is within the 5% allowed');
    assert.equal(r.images, 23);
    assert.equal(r.extras.skippedImages, 1);
    assert.deepEqual(
      skipped.map((p) => [p.path, p.stage]),
      [[bad, 'image']],
    );
    assert.match(skipped[0].message, /^unreadable image, skipped: .+/);
    // Nothing skipped: the count is there, zero.
    const clean = copy();
    try {
      const { r: ok } = await microEval(await loadVoc({ root: clean.data, splits: 'test', classNames: CLASSES }));
      assert.equal(ok!.extras.skippedImages, 0);
    } finally {
      clean.remove();
    }
  } finally {
    c.remove();
  }
});

test(`evaluation: more than ${100 * MAX_SKIPPED_SHARE}% skipped (truncated, empty, random bytes, a link to text) fails, naming each file`, async () => {
  const c = copy();
  try {
    const all = [...ids(c.data, 'trainval'), ...ids(c.data, 'test')];
    const bad = corrupt(c.data, all.slice(0, 4));
    const ds = await loadVoc({ root: c.data, splits: ['trainval', 'test'], classNames: CLASSES });
    const { error, skipped } = await microEval(ds);
    assert.ok(error instanceof EvaluationDataError, String(error));
    assert.match(error.message, /skipped 4 of 24 images \(16\.7%, more than the 5% allowed\)/);
    for (const p of bad) assert.ok(error.message.includes(p), `${p} named in the error`);
    assert.deepEqual(skipped.map((p) => p.path).sort(), [...bad].sort());
  } finally {
    c.remove();
  }
});

test('training batches: an undecodable image is reported once, with its path, and replaced', async () => {
  const c = copy();
  try {
    const [bad] = corrupt(c.data, [ids(c.data, 'trainval')[2]]);
    const ds = await loadVoc({ root: c.data, splits: 'trainval', classNames: CLASSES });
    const skipped: DataProblem[] = [];
    const loader = new BatchLoader(ds, {
      batchSize: 4,
      width: 32,
      height: 32,
      seed: 1,
      steps: 12,
      augment: { distort: false, expand: false, samplers: false },
      onSkip: (p) => skipped.push(p),
    });
    let images = 0;
    for (let b = await loader.next(); b; b = await loader.next()) images += b.size;
    assert.equal(images, 48, 'every batch full: the unreadable image is replaced by the next readable one');
    assert.deepEqual(
      skipped.map((p) => p.path),
      [bad],
    );
    assert.equal(loader.skippedCount, 1);
  } finally {
    c.remove();
  }
});

// ---------------------------------------------------------------- 3. <size> and boxes beyond the image

test("VOC: a <size> that is not the image's (960 for 32) leaves the image out, reported with both sizes", async () => {
  const c = copy();
  try {
    const [id] = ids(c.data, 'test');
    const ann = join(c.data, 'Annotations', `${id}.xml`);
    writeFileSync(ann, readFileSync(ann, 'utf8').replace('<width>32</width>', '<width>960</width>').replace('<height>32</height>', '<height>960</height>'));
    const ds = await loadVoc({ root: c.data, splits: 'test', classNames: CLASSES });
    const skipped: DataProblem[] = [];
    const seen = await decodeAll(ds, (p) => skipped.push(p));
    assert.ok(!seen.includes(join(c.data, 'JPEGImages', `${id}.jpg`)));
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0].path, join(c.data, 'JPEGImages', `${id}.jpg`));
    assert.match(skipped[0].message, new RegExp(`annotation gives its size as 960x960 \\(${ann.replace(/[.]/g, '\\.')}\\), the image is 32x32: skipped`));
  } finally {
    c.remove();
  }
});

test('VOC: boxes beyond the image are clamped with a warning or dropped, with the file and object index', async () => {
  const c = copy();
  try {
    const [id] = ids(c.data, 'test');
    const ann = join(c.data, 'Annotations', `${id}.xml`);
    const objects = [
      { name: 'circle', xmin: 3, ymin: 3, xmax: 20, ymax: 20 }, // inside
      { name: 'square', xmin: 5, ymin: 5, xmax: 1e308, ymax: 12 }, // absurd: clamped
      { name: 'star', xmin: 0, ymin: 1, xmax: 33, ymax: 32 }, // within a pixel: silent
      { name: 'cross', xmin: 100, ymin: 100, xmax: 200, ymax: 200 }, // wholly outside: dropped
    ].map((o) => ({ ...o, difficult: false, truncated: false }));
    writeFileSync(ann, vocAnnotationXml({ folder: 'x', filename: `${id}.jpg`, width: 32, height: 32, database: 'x', objects }));
    const ds = await loadVoc({ root: c.data, splits: 'test', classNames: CLASSES });
    const rec = ds.records.find((r) => r.id === id)!;
    assert.deepEqual(
      rec.objects.map((o) => [o.name, o.box.map((v) => v * 32)]),
      [
        ['circle', [2, 2, 20, 20]],
        ['square', [4, 4, 32, 12]],
        ['star', [0, 0, 32, 32]],
      ],
    );
    const lines = ds.report.problems.map(formatProblem);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(
      lines[0],
      new RegExp(
        `${id}\\.xml:\\d+:\\d+: object\\[1\\]: box of "square" \\(5, 5, 1e\\+308, 12\\) reaches outside the 32x32 image: clamped to \\(5, 5, 32, 12\\) \\[object, warning\\]$`,
      ),
    );
    assert.match(
      lines[1],
      new RegExp(`${id}\\.xml:\\d+:\\d+: object\\[3\\]: box of "cross" lies outside the 32x32 image \\(100, 100, 200, 200\\): dropped \\[object\\]$`),
    );
    assert.equal(ds.report.skippedObjects, 1, 'the clamped box is kept; the dropped one is skipped');
  } finally {
    c.remove();
  }
});

test(`objects per image are capped at ${MAX_OBJECTS_PER_IMAGE} with a warning naming the file (VOC and COCO)`, async () => {
  const c = copy();
  try {
    const [id] = ids(c.data, 'test');
    const ann = join(c.data, 'Annotations', `${id}.xml`);
    const n = MAX_OBJECTS_PER_IMAGE + 234;
    const objects = Array.from({ length: n }, (_, k) => ({
      name: 'circle',
      xmin: 1 + (k % 20),
      ymin: 1 + (k % 17),
      xmax: 12 + (k % 20),
      ymax: 14 + (k % 17),
      difficult: false,
      truncated: false,
    }));
    writeFileSync(ann, vocAnnotationXml({ folder: 'x', filename: `${id}.jpg`, width: 32, height: 32, database: 'x', objects }));
    const ds = await loadVoc({ root: c.data, splits: 'test', classNames: CLASSES });
    assert.equal(ds.records.find((r) => r.id === id)!.objects.length, MAX_OBJECTS_PER_IMAGE);
    assert.deepEqual(ds.report.problems.map(formatProblem), [
      `${ann}: ${n} objects in one image: only the first 1000 are used, 234 left out [annotation, warning]`,
    ]);
    assert.equal(ds.report.skippedObjects, 234);

    const file = join(c.dir, 'instances.json');
    writeFileSync(
      file,
      JSON.stringify({
        images: [{ id: 1, file_name: `${id}.jpg`, width: 32, height: 32 }],
        annotations: objects.map((o, k) => ({ id: k + 1, image_id: 1, category_id: 1, bbox: [o.xmin, o.ymin, 8, 8] })),
        categories: [{ id: 1, name: 'circle' }],
      }),
    );
    const coco = await loadCoco({ annotationFile: file, imageDir: join(c.data, 'JPEGImages') });
    assert.equal(coco.records[0].objects.length, MAX_OBJECTS_PER_IMAGE);
    assert.deepEqual(coco.report.problems.map(formatProblem), [
      `${file}: images[0] (id 1): ${n} objects in one image: only the first 1000 are used, 234 left out [annotation, warning]`,
    ]);
  } finally {
    c.remove();
  }
});

test('training: skipped images are log warnings naming the file, and counted in the metric event and metrics.json', async () => {
  const c = copy();
  try {
    const [bad] = corrupt(c.data, [ids(c.data, 'trainval')[3]]);
    const train = await loadVoc({ root: c.data, splits: 'trainval', classNames: CLASSES });
    const test = await loadVoc({ root: c.data, splits: ['trainval', 'test'], classNames: CLASSES });
    const runDir = join(c.dir, 'run');
    const { outcome, events } = await trainMicro({
      specText: microSpec('{ batch: 4, lr: 0.02, warmup: 1, milestones: [100], iterations: 4, checkpoint_every: 2, seed: 1 }'),
      runDir,
      train,
      test,
      evalImages: 24,
    });
    assert.equal(outcome.reason, 'completed');
    const warnings = events.filter((e) => e.type === 'log' && e.level === 'warn').map((e) => (e.type === 'log' ? e.message : ''));
    assert.ok(
      warnings.some((m) => m.startsWith(`training data: ${bad}: unreadable image, skipped: `)),
      warnings.join('\n'),
    );
    assert.ok(
      warnings.some((m) => m.startsWith(`test data: ${bad}: unreadable image, skipped: `)),
      warnings.join('\n'),
    );
    const metrics = events.filter((e) => e.type === 'metric');
    assert.ok(metrics.length >= 1);
    for (const m of metrics) if (m.type === 'metric') assert.equal(m.extras.skippedImages, 1);
    const file = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8'));
    assert.equal(file.evaluations.at(-1).extras.skippedImages, 1);
  } finally {
    c.remove();
  }
});

test('training: an evaluation that skips more than 5% of the test images ends the run with a data error', async () => {
  const c = copy();
  try {
    const testIds = ids(c.data, 'test');
    const [bad] = corrupt(c.data, [testIds[0]]);
    const train = await loadVoc({ root: c.data, splits: 'trainval', classNames: CLASSES });
    const test = await loadVoc({ root: c.data, splits: 'test', classNames: CLASSES });
    const run = trainMicro({
      specText: microSpec('{ batch: 4, lr: 0.02, warmup: 1, milestones: [100], iterations: 2, checkpoint_every: 2, seed: 1 }'),
      runDir: join(c.dir, 'run'),
      train,
      test,
    });
    await assert.rejects(
      run,
      (e: Error) => e instanceof EvaluationDataError && e.message.includes(`skipped 1 of ${testIds.length} images`) && e.message.includes(bad),
    );
  } finally {
    c.remove();
  }
});
