// Copy kernels for the wasm backend. tfjs 4.22's wasm Slice starts with backend.readSync(x), a full copy of
// the input, then copies one row at a time with subarray/set; SplitV (the gradient of every concatenation,
// so of every dense layer) calls that Slice once per output. Splitting a [5625, 416] map took ~80 ms, a
// [90000, 416] one ~3.7 s. These read the heap in place and copy short rows with a plain loop.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Info = tf.TensorInfo;
type Args<I> = { inputs: I; backend: BackendWasm; attrs: Record<string, unknown> };

/** Rows shorter than this are copied element by element (subarray objects cost more than they save). */
const SHORT_ROW = 64;

/** Copy `rows` rows of `len` values: src[srcAt + r*srcStride ...] -> dst[dstAt + r*dstStride ...]. */
function copyRows(
  src: Float32Array | Int32Array,
  srcAt: number,
  srcStride: number,
  dst: Float32Array | Int32Array,
  dstAt: number,
  dstStride: number,
  rows: number,
  len: number,
): void {
  if (srcStride === len && dstStride === len) {
    dst.set(src.subarray(srcAt, srcAt + rows * len), dstAt);
    return;
  }
  if (len >= SHORT_ROW) {
    for (let r = 0; r < rows; r++) dst.set(src.subarray(srcAt + r * srcStride, srcAt + r * srcStride + len), dstAt + r * dstStride);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const s = srcAt + r * srcStride;
    const d = dstAt + r * dstStride;
    for (let i = 0; i < len; i++) dst[d + i] = src[s + i];
  }
}

function heap(backend: BackendWasm, t: Info): Float32Array | Int32Array {
  return backend.typedArrayFromHeap(t) as Float32Array | Int32Array;
}

function numeric(t: Info): boolean {
  return t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'bool';
}

const originals = new Map<string, tf.KernelFunc>();

function fallback(name: string, args: unknown): Info | Info[] {
  const f = originals.get(name);
  if (!f) throw new Error(`wasm ${name}: no original kernel to fall back to`);
  return f(args as Parameters<tf.KernelFunc>[0]) as Info | Info[];
}

/** Any slice: the input seen as rows of its last axis (strided rows when the slice is not contiguous). */
function slice(args: Args<{ x: Info }>): Info {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  if (!numeric(x) || x.dtype === 'bool') return fallback('Slice', args) as Info;
  const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin as number[], attrs.size as number[]);
  const out = backend.makeOutput(size, x.dtype);
  if (size.some((d) => d === 0)) return out;
  const src = heap(backend, x); // views after the allocation: growing memory detaches older views
  const dst = heap(backend, out);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  if (rank === 0) {
    dst[0] = src[0];
    return out;
  }
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const from = tf.slice_util.computeFlatOffset(begin, strides);
    dst.set(src.subarray(from, from + dst.length));
    return out;
  }
  const len = size[rank - 1];
  const outer = size.slice(0, -1);
  const rows = outer.reduce((a, b) => a * b, 1);
  // Walk every row (index over all but the last axis) with a counter, adding strides.
  const index = new Array(rank - 1).fill(0);
  let at = begin.reduce((s, b, i) => s + b * (i < rank - 1 ? strides[i] : 1), 0);
  for (let r = 0; r < rows; r++) {
    copyRows(src, at, 0, dst, r * len, 0, 1, len);
    for (let a = rank - 2; a >= 0; a--) {
      index[a]++;
      at += strides[a];
      if (index[a] < outer[a]) break;
      at -= index[a] * strides[a];
      index[a] = 0;
    }
  }
  return out;
}

/** Split along one axis: each output is [outer, size_k * inner] chunks of the input. */
function splitV(args: Args<{ x: Info }>): Info[] {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  if (!numeric(x) || x.dtype === 'bool') return fallback('SplitV', args) as Info[];
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits as number[] | number, axis);
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outs = sizes.map((s) => {
    const shape = [...x.shape];
    shape[axis] = s;
    return backend.makeOutput(shape, x.dtype);
  });
  const src = heap(backend, x);
  const row = x.shape[axis] * inner;
  let offset = 0;
  outs.forEach((o, k) => {
    const len = sizes[k] * inner;
    if (len > 0) copyRows(src, offset, row, heap(backend, o), 0, len, outer, len);
    offset += len;
  });
  return outs;
}

/** Concatenate along one axis: output rows are the inputs' rows side by side. */
function concat(args: Args<Info[]>): Info {
  const { inputs, backend, attrs } = args;
  if (inputs.length < 2 || inputs.some((t) => !numeric(t) || t.dtype === 'bool' || t.dtype !== inputs[0].dtype)) return fallback('Concat', args) as Info;
  const axis = tf.util.parseAxisParam(attrs.axis as number, inputs[0].shape)[0];
  const outShape = tf.backend_util.computeOutShape(
    inputs.map((t) => t.shape),
    axis,
  );
  const out = backend.makeOutput(outShape, inputs[0].dtype);
  const outer = outShape.slice(0, axis).reduce((a, b) => a * b, 1);
  const row = outShape.slice(axis).reduce((a, b) => a * b, 1);
  if (outer * row === 0) return out;
  const dst = heap(backend, out);
  let offset = 0;
  for (const t of inputs) {
    const len = t.shape.slice(axis).reduce((a, b) => a * b, 1);
    if (len > 0) copyRows(heap(backend, t), 0, len, dst, offset, row, outer, len);
    offset += len;
  }
  return out;
}

export const WASM_COPY_KERNELS = { Slice: slice, SplitV: splitV, Concat: concat } as const;

/** Keep the originals (for dtypes these do not handle) and register ours; call once, before the backend starts. */
export function registerCopyKernels(): void {
  for (const [name, kernelFunc] of Object.entries(WASM_COPY_KERNELS)) {
    const existing = tf.getKernel(name, 'wasm');
    if (existing) {
      originals.set(name, existing.kernelFunc);
      tf.unregisterKernel(name, 'wasm');
    }
    const config: tf.KernelConfig = { kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc };
    if (existing?.setupFunc) config.setupFunc = existing.setupFunc;
    tf.registerKernel(config);
  }
}
