// `dsod priors` (issue 13, item 2): core's pruned measure equals the all-pairs computation (every prior against every
// object, and the training matcher on each image), and the command's errors, cache and report.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  applyEdits,
  checkSpec,
  keepsNetwork,
  measureCoverage,
  priorEdits,
  priorLayout,
  suggestPriors,
  withPriors,
  type Analysis,
  type GroundTruth,
  type PriorCoverage,
} from '../../core';
import { iouMatrix } from '../../engine/boxes/iou';
import { matchPriors } from '../../engine/boxes/match';
import { loadVoc } from '../../engine/data/voc';
import { checkedBoxes } from '../../engine/cli/priors-data';
import { priorsCommand } from '../../engine/cli/priors';
import { validatePriorsViewData, validatePriorsWebviewMessage } from '../../protocol/priors';
import { repoRoot } from '../helpers';
import { synthDataset, tempDir } from './data-fixtures';

let set: Awaited<ReturnType<typeof synthDataset>>;
let gt: GroundTruth;
before(async () => {
  set = await synthDataset({ count: 150, seed: 23, maxObjects: 9 });
  gt = checkedBoxes(await loadVoc({ root: set.root, splits: ['trainval'] }));
});
after(() => set.remove());

function analysis(file: string, edit: (t: string) => string = (t) => t): Analysis {
  const r = checkSpec(edit(readFileSync(join(repoRoot, file), 'utf8')), 'yaml');
  assert.ok(r.analysis, file);
  return r.analysis;
}

/** Every prior against every object of each image: best IoU (first prior on ties) and the matcher's positives. */
function bruteForce(a: Analysis, g: GroundTruth, threshold = 0.5) {
  const layout = priorLayout(a);
  const priors = layout.boxes;
  const P = priors.length / 4;
  const scaleOf = new Int32Array(P);
  layout.scales.forEach((s, i) => scaleOf.fill(i, s.first, s.first + s.rows * s.columns * s.shapes.length));
  const best = new Float32Array(g.labels.length);
  const bestPrior = new Int32Array(g.labels.length).fill(-1);
  const positives = new Array<number>(layout.scales.length).fill(0);
  for (let i = 0; i + 1 < g.imageStart.length; i++) {
    const boxes = g.boxes.subarray(4 * g.imageStart[i], 4 * g.imageStart[i + 1]);
    const G = boxes.length / 4;
    const m = iouMatrix(priors, boxes);
    for (let p = 0; p < P; p++)
      for (let j = 0; j < G; j++)
        if (m[p * G + j] > best[g.imageStart[i] + j]) {
          best[g.imageStart[i] + j] = m[p * G + j];
          bestPrior[g.imageStart[i] + j] = p;
        }
    const match = matchPriors(priors, boxes, threshold);
    for (let p = 0; p < P; p++) if (match.gt[p] >= 0) positives[scaleOf[p]]++;
  }
  return { best, bestPrior, positives };
}

function assertEqualsBruteForce(a: Analysis, c: PriorCoverage, g: GroundTruth) {
  const ref = bruteForce(a, g);
  assert.deepEqual([...c.bestIou], [...ref.best]);
  assert.deepEqual([...c.bestPrior], [...ref.bestPrior]);
  assert.deepEqual(
    c.scales.map((s) => s.positives),
    ref.positives,
  );
  const matched = ref.best.filter((v) => v >= 0.5).length;
  assert.equal(c.matched, matched);
  assert.equal(c.unmatched.length, g.labels.length - matched);
  assert.ok(c.positives >= c.images, 'every image has at least one positive');
}

test('recall, best IoUs and per-scale positives equal the all-pairs computation: the tiny example on the synthetic set', () => {
  const a = analysis('examples/tiny.dsod.yaml');
  const c = measureCoverage(priorLayout(a), gt);
  assert.ok(c.objects > 500 && c.matched > 0 && c.matched < c.objects, `${c.matched} of ${c.objects}`);
  assertEqualsBruteForce(a, c, gt);
});

test('the same for DSOD300 (8,732 priors, six scales, ratios 2 and 3)', () => {
  const a = analysis('examples/dsod300.dsod.yaml');
  assertEqualsBruteForce(a, measureCoverage(priorLayout(a), gt), gt);
});

test('the same with clipped priors and a centre offset of 0 (border boxes of other sizes, cells shifted)', () => {
  const a = analysis('examples/tiny.dsod.yaml', (t) => t.replace('clip: false', 'clip: true').replace('offset: 0.5', 'offset: 0'));
  assert.equal(a.spec.priors.clip, true);
  assertEqualsBruteForce(a, measureCoverage(priorLayout(a), gt), gt);
});

