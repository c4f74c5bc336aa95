// The tfjs engine's GPU path, for real: the bundled `dsod` (dist/dsod.js) trains through WebGPU (Dawn, the optional
// `webgpu` package, with @tensorflow/tfjs-backend-webgpu inside the bundle) and its losses equal the wasm engine's.
// Machines without a GPU run it on Mesa's software Vulkan (lavapipe; scripts/webgpu-setup.sh installs Mesa 25, which
// Dawn accepts) with DSOD_WEBGPU_ALLOW_CPU_ADAPTER=1. Skipped, with the reason, where `webgpu` is not installed or no
// Vulkan driver is: where lavapipe is installed the test must run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ALLOW_CPU_ADAPTER_ENV } from '../../engine/backend';
import { readVulkanFacts } from '../../engine/backend';
import type { DoctorEvent, ProgressEvent } from '../../protocol/engine-events';
import { parseEventLines, repoRoot } from '../helpers';
import { microWorkspace, tempDir } from './train-fixtures';

const bin = join(repoRoot, 'dist', 'dsod.js');

function webgpuInstalled(): boolean {
  try {
    require.resolve('webgpu');
    return true;
  } catch {
    return false;
  }
}

const lavapipe = readVulkanFacts().icds.some((i) => i.startsWith('lvp'));
const skip = !webgpuInstalled()
  ? 'the optional dependency `webgpu` is not installed'
  : !lavapipe && !readVulkanFacts().nvidiaDriver && readVulkanFacts().renderNodes === 0
    ? 'no GPU and no software Vulkan driver (bash scripts/webgpu-setup.sh installs Mesa 25 lavapipe)'
    : false;

let dir: ReturnType<typeof tempDir>;
let spec: string;
let data: string;

before(async () => {
  if (skip) return;
  ({ dir, data, spec } = await microWorkspace(
    'webgpu',
    16,
    '{ batch: 4, lr: 0.05, warmup: 2, milestones: [100], iterations: 200, checkpoint_every: 100, seed: 1 }',
  ));
});
after(() => dir?.remove());

function trainWith(backend: string): { doctor: DoctorEvent; losses: ProgressEvent[] } {
  const r = spawnSync(
    process.execPath,
    [bin, 'train', spec, '--data', data, '--out', join(dir.path, `run-${backend}`), '--backend', backend, '--steps', '3', '--eval-every', '0', '--json'],
    {
      cwd: dir.path,
      encoding: 'utf8',
      env: { ...process.env, [ALLOW_CPU_ADAPTER_ENV]: '1' },
      timeout: 600_000,
    },
  );
  assert.equal(r.status, 0, `dsod train --backend ${backend} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const events = parseEventLines(r.stdout);
  const doctor = events.find((e): e is DoctorEvent => e.type === 'doctor');
  assert.ok(doctor, 'a doctor event');
  return { doctor, losses: events.filter((e): e is ProgressEvent => e.type === 'progress') };
}

test("training through WebGPU (Dawn) gives the wasm engine's losses, step by step", { skip }, () => {
  assert.ok(existsSync(bin), 'dist/dsod.js: npm run build first');
  const gpu = trainWith('webgpu');
  assert.equal(gpu.doctor.chosen, 'webgpu', `webgpu was not chosen: ${JSON.stringify(gpu.doctor.attempts)}`);
  assert.equal(gpu.doctor.tfBackend, 'webgpu');
  const cpu = trainWith('wasm');
  assert.equal(cpu.doctor.tfBackend, 'wasm');
  assert.deepEqual(
    gpu.losses.map((p) => p.step),
    [1, 2, 3],
  );
  assert.deepEqual(
    cpu.losses.map((p) => p.step),
    [1, 2, 3],
  );
  // Same seed, same data, same schedule: the first step differs only by float32 rounding of different kernels (3e-7
  // was seen); later steps compound it through the updates.
  for (const [i, tolerance] of [1e-5, 1e-4, 1e-4].entries()) {
    const a = gpu.losses[i];
    const b = cpu.losses[i];
    for (const [name, x, y] of [
      ['loss', a.loss, b.loss],
      ['loc', a.parts.loc, b.parts.loc],
      ['conf', a.parts.conf, b.parts.conf],
    ] as const) {
      assert.ok(Math.abs(x - y) <= tolerance * Math.abs(y), `step ${i + 1} ${name}: webgpu ${x} vs wasm ${y}`);
    }
  }
});
