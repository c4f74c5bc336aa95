// Backend selection: the order, the reasons, --backend honoured or refused clearly; the optional packages are
// faked through injected loaders and an injected require, since they cannot be installed here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  BACKEND_ORDER,
  ALLOW_CPU_ADAPTER_ENV,
  BackendError,
  BackendUnavailable,
  defaultLoaders,
  formatDoctor,
  selectBackend,
  type BackendChoice,
  type BackendLoader,
  type RequireFn,
} from '../../engine/backend';
import { findWasmDir, prepareWasm } from '../../engine/backend/wasm';

const unavailable =
  (why: string): BackendLoader =>
  async () => {
    throw new BackendUnavailable(why);
  };
const available =
  (tfBackend: string, detail = `${tfBackend} ok`): BackendLoader =>
  async () => ({ tfBackend, detail });

/** Loaders for all five, each unavailable unless given; activation only records what it was asked for. */
function fakes(overrides: Partial<Record<BackendChoice, BackendLoader>>) {
  const activated: string[] = [];
  const loaders = Object.fromEntries(BACKEND_ORDER.map((n) => [n, overrides[n] ?? unavailable(`${n} is not installed`)])) as Record<
    BackendChoice,
    BackendLoader
  >;
  return { loaders, activated, activate: async (name: string) => void activated.push(name) };
}

test('auto: the first backend that loads wins, in the order tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu', async () => {
  const f = fakes({ webgpu: unavailable('no GPU adapter'), wasm: available('wasm'), cpu: available('cpu') });
  const report = await selectBackend({ loaders: f.loaders, activate: f.activate, now: () => 0 });
  assert.equal(report.chosen, 'wasm');
  assert.equal(report.tfBackend, 'wasm');
  assert.equal(report.requested, 'auto');
  assert.deepEqual(
    report.attempts.map((a) => [a.name, a.ok, a.detail]),
    [
      ['tfjs-node-gpu', false, 'tfjs-node-gpu is not installed'],
      ['tfjs-node', false, 'tfjs-node is not installed'],
      ['webgpu', false, 'no GPU adapter'],
      ['wasm', true, 'wasm ok'],
    ],
  );
  assert.equal(report.reason, 'the fastest available (tfjs-node-gpu, tfjs-node, webgpu could not load)');
  assert.deepEqual(f.activated, ['wasm'], 'cpu is never tried once wasm works');
  assert.equal(
    formatDoctor(report),
    [
      'backend: wasm - the fastest available (tfjs-node-gpu, tfjs-node, webgpu could not load)',
      '  ✗ tfjs-node-gpu: tfjs-node-gpu is not installed',
      '  ✗ tfjs-node: tfjs-node is not installed',
      '  ✗ webgpu: no GPU adapter',
      '  ✓ wasm: wasm ok',
    ].join('\n'),
  );
});

test('auto: a GPU package that is present wins; one that loads but cannot initialise is skipped', async () => {
  const gpu = fakes({ 'tfjs-node-gpu': available('tensorflow'), wasm: available('wasm') });
  const r1 = await selectBackend({ loaders: gpu.loaders, activate: gpu.activate });
  assert.equal(r1.chosen, 'tfjs-node-gpu');
  assert.equal(r1.reason, 'the fastest backend, available');
  const broken = fakes({ webgpu: available('webgpu'), wasm: available('wasm') });
  const r2 = await selectBackend({
    loaders: broken.loaders,
    activate: async (name) => {
      if (name === 'webgpu') throw new Error('device lost\nstack...');
      broken.activated.push(name);
    },
  });
  assert.equal(r2.chosen, 'wasm');
  assert.deepEqual(
    r2.attempts.find((a) => a.name === 'webgpu'),
    { name: 'webgpu', ok: false, detail: 'failed: device lost', ms: r2.attempts[2].ms },
  );
});

test('--backend is honoured exactly, and never falls back', async () => {
  const f = fakes({ wasm: available('wasm'), cpu: available('cpu') });
  const r = await selectBackend({ requested: 'cpu', loaders: f.loaders, activate: f.activate });
  assert.equal(r.chosen, 'cpu');
  assert.equal(r.reason, 'requested with --backend cpu');
  assert.deepEqual(
    r.attempts.map((a) => a.name),
    ['cpu'],
  );

  const g = fakes({ webgpu: unavailable('no GPU adapter (Dawn found no Vulkan, Metal or D3D12 device)'), wasm: available('wasm') });
  await assert.rejects(selectBackend({ requested: 'webgpu', loaders: g.loaders, activate: g.activate }), (e: unknown) => {
    assert.ok(e instanceof BackendError);
    assert.equal(
      e.message,
      '--backend webgpu is not available: no GPU adapter (Dawn found no Vulkan, Metal or D3D12 device). To use it: npm install webgpu@0.6.2 (Dawn: an optional dependency, absent after --omit=optional), on a machine with a GPU (Vulkan, Metal or D3D12); or drop --backend to pick the fastest available.',
    );
    assert.deepEqual(
      e.attempts.map((a) => a.name),
      ['webgpu'],
    );
    return true;
  });
  assert.deepEqual(g.activated, [], 'wasm was not used instead');
});

test('an unknown --backend name is refused with the valid choices', async () => {
  await assert.rejects(selectBackend({ requested: 'gpu' }), {
    message: 'unknown backend "gpu": choose one of tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu (or auto)',
  });
  const f = fakes({ cpu: available('cpu') });
  assert.equal((await selectBackend({ requested: ' auto ', loaders: f.loaders, activate: f.activate })).chosen, 'cpu');
});

