// `dsod export --tfjs`: the graph model loads with plain @tensorflow/tfjs (in Node, and in headless Chromium from
// model.json and its shards over fetch) and gives the engine's loc and conf within 1e-4 relative on the same inputs;
// bad weights, a missing --weights and an unwritable folder are clear errors that leave nothing behind.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { defaultBoxes } from '../../core';
import { main } from '../../engine/cli/main';
import { writeFolderAtomic } from '../../engine/cli/export-tfjs';
import { IoError } from '../../engine/data/files';
import { createModel, encodeWeights, type DsodModel, type WeightMap } from '../../engine/model';
import { prepareWasm } from '../../engine/backend';
import { CHROMIUM_ARGS, chromiumBin } from '../chromium';
import { analyze, PLAIN_YAML, readRepoFile, repoRoot, rng } from '../helpers';

const TINY_PATH = join(repoRoot, 'examples', 'tiny.dsod.yaml');
const DSOD300_PATH = join(repoRoot, 'examples', 'dsod300.dsod.yaml');

/** The other readings of the language: a 3x3/2 ceil pool with pad (DenseNet entry), L2Norm on scale 1 only, heads
 * without batch norm, plain prediction (model.test.ts's PLAIN_YAML). */

/** The tiny example at 100x100: every ceil-mode pool after the stem has an odd input, so its last window reaches past
 * the edge, over the output of a linear 1x1 convolution (negative values): padding with anything but -Infinity shows. */
const ODD = readRepoFile('examples/tiny.dsod.yaml').replace('size: [96, 96]', 'size: [100, 100]').replace('steps: [4, 8, 16, 32]', 'steps: [4, 8, 14, 25]');

