// Training kernels for tfjs's wasm backend (4.22), measured and checked against the cpu backend
// (see docs/engine-notes.md and test/engine/kernels.test.ts):
// - Conv2DBackpropFilter: missing in wasm. 1x1/stride-1 filters: a matMul of the two operands, the smaller one
//   transposed explicitly (matMul's transpose flags run ~10x slower); others: a conv2d with batch and channel
//   axes swapped and dilation = stride, which reuses XNNPACK's convolution.
// - Conv2DBackpropInput: wasm's is a scalar loop; a conv2d of the (zero-dilated, for strides > 1) output
//   gradient with the flipped, transposed filter is ~10x faster.
// - MaxPoolGrad: wasm's routes the gradient wrongly when a window's maximum is <= 0; replaced by a JS loop
//   with the cpu backend's rule (the first maximum of each window in row-major order takes the gradient).
// The kernels work on TensorInfos with the backend's own kernels, as wasm's kernels do, and free every
// intermediate with disposeData.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerCopyKernels, WASM_COPY_KERNELS } from './wasm-copy-kernels';

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

const BACKEND = 'wasm';

function call(backend: BackendWasm, kernelName: string, inputs: Record<string, Info>, attrs: Attrs = {}): Info {
  const kernel = tf.getKernel(kernelName, BACKEND);
  if (!kernel) throw new Error(`wasm kernel ${kernelName} is not registered`);
  return kernel.kernelFunc({ inputs, attrs, backend } as unknown as Parameters<tf.KernelFunc>[0]) as Info;
}

function free(backend: BackendWasm, ...infos: Info[]): void {
  for (const i of infos) backend.disposeData(i.dataId);
}

/** `x` reshaped (shares data; free it like any other intermediate). */
function reshape(backend: BackendWasm, x: Info, shape: number[]): Info {
  return call(backend, 'Reshape', { x }, { shape });
}

function transpose(backend: BackendWasm, x: Info, perm: number[]): Info {
  return call(backend, 'Transpose', { x }, { perm });
}

function conv2d(backend: BackendWasm, x: Info, filter: Info, dilations: [number, number], pad: Pad): Info {
  return call(backend, 'Conv2D', { x, filter }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined });
}

function matMul(backend: BackendWasm, a: Info, b: Info): Info {
  return call(backend, 'BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
}

function convInfo(xShape: number[], filterShape: number[], attrs: Attrs) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
}

function isNhwc(attrs: Attrs): boolean {
  return attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC';
}

/** dW[kh, kw, ci, co] = sum over b, oh, ow of x[b, oh*sh + kh - top, ow*sw + kw - left, ci] * dy[b, oh, ow, co]. */
function conv2DBackpropFilter({ inputs, backend, attrs }: { inputs: { x: Info; dy: Info }; backend: BackendWasm; attrs: Attrs }): Info {
  const { x, dy } = inputs;
  if (!isNhwc(attrs)) throw new Error('wasm Conv2DBackpropFilter: only NHWC is supported');
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = convInfo(x.shape, filterShape, attrs);
  const [kh, kw, ci, co] = filterShape;
  const [b, h, w] = x.shape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;

  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0 && oh === h && ow === w) {
    const n = b * h * w;
    const x2 = reshape(backend, x, [1, n, ci]);
    const dy2 = reshape(backend, dy, [1, n, co]);
    let out: Info;
    if (ci <= co) {
      const xt = transpose(backend, x2, [0, 2, 1]); // [1, ci, n]
      const prod = matMul(backend, xt, dy2); // [1, ci, co]
      out = reshape(backend, prod, filterShape);
      free(backend, xt, prod);
    } else {
      const dyt = transpose(backend, dy2, [0, 2, 1]); // [1, co, n]
      const prod = matMul(backend, dyt, x2); // [1, co, ci]
      const t = transpose(backend, prod, [0, 2, 1]);
      out = reshape(backend, t, filterShape);
      free(backend, dyt, prod, t);
    }
    free(backend, x2, dy2);
    return out;
  }

  // As a convolution: input x' = x^T [ci, h, w, b] (ci images of b channels), filter dy' [oh, ow, b, co],
  // dilation = stride; padding top/left as the forward pass, bottom/right so that the output is exactly kh x kw.
  // Rows and columns no window reaches are sliced off first (floor rounding of the forward pass).
  const usedH = Math.min(h, kh + sh * (oh - 1) - top);
  const usedW = Math.min(w, kw + sw * (ow - 1) - left);
  let xs = x;
  if (usedH < h || usedW < w) xs = call(backend, 'Slice', { x }, { begin: [0, 0, 0, 0], size: [b, usedH, usedW, ci] });
  const xt = transpose(backend, xs, [3, 1, 2, 0]);
  const dyt = transpose(backend, dy, [1, 2, 0, 3]);
  const bottom = kh + sh * (oh - 1) - usedH - top;
  const right = kw + sw * (ow - 1) - usedW - left;
  const g = conv2d(
    backend,
    xt,
    dyt,
    [sh, sw],
    [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
  ); // [ci, kh, kw, co]
  const out = transpose(backend, g, [1, 2, 0, 3]);
  free(backend, xt, dyt, g);
  if (xs !== x) free(backend, xs);
  return out;
}

/** W[kh, kw, ci, co] -> W'[kh, kw, co, ci] = W[KH-1-kh, KW-1-kw, ci, co]: a small array, flipped in JS. */
function flipTransposeFilter(backend: BackendWasm, filter: Info): Info {
  const [kh, kw, ci, co] = filter.shape;
  const out = backend.makeOutput([kh, kw, co, ci], 'float32');
  // Views after the allocation: growing wasm memory detaches older views of the heap.
  const src = backend.typedArrayFromHeap(filter) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const s = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
      const d = (i * kw + j) * co * ci;
      for (let a = 0; a < ci; a++) for (let c = 0; c < co; c++) dst[d + c * ci + a] = src[s + a * co + c];
    }
  return out;
}

