// Loaders (VOC, COCO), the XML reader, SSD augmentation and the prefetching batches: correct on good data, and on
// broken data a report with paths and lines instead of a crash.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  applyDistortion,
  augmentSample,
  chooseCrop,
  cropAnnotations,
  resizeSample,
  sampleCrop,
  SSD_SAMPLERS,
  type Annotations,
  type CropSampler,
} from '../../engine/data/augment';
import { BatchLoader, recordAnnotations } from '../../engine/data/batches';
import { loadCoco } from '../../engine/data/coco';
import type { RawImage } from '../../engine/data/image';
import { createRng } from '../../engine/data/rng';
import { formatProblem, type DetectionDataset } from '../../engine/data/types';
import { loadVoc } from '../../engine/data/voc';
import { vocAnnotationXml } from '../../engine/data/voc-annotation';
import { parseXml, XmlError } from '../../engine/data/xml';
import { encodeTargets } from '../../engine/boxes/targets';
import { synthDataset, tempDir, tinyAnalysis, tinyPriors } from './data-fixtures';

let good: Awaited<ReturnType<typeof synthDataset>>;
let big: Awaited<ReturnType<typeof synthDataset>>;
before(async () => {
  good = await synthDataset({ count: 40, seed: 7 });
  big = await synthDataset({ count: 24, seed: 8, width: 300, height: 300 });
});
after(() => {
  good.remove();
  big.remove();
});

const TINY_CLASSES = () => tinyAnalysis().spec.classes.names!;

// ---------------------------------------------------------------- XML

test('the XML reader: elements, attributes, entities, CDATA, comments', () => {
  const root = parseXml('<?xml version="1.0"?>\n<!-- c -->\n<a x="1" y=\'&lt;2&gt;\'>\n  <b>t &amp; u &#65;&#x42;</b><c/><b><![CDATA[<raw>]]></b>\n</a>\n');
  assert.equal(root.name, 'a');
  assert.deepEqual(root.attributes, { x: '1', y: '<2>' });
  assert.deepEqual(
    root.children.map((c) => [c.name, c.text, c.line]),
    [
      ['b', 't & u AB', 4],
      ['c', '', 4],
      ['b', '<raw>', 4],
    ],
  );
});

test('the XML reader: errors say line and column', () => {
  const cases: [string, RegExp, number, number][] = [
    ['<a>\n  <b>1</c>\n</a>', /<\/c> closes <b> \(opened at line 2\)/, 2, 9],
    ['<a>\n<b>\n', /<b> is never closed/, 2, 1],
    ['<a>&bogus;</a>', /unknown entity "&bogus;"/, 1, 4],
    ['<a>1</a><b/>', /content after the root element/, 1, 9],
    ['', /no root element/, 1, 1],
    ['<a x=1></a>', /needs a quoted value/, 1, 6],
    ['<!DOCTYPE a><a/>', /DOCTYPE/, 1, 1],
  ];
  for (const [text, message, line, column] of cases) {
    assert.throws(
      () => parseXml(text),
      (e: unknown) => e instanceof XmlError && message.test(e.message) && e.line === line && e.column === column,
      `${JSON.stringify(text)}`,
    );
  }
});

// ---------------------------------------------------------------- VOC

