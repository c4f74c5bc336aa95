// The engine's errors: one type with a code and one table of exit statuses; a damaged metrics.json is reported with its
// path and what is wrong, and never replaced (not by an evaluation, not by --from, not by a training); inference
// reports its own errors, not training's.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { prepareWasm } from '../../engine/backend/wasm';
import { UsageError } from '../../engine/cli/args';
import { loadTrainedModel } from '../../engine/cli/model-file';
import { loadSpec } from '../../engine/cli/spec-file';
import { IoError } from '../../engine/data/files';
import { DataSourceError } from '../../engine/data/source';
import { EngineError, ERROR_CODES, EXIT } from '../../engine/errors';
import { InferenceError } from '../../engine/infer/errors';
import { dropMetricsAfter, MetricsFileError, readMetrics, recordMetric, type MetricRecord } from '../../engine/train/run-files';
import { TrainError } from '../../engine/train/errors';
import type { DetectionDataset } from '../../engine/data/types';
import { loadMicroSplits, microData, microSpec, tempDir, trainMicro } from './train-fixtures';

let dir: ReturnType<typeof tempDir>;
before(() => {
  dir = tempDir('errors');
});
after(() => dir.remove());

let folders = 0;
/** A new run folder holding `metrics` as its metrics.json (when given). */
function runFolder(metrics?: string): string {
  const run = join(dir.path, `run${++folders}`);
  mkdirSync(run, { recursive: true });
  if (metrics !== undefined) writeFileSync(join(run, 'metrics.json'), metrics);
  return run;
}

const record = (step: number): MetricRecord => ({
  metric: 'voc07',
  value: 0.5,
  extras: {},
  perClass: [{ name: 'circle', ap: 0.5 }],
  step,
  elapsedSec: step,
  split: 'test',
  images: 8,
});

test('each code has one exit status, and every error a command reports on purpose carries its code', () => {
  assert.deepEqual(
    Object.fromEntries(Object.entries(ERROR_CODES).map(([code, c]) => [code, c.exit])),
    {
      usage: 2,
      input: 2,
      spec: 1,
      io: 3,
      data: 2,
      backend: 2,
      detections: 2,
      'run-exists': 2,
      'run-busy': 2,
      'out-of-memory': 1,
      resume: 1,
      weights: 1,
      'loss-not-finite': 1,
      'loss-exploded': 1,
      internal: 1,
    },
    'the statuses the editor and scripts rely on',
  );
  assert.deepEqual([EXIT.ok, EXIT.failed, EXIT.usage, EXIT.io, EXIT.SIGINT, EXIT.SIGTERM], [0, 1, 2, 3, 130, 143]);
  const cases: [EngineError, string, number, string | null][] = [
    [new UsageError('x'), 'usage', 2, null],
    [new DataSourceError('x'), 'data', 2, null],
    [new IoError('x', '/a/b', 'ENOSPC'), 'io', 3, '/a/b'],
    [new TrainError('run-busy', 'x'), 'run-busy', 2, null],
    [new TrainError('resume', 'x'), 'resume', 1, null],
    [new InferenceError('weights', 'x'), 'weights', 1, null],
  ];
  for (const [e, code, exit, where] of cases) {
    assert.ok(e instanceof EngineError, code);
    assert.deepEqual([e.code, e.exitStatus, e.where], [code, exit, where]);
  }
});

describe('a damaged metrics.json is reported, never replaced', () => {
  test('no metrics.json: no evaluations yet', () => {
    assert.deepEqual(readMetrics(runFolder()), []);
  });

  const damaged: [string, string, RegExp][] = [
    ['truncated JSON', '{"version":1,"evaluations":[{"metric":"voc07"', /metrics\.json: not valid JSON \(/],
    ['not an object', '[1, 2]', /metrics\.json: not a metrics document/],
    ['another version', '{"version":2,"evaluations":[]}', /metrics\.json: "version" is 2, not 1/],
    ['no evaluations list', '{"version":1,"evaluations":{}}', /metrics\.json: "evaluations" is not a list/],
    [
      'a bad record',
      JSON.stringify({ version: 1, evaluations: [record(3), { ...record(6), step: 'six' }] }),
      /metrics\.json: evaluations\[1\]\.step is "six", not a step number or null/,
    ],
  ];
  for (const [what, text, message] of damaged) {
    test(`${what}: an error with the file's path and what is wrong; adding or dropping evaluations leaves the file as it was`, async () => {
      const run = runFolder(text);
      const file = join(run, 'metrics.json');
      assert.throws(
        () => readMetrics(run),
        (e: unknown) => {
          assert.ok(e instanceof MetricsFileError);
          assert.equal(e.path, file);
          assert.equal(e.where, file);
          assert.equal(e.code, 'input');
          assert.equal(e.exitStatus, 2);
          assert.ok(e.message.startsWith(file), e.message);
          assert.match(e.message, message);
          assert.match(e.message, /not overwritten/);
          return true;
        },
      );
      await assert.rejects(recordMetric(run, record(9)), MetricsFileError);
      await assert.rejects(recordMetric(run, record(9), { keepOthers: true }), MetricsFileError);
      await assert.rejects(dropMetricsAfter(run, 0), MetricsFileError);
      assert.equal(readFileSync(file, 'utf8'), text, 'the file is untouched');
    });
  }

  test('a sound one is read and added to as before', async () => {
    const run = runFolder(JSON.stringify({ version: 1, evaluations: [record(3), record(6)] }));
    await recordMetric(run, record(4), { keepOthers: true });
    assert.deepEqual(
      readMetrics(run).map((e) => e.step),
      [3, 4, 6],
    );
    assert.equal(await dropMetricsAfter(run, 4), 1);
    assert.deepEqual(
      readMetrics(run).map((e) => e.step),
      [3, 4],
    );
  });
});

describe('trainings and inference', () => {
  let data: { train: DetectionDataset; test: DetectionDataset };
  before(async () => {
    await prepareWasm();
    assert.ok(await tf.setBackend('wasm'));
    await microData(join(dir.path, 'data'), 16);
    data = await loadMicroSplits(join(dir.path, 'data'));
  });

  test('a training into a folder whose metrics.json is damaged is refused before its first step, and the file is kept', async () => {
    const text = '{"version":1,"evaluations":[';
    const run = runFolder(text);
    let accepted = false;
    await assert.rejects(
      trainMicro({ specText: microSpec(), runDir: run, ...data, maxSteps: 3, onAccepted: () => (accepted = true) }),
      (e: unknown) => e instanceof MetricsFileError && e.path === join(run, 'metrics.json'),
    );
    assert.equal(accepted, false, 'refused before the run was accepted');
    assert.equal(readFileSync(join(run, 'metrics.json'), 'utf8'), text);
  });

  test('weights that cannot be loaded are an inference error (code weights, exit status 1), not a training error', () => {
    const specPath = join(dir.path, 'micro.dsod.yaml');
    writeFileSync(specPath, microSpec());
    const spec = loadSpec(specPath);
    const garbage = join(dir.path, 'garbage.dsodw');
    writeFileSync(garbage, 'not weights at all');
    for (const weights of [garbage, join(dir.path, 'missing.dsodckpt')]) {
      assert.throws(
        () => loadTrainedModel(spec, weights),
        (e: unknown) => {
          assert.ok(e instanceof InferenceError, `${weights}: ${String(e)}`);
          assert.ok(!(e instanceof TrainError));
          assert.deepEqual([e.code, e.exitStatus], ['weights', 1]);
          assert.ok(e.message.includes(weights), e.message);
          return true;
        },
      );
    }
  });
});
