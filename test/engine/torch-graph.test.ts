// The torch engine's network (engine/torch/dsod_torch, issue 12 item 2): built from the graph JSON, it must be the
// network core analyses (parameter counts, every node's shape) and, with the tfjs model's weights, compute what the
// tfjs model computes. Runs the Python that the engine would find (engine/torch/python.ts); skipped, with the reason,
// where there is none with torch (CI installs Debian's python3-torch: scripts/torch-setup.sh).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { multiboxLoss } from '../../engine/boxes/loss';
import { createModel, decodeWeights, encodeWeights } from '../../engine/model';
import { findTorchPython } from '../../engine/torch/python';
import { toGraphJson } from '../../protocol/graph-json';
import { analyze, exampleFiles, readRepoFile } from '../helpers';
import { dsodTorch, mixedLabels, relativeError, skipWithoutTorch, trainedLike, values } from './torch-fixtures';

const skip = skipWithoutTorch;
const dir = mkdtempSync(join(tmpdir(), 'dsod-torch-graph-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeGraph(file: string, text: string): string {
  const path = join(dir, `${file.replace(/[/\\]/g, '_')}.graph.json`);
  writeFileSync(path, JSON.stringify(toGraphJson(analyze(text))));
  return path;
}

const specs = exampleFiles();

test('the examples include DSOD300 and the tiny one', () => {
  assert.ok(specs.includes(join('examples', 'dsod300.dsod.yaml')) && specs.includes(join('examples', 'tiny.dsod.yaml')), specs.join(', '));
  assert.ok(specs.length >= 10, `${specs.length} examples`);
});

for (const file of specs) {
  test(`${file}: the torch network has core's learned and stored parameter counts and every node's shape`, { skip }, () => {
    const text = readRepoFile(file);
    const a = analyze(text);
    const o = JSON.parse(dsodTorch('check', writeGraph(file, text)));
    assert.equal(o.paramsLearned, a.totals.paramsLearned, 'learned parameters');
    assert.equal(o.paramsStored, a.totals.paramsStored, 'stored parameters (BN running statistics: 2C+1 each)');
    assert.deepEqual(
      o.shapes,
      a.graph.nodes.map((n) => n.shape),
    );
    assert.deepEqual(o.loc, [1, a.totals.defaultBoxes, 4]);
    assert.deepEqual(o.conf, [1, a.totals.defaultBoxes, a.spec.classes.count]);
  });
}

test(
  "tiny example: with the tfjs model's weights, the torch network's outputs and the MultiBox loss of a batch agree within 1e-4 relative",
  { skip },
  async () => {
    const text = readRepoFile('examples/tiny.dsod.yaml');
    const a = analyze(text);
    const model = createModel(a.graph, { seed: 3 });
    try {
      const weights = trainedLike(await model.getWeights());
      model.setWeights(weights);
      const weightsFile = join(dir, 'tiny.dsodw');
      writeFileSync(weightsFile, encodeWeights(weights));
      const [c, h, w] = a.graph.nodes[0].shape;
      const batch = 2;
      const nhwc = values(batch * h * w * c, -100, 100, 99);
      const x = tf.tensor4d(nhwc, [batch, h, w, c]);
      const nchw = tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]));
      const inputFile = join(dir, 'tiny-input.dsodw');
      writeFileSync(inputFile, encodeWeights({ input: { shape: [batch, c, h, w], values: nchw.dataSync() as Float32Array } }));
      nchw.dispose();
      // Targets with positives of every class, ignored priors (-1) and background, for the loss of one batch.
      const boxes = a.totals.defaultBoxes;
      const labels = mixedLabels(batch * boxes, a.spec.classes.count);
      const locT = values(batch * boxes * 4, -1.5, 1.5, 7);
      const targetsFile = join(dir, 'tiny-targets.dsodw');
      writeFileSync(targetsFile, encodeWeights({ loc_t: { shape: [batch, boxes, 4], values: locT }, labels: { shape: [batch, boxes], values: labels } }));
      const graphFile = writeGraph('tiny', text);
      for (const training of [false, true]) {
        // Inference: running statistics; training: this batch's statistics (nothing folded into the running ones).
        const outFile = join(dir, `tiny-out-${training}.dsodw`);
        dsodTorch(
          'forward',
          graphFile,
          '--weights',
          weightsFile,
          '--input',
          inputFile,
          '--targets',
          targetsFile,
          '--out',
          outFile,
          ...(training ? ['--train'] : []),
        );
        const torchOut = decodeWeights(readFileSync(outFile));
        const tfjsOut = model.forward(x, { training, updateStats: false });
        try {
          assert.deepEqual(torchOut.loc.shape, tfjsOut.loc.shape);
          assert.deepEqual(torchOut.conf.shape, tfjsOut.conf.shape);
          const locErr = relativeError(torchOut.loc.values, tfjsOut.loc.dataSync() as Float32Array);
          const confErr = relativeError(torchOut.conf.values, tfjsOut.conf.dataSync() as Float32Array);
          assert.ok(locErr < 1e-4, `${training ? 'training' : 'inference'}: loc differs by ${locErr.toExponential(2)} relative`);
          assert.ok(confErr < 1e-4, `${training ? 'training' : 'inference'}: conf differs by ${confErr.toExponential(2)} relative`);
          const l = tf.tidy(() => {
            const m = multiboxLoss(tfjsOut.loc, tfjsOut.conf, tf.tensor3d(locT, [batch, boxes, 4]), tf.tensor2d(labels, [batch, boxes], 'int32'));
            return [m.total, m.loc, m.conf].map((s) => s.dataSync()[0]);
          });
          assert.equal(torchOut.loss.values.length, 3);
          ['total', 'loc', 'conf'].forEach((part, i) => {
            const err = Math.abs(torchOut.loss.values[i] - l[i]) / Math.abs(l[i]);
            assert.ok(
              err < 1e-4,
              `${training ? 'training' : 'inference'}: the ${part} loss is ${torchOut.loss.values[i]} in torch, ${l[i]} in tfjs (${err.toExponential(2)} relative)`,
            );
          });
        } finally {
          tf.dispose([tfjsOut.loc, tfjsOut.conf]);
        }
      }
      x.dispose();
    } finally {
      model.dispose();
    }
  },
);

test('without a Python that has torch, the engine says what it tried and the command that fixes it', () => {
  const missing = findTorchPython({ ...process.env, DSOD_PYTHON: join(dir, 'no-such-python') });
  assert.equal(missing.ok, false);
  assert.match(
    (missing as { message: string }).message,
    /no Python with PyTorch found: tried .*no-such-python \(not found\)\. Install it: apt-get install python3-torch libopenblas0-pthread/,
  );
  // A real CPython without torch: Debian's, started without its site packages (-S), where python3-torch lives.
  if (existsSync('/usr/bin/python3')) {
    const bare = join(dir, 'python-without-torch');
    writeFileSync(bare, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
    chmodSync(bare, 0o755);
    const noTorch = findTorchPython({ ...process.env, DSOD_PYTHON: bare });
    assert.equal(noTorch.ok, false);
    assert.match((noTorch as { message: string }).message, /python-without-torch \(no torch module\).*set DSOD_PYTHON to a python that has torch/);
  }
  // Without DSOD_PYTHON: python3 on PATH, then Debian's.
  const { DSOD_PYTHON: _unset, ...rest } = process.env;
  const searched = findTorchPython({ ...rest, PATH: dir });
  assert.deepEqual(
    searched.attempts.map((t) => t.python),
    ['python3', '/usr/bin/python3'],
  );
  assert.equal(searched.attempts[0].problem, 'not found');
});