test('VOC: a synthetic set loads whole, boxes normalised from 1-based inclusive pixels', async () => {
  const ds = await loadVoc({ root: good.root, splits: 'trainval', classNames: TINY_CLASSES() });
  assert.deepEqual(ds.classNames, TINY_CLASSES());
  assert.equal(ds.records.length, good.report.splits.trainval);
  assert.deepEqual(ds.report.problems, []);
  const all = await loadVoc({ root: good.root, splits: ['train', 'val', 'test', 'train'] });
  assert.equal(all.records.length, 40);
  assert.equal(all.report.objects, good.report.objects);
  assert.equal(
    all.records.reduce((n, r) => n + r.objects.filter((o) => o.difficult).length, 0),
    good.report.difficult,
  );
  // Without class names: the names found, sorted (they are not VOC's 20).
  assert.deepEqual(all.classNames, ['background', 'circle', 'cross', 'square', 'star', 'triangle']);
  // One box by hand: pixels 1..96 x 1..48 of a 96x96 image are [0, 0, 1, 0.5].
  const dir = tempDir('voc-box');
  try {
    cpSync(good.root, dir.path, { recursive: true });
    writeFileSync(
      join(dir.path, 'Annotations', '000001.xml'),
      vocAnnotationXml({
        folder: 'x',
        filename: '000001.jpg',
        width: 96,
        height: 96,
        database: 'x',
        objects: [{ name: 'star', xmin: 1, ymin: 1, xmax: 96, ymax: 48, difficult: false, truncated: false }],
      }),
    );
    writeFileSync(join(dir.path, 'ImageSets', 'Main', 'one.txt'), '000001\n');
    const one = await loadVoc({ root: dir.path, splits: 'one', classNames: TINY_CLASSES() });
    // `at`: the first <object>, on line 13 of the writer's layout (reports name objects by it).
    assert.deepEqual(one.records[0].objects, [{ label: 4, name: 'star', box: [0, 0, 1, 0.5], difficult: false, truncated: false, at: { index: 0, line: 13 } }]);
    assert.equal(one.records[0].id, '000001');
    assert.equal(one.records[0].imagePath, join(dir.path, 'JPEGImages', '000001.jpg'));
  } finally {
    dir.remove();
  }
});

test('VOC: the VOCdevkit form "VOC2007/trainval" and VOC\'s own class order', async () => {
  const dir = tempDir('vocdevkit');
  try {
    cpSync(good.root, join(dir.path, 'VOC2007'), { recursive: true });
    const ds = await loadVoc({ root: dir.path, splits: ['VOC2007/train', 'VOC2007/val'] });
    assert.equal(ds.records.length, good.report.splits.trainval);
    assert.ok(ds.records.every((r) => r.id.startsWith('VOC2007/')));
    // Names that are all VOC classes get VOC's order (aeroplane = 1 ... tvmonitor = 20).
    const xmlPath = join(dir.path, 'VOC2007', 'Annotations', '000001.xml');
    writeFileSync(xmlPath, readFileSync(xmlPath, 'utf8').replace(/<name>\w+<\/name>/g, '<name>dog</name>'));
    writeFileSync(join(dir.path, 'VOC2007', 'ImageSets', 'Main', 'one.txt'), '000001\n');
    const voc = await loadVoc({ root: dir.path, splits: 'VOC2007/one' });
    assert.equal(voc.classNames.length, 21);
    assert.ok(voc.records[0].objects.every((o) => o.label === 12 && o.name === 'dog'));
  } finally {
    dir.remove();
  }
});

/** A copy of the good set with one problem of each kind. */
function brokenCopy(): { root: string; remove(): void } {
  const dir = tempDir('voc-broken');
  cpSync(good.root, dir.path, { recursive: true });
  const at = (sub: string, id: string, ext: string) => join(dir.path, sub, `${id}.${ext}`);
  writeFileSync(at('JPEGImages', '000002', 'jpg'), Buffer.from(Array.from({ length: 900 }, (_, i) => (i * 7919) % 256)));
  truncateSync(at('JPEGImages', '000003', 'jpg'), 400);
  unlinkSync(at('JPEGImages', '000004', 'jpg'));
  writeFileSync(
    at('Annotations', '000005', 'xml'),
    '<annotation>\n  <size><width>96</width><height>96</height></size>\n  <object><name>star</name>\n</annotation>\n',
  );
  unlinkSync(at('Annotations', '000006', 'xml'));
  writeFileSync(
    at('Annotations', '000007', 'xml'),
    [
      '<annotation>',
      '  <size><width>96</width><height>96</height></size>',
      '  <object><name>star</name><bndbox><xmin>abc</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>',
      '  <object><name>hexagon</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>',
      '  <object><name>circle</name><bndbox><xmin>20</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>',
      '  <object><name>cross</name><difficult>yes</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>',
      '  <object><name>square</name><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>30</xmax><ymax>40</ymax></bndbox></object>',
      '</annotation>',
      '',
    ].join('\n'),
  );
  // No <size>: the image header gives it.
  const eight = at('Annotations', '000008', 'xml');
  writeFileSync(eight, readFileSync(eight, 'utf8').replace(/<size>[\s\S]*?<\/size>/, ''));
  const ids = Array.from({ length: 12 }, (_, i) => String(i + 1).padStart(6, '0'));
  writeFileSync(join(dir.path, 'ImageSets', 'Main', 'broken.txt'), [...ids, '', '999999', '../etc/passwd', ''].join('\n'));
  return { root: dir.path, remove: dir.remove };
}

