// `dsod synth`'s generator: VOC layout, the promised variety (classes, counts, sizes, occlusion, difficult), and the
// same bytes for the same seed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRng } from '../../engine/data/rng';
import { renderScene } from '../../engine/data/synth/scene';
import { SHAPE_CLASSES } from '../../engine/data/synth/shapes';
import { synthesize, SynthOptionError, SYNTH_DEFAULTS, type SynthReport } from '../../engine/data/synth/generate';
import { readVocObjects, synthDataset, tempDir, tinyAnalysis } from './data-fixtures';

let set: { root: string; report: SynthReport; remove(): void };
before(async () => {
  set = await synthDataset({ count: 200, seed: 11 });
});
after(() => set.remove());

const files = (root: string, dir: string) => readdirSync(join(root, dir)).sort();

test("the classes are examples/tiny.dsod.yaml's, in its order", () => {
  assert.deepEqual([...SHAPE_CLASSES], tinyAnalysis().spec.classes.names!.slice(1));
  assert.deepEqual(set.report.classes, [...SHAPE_CLASSES]);
});

test('a VOC layout: one annotation per image, and split lists that partition the images', () => {
  const ids = files(set.root, 'JPEGImages').map((f) => f.replace(/\.jpg$/, ''));
  assert.equal(ids.length, 200);
  assert.deepEqual(
    files(set.root, 'Annotations'),
    ids.map((id) => `${id}.xml`),
  );
  assert.equal(ids[0], '000001');
  const list = (name: string) =>
    readFileSync(join(set.root, 'ImageSets', 'Main', `${name}.txt`), 'utf8')
      .split('\n')
      .filter(Boolean);
  const [train, val, testIds, trainval] = ['train', 'val', 'test', 'trainval'].map(list);
  assert.equal(train.length, 140);
  assert.equal(val.length, 20);
  assert.equal(testIds.length, 40);
  assert.deepEqual([...train, ...val].sort(), trainval);
  assert.deepEqual([...trainval, ...testIds].sort(), ids);
  assert.equal(new Set([...train, ...val, ...testIds]).size, 200);
  assert.deepEqual(set.report.splits, { train: 140, val: 20, test: 40, trainval: 160 });
  const recipe = JSON.parse(readFileSync(join(set.root, 'synth.json'), 'utf8'));
  assert.equal(recipe.seed, 11);
  assert.equal(recipe.count, 200);
  // No temporary files left behind by the atomic writes.
  for (const dir of ['Annotations', 'JPEGImages', 'ImageSets/Main', '.'])
    assert.ok(
      files(set.root, dir).every((f) => !f.includes('.tmp-')),
      dir,
    );
});

test('1-6 objects an image, every class, sizes within 8%-70%, some truncated, some difficult', () => {
  const perImage: number[] = [];
  const seen = new Set<string>();
  let difficult = 0;
  let objects = 0;
  let smallest = 1;
  let largest = 0;
  for (const f of files(set.root, 'Annotations')) {
    const xml = readFileSync(join(set.root, 'Annotations', f), 'utf8');
    assert.match(xml, /<width>96<\/width>\s*<height>96<\/height>/);
    const objs = readVocObjects(xml);
    perImage.push(objs.length);
    for (const o of objs) {
      seen.add(o.name);
      objects++;
      const [x0, y0, x1, y1] = o.box;
      assert.ok(x0 >= 1 && y0 >= 1 && x1 <= 96 && y1 <= 96 && x0 <= x1 && y0 <= y1, `${f}: box ${o.box} outside the 96x96 image`);
      const extent = Math.max(x1 - x0 + 1, y1 - y0 + 1) / 96;
      largest = Math.max(largest, extent);
      if (o.difficult) difficult++;
      else smallest = Math.min(smallest, extent);
    }
  }
  assert.equal(Math.min(...perImage), 1);
  assert.equal(Math.max(...perImage), 6);
  assert.deepEqual([...seen].sort(), [...SHAPE_CLASSES].sort());
  // Sizes are continuous; whole pixels add at most one.
  assert.ok(largest <= 0.7 + 1 / 96 && largest > 0.55, `largest visible extent ${largest}`);
  // Objects under 8.5% of the image are difficult ("tiny"); the rest start at that size.
  assert.ok(smallest >= 0.085 - 1e-9, `smallest non-difficult extent ${smallest}`);
  assert.equal(objects, set.report.objects);
  assert.equal(difficult, set.report.difficult);
  assert.ok(difficult / objects > 0.03 && difficult / objects < 0.3, `difficult share ${difficult / objects}`);
  assert.ok(set.report.truncated > 0);
});