test('crowded images (many overlapping objects) still match the matcher exactly', () => {
  // 60 images of 40 small overlapping boxes each, some equal: ties and the bipartite pass's contention.
  let seed = 5;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
  const boxes: number[] = [];
  const starts = [0];
  for (let i = 0; i < 60; i++) {
    for (let k = 0; k < 40; k++) {
      const w = 0.03 + rnd() * 0.3;
      const h = 0.03 + rnd() * 0.3;
      const x = rnd() * (1 - w);
      const y = rnd() * (1 - h);
      boxes.push(x, y, x + w, y + h);
      if (k % 10 === 9) boxes.push(x, y, x + w, y + h); // a duplicate
    }
    starts.push(boxes.length / 4);
  }
  const g: GroundTruth = {
    boxes: Float32Array.from(boxes),
    labels: new Int32Array(boxes.length / 4).fill(1),
    imageStart: Int32Array.from(starts),
    classNames: ['background', 'thing'],
  };
  const a = analysis('examples/tiny.dsod.yaml');
  assertEqualsBruteForce(a, measureCoverage(priorLayout(a), g), g);
});

test('per size and per class counts add up to the totals', () => {
  const c = measureCoverage(priorLayout(analysis('examples/tiny.dsod.yaml')), gt);
  const sum = (xs: { objects: number; matched: number }[]) => xs.reduce((s, k) => [s[0] + k.objects, s[1] + k.matched], [0, 0]);
  assert.deepEqual(sum(Object.values(c.buckets)), [c.objects, c.matched]);
  assert.deepEqual(sum(c.classes), [c.objects, c.matched]);
  assert.equal(
    c.scales.reduce((n, s) => n + s.bestFor, 0),
    c.objects,
  );
});

// The command: errors with their location, the cache.

async function dsodPriors(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const io = { stdout: { write: (s: string) => ((out.stdout += s), true) }, stderr: { write: (s: string) => ((out.stderr += s), true) } };
  const code = await priorsCommand(args, io);
  return { code, ...out };
}

/** A one-image VOC set whose annotation is `objects` (VOC pixel boxes on a 100x80 image), no image file. */
function vocSet(dir: string, objects: string): string {
  for (const d of ['Annotations', 'ImageSets/Main']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'ImageSets/Main/trainval.txt'), '000001\n');
  writeFileSync(
    join(dir, 'Annotations/000001.xml'),
    `<annotation>\n<size><width>100</width><height>80</height><depth>3</depth></size>\n${objects}</annotation>\n`,
  );
  return dir;
}
const object = (name: string, [x0, y0, x1, y1]: number[]) =>
  `<object>\n<name>${name}</name>\n<difficult>0</difficult>\n<bndbox><xmin>${x0}</xmin><ymin>${y0}</ymin><xmax>${x1}</xmax><ymax>${y1}</ymax></bndbox>\n</object>\n`;

const TINY = join(repoRoot, 'examples/tiny.dsod.yaml');