test('VOC: broken files are skipped, counted and reported with paths and lines', async () => {
  const b = brokenCopy();
  try {
    const ds = await loadVoc({ root: b.root, splits: ['broken', 'missing-list'], classNames: TINY_CLASSES() });
    const p = (s: string) => join(b.root, s);
    const problems = ds.report.problems.map(formatProblem);
    assert.deepEqual(problems, [
      `${p('ImageSets/Main/broken.txt')}:15: "../etc/passwd" is not an image id [list]`,
      `${p('ImageSets/Main/missing-list.txt')}: cannot read the image list: ENOENT [list]`,
      `${p('JPEGImages/000004.jpg')}: the image file is missing [image]`,
      `${p('Annotations/000005.xml')}:4:3: malformed XML: </annotation> closes <object> (opened at line 3) [annotation]`,
      `${p('Annotations/000006.xml')}: cannot read the annotation: ENOENT [annotation]`,
      `${p('Annotations/000007.xml')}:3:36: <xmin> of "star" is not a number: "abc" [object]`,
      `${p('Annotations/000007.xml')}:5:30: box of "circle" has xmax < xmin or ymax < ymin (20, 1, 9, 9) [object]`,
      `${p('Annotations/000007.xml')}:6:29: <difficult> must be 0 or 1, got "yes" [object]`,
      `${p('Annotations/999999.xml')}: cannot read the annotation: ENOENT [annotation]`,
      `${p('Annotations/000007.xml')}:4:3: unknown class "hexagon" (known: circle, square, triangle, star, cross) [object]`,
    ]);
    assert.equal(ds.records.length, 9); // 12 listed, 000004-000006 skipped; 999999 has nothing
    assert.equal(ds.report.images, 9);
    assert.equal(ds.report.skippedImages, 4);
    assert.equal(ds.report.skippedObjects, 4);
    const seven = ds.records.find((r) => r.id === '000007')!;
    assert.deepEqual(
      seven.objects.map((o) => [o.name, o.box.map((x) => x * 96)]),
      [['square', [9, 19, 30, 40]]],
    );
    const eight = ds.records.find((r) => r.id === '000008')!;
    assert.deepEqual([eight.width, eight.height], [96, 96]);
    assert.ok(eight.objects.length > 0);

    // The corrupt and the truncated JPEG are found when decoded: training replaces them, evaluation leaves them out.
    const train = new BatchLoader(ds, { batchSize: 8, width: 96, height: 96, priors: tinyPriors(), steps: 2 });
    for await (const batch of train) assert.equal(batch.size, 8);
    const unreadable = ds.report.problems.filter((x) => x.stage === 'image' && x.message.startsWith('unreadable'));
    assert.deepEqual(unreadable.map((x) => x.path).sort(), [p('JPEGImages/000002.jpg'), p('JPEGImages/000003.jpg')]);
    assert.equal(ds.report.skippedImages, 6);
    const evalDs = await loadVoc({ root: b.root, splits: 'broken', classNames: TINY_CLASSES() });
    const sizes: number[] = [];
    for await (const batch of new BatchLoader(evalDs, { batchSize: 5, width: 96, height: 96, augment: false })) sizes.push(batch.size);
    assert.deepEqual(sizes, [3, 4]); // 9 records in batches of 5, less the 2 unreadable ones (both in the first)
  } finally {
    b.remove();
  }
});

// ---------------------------------------------------------------- COCO

