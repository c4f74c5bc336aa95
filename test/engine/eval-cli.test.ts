// `dsod eval --detections` and `dsod <command> --help`, in-process (no network runs, no backend is loaded):
// detections files in dsod infer's format and in COCO's results format are scored by the project's evaluator, and
// the numbers equal the brute-force references of eval-references.ts on the same ground truth and detections.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { vocAnnotationXml } from '../../engine/data/voc-annotation';
import { loadCoco } from '../../engine/data/coco';
import type { ImageRecord } from '../../engine/data/types';
import { loadVoc } from '../../engine/data/voc';
import type { EvalDetection, EvalImage } from '../../engine/eval/types';
import type { EngineEvent, MetricEvent } from '../../protocol/engine-events';
import { tempDir } from './data-fixtures';
import { cocoReference, randomCase, vocReference, type RandomCase } from './eval-references';
import { dsodInProcess } from './train-fixtures';

const NAMES = ['a', 'b', 'c'];
let dir: ReturnType<typeof tempDir>;
let spec: string;

before(() => {
  dir = tempDir('eval-cli');
  spec = join(dir.path, 'abc.dsod.yaml');
  writeFileSync(spec, `dsod: 1\nname: abc\nclasses: [${NAMES.join(', ')}]\n`);
});
after(() => dir.remove());

const dsod = (...args: string[]) => dsodInProcess(args);

const metricOf = (events: EngineEvent[]) => events.find((e): e is MetricEvent => e.type === 'metric')!;
const close = (a: number | null, b: number, what: string) => assert.ok(a !== null && Math.abs(a - b) <= 1e-9, `${what}: ${a} != ${b}`);

/** A random case as a VOC folder: integer pixel boxes on sized images (empty image files: the annotation has the size). */
async function writeVoc(c: RandomCase, root: string): Promise<ImageRecord[]> {
  for (const d of ['Annotations', 'JPEGImages', 'ImageSets/Main']) mkdirSync(join(root, d), { recursive: true });
  const ids = c.images.map((_, i) => `im${String(i).padStart(3, '0')}`);
  c.images.forEach((im, i) => {
    const W = im.width!;
    const H = im.height!;
    const px = (v: number, s: number) => Math.min(s, Math.max(0, Math.round(v * s)));
    const objects = im.objects.map((o) => {
      const xmin = Math.min(px(o.box[0], W), W - 1) + 1;
      const ymin = Math.min(px(o.box[1], H), H - 1) + 1;
      return {
        name: NAMES[o.label - 1],
        xmin,
        ymin,
        xmax: Math.max(xmin, px(o.box[2], W)),
        ymax: Math.max(ymin, px(o.box[3], H)),
        difficult: !!o.difficult,
        truncated: false,
      };
    });
    writeFileSync(
      join(root, 'Annotations', `${ids[i]}.xml`),
      vocAnnotationXml({ folder: 'x', filename: `${ids[i]}.jpg`, width: W, height: H, database: 'test', objects }),
    );
    writeFileSync(join(root, 'JPEGImages', `${ids[i]}.jpg`), '');
  });
  writeFileSync(join(root, 'ImageSets', 'Main', 'test.txt'), ids.join('\n') + '\n');
  // The ground truth as the evaluator sees it (VOC's pixel convention applied by our loader, checked in data.test.ts).
  return (await loadVoc({ root, splits: 'test', classNames: NAMES })).records;
}

/** dsod infer's document for the detections of a case, on the given image paths. */
function writeInferDoc(c: RandomCase, paths: string[], file: string, threshold = 0): void {
  const images = c.dets.map((list, i) => ({
    image: paths[i],
    width: c.images[i].width,
    height: c.images[i].height,
    detections: list.map((d) => ({
      label: d.label,
      name: NAMES[d.label - 1],
      score: d.score,
      box: [d.box[0] * c.images[i].width!, d.box[1] * c.images[i].height!, d.box[2] * c.images[i].width!, d.box[3] * c.images[i].height!],
      boxNormalized: d.box,
    })),
  }));
  writeFileSync(file, JSON.stringify({ spec, weights: 'elsewhere.dsodw', threshold, images }));
}

function vocMeans(gt: EvalImage[], dets: EvalDetection[][], metric: 'ap11' | 'apArea'): { mean: number; perClass: (number | null)[] } {
  const per = NAMES.map((_, k) => vocReference(gt, dets, k + 1, 0.5)?.[metric] ?? null);
  const counted = per.filter((x): x is number => x !== null);
  return { mean: counted.reduce((a, b) => a + b, 0) / counted.length, perClass: per };
}