test('the default loaders tell "not installed" from "installed but broken"', async () => {
  const missing: RequireFn = (name) => {
    const e = new Error(`Cannot find module '${name}'`) as NodeJS.ErrnoException;
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  };
  const broken: RequireFn = (name) => {
    if (name.endsWith('package.json')) return { version: '4.22.0' };
    throw new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory\n    at Module._extensions');
  };
  const reasons = async (req: RequireFn) => {
    const loaders = defaultLoaders(req);
    const out: string[] = [];
    for (const name of ['tfjs-node-gpu', 'tfjs-node', 'webgpu'] as const) {
      await loaders[name]().then(
        () => out.push(`${name}: loaded`),
        (e: Error) => out.push(`${name}: ${e.message}`),
      );
    }
    return out;
  };
  assert.deepEqual(await reasons(missing), [
    'tfjs-node-gpu: @tensorflow/tfjs-node-gpu is not installed',
    'tfjs-node: @tensorflow/tfjs-node is not installed',
    'webgpu: webgpu is not installed',
  ]);
  assert.deepEqual(await reasons(broken), [
    'tfjs-node-gpu: @tensorflow/tfjs-node-gpu is installed but failed to load: libcudart.so.11.0: cannot open shared object file: No such file or directory',
    'tfjs-node: @tensorflow/tfjs-node is installed but failed to load: libcudart.so.11.0: cannot open shared object file: No such file or directory',
    'webgpu: webgpu is installed but failed to load: libcudart.so.11.0: cannot open shared object file: No such file or directory',
  ]);
  // A tfjs-node built against another tfjs-core registers its backend where we cannot see it.
  const elsewhere: RequireFn = (name) => (name.endsWith('package.json') ? { version: '4.10.0' } : {});
  await assert.rejects(defaultLoaders(elsewhere)['tfjs-node'](), {
    message: `@tensorflow/tfjs-node@4.10.0 loaded, but registered into another copy of @tensorflow/tfjs-core; install @tensorflow/tfjs-node@${tf.version_core}`,
  });
});

test('webgpu: no adapter, or only a CPU rasterizer, is not a GPU (unless allowed for tests); navigator is left as it was', async () => {
  const dawn =
    (adapter: unknown): RequireFn =>
    (name) => {
      if (name === 'webgpu') return { create: () => ({ requestAdapter: async () => adapter }), globals: {} };
      if (name.endsWith('package.json')) return { version: '0.6.2' };
      return {};
    };
  const registersNothing = async () => ({});
  const hadNavigator = 'navigator' in globalThis;
  // The Vulkan advice after the colon depends on the machine (test/engine/vulkan.test.ts covers it).
  await assert.rejects(defaultLoaders(dawn(null), registersNothing).webgpu(), { message: /^no GPU adapter: \S/ });
  const llvmpipe = { info: { vendor: 'mesa', architecture: '', device: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } };
  await assert.rejects(defaultLoaders(dawn(llvmpipe), registersNothing).webgpu(), {
    message: /^only a CPU adapter \(mesa llvmpipe \(LLVM 15\.0\.6, 256 bits\)\), slower than wasm: \S/,
  });
  process.env[ALLOW_CPU_ADAPTER_ENV] = '1';
  try {
    // Allowed, the CPU adapter gets as far as the backend's registration.
    await assert.rejects(defaultLoaders(dawn(llvmpipe), registersNothing).webgpu(), { message: '@tensorflow/tfjs-backend-webgpu did not register' });
  } finally {
    delete process.env[ALLOW_CPU_ADAPTER_ENV];
  }
  await assert.rejects(defaultLoaders(dawn({ info: { vendor: 'nvidia', description: 'NVIDIA H200' } }), registersNothing).webgpu(), {
    message: '@tensorflow/tfjs-backend-webgpu did not register',
  });
  const broken = async () => {
    throw new Error('Unexpected token\n at ...');
  };
  await assert.rejects(defaultLoaders(dawn({ info: { vendor: 'nvidia', description: 'NVIDIA H200' } }), broken).webgpu(), {
    message: '@tensorflow/tfjs-backend-webgpu failed to load: Unexpected token',
  });
  assert.equal('navigator' in globalThis, hadNavigator);
  assert.equal((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu, undefined);
});

test('wasm binaries: found in the package, refused with the folders searched when missing', async () => {
  assert.ok(findWasmDir(), 'the installed package ships its .wasm files');
  assert.equal(findWasmDir(['/nonexistent/a', '/nonexistent/b']), null);
  await assert.rejects(prepareWasm({ dir: '/nonexistent/wasm' }), {
    message: 'the tfjs wasm binaries (tfjs-backend-wasm.wasm) are in none of: /nonexistent/wasm',
  });
});

test('on this machine: auto picks wasm (loaded offline from disk) and says why; --backend cpu works', async () => {
  const report = await selectBackend();
  assert.equal(report.chosen, 'wasm', formatDoctor(report));
  assert.equal(tf.getBackend(), 'wasm');
  assert.deepEqual(
    report.attempts.map((a) => a.name),
    ['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm'],
  );
  assert.match(report.attempts[0].detail, /^@tensorflow\/tfjs-node-gpu is (not installed|installed but failed to load)/);
  assert.match(report.attempts[3].detail, /^XNNPACK, SIMD (on|off), \d threads? \(.+\), binaries from \/.+; training kernels registered$/);
  assert.ok(report.threads !== undefined && report.threads >= 1, 'the wasm backend says how many threads it computes with');
  const cpu = await selectBackend({ requested: 'cpu' });
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(cpu.reason, 'requested with --backend cpu');
});