async function cocoFixture(dir: string, mutate: (doc: any) => void = () => undefined): Promise<string> {
  const voc = await loadVoc({ root: good.root, splits: ['train', 'val', 'test'], classNames: TINY_CLASSES() });
  // Sparse, unordered category ids, as COCO has: circle 3, square 7, triangle 11, star 15, cross 19.
  const catId = (label: number) => 4 * label - 1;
  const doc = {
    info: {},
    categories: [5, 3, 1, 4, 2].map((l) => ({ id: catId(l), name: TINY_CLASSES()[l], supercategory: 'shape' })),
    images: voc.records.map((r, i) => ({ id: 100 + i, file_name: `${r.id}.jpg`, width: r.width, height: r.height })),
    annotations: voc.records.flatMap((r, i) =>
      r.objects.map((o, k) => ({
        id: 1000 * i + k,
        image_id: 100 + i,
        category_id: catId(o.label),
        bbox: [o.box[0] * 96, o.box[1] * 96, (o.box[2] - o.box[0]) * 96, (o.box[3] - o.box[1]) * 96],
        iscrowd: 0,
        area: 1,
      })),
    ),
  };
  mutate(doc);
  const file = join(dir, 'instances.json');
  writeFileSync(file, JSON.stringify(doc, null, 1));
  return file;
}

test('COCO: sparse category ids become labels 1..K in id order; boxes from [x, y, w, h]', async () => {
  const dir = tempDir('coco');
  try {
    const file = await cocoFixture(dir.path);
    const ds = await loadCoco({ annotationFile: file, imageDir: join(good.root, 'JPEGImages') });
    assert.deepEqual(ds.report.problems, []);
    assert.deepEqual(ds.classNames, TINY_CLASSES());
    const voc = await loadVoc({ root: good.root, splits: ['train', 'val', 'test'], classNames: TINY_CLASSES() });
    assert.equal(ds.records.length, voc.records.length);
    ds.records.forEach((r, i) => {
      assert.equal(r.imagePath, voc.records[i].imagePath);
      assert.deepEqual(
        r.objects.map((o) => [o.label, o.name]),
        voc.records[i].objects.map((o) => [o.label, o.name]),
      );
      r.objects.forEach((o, k) => o.box.forEach((v, j) => assert.ok(Math.abs(v - voc.records[i].objects[k].box[j]) < 1e-9)));
    });
    // A subset of classes, in the caller's order.
    const two = await loadCoco({ annotationFile: file, imageDir: join(good.root, 'JPEGImages'), classNames: ['star', 'circle'] });
    assert.deepEqual(two.classNames, ['background', 'star', 'circle']);
    assert.ok(two.records.every((r) => r.objects.every((o) => (o.name === 'star' ? o.label === 1 : o.name === 'circle' && o.label === 2))));
  } finally {
    dir.remove();
  }
});

test('COCO: malformed entries are skipped and reported where they are; crowds are kept as ignored', async () => {
  const dir = tempDir('coco-bad');
  try {
    const file = await cocoFixture(dir.path, (doc) => {
      const a0 = doc.annotations[0];
      doc.annotations.push(
        { ...a0, id: 'bad-bbox', bbox: [1, 2, 3] },
        { ...a0, id: 'bad-cat', category_id: 99 },
        { ...a0, id: 'bad-img', image_id: 12345 },
        { ...a0, id: 'zero-w', bbox: [1, 2, 0, 5] },
        { ...a0, id: 'crowd', iscrowd: 1 },
        { ...a0, id: 'bad-crowd', iscrowd: 2 },
      );
      doc.images.push(
        { id: 999, file_name: 'nope.jpg', width: 96, height: 96 },
        { id: 100, file_name: 'dup.jpg', width: 96, height: 96 },
        { id: 5, width: 96 },
      );
    });
    const ds = await loadCoco({ annotationFile: file, imageDir: join(good.root, 'JPEGImages') });
    const n0 = good.report.objects; // the fixture's own annotations come first
    assert.deepEqual(
      ds.report.problems.map((p) => [p.stage, p.where, p.message]),
      [
        ['annotation', 'images[41] (id 100)', 'duplicate image id 100'],
        ['annotation', 'images[42] (id 5)', 'an image needs an integer "id" and a "file_name"'],
        ['object', `annotations[${n0}] (id "bad-bbox")`, '"bbox" must be [x, y, width, height], got [1,2,3]'],
        ['object', `annotations[${n0 + 1}] (id "bad-cat")`, 'unknown category_id 99'],
        ['object', `annotations[${n0 + 2}] (id "bad-img")`, 'unknown image_id 12345'],
        ['object', `annotations[${n0 + 3}] (id "zero-w")`, '"bbox" has a non-positive width or height: [1,2,0,5]'],
        ['object', `annotations[${n0 + 5}] (id "bad-crowd")`, '"iscrowd" must be 0 or 1, got 2'],
        ['image', `${file}: images[40] (id 999)`, 'the image file is missing'],
      ],
    );
    assert.equal(ds.report.skippedImages, 3);
    assert.equal(ds.report.skippedObjects, 5);
    const first = ds.records[0];
    const crowd = first.objects[first.objects.length - 1];
    assert.equal(crowd.crowd, true);
    assert.equal(crowd.difficult, true);

    writeFileSync(file, '{\n  "images": [],\n  "annotations": [,]\n}');
    const broken = await loadCoco({ annotationFile: file, imageDir: dir.path });
    assert.equal(broken.records.length, 0);
    assert.equal(broken.report.problems.length, 1);
    assert.deepEqual([broken.report.problems[0].line, broken.report.problems[0].column], [3, 19]);
    assert.match(broken.report.problems[0].message, /^malformed JSON: /);
    const missing = await loadCoco({ annotationFile: join(dir.path, 'none.json'), imageDir: dir.path });
    assert.match(formatProblem(missing.report.problems[0]), /none\.json: cannot read the annotation file: ENOENT \[annotation\]$/);
  } finally {
    dir.remove();
  }
});