function cocoMeans(gt: EvalImage[], dets: EvalDetection[][], range?: readonly [number, number]): { ap: number; perClass: (number | null)[] } {
  const per = NAMES.map((_, k) => cocoReference(gt, dets, k + 1, range ? { range } : {}));
  const counted = per.filter((x) => x !== null);
  return { ap: counted.length ? counted.reduce((a, b) => a + b.ap, 0) / counted.length : -1, perClass: per.map((x) => x?.ap ?? null) };
}

test('every command answers --help and -h with its usage and exit status 0', async () => {
  const top = await dsod('--help');
  assert.equal(top.code, 0);
  const commands = [...top.stdout.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]);
  for (const c of ['analyze', 'demo', 'synth', 'train', 'eval', 'infer']) assert.ok(commands.includes(c), `${c} in ${commands}`);
  for (const c of commands) {
    for (const flag of ['--help', '-h']) {
      const r = await dsod(c, flag);
      assert.equal(r.code, 0, `${c} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: dsod ${c}\\b`), `${c} ${flag}`);
      assert.match(r.stdout, /^Exit status: /m);
      assert.equal(r.stderr, '');
    }
  }
  // Help wins over other arguments, even wrong ones; `dsod help <command>` says the same.
  const train = await dsod('train', 'missing.dsod.yaml', '--bogus', '--help');
  assert.equal(train.code, 0);
  assert.match(train.stdout, /--from CHECKPOINT/);
  assert.equal((await dsod('help', 'eval')).stdout, (await dsod('eval', '-h')).stdout);
  assert.match((await dsod('eval', '--help')).stdout, /--detections FILE/);
  assert.equal((await dsod('help', 'frobnicate')).code, 2);
});

test("--detections in dsod infer's format on a VOC folder: VOC07, VOC and COCO numbers equal the brute-force references", async () => {
  let compared = 0;
  for (const seed of [300, 301, 302, 303]) {
    const c = randomCase(seed, { crowd: 'none', sized: true });
    const root = join(dir.path, `voc-${seed}`);
    const gt = await writeVoc(c, root);
    const file = join(root, 'detections.json');
    writeInferDoc(
      c,
      gt.map((r) => r.imagePath),
      file,
    );
    for (const metric of ['voc07', 'voc'] as const) {
      const r = await dsod('eval', spec, '--detections', file, '--data', root, '--metric', metric, '--json');
      assert.equal(r.code, 0, r.stderr);
      const m = metricOf(r.events);
      const ref = vocMeans(gt, c.dets, metric === 'voc07' ? 'ap11' : 'apArea');
      close(m.value, ref.mean, `seed ${seed} ${metric}`);
      m.perClass.forEach((p, k) => (ref.perClass[k] === null ? assert.equal(p.ap, null) : close(p.ap, ref.perClass[k]!, `seed ${seed} ${metric} ${p.name}`)));
      assert.equal(m.step, null);
      assert.equal(m.images, gt.length);
      compared++;
    }
    // COCO on a VOC folder: difficult objects are iscrowd regions (engine/eval/score.ts).
    const asCrowd = gt.map((im) => ({ ...im, objects: im.objects.map((o) => (o.difficult ? { ...o, crowd: true } : o)) }));
    const r = await dsod('eval', spec, '--detections', file, '--data', root, '--metric', 'coco', '--json');
    assert.equal(r.code, 0, r.stderr);
    const m = metricOf(r.events);
    close(m.value, cocoMeans(asCrowd, c.dets).ap, `seed ${seed} coco`);
    close(m.extras.apSmall, cocoMeans(asCrowd, c.dets, [0, 32 ** 2]).ap, `seed ${seed} coco small`);
    close(m.extras.apLarge, cocoMeans(asCrowd, c.dets, [96 ** 2, 1e10]).ap, `seed ${seed} coco large`);
    assert.deepEqual(
      Object.keys(m.extras).filter((k) => /^a[pr]/.test(k)),
      ['ap', 'ap50', 'ap75', 'apSmall', 'apMedium', 'apLarge', 'ar1', 'ar10', 'ar100', 'arSmall', 'arMedium', 'arLarge'],
    );
  }
  assert.equal(compared, 8);
});

