// The installed extension can run the engine: package the platform .vsix (scripts/package-vsix.mjs, as `npm run
// package` and the e2e harness do), unpack it into a temporary folder far from this checkout, and train the tiny
// example for two steps with the unpacked extension's own dist/dsod.js through the run manager's process layer. The
// tfjs wasm binaries and sharp (native addon + libvips) must come from the package: a copy without sharp must fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EngineProcess } from '../../client/runs/engineProcess';
import type { EngineEvent } from '../../protocol/engine-events';
import { repoRoot } from '../helpers';
import { extractZip, type ZipEntry } from './zip';

let dir: string;
let ext: string;
let entries: ZipEntry[];
let data: string;
const target = `${process.platform}-${process.arch}`;

/** The environment of a user's machine: nothing pointing into this checkout. */
function cleanEnv(): Record<string, string | undefined> {
  return { NODE_PATH: undefined, DSOD_TFJS_WASM_DIR: undefined, NODE_OPTIONS: undefined };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dsod-vsix-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the platform .vsix carries the bundles, the wasm binaries, sharp with its native binary and the demo spec', (t) => {
  if (target !== 'linux-x64') t.diagnostic(`packaging for ${target}`);
  const vsix = join(dir, 'dsod-studio.vsix');
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package-vsix.mjs'), '--out', vsix], { encoding: 'utf8', cwd: repoRoot });
  assert.equal(r.status, 0, r.stderr);
  const bytes = statSync(vsix).size;
  t.diagnostic(`vsix size: ${(bytes / 2 ** 20).toFixed(1)} MiB (${bytes} bytes)`);
  assert.ok(bytes < 40 * 2 ** 20, `the .vsix is ${(bytes / 2 ** 20).toFixed(1)} MiB`);
  ext = join(dir, 'installed');
  entries = extractZip(vsix, ext);
  ext = join(ext, 'extension');
  const names = new Set(entries.map((e) => e.name));
  for (const f of [
    'extension/package.json',
    'extension/dist/dsod.js',
    'extension/dist/client/extension.js',
    'extension/dist/server/main.js',
    'extension/dist/wasm/tfjs-backend-wasm.wasm',
    'extension/dist/wasm/tfjs-backend-wasm-simd.wasm',
    'extension/dist/wasm/tfjs-backend-wasm-threaded-simd.wasm',
    // The threaded build's Emscripten script: its pthread workers load it by path (DSOD_WASM_THREADS=N).
    'extension/dist/wasm/tfjs-backend-wasm-threaded-simd.js',
    'extension/dist/node_modules/sharp/package.json',
    'extension/dist/node_modules/sharp/dist/index.cjs',
    'extension/dist/node_modules/detect-libc/package.json',
    'extension/dist/node_modules/semver/package.json',
    'extension/dist/node_modules/@img/colour/package.json',
    'extension/examples/tiny.dsod.yaml',
    // The torch engine's Python package (engine/torch/python.ts torchPackageRoot looks beside the bundle first) and the
    // published ONNX schema the ONNX export reads.
    'extension/dist/dsod_torch/__main__.py',
    'extension/dist/dsod_torch/train.py',
    'extension/dist/onnx.proto',
  ])
    assert.ok(names.has(f), `${f} is not in the package`);
  if (target === 'linux-x64') {
    assert.ok(
      [...names].some((n) => /^extension\/dist\/node_modules\/@img\/sharp-linux-x64\/lib\/sharp-linux-x64-[\d.]+\.node$/.test(n)),
      'no sharp addon',
    );
    assert.ok(
      [...names].some((n) => /^extension\/dist\/node_modules\/@img\/sharp-libvips-linux-x64\/lib\/libvips-cpp\.so/.test(n)),
      'no libvips',
    );
  }
  // Dawn for WebGPU (an optional dependency): its JavaScript and this platform's addon only.
  let dawnInstalled = true;
  try {
    require.resolve('webgpu/package.json');
  } catch {
    dawnInstalled = false;
  }
  if (dawnInstalled && target === 'linux-x64') {
    for (const f of [
      'extension/dist/node_modules/webgpu/package.json',
      'extension/dist/node_modules/webgpu/index.js',
      'extension/dist/node_modules/webgpu/dist/linux-x64/dawn.node',
    ])
      assert.ok(names.has(f), `${f} is not in the package`);
    const otherPlatforms = [...names].filter((n) => n.startsWith('extension/dist/node_modules/webgpu/dist/') && !n.includes('/dist/linux-x64/'));
    assert.deepEqual(otherPlatforms, []);
  }
  // Nothing for development.
  const dev = [...names].filter((n) => /\.map$|\.d\.[cm]?ts$|^extension\/(core|engine|server|client|protocol|test|node_modules|out)\//.test(n));
  assert.deepEqual(dev, []);
  // The manifest says which platform it is for.
  const manifest = entries.find((e) => e.name === 'extension.vsixmanifest');
  assert.ok(manifest);
});