// ---------------------------------------------------------------- augmentation

/** A 120x90 grey image with three filled rectangles of pure colours, and their boxes. */
function colouredScene(): { image: RawImage; ann: Annotations; colours: number[][] } {
  const W = 120;
  const H = 90;
  const data = new Uint8Array(W * H * 3).fill(128);
  const rects = [
    [10, 10, 50, 40],
    [60, 20, 110, 80],
    [15, 55, 45, 85],
  ];
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ];
  rects.forEach(([x0, y0, x1, y1], k) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data.set(colours[k], (y * W + x) * 3);
  });
  const boxes = Float32Array.from(rects.flatMap(([x0, y0, x1, y1]) => [x0 / W, y0 / H, x1 / W, y1 / H]));
  return { image: { data, width: W, height: H }, ann: { boxes, labels: Int32Array.from([1, 2, 3]), difficult: Uint8Array.from([0, 0, 1]) }, colours };
}

const RAW = { mean: [0, 0, 0] as [number, number, number], scale: 1 };

test('augmentation geometry: after expansion, crops, flips and resizing, every box still frames its object', () => {
  const { image, ann, colours } = colouredScene();
  let boxesSeen = 0;
  let cropped = 0;
  let expanded = 0;
  for (let seed = 0; seed < 300; seed++) {
    const s = augmentSample(image, ann, createRng(seed), { width: 64, height: 48, distort: false, normalization: RAW });
    assert.equal(s.image.length, 64 * 48 * 3);
    if (s.labels.length < 3) cropped++;
    for (let i = 0; i < s.labels.length; i++) {
      const [x0, y0, x1, y1] = s.boxes.subarray(4 * i, 4 * i + 4);
      assert.ok(x0 >= 0 && y0 >= 0 && x1 <= 1 && y1 <= 1 && x0 < x1 && y0 < y1, `seed ${seed}: box ${[x0, y0, x1, y1]}`);
      if ((x1 - x0) * 64 < 0.25 * 64 && (y1 - y0) * 48 < 0.25 * 48) expanded++;
      // Pixels well inside the box have the object's colour.
      const px = [Math.ceil(x0 * 64) + 1, Math.floor(x1 * 64) - 2, Math.ceil(y0 * 48) + 1, Math.floor(y1 * 48) - 2];
      if (px[1] < px[0] || px[3] < px[2]) continue;
      const want = colours[s.labels[i] - 1];
      let ok = 0;
      let n = 0;
      for (let y = px[2]; y <= px[3]; y++) {
        for (let x = px[0]; x <= px[1]; x++) {
          const k = (y * 64 + x) * 3;
          n++;
          if (Math.abs(s.image[k] - want[0]) + Math.abs(s.image[k + 1] - want[1]) + Math.abs(s.image[k + 2] - want[2]) < 60) ok++;
        }
      }
      assert.ok(ok / n > 0.95, `seed ${seed}: only ${ok}/${n} pixels of box ${i} have its colour`);
      assert.equal(s.difficult[i], s.labels[i] === 3 ? 1 : 0);
      boxesSeen++;
    }
  }
  assert.ok(boxesSeen > 300, `${boxesSeen}`);
  assert.ok(cropped > 30, `${cropped} samples lost an object to a crop`);
  assert.ok(expanded > 10, `${expanded} boxes shrank below a quarter (zoom-out)`);
});