test('dsod priors reads annotations without their images, reports, and caches the boxes by the files', async () => {
  const dir = tempDir('priors-cli');
  try {
    const data = vocSet(join(dir.path, 'voc'), object('circle', [11, 11, 60, 60]) + object('star', [1, 1, 4, 4]));
    const cache = join(dir.path, 'cache');
    const first = await dsodPriors([TINY, '--data', data, '--cache', cache, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const j = JSON.parse(first.stdout);
    assert.equal(j.objects, 2);
    assert.equal(j.cached, false);
    assert.equal(j.unmatched.length, 1);
    assert.deepEqual([j.unmatched[0].object, j.unmatched[0].class, j.unmatched[0].line], [1, 'star', 8]);
    assert.match(j.unmatched[0].file, /000001\.xml$/);
    // The boxes by the dataset, the measure by the dataset and the prior settings.
    assert.deepEqual(
      readdirSync(cache)
        .map((f) => f.replace(/-\w+\.json$/, ''))
        .sort(),
      ['boxes', 'coverage'],
    );
    const again = JSON.parse((await dsodPriors([TINY, '--data', data, '--cache', cache, '--json'])).stdout);
    assert.equal(again.cached, true);
    assert.deepEqual({ ...again, cached: false }, j);
    // An edited annotation is read again (its size or time changed).
    vocSet(data, object('circle', [11, 11, 60, 60]));
    const edited = JSON.parse((await dsodPriors([TINY, '--data', data, '--cache', cache, '--json'])).stdout);
    assert.deepEqual([edited.cached, edited.objects], [false, 1]);
    const text = await dsodPriors([TINY, '--data', data, '--no-cache']);
    assert.match(text.stdout, /recall 100\.0% \(1 of 1 objects/);
    assert.match(text.stdout, /Per scale/);
  } finally {
    dir.remove();
  }
});

test('a box larger than its image is an error naming the annotation, line and object', async () => {
  const dir = tempDir('priors-big');
  try {
    const data = vocSet(dir.path, object('circle', [11, 11, 60, 60]) + object('square', [5, 5, 150, 70]));
    const r = await dsodPriors([TINY, '--data', data, '--no-cache']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^dsod: \S*000001\.xml:11:\d+: object\[1\]: box of "square" \(5, 5, 150, 70\) reaches outside the 100x80 image.*fix the annotation\n$/,
    );
    assert.equal(r.stdout, '');
  } finally {
    dir.remove();
  }
});

test('a zero-area box is an error naming the COCO annotation', async () => {
  const dir = tempDir('priors-zero');
  try {
    const file = join(dir.path, 'instances_train.json');
    writeFileSync(
      file,
      JSON.stringify({
        images: [{ id: 1, file_name: 'a.jpg', width: 100, height: 80 }],
        categories: [1, 2, 3, 4, 5].map((id) => ({ id, name: ['circle', 'square', 'triangle', 'star', 'cross'][id - 1] })),
        annotations: [
          { id: 7, image_id: 1, category_id: 1, bbox: [10, 10, 30, 30] },
          { id: 8, image_id: 1, category_id: 2, bbox: [10, 10, 0, 30] },
        ],
      }),
    );
    const r = await dsodPriors([TINY, '--data', file, '--no-cache']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /instances_train\.json: annotations\[1\] \(id 8\): "bbox" has a non-positive width or height: \[10,10,0,30\]/);
  } finally {
    dir.remove();
  }
});

test('an empty dataset is an error: no images, or images without objects', async () => {
  const dir = tempDir('priors-empty');
  try {
    const none = vocSet(join(dir.path, 'none'), '');
    writeFileSync(join(none, 'ImageSets/Main/trainval.txt'), '');
    const r1 = await dsodPriors([TINY, '--data', none, '--no-cache']);
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /no usable train images in .*none \(trainval\)/);
    const bare = vocSet(join(dir.path, 'bare'), '');
    const r2 = await dsodPriors([TINY, '--data', bare, '--no-cache']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /the 1 training images have no objects/);
    assert.ok(!existsSync(join(dir.path, 'cache')));
  } finally {
    dir.remove();
  }
});

// --suggest: never lowers recall; the edit.

test('--suggest raises recall on the synthetic set with settings that keep the network, and measures them honestly', () => {
  const a = analysis('examples/tiny.dsod.yaml');
  const layout = priorLayout(a);
  const g = suggestPriors(layout, gt, { searchImages: 60, rounds: 1 });
  assert.ok(g.improved);
  assert.ok(g.coverageAfter.matched > g.coverageBefore.matched, `${g.coverageAfter.matched} > ${g.coverageBefore.matched}`);
  assert.ok(keepsNetwork(g.before, g.after, true));
  // The reported measure is the proposal's on the whole set, as an independent measure gives it.
  const again = measureCoverage(withPriors(layout, g.after), gt);
  assert.equal(again.matched, g.coverageAfter.matched);
  assert.equal(withPriors(layout, g.after).boxes.length, layout.boxes.length);
});

test('--suggest never lowers recall: on several subsets and specs the proposal matches at least as many objects, and equals the spec when not better', () => {
  for (const file of ['examples/tiny.dsod.yaml', 'examples/dsod300.dsod.yaml']) {
    const layout = priorLayout(analysis(file));
    for (const images of [3, 20, 80]) {
      const sub = { ...gt, imageStart: gt.imageStart.subarray(0, images + 1), labels: gt.labels.subarray(0, gt.imageStart[images]) };
      // Few images for the search, all of the subset for the check: the search can overfit, the check keeps it honest.
      const g = suggestPriors(layout, sub, { searchImages: 2, rounds: 1 });
      const before = measureCoverage(layout, sub).matched;
      assert.ok(g.coverageAfter.matched >= before, `${file}, ${images} images`);
      if (!g.improved) assert.deepEqual(g.after, g.before);
      else assert.ok(measureCoverage(withPriors(layout, g.after), sub).matched > before);
    }
  }
});

test('with every object matched already, --suggest says so and --write leaves the spec byte for byte', async () => {
  const dir = tempDir('priors-kept');
  try {
    const data = vocSet(join(dir.path, 'voc'), object('circle', [11, 11, 60, 60]));
    const spec = join(dir.path, 'tiny.dsod.yaml');
    const text = readFileSync(TINY, 'utf8');
    writeFileSync(spec, text);
    const r = await dsodPriors([spec, '--data', data, '--no-cache', '--suggest', '--write']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no proposal matches more objects than the spec \(1 of 1; .*the spec is kept/);
    assert.equal(readFileSync(spec, 'utf8'), text);
  } finally {
    dir.remove();
  }
});

test('--suggest --write rewrites only the changed lists; the spec then measures as proposed', async () => {
  const dir = tempDir('priors-write');
  try {
    const spec = join(dir.path, 'tiny.dsod.yaml');
    const text = readFileSync(TINY, 'utf8');
    writeFileSync(spec, text);
    const r = await dsodPriors([spec, '--data', set.root, '--no-cache', '--suggest', '--write', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.suggestion.improved, true);
    assert.equal(j.suggestion.written, true);
    const edited = readFileSync(spec, 'utf8');
    const changed = text.split('\n').filter((l, i) => l !== edited.split('\n')[i]);
    assert.ok(changed.length >= 1 && changed.every((l) => /^ {2}(min_sizes|max_sizes|aspect_ratios):/.test(l)), changed.join('\n'));
    assert.equal(edited.split('\n').length, text.split('\n').length);
    const after = JSON.parse((await dsodPriors([spec, '--data', set.root, '--no-cache', '--json'])).stdout);
    assert.equal(after.matched, j.suggestion.measureAfter.matched);
    assert.ok(after.matched > j.matched);
  } finally {
    dir.remove();
  }
});

test('the edit inserts a list the spec does not write (sizes from min_ratio), in YAML block and flow style and in JSON', () => {
  const before = [{ minSize: 30, maxSize: 60, aspectRatios: [2] }];
  const after = [{ minSize: 25, maxSize: 60, aspectRatios: [2] }];
  const cases: [string, 'yaml' | 'json', string][] = [
    ['priors:\n  min_ratio: 20\n  flip: true\n', 'yaml', 'priors:\n  min_sizes: [25]\n  min_ratio: 20\n  flip: true\n'],
    ['priors: { min_ratio: 20, flip: true }\n', 'yaml', 'priors: { min_sizes: [25], min_ratio: 20, flip: true }\n'],
    ['{ "priors": { "min_ratio": 20 } }', 'json', '{ "priors": { "min_sizes": [25],\n              "min_ratio": 20 } }'],
    ['priors:\n  min_sizes: [30]  # kept comment\n', 'yaml', 'priors:\n  min_sizes: [25]  # kept comment\n'],
  ];
  for (const [text, format, expected] of cases) {
    const doc = checkSpec(text, format).document;
    const placed = priorEdits(doc, before, after);
    assert.ok('edits' in placed);
    assert.equal(applyEdits(text, placed.edits), expected);
  }
  assert.ok('error' in priorEdits(checkSpec('dsod: 1\n', 'yaml').document, before, after));
});

test('--view prints what the editor view draws, valid by the view protocol: an image of the set warped to the input, sizes, the suggestion edit', async () => {
  const r = await dsodPriors([TINY, '--data', set.root, '--no-cache', '--view', '--suggest']);
  assert.equal(r.code, 0, r.stderr);
  const checked = validatePriorsViewData(JSON.parse(r.stdout));
  assert.ok(checked.ok, checked.ok ? '' : checked.error);
  const d = checked.message;
  assert.deepEqual(d.input, { width: 96, height: 96 });
  assert.equal(d.scales.length, 4);
  assert.equal(d.sizes.length, d.objects);
  assert.ok(d.image && d.image.uri.startsWith('data:image/jpeg;base64,') && d.image.boxes.length > 0);
  assert.ok(d.suggestion?.improved && d.suggestion.edits.length > 0);
  // The page's messages: only the known ones, well formed.
  assert.ok(validatePriorsWebviewMessage({ type: 'apply' }).ok);
  assert.ok(!validatePriorsWebviewMessage({ type: 'apply-file', path: '/etc/passwd' }).ok);
  assert.ok(!validatePriorsViewData({ ...d, image: { ...d.image, uri: 'https://example.com/x.jpg' } }).ok);
});