const work = mkdtempSync(join(tmpdir(), 'dsod-tfjs-export-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function dsod(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => ((stdout += s), true) }, stderr: { write: (s: string) => ((stderr += s), true) } };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Trained-looking weights: every tensor seeded at random, batch-norm statistics included (factor > 0, var > 0), so
 * the export's folding of Caffe's BatchNorm is exercised, not its untrained special case. */
function trainedLookingWeights(model: DsodModel, seed: number): WeightMap {
  const r = rng(seed);
  const out: WeightMap = {};
  for (const p of model.params) {
    const values = new Float32Array(p.variable.size);
    const factor = 3 + 5 * r.next();
    const fanIn = p.variable.size / (p.variable.shape[3] ?? 1);
    for (let i = 0; i < values.length; i++) {
      const u = r.next();
      values[i] =
        p.role === 'weight'
          ? (2 * u - 1) * Math.sqrt(3 / fanIn)
          : p.role === 'gamma'
            ? 0.5 + u
            : p.role === 'beta'
              ? 0.2 * (2 * u - 1)
              : p.role === 'mean_sum'
                ? factor * 0.3 * (2 * u - 1)
                : p.role === 'var_sum'
                  ? factor * (0.2 + u)
                  : p.role === 'factor'
                    ? factor
                    : 5 + 10 * u; // L2Norm scale
    }
    out[p.name] = { shape: [...p.variable.shape], values };
  }
  return out;
}

interface Case {
  label: string;
  specPath: string;
  weightsPath: string;
  outDir: string;
  model: DsodModel;
  input: Float32Array;
  shape: [number, number, number, number];
  reference: { loc: Float32Array; conf: Float32Array };
}

function specFile(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

/** Export `specPath` with seeded weights; the engine's own outputs on a seeded batch are the reference. */
async function prepare(label: string, specPath: string, batch: number, seed: number): Promise<Case> {
  const analysis = analyze(readFileSync(specPath, 'utf8'));
  const model = createModel(analysis.graph, { seed: 1 });
  model.setWeights(trainedLookingWeights(model, seed));
  const weightsPath = join(work, `${label}.dsodw`);
  writeFileSync(weightsPath, encodeWeights(await model.getWeights()));
  const outDir = join(work, `${label}-tfjs`);
  // The export folds batch norms on the cpu backend; the reference runs on the backend the test chose.
  const backend = tf.getBackend();
  const r = await dsod('export', '--tfjs', specPath, '--weights', weightsPath, '--out', outDir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${outDir}\n`);
  assert.ok(await tf.setBackend(backend));
  const [h, w, c] = model.inputShape;
  const shape: [number, number, number, number] = [batch, h, w, c];
  const rr = rng(seed + 1);
  const input = Float32Array.from({ length: batch * h * w * c }, () => 255 * rr.next() - 120);
  const x = tf.tensor4d(input, shape);
  const out = model.forward(x);
  const reference = { loc: (await out.loc.data()) as Float32Array, conf: (await out.conf.data()) as Float32Array };
  tf.dispose([x, out.loc, out.conf]);
  return { label, specPath, weightsPath, outDir, model, input, shape, reference };
}

/** max |a - b| over max |b|: relative to the output's own magnitude (an element near 0 has no useful relative error). */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes differ');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  assert.ok(Number.isFinite(diff) && scale > 0, 'outputs are finite and not all zero');
  return diff / scale;
}

/** The exported folder read as a browser would fetch it: model.json, then its shards concatenated. */
async function loadInNode(dir: string): Promise<tf.GraphModel> {
  const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const group = modelJson.weightsManifest[0];
  const data = Buffer.concat(group.paths.map((p: string) => readFileSync(join(dir, p))));
  return tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: group.weights,
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      format: modelJson.format,
      signature: modelJson.signature,
      userDefinedMetadata: modelJson.userDefinedMetadata,
    }),
  );
}

describe('the TF.js graph model in Node (cpu backend)', () => {
  for (const [label, text, batch] of [
    ['tiny', null, 2],
    ['plain', PLAIN_YAML, 2],
    ['odd', ODD, 1],
  ] as const) {
    test(`${label}: loc and conf equal the engine's within 1e-4 relative; priors.json is core's default boxes`, async (t) => {
      await tf.setBackend('cpu');
      const path = text === null ? TINY_PATH : specFile(`${label}.dsod.yaml`, text);
      const c = await prepare(label, path, batch, 7);
      try {
        const files = readdirSync(c.outDir).sort();
        assert.deepEqual(files, ['group1-shard1of1.bin', 'model.json', 'priors.json']);
        const modelJson = JSON.parse(readFileSync(join(c.outDir, 'model.json'), 'utf8'));
        assert.equal(modelJson.format, 'graph-model');
        // Plain tfjs ops only: nothing a page would have to register.
        const ops = new Set<string>(modelJson.modelTopology.node.map((n: { op: string }) => n.op));
        for (const op of ops) assert.ok(KNOWN_OPS.has(op), `op ${op} is one of tfjs-converter's`);
        const model = await loadInNode(c.outDir);
        const x = tf.tensor4d(c.input, c.shape);
        const [loc, conf] = model.execute(x, ['loc', 'conf']) as tf.Tensor[];
        assert.deepEqual(loc.shape, [batch, c.model.numBoxes, 4]);
        assert.deepEqual(conf.shape, [batch, c.model.numBoxes, c.model.numClasses]);
        const locErr = relativeError(await loc.data(), c.reference.loc);
        const confErr = relativeError(await conf.data(), c.reference.conf);
        t.diagnostic(`relative error: loc ${locErr.toExponential(2)}, conf ${confErr.toExponential(2)}`);
        assert.ok(locErr <= 1e-4, `loc relative error ${locErr}`);
        assert.ok(confErr <= 1e-4, `conf relative error ${confErr}`);
        tf.dispose([x, loc, conf]);
        model.dispose();
        const priors = JSON.parse(readFileSync(join(c.outDir, 'priors.json'), 'utf8'));
        const expected = defaultBoxes(analyze(readFileSync(path, 'utf8')));
        assert.equal(priors.count, c.model.numBoxes);
        assert.deepEqual(priors.variances, [0.1, 0.1, 0.2, 0.2]);
        assert.deepEqual(Float32Array.from(priors.boxes), expected);
      } finally {
        c.model.dispose();
      }
    });
  }
});

/** The ops the exporter may write (all in tfjs-converter's op list). */
const KNOWN_OPS = new Set([
  'Placeholder',
  'Const',
  'Conv2D',
  'Mul',
  'AddV2',
  'Relu',
  'MaxPool',
  'PadV2',
  'Slice',
  'ConcatV2',
  'Square',
  'Sum',
  'Rsqrt',
  'Reshape',
]);

