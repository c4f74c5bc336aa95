// `dsod export --onnx` and `dsod infer --runtime onnx` (issue 14, items 3 and 4): the file onnxruntime loads, bad input
// refused with nothing left behind, and the onnx runtime's detections file equal to the tfjs path's.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { dsodInProcess } from './train-fixtures';
import { initialValue, paramLayout } from '../../engine/model';
import { encodeWeights, type WeightMap } from '../../engine/model/weights';
import { createOnnxSession, decodeModel, runOnnx } from '../../engine/onnx';
import { analyze, readRepoFile, repoRoot, rng } from '../helpers';

const TINY = join(repoRoot, 'examples', 'tiny.dsod.yaml');
const dir = mkdtempSync(join(tmpdir(), 'dsod-onnx-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const dsod = (...args: string[]) => dsodInProcess(args);

/** The tiny example's weights with trained-looking statistics and class heads that separate the classes. */
function tinyWeights(): WeightMap {
  const graph = analyze(readRepoFile('examples/tiny.dsod.yaml')).graph;
  const r = rng(21);
  const w: WeightMap = {};
  for (const slot of paramLayout(graph)) {
    const v = initialValue(slot, { seed: 3 });
    if (slot.role === 'factor') v[0] = 3;
    if (slot.role === 'mean_sum') v.forEach((_, i) => (v[i] = (r.next() - 0.5) * 0.3));
    if (slot.role === 'var_sum') v.forEach((_, i) => (v[i] = 2 + 3 * r.next()));
    if (slot.role === 'weight' && slot.node.headRole === 'conf') v.forEach((x, i) => (v[i] = x * 10));
    w[slot.name] = { shape: slot.shape, values: v };
  }
  return w;
}

const weightsFile = join(dir, 'tiny.dsodw');
writeFileSync(weightsFile, encodeWeights(tinyWeights()));

test('export --onnx writes a model onnxruntime loads, with the default boxes and, asked for, the detections', async () => {
  const out = join(dir, 'tiny.onnx');
  const r = await dsod('export', '--onnx', TINY, '--weights', weightsFile, '--out', out, '--with-postprocess');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${out}\n`);
  const bytes = readFileSync(out);
  const { session } = await createOnnxSession(bytes);
  try {
    assert.deepEqual(session.outputNames, ['loc', 'conf', 'priors', 'boxes', 'scores', 'detections']);
    const x = new Float32Array(96 * 96 * 3).fill(0.5);
    const [loc, conf, detections] = await runOnnx(session, x, [1, 96, 96, 3], ['loc', 'conf', 'detections']);
    const boxes = analyze(readRepoFile('examples/tiny.dsod.yaml')).totals.defaultBoxes;
    assert.equal(loc.length, boxes * 4);
    assert.equal(conf.length, boxes * 6);
    assert.equal(detections.length % 7, 0);
  } finally {
    await session.release();
  }
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes('.tmp-')),
    [],
    'no temporary file left',
  );
});

test('export --onnx --random-weights: the spec seed initial weights, said so; without either flag a usage error', async () => {
  const out = join(dir, 'random.onnx');
  const r = await dsod('export', '--onnx', TINY, '--random-weights', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const m = decodeModel(readFileSync(out)) as { graph: { output: { name: string }[] } };
  assert.deepEqual(
    m.graph.output.map((o) => o.name),
    ['loc', 'conf', 'priors'],
  );
  const none = await dsod('export', '--onnx', TINY, '--out', join(dir, 'none.onnx'));
  assert.equal(none.code, 2);
  assert.match(none.stderr, /needs --weights FILE.*--random-weights/);
  assert.equal(existsSync(join(dir, 'none.onnx')), false);
});

test('export --onnx refuses weights of another network naming the tensor, and an unwritable folder; nothing is left', async () => {
  const other = join(dir, 'other.dsodw');
  const lite = analyze(readRepoFile('examples/dsod300-lite.dsod.yaml')).graph;
  const w: WeightMap = {};
  for (const slot of paramLayout(lite).slice(0, 3)) w[slot.name] = { shape: slot.shape, values: new Float32Array(slot.shape.reduce((a, b) => a * b, 1)) };
  writeFileSync(other, encodeWeights(w));
  const out = join(dir, 'mismatch', 'model.onnx');
  mkdirSync(join(dir, 'mismatch'));
  const r = await dsod('export', '--onnx', TINY, '--weights', other, '--out', out);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /other\.dsodw does not fit .*tiny\.dsod\.yaml: weights do not fit this network/);
  assert.match(r.stderr, /tensor stem\/conv1\/conv\/weight: shape \[3,3,3,\d+\] but the network has \[3,3,3,\d+\]|missing tensor /);
  assert.deepEqual(readdirSync(join(dir, 'mismatch')), []);

  writeFileSync(join(dir, 'a-file'), 'x');
  const blocked = await dsod('export', '--onnx', TINY, '--weights', weightsFile, '--out', join(dir, 'a-file', 'model.onnx'));
  assert.equal(blocked.code, 3);
  assert.match(blocked.stderr, /cannot write .*a-file\/model\.onnx: a folder on the path is a file/);

  const truncated = join(dir, 'truncated.dsodw');
  writeFileSync(truncated, readFileSync(weightsFile).subarray(0, 200));
  const cut = await dsod('export', '--onnx', TINY, '--weights', truncated, '--out', join(dir, 'mismatch', 'cut.onnx'));
  assert.equal(cut.code, 1);
  assert.match(cut.stderr, /truncated\.dsodw/);
  assert.deepEqual(readdirSync(join(dir, 'mismatch')), []);
});

test('infer --runtime onnx writes the detections file of the tfjs path (same images, classes, scores and boxes)', async () => {
  const images = join(dir, 'images');
  mkdirSync(images);
  const r = rng(5);
  for (const [name, w, h] of [
    ['a.png', 120, 90],
    ['b.png', 96, 96],
    ['c.png', 64, 150],
  ] as const) {
    const px = Buffer.alloc(w * h * 3);
    for (let i = 0; i < px.length; i++) px[i] = Math.floor(r.next() * 256);
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(join(images, name));
  }
  const run = async (runtime: string) => {
    const out = join(dir, `infer-${runtime}`);
    const res = await dsod('infer', TINY, images, '--weights', weightsFile, '--out', out, '--runtime', runtime, '--threshold', '0.05', '--backend', 'cpu');
    assert.equal(res.code, 0, res.stderr + res.stdout);
    return {
      doc: JSON.parse(readFileSync(join(out, 'detections.json'), 'utf8')) as {
        images: { image: string; width: number; height: number; detections: { label: number; name: string; score: number; box: number[] }[] }[];
      },
      log: res.stdout + res.stderr,
    };
  };
  const tfjs = await run('tfjs');
  const onnx = await run('onnx');
  assert.match(onnx.log, /onnxruntime-node \d+\.\d+\.\d+, CPU provider/);
  assert.deepEqual(Object.keys(onnx.doc), Object.keys(tfjs.doc), 'the same fields');
  assert.equal(onnx.doc.images.length, 3);
  let compared = 0;
  onnx.doc.images.forEach((im, k) => {
    const ref = tfjs.doc.images[k];
    assert.deepEqual([im.image, im.width, im.height], [ref.image, ref.width, ref.height]);
    assert.equal(im.detections.length, ref.detections.length, `${im.image}: as many detections`);
    const left = [...im.detections];
    for (const e of ref.detections) {
      // Scores are rounded to 4 digits and boxes to 0.1 px in the file: one rounding step apart at most.
      const i = left.findIndex(
        (d) => d.label === e.label && d.name === e.name && Math.abs(d.score - e.score) <= 2e-4 && d.box.every((v, j) => Math.abs(v - e.box[j]) <= 0.2),
      );
      assert.ok(i >= 0, `${im.image}: no onnx twin of ${JSON.stringify(e)}`);
      left.splice(i, 1);
      compared++;
    }
  });
  assert.ok(compared >= 5, `detections to compare: ${compared}`);
});