test('augmentation: seeded; flip mirrors exactly; resize at the same size is the identity', () => {
  const { image, ann } = colouredScene();
  const a = augmentSample(image, ann, createRng(42), { width: 96, height: 96 });
  const b = augmentSample(image, ann, createRng(42), { width: 96, height: 96 });
  assert.deepEqual(a, b);
  const c = augmentSample(image, ann, createRng(43), { width: 96, height: 96 });
  assert.notDeepEqual(a.image, c.image);

  const same = { width: 120, height: 90, normalization: RAW };
  const flipped = augmentSample(image, ann, createRng(1), { ...same, distort: false, expand: false, samplers: false, flipProb: 1 });
  for (let y = 0; y < 90; y++)
    for (let x = 0; x < 120; x++) for (let ch = 0; ch < 3; ch++) assert.equal(flipped.image[(y * 120 + x) * 3 + ch], image.data[(y * 120 + 119 - x) * 3 + ch]);
  const fb = ann.boxes;
  assert.deepEqual([...flipped.boxes.subarray(0, 4)], [1 - fb[2], fb[1], 1 - fb[0], fb[3]].map(Math.fround));
  const plain = resizeSample(image, ann, same);
  assert.deepEqual([...plain.image], [...image.data]);
  assert.deepEqual(plain.boxes, ann.boxes);
  // The default normalisation is Caffe's: mean (123, 117, 104) subtracted, no scaling.
  const caffe = resizeSample(image, ann, { width: 120, height: 90 });
  assert.deepEqual([...caffe.image.subarray(0, 3)], [128 - 123, 128 - 117, 128 - 104]);
});

test('augmentation: zoom-out keeps the picture whole, smaller, on the mean', () => {
  const { image, ann } = colouredScene();
  for (let seed = 0; seed < 40; seed++) {
    const s = augmentSample(image, ann, createRng(seed), {
      width: 120,
      height: 90,
      distort: false,
      samplers: false,
      flipProb: 0,
      expand: { prob: 1, maxRatio: 4 },
    });
    assert.equal(s.labels.length, 3);
    const ratio = (ann.boxes[2] - ann.boxes[0]) / (s.boxes[2] - s.boxes[0]);
    assert.ok(ratio >= 1 - 1e-5 && ratio <= 4 + 1e-5, `ratio ${ratio}`);
    for (let i = 1; i < 3; i++) assert.ok(Math.abs((ann.boxes[4 * i + 3] - ann.boxes[4 * i + 1]) / (s.boxes[4 * i + 3] - s.boxes[4 * i + 1]) - ratio) < 1e-4);
    // Corners far from the picture are the mean: 0 after normalisation.
    if (ratio > 2) {
      const corners = [0, 119, 89 * 120, 89 * 120 + 119].map((p) => Math.abs(s.image[3 * p]) + Math.abs(s.image[3 * p + 1]) + Math.abs(s.image[3 * p + 2]));
      assert.ok(corners.filter((v) => v === 0).length >= 2, `seed ${seed}: corners ${corners}`);
    }
  }
});