test('--detections with COCO results against a COCO instances JSON: equal to the reference, crowds and segment areas included', async () => {
  const c = randomCase(310, { crowd: 'all', sized: true });
  const root = join(dir.path, 'coco');
  mkdirSync(join(root, 'images'), { recursive: true });
  const catId = (label: number) => 10 * label + 1; // sparse ids, as COCO's
  const annotations: object[] = [];
  c.images.forEach((im, i) => {
    writeFileSync(join(root, 'images', `${i}.jpg`), '');
    im.objects.forEach((o, k) => {
      const [x0, y0, x1, y1] = o.box;
      const [W, H] = [im.width!, im.height!];
      // Every third object has a segment smaller than its box (COCO's area field decides small/medium/large).
      const area = (x1 - x0) * W * (y1 - y0) * H * (k % 3 === 0 ? 0.5 : 1);
      annotations.push({
        id: annotations.length + 1,
        image_id: 100 + i,
        category_id: catId(o.label),
        bbox: [x0 * W, y0 * H, (x1 - x0) * W, (y1 - y0) * H],
        area,
        iscrowd: o.difficult ? 1 : 0,
      });
    });
  });
  const json = join(root, 'instances_test.json');
  writeFileSync(
    json,
    JSON.stringify({
      images: c.images.map((im, i) => ({ id: 100 + i, file_name: `${i}.jpg`, width: im.width, height: im.height })),
      annotations,
      categories: NAMES.map((name, k) => ({ id: catId(k + 1), name })),
    }),
  );
  const results = c.dets.flatMap((list, i) =>
    list.map((d) => {
      const [W, H] = [c.images[i].width!, c.images[i].height!];
      return {
        image_id: 100 + i,
        category_id: catId(d.label),
        bbox: [d.box[0] * W, d.box[1] * H, (d.box[2] - d.box[0]) * W, (d.box[3] - d.box[1]) * H],
        score: d.score,
      };
    }),
  );
  const file = join(root, 'results.json');
  writeFileSync(file, JSON.stringify(results));
  const gt = (await loadCoco({ annotationFile: json, imageDir: join(root, 'images'), classNames: NAMES })).records;
  // The detections as the evaluator reads them back from pixels.
  const dets = gt.map((r, i) => {
    const mine = results.filter((x) => x.image_id === 100 + i);
    return mine.map((x) => ({
      box: [x.bbox[0] / r.width, x.bbox[1] / r.height, (x.bbox[0] + x.bbox[2]) / r.width, (x.bbox[1] + x.bbox[3]) / r.height],
      label: (x.category_id - 1) / 10,
      score: x.score,
    }));
  });
  const r = await dsod('eval', spec, '--detections', file, '--data', json, '--metric', 'coco', '--json');
  assert.equal(r.code, 0, r.stderr);
  const m = metricOf(r.events);
  const ref = cocoMeans(gt, dets);
  close(m.value, ref.ap, 'coco AP');
  m.perClass.forEach((p, k) => (ref.perClass[k] === null ? assert.equal(p.ap, null) : close(p.ap, ref.perClass[k]!, p.name)));
  close(m.extras.apMedium, cocoMeans(gt, dets, [32 ** 2, 96 ** 2]).ap, 'AP medium');
  const voc = await dsod('eval', spec, '--detections', file, '--data', json, '--json');
  close(metricOf(voc.events).value, vocMeans(gt, dets, 'ap11').mean, 'VOC07 on COCO');
  // People get pycocotools' layout.
  const human = await dsod('eval', spec, '--detections', file, '--data', json, '--metric', 'coco');
  assert.match(human.stdout, /^ Average Precision {2}\(AP\) @\[ IoU=0\.50:0\.95 \| area= {3}all \| maxDets=100 \] = \d\.\d{3}$/m);
  assert.match(human.stdout, /^ Average Recall {5}\(AR\) @\[ IoU=0\.50:0\.95 \| area=medium \| maxDets=100 \] = -?\d\.\d{3}$/m);
  // An image id the ground truth does not hold is refused by name.
  writeFileSync(file, JSON.stringify([...results, { image_id: 999999, category_id: 11, bbox: [0, 0, 5, 5], score: 0.5 }]));
  const bad = await dsod('eval', spec, '--detections', file, '--data', json, '--json');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /1 image is not in the ground truth .*: image_id 999999/);
});

