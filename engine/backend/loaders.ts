// How each tfjs backend is made available on this machine. Optional packages are required by name at run time
// (never bundled, never a dependency): @tensorflow/tfjs-node-gpu and -node cannot install offline (their install
// downloads libtensorflow). webgpu: `webgpu` (Dawn, a native addon per platform) is an optional dependency required at
// run time; @tensorflow/tfjs-backend-webgpu (plain JavaScript) is bundled, imported lazily, so that it registers into the
// bundle's own tfjs-core (a second copy loaded from node_modules would register into nothing).
import * as tf from '@tensorflow/tfjs';
import { EngineError } from '../errors';
import { diagnoseVulkan } from './vulkan';
import { prepareWasm } from './wasm';

export type BackendChoice = 'tfjs-node-gpu' | 'tfjs-node' | 'webgpu' | 'wasm' | 'cpu';

/** Fastest first: the order of automatic selection. */
export const BACKEND_ORDER: readonly BackendChoice[] = ['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu'];

export interface Loaded {
  /** The name tfjs registered the backend under (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  tfBackend: string;
  detail: string;
  /** CPU threads it computes with, where it says (wasm). */
  threads?: number;
}

/** Makes a backend available, or throws a `BackendUnavailable` that says why in a few words. */
export type BackendLoader = () => Promise<Loaded>;

export class BackendUnavailable extends Error {}

export const INSTALL_HINTS: Record<BackendChoice, string> = {
  'tfjs-node-gpu': 'npm install @tensorflow/tfjs-node-gpu@4.22.0 (downloads libtensorflow; needs CUDA 11.2 and cuDNN 8)',
  'tfjs-node': 'npm install @tensorflow/tfjs-node@4.22.0 (downloads libtensorflow)',
  webgpu: 'npm install webgpu@0.6.2 (Dawn: an optional dependency, absent after --omit=optional), on a machine with a GPU (Vulkan, Metal or D3D12)',
  wasm: 'reinstall @tensorflow/tfjs-backend-wasm@4.22.0 (its dist/*.wasm files are missing)',
  cpu: 'always available',
};

export type RequireFn = (name: string) => unknown;

// A plain function call keeps bundlers from resolving optional packages at build time (so not an import).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeRequire: RequireFn = (name) => require(name);

/** require(), with "not installed" and "failed to load" told apart. */
export function requireOptional(req: RequireFn, name: string): unknown {
  try {
    return req(name);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(name)) throw new BackendUnavailable(`${name} is not installed`);
    throw new BackendUnavailable(`${name} is installed but failed to load: ${firstLine(err.message)}`);
  }
}

function firstLine(s: unknown): string {
  return String(s).split('\n')[0].slice(0, 300);
}