test("SSD's sampler: crops meet their IoU constraint; scale and aspect stay in range", () => {
  const boxes = Float32Array.from([0.1, 0.1, 0.4, 0.5, 0.5, 0.5, 0.9, 0.8]);
  const iou = (a: number[], k: number) => {
    const iw = Math.min(a[2], boxes[k + 2]) - Math.max(a[0], boxes[k]);
    const ih = Math.min(a[3], boxes[k + 3]) - Math.max(a[1], boxes[k + 1]);
    if (iw <= 0 || ih <= 0) return 0;
    return (iw * ih) / ((a[2] - a[0]) * (a[3] - a[1]) + (boxes[k + 2] - boxes[k]) * (boxes[k + 3] - boxes[k + 1]) - iw * ih);
  };
  const only07: CropSampler[] = [SSD_SAMPLERS[0], SSD_SAMPLERS[4]];
  let constrained = 0;
  for (let seed = 0; seed < 300; seed++) {
    const c = chooseCrop(boxes, only07, createRng(seed));
    if (c.join() === '0,0,1,1') continue;
    constrained++;
    assert.ok(Math.max(iou(c, 0), iou(c, 4)) >= 0.7, `seed ${seed}: crop ${c}`);
  }
  // The 0.7 sampler finds a crop in a fraction of its 50 trials; then whole image or crop, half and half.
  assert.ok(constrained > 10, `${constrained}`);
  for (let seed = 0; seed < 300; seed++) {
    const c = sampleCrop(SSD_SAMPLERS[1], createRng(seed));
    const w = c[2] - c[0];
    const h = c[3] - c[1];
    assert.ok(c[0] >= 0 && c[1] >= 0 && c[2] <= 1 + 1e-9 && c[3] <= 1 + 1e-9);
    assert.ok(Math.sqrt(w * h) >= 0.3 - 1e-9 && w / h >= 0.5 - 1e-9 && w / h <= 2 + 1e-9, `scale ${Math.sqrt(w * h)}, aspect ${w / h}`);
  }
  // With no boxes only the whole image qualifies.
  assert.deepEqual(chooseCrop(new Float32Array(0), SSD_SAMPLERS, createRng(1)), [0, 0, 1, 1]);
});

test("crops keep the boxes whose centre is inside, in the crop's frame, clipped", () => {
  const ann: Annotations = {
    boxes: Float32Array.from([0.1, 0.1, 0.3, 0.3, 0.4, 0.4, 0.9, 0.6, 0.45, 0.0, 0.55, 0.2]),
    labels: Int32Array.from([1, 2, 3]),
    difficult: Uint8Array.from([0, 1, 0]),
  };
  const out = cropAnnotations(ann, [0.2, 0.2, 0.7, 0.7]);
  // Box 1's centre (0.2, 0.2) is on the crop's corner: kept (Caffe's test is inclusive), clipped to (0, 0, 0.2, 0.2).
  // Box 2's centre (0.65, 0.5) is inside: clipped on the right. Box 3's centre (0.5, 0.1) is above: dropped.
  assert.deepEqual([...out.labels], [1, 2]);
  assert.deepEqual([...out.difficult], [0, 1]);
  const want = [0, 0, 0.2, 0.2, 0.4, 0.4, 1, 0.8];
  out.boxes.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `${[...out.boxes]}`));
});

test('photometric distortion by hand: brightness, contrast, saturation, hue; masked pixels untouched', () => {
  const img = Float32Array.from([255, 0, 0, 100, 100, 100, 200, 100, 50]);
  const mask = Uint8Array.from([1, 1, 0]);
  const run = (plan: Partial<Parameters<typeof applyDistortion>[2]>) => {
    const x = img.slice();
    applyDistortion(x, mask, { contrastFirst: true, brightness: null, contrast: null, saturation: null, hue: null, ...plan });
    return [...x].map((v) => Math.round(v * 1000) / 1000);
  };
  assert.deepEqual(run({ hue: 120 }), [0, 255, 0, 100, 100, 100, 200, 100, 50]); // red -> green; grey has no hue
  assert.deepEqual(run({ hue: -120 }), [0, 0, 255, 100, 100, 100, 200, 100, 50]);
  assert.deepEqual(run({ saturation: 0 }), [255, 255, 255, 100, 100, 100, 200, 100, 50]);
  assert.deepEqual(run({ saturation: 0.5 }), [255, 127.5, 127.5, 100, 100, 100, 200, 100, 50]);
  assert.deepEqual(run({ brightness: 20 }), [255, 20, 20, 120, 120, 120, 200, 100, 50]); // clipped at 255
  assert.deepEqual(run({ contrast: 0.5 }), [127.5, 0, 0, 50, 50, 50, 200, 100, 50]); // Caffe's contrast scales values
  assert.deepEqual(run({ brightness: -50, contrast: 2 }), [255, 0, 0, 100, 100, 100, 200, 100, 50]);
});