let originalBackpropInput: tf.KernelFunc | null = null;

/** dx = full correlation of dy (zeros inserted between rows/columns for strides > 1) with the flipped filter. */
function conv2DBackpropInput({ inputs, backend, attrs }: { inputs: { dy: Info; filter: Info }; backend: BackendWasm; attrs: Attrs }): Info {
  const { dy, filter } = inputs;
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = convInfo(inputShape, filter.shape, attrs);
  const [kh, kw] = filter.shape;
  const [b, h, w, ci] = inputShape;
  const [, oh, ow, co] = dy.shape;
  const { strideHeight: sh, strideWidth: sw } = info;
  const padTop = kh - 1 - info.padInfo.top;
  const padLeft = kw - 1 - info.padInfo.left;
  if (!isNhwc(attrs) || padTop < 0 || padLeft < 0) {
    if (!originalBackpropInput) throw new Error('wasm Conv2DBackpropInput: unsupported case and no original kernel');
    return originalBackpropInput({ inputs, backend, attrs } as unknown as Parameters<tf.KernelFunc>[0]) as Info;
  }
  let d = dy;
  let dh = oh;
  let dw = ow;
  if (sh > 1 || sw > 1) {
    // [b, oh, ow, co] -> [b, oh, 1, ow, 1, co] -> zero-pad to [b, oh, sh, ow, sw, co] -> [b, oh*sh, ow*sw, co].
    const r = reshape(backend, dy, [b, oh, 1, ow, 1, co]);
    const p = call(
      backend,
      'PadV2',
      { x: r },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    d = reshape(backend, p, [b, oh * sh, ow * sw, co]);
    free(backend, r, p);
    dh = oh * sh;
    dw = ow * sw;
  }
  // Output size h = dh + padTop + padBottom - kh + 1; the trailing inserted zeros may be more than needed.
  let padBottom = h + kh - 1 - dh - padTop;
  let padRight = w + kw - 1 - dw - padLeft;
  if (padBottom < 0 || padRight < 0) {
    const s = call(backend, 'Slice', { x: d }, { begin: [0, 0, 0, 0], size: [b, dh + Math.min(padBottom, 0), dw + Math.min(padRight, 0), co] });
    if (d !== dy) free(backend, d);
    d = s;
    padBottom = Math.max(padBottom, 0);
    padRight = Math.max(padRight, 0);
  }
  const f = flipTransposeFilter(backend, filter);
  const out = conv2d(
    backend,
    d,
    f,
    [1, 1],
    [
      [0, 0],
      [padTop, padBottom],
      [padLeft, padRight],
      [0, 0],
    ],
  );
  free(backend, f);
  if (d !== dy) free(backend, d);
  if (out.shape[3] !== ci) throw new Error('wasm Conv2DBackpropInput: channel mismatch');
  return out;
}

/** Every window's gradient goes to its first maximum (row-major), as on the cpu backend. */
function maxPoolGrad({ inputs, backend, attrs }: { inputs: { dy: Info; input: Info }; backend: BackendWasm; attrs: Attrs }): Info {
  const { dy, input } = inputs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as [number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const [batch, h, w, c] = input.shape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const dx = backend.makeOutput(input.shape, 'float32');
  const out = backend.typedArrayFromHeap(dx) as Float32Array;
  out.fill(0);
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const maxValue = new Float32Array(c);
  const maxAt = new Int32Array(c);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < oh; i++) {
      const r0 = i * sh - top;
      const r1 = Math.min(h, r0 + fh);
      for (let j = 0; j < ow; j++) {
        const c0 = j * sw - left;
        const c1 = Math.min(w, c0 + fw);
        maxValue.fill(-Infinity);
        maxAt.fill(-1);
        for (let r = Math.max(r0, 0); r < r1; r++)
          for (let q = Math.max(c0, 0); q < c1; q++) {
            const base = ((b * h + r) * w + q) * c;
            for (let k = 0; k < c; k++) {
              const v = x[base + k];
              if (v > maxValue[k]) {
                maxValue[k] = v;
                maxAt[k] = base + k;
              }
            }
          }
        const o = ((b * oh + i) * ow + j) * c;
        for (let k = 0; k < c; k++) if (maxAt[k] >= 0) out[maxAt[k]] += g[o + k];
      }
    }
  return dx;
}

export const WASM_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad'] as const;

/** Every kernel name this module adds to or replaces in the wasm backend. */
export const WASM_REPLACED_KERNELS: readonly string[] = [...WASM_KERNELS, ...Object.keys(WASM_COPY_KERNELS)];

let registered = false;

/** Register (or replace) the training kernels on the wasm backend; idempotent. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  const kernels: Record<(typeof WASM_KERNELS)[number], unknown> = {
    Conv2DBackpropFilter: conv2DBackpropFilter,
    Conv2DBackpropInput: conv2DBackpropInput,
    MaxPoolGrad: maxPoolGrad,
  };
  for (const name of WASM_KERNELS) {
    const existing = tf.getKernel(name, BACKEND);
    if (existing) {
      if (name === 'Conv2DBackpropInput') originalBackpropInput = existing.kernelFunc;
      tf.unregisterKernel(name, BACKEND);
    }
    // The original's setupFunc (its cwrap of the C function) still runs at backend init, so the fallback works.
    const config: tf.KernelConfig = { kernelName: name, backendName: BACKEND, kernelFunc: kernels[name] as tf.KernelFunc };
    if (existing?.setupFunc) config.setupFunc = existing.setupFunc;
    tf.registerKernel(config);
  }
  registerCopyKernels();
}