function packageVersion(req: RequireFn, name: string): string {
  try {
    return (req(`${name}/package.json`) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** tfjs-node(-gpu) registers the `tensorflow` backend into the @tensorflow/tfjs-core it was installed with. */
function tfjsNodeLoader(pkg: 'tfjs-node' | 'tfjs-node-gpu', req: RequireFn): BackendLoader {
  return async () => {
    const name = `@tensorflow/${pkg}`;
    requireOptional(req, name);
    const version = packageVersion(req, name);
    if (!tf.findBackendFactory('tensorflow')) {
      throw new BackendUnavailable(`${name}@${version} loaded, but registered into another copy of @tensorflow/tfjs-core; install ${name}@${tf.version_core}`);
    }
    return { tfBackend: 'tensorflow', detail: `${name}@${version} (libtensorflow${pkg === 'tfjs-node-gpu' ? ', CUDA' : ''})` };
  };
}

interface DawnAdapter {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface DawnGpu {
  requestAdapter(options?: { powerPreference?: string }): Promise<DawnAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

/** Software rasterizers that Dawn may offer: correct but far slower than wasm for training. */
const CPU_ADAPTER = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

/**
 * Set to 1 to train on a CPU (software) Vulkan adapter such as Mesa's lavapipe: for tests of the WebGPU path on machines
 * without a GPU (CI compares its losses with wasm's), never faster than wasm.
 */
export const ALLOW_CPU_ADAPTER_ENV = 'DSOD_WEBGPU_ALLOW_CPU_ADAPTER';

function webgpuLoader(req: RequireFn, importBackend: () => Promise<unknown>): BackendLoader {
  return async () => {
    const dawn = requireOptional(req, 'webgpu') as DawnModule;
    const flags = process.env.DSOD_DAWN_FLAGS ? process.env.DSOD_DAWN_FLAGS.split(',') : [];
    const gpu = dawn.create(flags);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new BackendUnavailable(`no GPU adapter: ${diagnoseVulkan().advice}`);
    const info = adapter.info ?? {};
    const described = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
    const cpuOnly = adapter.isFallbackAdapter || info.isFallbackAdapter || CPU_ADAPTER.test(described);
    if (cpuOnly && process.env[ALLOW_CPU_ADAPTER_ENV] !== '1') {
      throw new BackendUnavailable(`only a CPU adapter (${described}), slower than wasm: ${diagnoseVulkan().advice}`);
    }
    // tfjs-backend-webgpu registers itself on import only if navigator.gpu exists (Node has no navigator.gpu).
    // While globalThis.navigator holds Dawn, Node does not exit by itself: whoever picks webgpu exits explicitly.
    const g = globalThis as { navigator?: { gpu?: unknown } };
    const hadNavigator = g.navigator !== undefined;
    Object.assign(globalThis, dawn.globals);
    if (!hadNavigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
    try {
      await importBackend();
      if (!tf.findBackendFactory('webgpu')) throw new BackendUnavailable('@tensorflow/tfjs-backend-webgpu did not register');
    } catch (e) {
      if (!hadNavigator) delete g.navigator;
      else delete g.navigator!.gpu;
      if (e instanceof BackendUnavailable) throw e;
      throw new BackendUnavailable(`@tensorflow/tfjs-backend-webgpu failed to load: ${firstLine((e as Error).message)}`);
    }
    return {
      tfBackend: 'webgpu',
      detail: `Dawn (webgpu@${packageVersion(req, 'webgpu')}) on ${described}${cpuOnly ? ` (a CPU adapter, allowed by ${ALLOW_CPU_ADAPTER_ENV}=1)` : ''}`,
    };
  };
}

function wasmLoader(): BackendLoader {
  return async () => {
    try {
      const w = await prepareWasm();
      const threads = `${w.threads} thread${w.threads === 1 ? '' : 's'} (${w.threadsNote ?? w.wanted.why})`;
      return {
        tfBackend: 'wasm',
        detail: `XNNPACK, SIMD ${w.simd ? 'on' : 'off'}, ${threads}, binaries from ${w.dir}; training kernels registered`,
        threads: w.threads,
      };
    } catch (e) {
      // A wrong $DSOD_WASM_THREADS is the user's to fix, not a reason to fall back to another backend.
      if (e instanceof EngineError) throw e;
      throw new BackendUnavailable(firstLine((e as Error).message));
    }
  };
}

function cpuLoader(): BackendLoader {
  return async () => ({ tfBackend: 'cpu', detail: 'plain JavaScript: correct but slow, for tests and tiny models' });
}

/** Imports the bundled tfjs WebGPU backend (a string literal: esbuild bundles it, and runs it only when called). */
const importWebgpuBackend = (): Promise<unknown> => import('@tensorflow/tfjs-backend-webgpu');

/** The loaders of this machine; `req` and the backend's import are injectable so tests can pretend a package is (not) installed. */
export function defaultLoaders(
  req: RequireFn = nodeRequire,
  importBackend: () => Promise<unknown> = importWebgpuBackend,
): Record<BackendChoice, BackendLoader> {
  return {
    'tfjs-node-gpu': tfjsNodeLoader('tfjs-node-gpu', req),
    'tfjs-node': tfjsNodeLoader('tfjs-node', req),
    webgpu: webgpuLoader(req, importBackend),
    wasm: wasmLoader(),
    cpu: cpuLoader(),
  };
}