// ---------------------------------------------------------------- batches

test('batches: targets from the priors, determined by the seed, resumable at any step, prefetch-independent', async () => {
  const ds = await loadVoc({ root: good.root, splits: 'trainval', classNames: TINY_CLASSES() });
  const priors = tinyPriors();
  const P = priors.length / 4;
  const take = async (o: Partial<ConstructorParameters<typeof BatchLoader>[1]>, n: number) => {
    const loader = new BatchLoader(ds, { batchSize: 6, width: 96, height: 96, priors, seed: 3, ...o });
    const out = [];
    for (let i = 0; i < n; i++) out.push((await loader.next())!);
    loader.close();
    return out;
  };
  const a = await take({}, 5);
  const b = await take({ prefetch: 0 }, 5);
  const resumed = await take({ startStep: 3 }, 2);
  const other = await take({ seed: 4 }, 1);
  assert.deepEqual(
    a.map((x) => [x.step, x.epoch, x.size]),
    [
      [0, 0, 6],
      [1, 0, 6],
      [2, 0, 6],
      [3, 0, 6],
      [4, 0, 6],
    ],
  );
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(a[i].images, b[i].images, `step ${i}`);
    assert.deepEqual(a[i].targets, b[i].targets);
    assert.deepEqual(
      a[i].records.map((r) => r.id),
      b[i].records.map((r) => r.id),
    );
  }
  assert.deepEqual(resumed[0].images, a[3].images);
  assert.deepEqual(resumed[1].targets, a[4].targets);
  assert.notDeepEqual(other[0].images, a[0].images);
  // Targets are what encodeTargets gives for each augmented sample.
  const t = a[2].targets!;
  assert.equal(t.loc.length, 6 * P * 4);
  assert.equal(t.labels.length, 6 * P);
  let positives = 0;
  a[2].annotations.forEach((ann, k) => {
    const one = encodeTargets(priors, ann.boxes, ann.labels);
    assert.deepEqual([...t.labels.subarray(k * P, (k + 1) * P)], [...one.labels]);
    positives += one.positives;
  });
  assert.equal(t.positives, positives);
  assert.ok(positives > 6);
  // The whole set is one epoch's images, shuffled: ids of one epoch are all distinct.
  const epoch = await take({ batchSize: 8 }, Math.floor(ds.records.length / 8));
  const ids = epoch.flatMap((x) => x.records.map((r) => r.id));
  assert.equal(new Set(ids).size, ids.length);
});

test('batches for evaluation: every image once, in order, resized only, the last batch short', async () => {
  const ds = await loadVoc({ root: good.root, splits: 'test', classNames: TINY_CLASSES() });
  const seen: string[] = [];
  const loader = new BatchLoader(ds, { batchSize: 16, width: 96, height: 96, augment: false });
  const sizes: number[] = [];
  for await (const b of loader) {
    sizes.push(b.size);
    seen.push(...b.records.map((r) => r.id));
    b.annotations.forEach((ann, k) => assert.deepEqual(ann, recordAnnotations(b.records[k])));
  }
  assert.deepEqual(
    seen,
    ds.records.map((r) => r.id),
  );
  assert.equal(
    sizes.reduce((x, y) => x + y, 0),
    ds.records.length,
  );
  assert.equal(sizes[sizes.length - 1], ds.records.length % 16 || 16);
});

test('speed of loading + augmentation + matching (measured, reported)', async (t) => {
  for (const [set, size, priors] of [
    [good, 96, tinyPriors()],
    [big, 300, null],
  ] as const) {
    const ds: DetectionDataset = await loadVoc({ root: set.root, splits: ['train', 'val', 'test'] });
    const loader = new BatchLoader(ds, { batchSize: 8, width: size, height: size, priors: priors ?? undefined, seed: 1 });
    const started = performance.now();
    let n = 0;
    for (let i = 0; i < 12; i++) n += (await loader.next())!.size;
    const perSecond = n / ((performance.now() - started) / 1000);
    loader.close();
    t.diagnostic(`loader + augmentation${priors ? ' + matching' : ''} at ${size}x${size}: ${perSecond.toFixed(0)} images/s`);
    assert.ok(perSecond > 10, `${perSecond}`);
  }
});
