// The engine's event schema (protocol/engine-events.ts): every event type validates, a wrong field or version is
// refused with a message that names it, and the protocol file stays importable by browser code (no node imports).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ENGINE_EVENTS_VERSION, isEngineEvent, makeEvent, parseEngineEventLine, validateEngineEvent, type EventBody } from '../../protocol/engine-events';
import { repoRoot } from '../helpers';

const NOW = new Date('2025-01-02T03:04:05.000Z');

const SAMPLES: EventBody[] = [
  {
    type: 'start',
    command: 'train',
    spec: 'examples/tiny.dsod.yaml',
    name: 'tiny',
    runDir: 'runs/tiny',
    step: 0,
    steps: 600,
    batch: 16,
    accumulate: 1,
    images: { train: 1600, test: 400 },
    resumed: false,
  },
  {
    type: 'doctor',
    chosen: 'wasm',
    tfBackend: 'wasm',
    requested: 'auto',
    reason: 'the fastest available',
    attempts: [{ name: 'wasm', ok: true, detail: 'SIMD on', ms: 12 }],
  },
  { type: 'log', level: 'warn', message: 'skipped 1 image' },
  { type: 'progress', epoch: 0.5, step: 50, steps: 600, loss: 7.5, parts: { loc: 2.5, conf: 5 }, lr: 0.05, imgPerSec: 25.1, etaSec: null, elapsedSec: 30 },
  { type: 'checkpoint', step: 200, path: 'runs/tiny/checkpoints/step-00000200.dsodckpt', bytes: 1858504, reason: 'interval' },
  {
    type: 'metric',
    metric: 'voc07',
    value: 0.81,
    extras: { mapArea: 0.83 },
    perClass: [
      { name: 'circle', ap: 0.9 },
      { name: 'square', ap: null },
    ],
    step: 200,
    elapsedSec: 120,
    split: 'test',
    images: 400,
    curves: null,
  },
  { type: 'error', code: 'loss-not-finite', message: 'the loss became NaN', where: null, fatal: true },
  { type: 'done', reason: 'completed', step: 600, elapsedSec: 600, exitCode: 0, metric: { metric: 'voc07', value: 0.81 } },
  { type: 'detections', step: 200, path: '/tmp/dsod-torch-eval-x/detections-step-00000200.json', images: 400, final: false, elapsedSec: 120 },
];

/** The torch engine's doctor (optional fields of v1): its choices and what is missing with the fix. */
const TORCH_DOCTOR: EventBody = {
  type: 'doctor',
  chosen: 'torch-cpu',
  tfBackend: 'none',
  requested: 'torch',
  reason: 'PyTorch 1.13.0 on cpu (no GPU)',
  attempts: [{ name: '/usr/bin/python3', ok: true, detail: 'torch 1.13.0', ms: 0 }],
  engine: 'torch',
  torch: {
    python: '/usr/bin/python3',
    pythonVersion: '3.11.2',
    version: '1.13.0',
    device: 'cpu',
    cuda: null,
    gpus: 0,
    precision: 'fp32',
    worldSize: 1,
    distributed: null,
    threads: 2,
    imageDecoder: 'node',
  },
  missing: [{ problem: 'no CUDA', fix: 'pip install torch --index-url https://download.pytorch.org/whl/cu121' }],
};

test('one sample of every event type validates, through a JSON line and back', () => {
  assert.deepEqual([...new Set(SAMPLES.map((s) => s.type))].length, 9);
  for (const body of [...SAMPLES, TORCH_DOCTOR]) {
    const event = makeEvent(body, NOW);
    assert.equal(event.v, ENGINE_EVENTS_VERSION);
    assert.equal(event.time, '2025-01-02T03:04:05.000Z');
    const r = parseEngineEventLine(JSON.stringify(event));
    assert.deepEqual(r, { ok: true, event }, body.type);
    assert.ok(isEngineEvent(event));
  }
});

test('problems are named: version, type, each bad field; extra fields are allowed', () => {
  const progress = makeEvent(SAMPLES[3], NOW) as unknown as Record<string, unknown>;
  assert.deepEqual(validateEngineEvent({ ...progress, v: 2 }), {
    ok: false,
    error: 'event version 2 is not 1: this reader and the engine that wrote it disagree',
  });
  assert.deepEqual(validateEngineEvent({ ...progress, type: 'progres' }), { ok: false, error: 'unknown event type "progres"' });
  assert.deepEqual(validateEngineEvent({ ...progress, loss: 'x', lr: -1 }), { ok: false, error: 'progress: invalid or missing "loss", "lr"' });
  assert.deepEqual(validateEngineEvent({ ...progress, parts: { loc: 1 } }), { ok: false, error: 'progress: invalid or missing "parts"' });
  assert.deepEqual(validateEngineEvent({ ...progress, time: 'yesterday' }), { ok: false, error: 'progress: "time" must be an ISO 8601 string' });
  assert.equal(validateEngineEvent({ ...progress, gpuTemp: 71 }).ok, true);
  assert.equal(validateEngineEvent([progress]).ok, false);
  assert.match((parseEngineEventLine('{"v":1,') as { error: string }).error, /^not JSON: /);
  const done = makeEvent(SAMPLES[7], NOW) as unknown as Record<string, unknown>;
  assert.equal(validateEngineEvent({ ...done, reason: 'finished' }).ok, false);
  assert.equal(validateEngineEvent({ ...done, exitCode: -1 }).ok, false);
});

test("the torch engine's doctor fields and the detections hand-over are checked like every field", () => {
  const doctor = makeEvent(TORCH_DOCTOR, NOW) as unknown as Record<string, unknown>;
  const torch = doctor.torch as Record<string, unknown>;
  assert.equal(validateEngineEvent({ ...doctor, engine: 'jax' }).ok, false);
  assert.deepEqual(validateEngineEvent({ ...doctor, torch: { ...torch, precision: 'fp8' } }), { ok: false, error: 'doctor: invalid or missing "torch"' });
  assert.equal(validateEngineEvent({ ...doctor, torch: { ...torch, worldSize: undefined } }).ok, false);
  assert.equal(validateEngineEvent({ ...doctor, missing: [{ problem: 'no CUDA' }] }).ok, false);
  const detections = makeEvent(SAMPLES[8], NOW) as unknown as Record<string, unknown>;
  assert.deepEqual(validateEngineEvent({ ...detections, final: 'yes', images: -1 }), { ok: false, error: 'detections: invalid or missing "images", "final"' });
});

test('the protocol file imports only the checker kit, which imports nothing, so the VS Code client and webview can bundle it', () => {
  const source = readFileSync(join(repoRoot, 'protocol', 'engine-events.ts'), 'utf8');
  const imports = [...source.matchAll(/^\s*import\s[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
  assert.deepEqual(imports, ['./checks']);
  assert.doesNotMatch(source, /require\(/);
  const kit = readFileSync(join(repoRoot, 'protocol', 'checks.ts'), 'utf8');
  assert.doesNotMatch(kit, /^\s*import\s/m);
  assert.doesNotMatch(kit, /require\(/);
});