describe('bad input: clear errors, nothing left behind', () => {
  const leftovers = () => readdirSync(work).filter((n) => n.includes('.tmp-') || n.includes('.old-'));

  test('weights of another network: the error names the tensor, no folder is written', async () => {
    const plain = createModel(analyze(PLAIN_YAML).graph);
    const weights = await plain.getWeights();
    plain.dispose();
    const name = Object.keys(weights).find((n) => n.endsWith('/weight'))!;
    const w = weights[name];
    weights[name] = { shape: [...w.shape.slice(0, 3), w.shape[3] + 1], values: new Float32Array((w.values.length / w.shape[3]) * (w.shape[3] + 1)) };
    const path = join(work, 'wrong.dsodw');
    writeFileSync(path, encodeWeights(weights));
    const out = join(work, 'wrong-tfjs');
    const r = await dsod('export', '--tfjs', specFile('plain-w.dsod.yaml', PLAIN_YAML), '--weights', path, '--out', out);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`${name.replace(/[/]/g, '\\/')}: shape \\[${weights[name].shape.join(',')}\\] but the model has \\[${w.shape.join(',')}\\]`),
    );
    assert.equal(existsSync(out), false);
    assert.deepEqual(leftovers(), []);
  });

  test('a missing tensor is named; a file that is no weights file says so', async () => {
    const tiny = createModel(analyze(readRepoFile('examples/tiny.dsod.yaml')).graph);
    const weights = await tiny.getWeights();
    tiny.dispose();
    const gone = Object.keys(weights)[5];
    delete weights[gone];
    writeFileSync(join(work, 'short.dsodw'), encodeWeights(weights));
    const r = await dsod('export', '--tfjs', TINY_PATH, '--weights', join(work, 'short.dsodw'), '--out', join(work, 'short-tfjs'));
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`missing ${gone}`), r.stderr);
    writeFileSync(join(work, 'junk.dsodw'), 'not weights');
    const j = await dsod('export', '--tfjs', TINY_PATH, '--weights', join(work, 'junk.dsodw'), '--out', join(work, 'junk-tfjs'));
    assert.equal(j.code, 1);
    assert.match(j.stderr, /neither a DSOD checkpoint/);
    assert.equal(existsSync(join(work, 'short-tfjs')) || existsSync(join(work, 'junk-tfjs')), false);
  });

  test('without --weights: a usage error that names --random-weights; both at once: refused', async () => {
    const r = await dsod('export', '--tfjs', TINY_PATH, '--out', join(work, 'none'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs --weights FILE .* or --random-weights/);
    const both = await dsod('export', '--tfjs', TINY_PATH, '--weights', 'w.dsodw', '--random-weights', '--out', join(work, 'none'));
    assert.equal(both.code, 2);
    assert.match(both.stderr, /not both/);
    const noOut = await dsod('export', '--tfjs', TINY_PATH, '--random-weights');
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /needs --out DIR/);
    assert.equal(existsSync(join(work, 'none')), false);
  });

  test('an unwritable output folder: an I/O error naming it (exit 3), nothing left behind', async () => {
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    const out = join(file, 'model');
    const r = await dsod('export', '--tfjs', TINY_PATH, '--random-weights', '--out', out);
    assert.equal(r.code, 3, r.stderr);
    assert.ok(r.stderr.includes(`cannot write ${out}`) && r.stderr.includes('ENOTDIR'), r.stderr);
    assert.deepEqual(leftovers(), []);
  });

  test('a folder holding other files is not replaced', async () => {
    const dir = join(work, 'someone-elses');
    rmSync(dir, { recursive: true, force: true });
    makeForeignFolder(dir);
    const r = await dsod('export', '--tfjs', TINY_PATH, '--random-weights', '--out', dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /holds other files/);
    assert.deepEqual(readdirSync(dir), ['notes.txt']);
  });

  test('a write that fails halfway leaves the earlier export whole and no temporary folder', async () => {
    const dir = join(work, 'earlier');
    await writeFolderAtomic(dir, new Map([['model.json', '{"old":true}']]));
    await assert.rejects(
      writeFolderAtomic(
        dir,
        new Map<string, string | Uint8Array>([
          ['model.json', '{"new":true}'],
          ['no-such-folder/group1-shard1of1.bin', new Uint8Array(4)],
        ]),
      ),
      (e: unknown) => e instanceof IoError && e.message.includes(dir),
    );
    assert.deepEqual(readdirSync(dir), ['model.json']);
    assert.equal(readFileSync(join(dir, 'model.json'), 'utf8'), '{"old":true}');
    assert.deepEqual(leftovers(), []);
    // And a good write replaces it whole.
    await writeFolderAtomic(dir, new Map([['model.json', '{"new":true}']]));
    assert.equal(readFileSync(join(dir, 'model.json'), 'utf8'), '{"new":true}');
    assert.deepEqual(leftovers(), []);
  });
});

function makeForeignFolder(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(join(dir, 'notes.txt'), 'mine');
}