test('the unpacked extension trains the tiny example with its own engine, wasm binaries and sharp', async () => {
  assert.ok(ext && existsSync(join(ext, 'dist', 'dsod.js')), 'the packaging test must run first');
  const engine = join(ext, 'dist', 'dsod.js');
  data = join(dir, 'data');
  const synth = spawnSync(process.execPath, [engine, 'synth', '--out', data, '--count', '24'], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, ...cleanEnv() },
  });
  assert.equal(synth.status, 0, synth.stderr);
  const spec = join(ext, 'examples', 'tiny.dsod.yaml');
  const p = new EngineProcess({
    enginePath: engine,
    command: 'train',
    args: [spec, '--data', data, '--out', join(dir, 'run'), '--steps', '2', '--backend', 'wasm'],
    cwd: dir,
    env: cleanEnv(),
  });
  const events: EngineEvent[] = [];
  p.onEvent((e) => events.push(e));
  const result = await p.result;
  assert.equal(result.status, 'completed', `${result.message}\n${result.stderr}`);
  assert.equal(result.done?.reason, 'step-limit');
  assert.equal(result.done?.step, 2);
  const doctor = events.find((e) => e.type === 'doctor');
  assert.ok(doctor && doctor.type === 'doctor');
  assert.equal(doctor.chosen, 'wasm');
  const wasm = doctor.attempts.find((a) => a.name === 'wasm');
  assert.ok(wasm?.ok && wasm.detail.includes(join(ext, 'dist', 'wasm')), `wasm binaries not from the package: ${wasm?.detail}`);
  assert.ok((result.start?.images.train ?? 0) > 0);
  assert.ok(events.some((e) => e.type === 'checkpoint'));
});

test('`dsod demo` of the unpacked extension finds its tiny spec', () => {
  const engine = join(ext, 'dist', 'dsod.js');
  const r = spawnSync(process.execPath, [engine, 'demo', '--data', data, '--out', join(dir, 'demo'), '--steps', '1', '--backend', 'wasm', '--json'], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, ...cleanEnv() },
  });
  assert.equal(r.status, 0, r.stderr);
  const start = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((e) => e.type === 'start');
  assert.equal(start?.spec, join(ext, 'examples', 'tiny.dsod.yaml'));
});

test('control: without the packaged sharp, the same run fails (the passing run did not borrow the checkout)', () => {
  const engine = join(ext, 'dist', 'dsod.js');
  renameSync(join(ext, 'dist', 'node_modules', 'sharp'), join(ext, 'dist', 'node_modules', 'sharp-away'));
  try {
    const r = spawnSync(
      process.execPath,
      [engine, 'train', join(ext, 'examples', 'tiny.dsod.yaml'), '--data', data, '--out', join(dir, 'run-no-sharp'), '--steps', '1', '--backend', 'wasm'],
      { encoding: 'utf8', cwd: dir, env: { ...process.env, ...cleanEnv() } },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /sharp/i);
  } finally {
    renameSync(join(ext, 'dist', 'node_modules', 'sharp-away'), join(ext, 'dist', 'node_modules', 'sharp'));
  }
});