test('--detections: a VOC folder and its COCO copy (difficult as iscrowd) give the same COCO numbers; images match by file name', async () => {
  const c = randomCase(320, { crowd: 'none', sized: true });
  const root = join(dir.path, 'voc-copy');
  const gt = await writeVoc(c, root);
  const file = join(dir.path, 'copy-detections.json');
  writeInferDoc(
    c,
    gt.map((r) => r.imagePath),
    file,
  );
  const coco = join(dir.path, 'copy-coco');
  mkdirSync(join(coco, 'images'), { recursive: true });
  const annotations: object[] = [];
  gt.forEach((r, i) => {
    writeFileSync(join(coco, 'images', `${r.id}.jpg`), '');
    for (const o of r.objects) {
      const [x0, y0, x1, y1] = o.box;
      annotations.push({
        id: annotations.length + 1,
        image_id: i + 1,
        category_id: o.label,
        bbox: [x0 * r.width, y0 * r.height, (x1 - x0) * r.width, (y1 - y0) * r.height],
        area: (x1 - x0) * r.width * (y1 - y0) * r.height,
        iscrowd: o.difficult ? 1 : 0,
      });
    }
  });
  const json = join(coco, 'instances_test.json');
  writeFileSync(
    json,
    JSON.stringify({
      images: gt.map((r, i) => ({ id: i + 1, file_name: `${r.id}.jpg`, width: r.width, height: r.height })),
      annotations,
      categories: NAMES.map((name, k) => ({ id: k + 1, name })),
    }),
  );
  // The detections name the VOC paths: the COCO copy's images match by their (unique) file names.
  const fromVoc = await dsod('eval', spec, '--detections', file, '--data', root, '--metric', 'coco', '--json');
  const fromCoco = await dsod('eval', spec, '--detections', file, '--data', json, '--metric', 'coco', '--json');
  assert.equal(fromCoco.code, 0, fromCoco.stderr);
  const [a, b] = [metricOf(fromVoc.events), metricOf(fromCoco.events)];
  close(a.value, b.value, 'VOC folder vs COCO copy');
  for (const k of Object.keys(a.extras).filter((x) => x !== 'evalSeconds')) close(a.extras[k], b.extras[k], k);
});

test('--detections refuses images the ground truth does not hold, naming them; warns about missing ones and a score cut', async () => {
  const c = randomCase(330, { crowd: 'none', sized: true });
  const root = join(dir.path, 'voc-refuse');
  const gt = await writeVoc(c, root);
  const file = join(dir.path, 'refuse.json');
  const paths = gt.map((r) => r.imagePath);
  writeInferDoc(c, [...paths.slice(0, -1), join(dir.path, 'elsewhere', 'zebra.jpg')], file);
  const r = await dsod('eval', spec, '--detections', file, '--data', root, '--json');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /1 image is not in the ground truth \(\d+ images under .*\): .*zebra\.jpg/);
  const err = r.events.find((e) => e.type === 'error');
  assert.ok(err && err.type === 'error' && err.code === 'detections');
  // One entry fewer than the split: that image is scored with no detections (its objects are misses), and said so.
  // An entry for an image of the dataset outside the split (`dsod infer` on all of JPEGImages) is left out.
  writeFileSync(join(root, 'JPEGImages', 'trainonly.jpg'), '');
  const partial: RandomCase = { ...c, dets: [...c.dets.slice(0, -1), c.dets[0]], images: [...c.images.slice(0, -1), c.images[0]] };
  writeInferDoc(partial, [...paths.slice(0, -1), join(root, 'JPEGImages', 'trainonly.jpg')], file, 0.3);
  const p = await dsod('eval', spec, '--detections', file, '--data', root, '--json');
  assert.equal(p.code, 0, p.stderr);
  const logs = p.events.filter((e) => e.type === 'log').map((e) => (e.type === 'log' ? e.message : ''));
  assert.ok(
    logs.some((m) => /1 of the \d+ images have no entry in .*: scored as images with no detections/.test(m)),
    logs.join('\n'),
  );
  assert.ok(
    logs.some((m) => /keeps only detections scoring 0\.3 or more/.test(m)),
    logs.join('\n'),
  );
  assert.ok(
    logs.some((m) => /1 entry of .* for images of the dataset outside the split scored \(test\): left out/.test(m)),
    logs.join('\n'),
  );
  close(metricOf(p.events).value, vocMeans(gt, [...c.dets.slice(0, -1), []], 'ap11').mean, 'missing image scored empty');
  // COCO results need the COCO JSON their ids refer to.
  writeFileSync(file, JSON.stringify([{ image_id: 1, category_id: 1, bbox: [0, 0, 1, 1], score: 1 }]));
  const v = await dsod('eval', spec, '--detections', file, '--data', root, '--json');
  assert.equal(v.code, 2);
  assert.match(v.stderr, /COCO results: they name images by the ids of a COCO instances JSON; pass that file with --data/);
  assert.equal((await dsod('eval', spec, '--detections', join(dir.path, 'nope.json'), '--data', root)).code, 2);
});