test('objects occlude one another, but none is hidden below 30%', () => {
  const opts = {
    width: 96,
    height: 96,
    classes: SHAPE_CLASSES,
    minObjects: 6,
    maxObjects: 6,
    minSize: 0.3,
    maxSize: 0.7,
    minVisible: 0.3,
    difficultVisible: 0.5,
    difficultSize: 0.085,
  };
  let occluded = 0;
  for (let seed = 0; seed < 30; seed++) {
    const scene = renderScene(createRng(seed), opts);
    for (const o of scene.objects) {
      assert.ok(o.visibleFraction >= 0.3 - 1e-9, `seed ${seed}: visible ${o.visibleFraction}`);
      if (o.visibleFraction < 0.95) occluded++;
      if (o.visibleFraction < 0.5) assert.ok(o.difficult);
    }
    assert.equal(scene.pixels.length, 96 * 96 * 3);
  }
  assert.ok(occluded > 20, `only ${occluded} partly occluded objects in 30 crowded scenes`);
});

test('the same seed writes the same bytes; another seed does not', async () => {
  const a = tempDir('synth-a');
  const b = tempDir('synth-b');
  const c = tempDir('synth-c');
  try {
    await synthesize({ out: a.path, count: 12, seed: 5, width: 120, height: 80 });
    await synthesize({ out: b.path, count: 12, seed: 5, width: 120, height: 80, concurrency: 1 });
    await synthesize({ out: c.path, count: 12, seed: 6, width: 120, height: 80 });
    for (const dir of ['Annotations', 'JPEGImages', 'ImageSets/Main']) {
      for (const f of files(a.path, dir)) {
        assert.ok(readFileSync(join(a.path, dir, f)).equals(readFileSync(join(b.path, dir, f))), `${dir}/${f} differs between two runs with seed 5`);
      }
    }
    assert.ok(!readFileSync(join(a.path, 'JPEGImages', '000001.jpg')).equals(readFileSync(join(c.path, 'JPEGImages', '000001.jpg'))));
    assert.match(readFileSync(join(a.path, 'Annotations', '000001.xml'), 'utf8'), /<width>120<\/width>\s*<height>80<\/height>/);
  } finally {
    a.remove();
    b.remove();
    c.remove();
  }
});

test('bad options are refused with the option named', async () => {
  const dir = tempDir('synth-bad');
  try {
    const bad = async (o: object, message: RegExp) =>
      assert.rejects(synthesize({ out: dir.path, ...o }), (e: Error) => e instanceof SynthOptionError && message.test(e.message));
    await bad({ count: 0 }, /count must be an integer from 1/);
    await bad({ width: 8 }, /width must be an integer from 16/);
    await bad({ minSize: 0.5, maxSize: 0.2 }, /minSize \(0.5\) must not exceed maxSize \(0.2\)/);
    await bad({ classes: ['circle', 'hexagon'] }, /unknown shape class "hexagon"/);
    await bad({ maxObjects: 0 }, /maxObjects must be an integer from 1/);
  } finally {
    dir.remove();
  }
});

test('defaults suit the tiny example, and generation is fast', async (t) => {
  assert.equal(SYNTH_DEFAULTS.width, tinyAnalysis().spec.input.width);
  assert.equal(SYNTH_DEFAULTS.height, tinyAnalysis().spec.input.height);
  const dir = tempDir('synth-speed');
  try {
    const small = await synthesize({ out: dir.path, count: 150, seed: 1 });
    const large = await synthesize({ out: join(dir.path, 'large'), count: 40, seed: 1, width: 300, height: 300 });
    t.diagnostic(`synth: ${small.imagesPerSecond.toFixed(0)} images/s at 96x96, ${large.imagesPerSecond.toFixed(0)} images/s at 300x300`);
    // A floor far below the measured speed (hundreds a second): this guards against a pathological slowdown only.
    assert.ok(small.imagesPerSecond > 30, `${small.imagesPerSecond} images/s at 96x96`);
  } finally {
    dir.remove();
  }
});
