// onnxruntime-node sessions for the engine: the CPU provider, which the registry package ships, or CUDA where its
// provider library is installed beside the binding (the package's install script fetches it on machines that reach
// NuGet; ours skip that step, so CUDA is used when present and never required).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { EngineError } from '../errors';

let loaded: typeof Ort | null = null;

/**
 * onnxruntime-node, loaded on first use: a native addon outside the bundle (esbuild.mjs), so a `dsod` without it
 * (a package that does not carry it) still runs every other command, and this one says what is missing.
 */
function ortModule(): typeof Ort {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('onnxruntime-node') as typeof Ort;
  } catch (e) {
    throw new EngineError('backend', `onnxruntime-node cannot be loaded here (npm install onnxruntime-node): ${(e as Error).message.split('\n')[0]}`);
  }
  return loaded;
}

export type OnnxProvider = 'cuda' | 'cpu';

export interface OnnxSession {
  session: Ort.InferenceSession;
  provider: OnnxProvider;
  /** Why CUDA was not used, when it was not. */
  note: string | null;
}

/** onnxruntime-node's version, as the package reports it. */
export function onnxRuntimeVersion(): string {
  const ort = ortModule();
  return ort.env.versions.node ?? ort.env.versions.common;
}

/** The CUDA provider's library beside the binding (installed by onnxruntime-node's own script, never by us). */
export function cudaProviderPresent(): boolean {
  try {
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    return existsSync(join(pkg, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

export async function createOnnxSession(model: Uint8Array): Promise<OnnxSession> {
  const ort = ortModule();
  let note = 'the CUDA provider is not installed (onnxruntime-node ships the CPU provider)';
  if (cudaProviderPresent()) {
    try {
      return { session: await ort.InferenceSession.create(model, { executionProviders: ['cuda', 'cpu'] }), provider: 'cuda', note: null };
    } catch (e) {
      note = `the CUDA provider did not start: ${(e as Error).message}`;
    }
  }
  return { session: await ort.InferenceSession.create(model, { executionProviders: ['cpu'] }), provider: 'cpu', note };
}

/** NHWC images (what the engine's data pipeline makes) as the NCHW tensor the exported model takes. */
export function nhwcToNchw(images: Float32Array, [n, h, w, c]: readonly number[]): Ort.Tensor {
  const out = new Float32Array(images.length);
  const plane = h * w;
  for (let b = 0; b < n; b++) {
    const base = b * plane * c;
    for (let p = 0; p < plane; p++) for (let k = 0; k < c; k++) out[base + k * plane + p] = images[base + p * c + k];
  }
  return new (ortModule().Tensor)('float32', out, [n, c, h, w]);
}

/** One forward pass: the outputs asked for, as flat float arrays. */
export async function runOnnx(
  session: Ort.InferenceSession,
  images: Float32Array,
  shape: readonly number[],
  outputs: readonly string[],
): Promise<Float32Array[]> {
  const feeds = { images: nhwcToNchw(images, shape) };
  const result = await session.run(feeds, outputs);
  return outputs.map((name) => result[name].data as Float32Array);
}
