// Per-channel sums for batch norm, as kernels: `DsodChannelSums` (sum of x) and `DsodChannelDots` (sum of
// x * y) over every axis but the last. On wasm a matMul with a ones row repacks its operand each call and tf.sum
// over axes [0, 1, 2] transposes the whole tensor first; one pass in JS over the heap, with float64
// accumulators, is 1.5-2x faster and fuses the product. engine/model/batch-norm.ts uses these when the
// active backend has them and plain tfjs ops otherwise.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const CHANNEL_SUMS = 'DsodChannelSums';
export const CHANNEL_DOTS = 'DsodChannelDots';

type Info = tf.TensorInfo;

function sums(x: Float32Array, y: Float32Array | null, c: number, out: Float32Array): void {
  const acc = new Float64Array(c);
  const n = x.length;
  if (y) {
    for (let i = 0; i < n; i += c) for (let k = 0; k < c; k++) acc[k] += x[i + k] * y[i + k];
  } else {
    for (let i = 0; i < n; i += c) for (let k = 0; k < c; k++) acc[k] += x[i + k];
  }
  out.set(acc);
}

function channels(t: Info): number {
  return t.shape[t.shape.length - 1];
}

function wasmKernel(withY: boolean) {
  return ({ inputs, backend }: { inputs: { x: Info; y?: Info }; backend: BackendWasm }): Info => {
    const c = channels(inputs.x);
    const out = backend.makeOutput([c], 'float32');
    // Views after the allocation: growing wasm memory detaches older views.
    const x = backend.typedArrayFromHeap(inputs.x) as Float32Array;
    const y = withY ? (backend.typedArrayFromHeap(inputs.y!) as Float32Array) : null;
    sums(x, y, c, backend.typedArrayFromHeap(out) as Float32Array);
    return out;
  };
}

interface CpuBackend {
  data: { get(id: unknown): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): Info;
}

function cpuKernel(withY: boolean) {
  return ({ inputs, backend }: { inputs: { x: Info; y?: Info }; backend: CpuBackend }): Info => {
    const c = channels(inputs.x);
    const out = new Float32Array(c);
    sums(backend.data.get(inputs.x.dataId).values, withY ? backend.data.get(inputs.y!.dataId).values : null, c, out);
    return backend.makeTensorInfo([c], 'float32', out);
  };
}

/** Register both kernels for `wasm` (and `cpu`, where they are also faster than matMul); idempotent. */
export function registerChannelSumKernels(backends: readonly ('wasm' | 'cpu')[] = ['wasm', 'cpu']): void {
  for (const backendName of backends) {
    for (const [kernelName, withY] of [
      [CHANNEL_SUMS, false],
      [CHANNEL_DOTS, true],
    ] as const) {
      if (tf.getKernel(kernelName, backendName)) continue;
      const kernelFunc = backendName === 'wasm' ? wasmKernel(withY) : cpuKernel(withY);
      tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
    }
  }
}