// The browser: Debian's Chromium, tfjs's own bundle (dist/tf.min.js) and its wasm backend served from a fake origin,
// the model fetched by tf.loadGraphModel from model.json and its shards: what a web page does.
const TFJS = resolve(require.resolve('@tensorflow/tfjs'), '..', '..', 'dist', 'tf.min.js');
const WASM_DIR = resolve(require.resolve('@tensorflow/tfjs-backend-wasm'), '..', '..', 'dist');
const ORIGIN = 'https://tfjs.export.test';
const browserSkip = !existsSync(chromiumBin) ? `no Chromium at ${chromiumBin} (apt-get install chromium, or scripts/e2e-setup.sh)` : false;

describe('the TF.js graph model in headless Chromium (tf.loadGraphModel, wasm backend)', { skip: browserSkip, timeout: 900_000 }, () => {
  for (const [label, path, batch] of [
    ['tiny-browser', TINY_PATH, 2],
    ['dsod300-browser', DSOD300_PATH, 1],
  ] as const) {
    test(`${label}: loc and conf equal the engine's (wasm, in Node) within 1e-4 relative`, async (t) => {
      await prepareWasm();
      assert.ok(await tf.setBackend('wasm'));
      const c = await prepare(label, path, batch, 11);
      c.model.dispose();
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: chromiumBin, headless: true, args: CHROMIUM_ARGS });
      try {
        const context = await browser.newContext();
        const foreign: string[] = [];
        await context.route('**/*', async (route) => {
          const url = new URL(route.request().url());
          if (url.origin !== ORIGIN) {
            foreign.push(url.href);
            return route.abort();
          }
          const file = url.pathname.startsWith('/model/')
            ? join(c.outDir, url.pathname.slice('/model/'.length))
            : url.pathname === '/tf.min.js'
              ? TFJS
              : url.pathname.startsWith('/wasm/')
                ? join(WASM_DIR, url.pathname.slice('/wasm/'.length))
                : '';
          if (url.pathname === '/index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: PAGE });
          if (!file || !existsSync(file)) return route.fulfill({ status: 404, body: '' });
          const type = file.endsWith('.js')
            ? 'text/javascript'
            : file.endsWith('.json')
              ? 'application/json'
              : file.endsWith('.wasm')
                ? 'application/wasm'
                : 'application/octet-stream';
          return route.fulfill({ status: 200, contentType: type, body: readFileSync(file) });
        });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`${ORIGIN}/index.html`);
        await page.waitForFunction(() => (window as unknown as { tfReady?: boolean }).tfReady === true, undefined, { timeout: 60_000 });
        const result = await page.evaluate(
          async ({ input, shape }) => {
            const tfw = (window as unknown as { tf: typeof tf }).tf;
            const model = await tfw.loadGraphModel('/model/model.json');
            const x = tfw.tensor4d(input, shape as [number, number, number, number]);
            const [loc, conf] = model.execute(x, ['loc', 'conf']) as tf.Tensor[];
            const out = {
              backend: tfw.getBackend(),
              input: (model.metadata as { dsod: { input: { height: number; width: number; mean: number[] } } }).dsod.input,
              loc: Array.from(await loc.data()),
              conf: Array.from(await conf.data()),
              locShape: loc.shape,
              confShape: conf.shape,
            };
            tfw.dispose([x, loc, conf]);
            return out;
          },
          { input: Array.from(c.input), shape: c.shape },
        );
        assert.deepEqual(errors, []);
        assert.deepEqual(foreign, []);
        assert.equal(result.backend, 'wasm');
        // What a page reads to feed the model: model.json's metadata.
        assert.deepEqual(result.input, { ...result.input, height: c.shape[1], width: c.shape[2], mean: [123, 117, 104] });
        assert.deepEqual(result.locShape, [batch, c.reference.loc.length / batch / 4, 4]);
        const locErr = relativeError(result.loc, c.reference.loc);
        const confErr = relativeError(result.conf, c.reference.conf);
        t.diagnostic(`relative error: loc ${locErr.toExponential(2)}, conf ${confErr.toExponential(2)}`);
        assert.ok(locErr <= 1e-4, `loc relative error ${locErr}`);
        assert.ok(confErr <= 1e-4, `conf relative error ${confErr}`);
      } finally {
        await browser.close();
      }
    });
  }
});

/** A plain page: tfjs and its wasm backend from script tags, nothing DSOD-specific. */
const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<script src="/tf.min.js"></script>
<script src="/wasm/tf-backend-wasm.min.js"></script>
<script>
  tf.wasm.setWasmPaths('/wasm/');
  tf.setBackend('wasm').then((ok) => { window.tfReady = ok; });
</script></head><body></body></html>`;
