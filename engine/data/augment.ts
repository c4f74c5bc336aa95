// SSD's training augmentation (Caffe SSD's AnnotatedDataLayer, as DSOD300_pascal.py configures it), seeded:
// photometric distortion -> zoom-out expansion (mean fill) -> random crop from SSD's samplers (min IoU 0.1 ... 0.9
// or any; boxes kept when their centre is inside) -> horizontal flip -> resize to the input size.
//
// The geometric steps compose into one rectangle of the source image (it may reach outside the image, where the
// canvas shows the mean), so every output pixel is sampled once, bilinearly (several taps when shrinking more than
// 2x), straight from the decoded image: no intermediate 4x-expanded canvas is ever built. Photometric distortion is
// applied to the output pixels that come from the image (not to the mean fill, as in SSD where distortion runs before
// expansion).
import type { RawImage } from './image';
import type { Rng } from './rng';

/** Ground truth of one image: boxes as normalised corners, 4 numbers a box. */
export interface Annotations {
  boxes: Float32Array;
  labels: Int32Array;
  difficult: Uint8Array;
}

/** One network input: float pixels, height x width x 3 (NHWC without the batch), and its ground truth. */
export interface Sample extends Annotations {
  image: Float32Array;
  width: number;
  height: number;
}

/** out = (pixel - mean) * scale, per RGB channel. */
export interface PixelNormalization {
  mean: [number, number, number];
  scale: number;
}

/** DSOD/SSD's Caffe transform: mean_value [104, 117, 123] in BGR order (RGB here), no scaling. */
export const CAFFE_NORMALIZATION: PixelNormalization = { mean: [123, 117, 104], scale: 1 };

export interface DistortOptions {
  brightnessProb: number;
  /** Added to every channel, uniform in [-delta, delta]. */
  brightnessDelta: number;
  contrastProb: number;
  /** Caffe's contrast multiplies pixel values (it does not scale around the mean). */
  contrastLower: number;
  contrastUpper: number;
  saturationProb: number;
  saturationLower: number;
  saturationUpper: number;
  hueProb: number;
  /** In OpenCV's 8-bit hue units (2 degrees each), as Caffe SSD's hue_delta: 18 = +-36 degrees. Wraps around. */
  hueDelta: number;
}

export interface ExpandOptions {
  prob: number;
  maxRatio: number;
}

/** Caffe SSD's BatchSampler + Sampler + SampleConstraint. */
export interface CropSampler {
  minScale: number;
  maxScale: number;
  minAspect: number;
  maxAspect: number;
  minJaccard?: number;
  maxJaccard?: number;
  maxTrials: number;
  maxSample: number;
}

export interface AugmentOptions {
  width: number;
  height: number;
  normalization?: PixelNormalization;
  distort?: DistortOptions | false;
  expand?: ExpandOptions | false;
  samplers?: readonly CropSampler[] | false;
  flipProb?: number;
}

export const SSD_DISTORT: DistortOptions = {
  brightnessProb: 0.5,
  brightnessDelta: 32,
  contrastProb: 0.5,
  contrastLower: 0.5,
  contrastUpper: 1.5,
  saturationProb: 0.5,
  saturationLower: 0.5,
  saturationUpper: 1.5,
  hueProb: 0.5,
  hueDelta: 18,
};

export const SSD_EXPAND: ExpandOptions = { prob: 0.5, maxRatio: 4 };

const cropWith = (c: Partial<CropSampler>): CropSampler => ({ minScale: 0.3, maxScale: 1, minAspect: 0.5, maxAspect: 2, maxTrials: 50, maxSample: 1, ...c });

/** DSOD300_pascal.py's batch_sampler: the whole image, crops with min IoU 0.1/0.3/0.5/0.7/0.9, and any crop. */
export const SSD_SAMPLERS: readonly CropSampler[] = [
  { minScale: 1, maxScale: 1, minAspect: 1, maxAspect: 1, maxTrials: 1, maxSample: 1 },
  cropWith({ minJaccard: 0.1 }),
  cropWith({ minJaccard: 0.3 }),
  cropWith({ minJaccard: 0.5 }),
  cropWith({ minJaccard: 0.7 }),
  cropWith({ minJaccard: 0.9 }),
  cropWith({ maxJaccard: 1.0 }),
];

type Rect = [number, number, number, number];

function jaccard(a: Rect, b: ArrayLike<number>, k: number): number {
  const iw = Math.min(a[2], b[k + 2]) - Math.max(a[0], b[k]);
  const ih = Math.min(a[3], b[k + 3]) - Math.max(a[1], b[k + 1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[k + 2] - b[k]) * (b[k + 3] - b[k + 1]) - inter);
}

/** Caffe's SampleBBox: a random rectangle of the unit square with the sampler's scale and aspect ranges. */
export function sampleCrop(s: CropSampler, rng: Rng): Rect {
  const scale = rng.uniform(s.minScale, s.maxScale);
  const minAr = Math.max(s.minAspect, scale * scale);
  const maxAr = Math.min(s.maxAspect, 1 / (scale * scale));
  const ar = rng.uniform(minAr, maxAr);
  const w = Math.min(1, scale * Math.sqrt(ar));
  const h = Math.min(1, scale / Math.sqrt(ar));
  const x = rng.uniform(0, 1 - w);
  const y = rng.uniform(0, 1 - h);
  return [x, y, x + w, y + h];
}

/** Caffe's SatisfySampleConstraint: some box (any one) meets every jaccard bound the sampler sets. */
export function satisfiesConstraint(crop: Rect, boxes: ArrayLike<number>, s: CropSampler): boolean {
  if (s.minJaccard === undefined && s.maxJaccard === undefined) return true;
  for (let k = 0; k < boxes.length; k += 4) {
    const j = jaccard(crop, boxes, k);
    if (s.minJaccard !== undefined && j < s.minJaccard) continue;
    if (s.maxJaccard !== undefined && j > s.maxJaccard) continue;
    return true;
  }
  return false;
}

/** Caffe's GenerateBatchSamples, then one of the samples at random (the whole image when none qualifies). */
export function chooseCrop(boxes: ArrayLike<number>, samplers: readonly CropSampler[], rng: Rng): Rect {
  const found: Rect[] = [];
  for (const s of samplers) {
    let n = 0;
    for (let t = 0; t < s.maxTrials && n < s.maxSample; t++) {
      const c = sampleCrop(s, rng);
      if (satisfiesConstraint(c, boxes, s)) {
        found.push(c);
        n++;
      }
    }
  }
  return found.length ? found[Math.floor(rng.next() * found.length)] : [0, 0, 1, 1];
}

/**
 * Boxes after cropping to `crop` (both in the same normalised frame): kept when their centre lies in the crop
 * (SSD's emit constraint CENTER), then expressed in the crop's frame and clipped to it.
 */
export function cropAnnotations(a: Annotations, crop: Rect): Annotations {
  const [x0, y0, x1, y1] = crop;
  const w = x1 - x0;
  const h = y1 - y0;
  const boxes: number[] = [];
  const labels: number[] = [];
  const difficult: number[] = [];
  for (let i = 0; i < a.labels.length; i++) {
    const b = a.boxes.subarray(4 * i, 4 * i + 4);
    const cx = (b[0] + b[2]) / 2;
    const cy = (b[1] + b[3]) / 2;
    if (cx < x0 || cx > x1 || cy < y0 || cy > y1) continue;
    const nb = [clamp01((b[0] - x0) / w), clamp01((b[1] - y0) / h), clamp01((b[2] - x0) / w), clamp01((b[3] - y0) / h)];
    if (nb[2] <= nb[0] || nb[3] <= nb[1]) continue;
    boxes.push(...nb);
    labels.push(a.labels[i]);
    difficult.push(a.difficult[i]);
  }
  return { boxes: Float32Array.from(boxes), labels: Int32Array.from(labels), difficult: Uint8Array.from(difficult) };
}

/** Randomly augment one decoded image and its boxes into a network input of o.width x o.height. */
export function augmentSample(src: RawImage, ann: Annotations, rng: Rng, o: AugmentOptions, into?: { buffer: Float32Array; offset: number }): Sample {
  const distort = o.distort === undefined ? SSD_DISTORT : o.distort;
  const expand = o.expand === undefined ? SSD_EXPAND : o.expand;
  const samplers = o.samplers === undefined ? SSD_SAMPLERS : o.samplers;
  const flipProb = o.flipProb ?? 0.5;

  // The random decisions, drawn in a fixed order so that a seed fixes the result.
  const plan = distort ? planDistortion(distort, rng) : null;

  // Expansion: the canvas, as a rectangle in the source image's normalised frame.
  let canvas: Rect = [0, 0, 1, 1];
  if (expand && expand.maxRatio > 1 && rng.chance(expand.prob)) {
    const r = rng.uniform(1, expand.maxRatio);
    const ox = rng.uniform(0, r - 1);
    const oy = rng.uniform(0, r - 1);
    canvas = [-ox, -oy, r - ox, r - oy];
  }
  const cw = canvas[2] - canvas[0];
  const ch = canvas[3] - canvas[1];
  const inCanvas = new Float32Array(ann.boxes.length);
  for (let k = 0; k < ann.boxes.length; k += 4) {
    inCanvas[k] = (ann.boxes[k] - canvas[0]) / cw;
    inCanvas[k + 1] = (ann.boxes[k + 1] - canvas[1]) / ch;
    inCanvas[k + 2] = (ann.boxes[k + 2] - canvas[0]) / cw;
    inCanvas[k + 3] = (ann.boxes[k + 3] - canvas[1]) / ch;
  }
  const crop = samplers && samplers.length ? chooseCrop(inCanvas, samplers, rng) : ([0, 0, 1, 1] as Rect);
  const out = cropAnnotations({ boxes: inCanvas, labels: ann.labels, difficult: ann.difficult }, crop);
  const flip = rng.chance(flipProb);
  if (flip) {
    for (let k = 0; k < out.boxes.length; k += 4) {
      const x0 = out.boxes[k];
      out.boxes[k] = 1 - out.boxes[k + 2];
      out.boxes[k + 2] = 1 - x0;
    }
  }
  // The crop in the source frame.
  const region: Rect = [canvas[0] + crop[0] * cw, canvas[1] + crop[1] * ch, canvas[0] + crop[2] * cw, canvas[1] + crop[3] * ch];
  const image = into ? into.buffer.subarray(into.offset, into.offset + o.width * o.height * 3) : new Float32Array(o.width * o.height * 3);
  const norm = o.normalization ?? CAFFE_NORMALIZATION;
  const inside = renderRegion(src, region, flip, o.width, o.height, image, norm.mean);
  if (plan) applyDistortion(image, inside, plan);
  normalizeInPlace(image, norm);
  return { image, width: o.width, height: o.height, ...out };
}

/** Test-time input: the whole image resized to o.width x o.height (SSD's WARP resize), boxes unchanged. */
export function resizeSample(
  src: RawImage,
  ann: Annotations,
  o: { width: number; height: number; normalization?: PixelNormalization },
  into?: { buffer: Float32Array; offset: number },
): Sample {
  const image = into ? into.buffer.subarray(into.offset, into.offset + o.width * o.height * 3) : new Float32Array(o.width * o.height * 3);
  const norm = o.normalization ?? CAFFE_NORMALIZATION;
  renderRegion(src, [0, 0, 1, 1], false, o.width, o.height, image, norm.mean);
  normalizeInPlace(image, norm);
  return { image, width: o.width, height: o.height, boxes: ann.boxes.slice(), labels: ann.labels.slice(), difficult: ann.difficult.slice() };
}

/**
 * Sample `region` (normalised source frame; it may extend past the image, where `fill` shows) into a W x H float RGB
 * buffer (0..255), mirrored when `flip`. Bilinear; when the region shrinks by more than 2x, k x k bilinear taps per
 * pixel (k <= 4) average away aliasing. Returns, per output pixel, 1 when its centre lies in the image.
 */
export function renderRegion(src: RawImage, region: Rect, flip: boolean, W: number, H: number, out: Float32Array, fill: readonly number[]): Uint8Array {
  const SW = src.width;
  const SH = src.height;
  const data = src.data;
  const rw = region[2] - region[0];
  const rh = region[3] - region[1];
  const kx = Math.min(4, Math.max(1, Math.ceil((rw * SW) / W / 2)));
  const ky = Math.min(4, Math.max(1, Math.ceil((rh * SH) / H / 2)));
  // Per output column and sub-sample: the two source columns (byte offsets) and the weight; -1 outside the image.
  const x0s = new Int32Array(W * kx);
  const x1s = new Int32Array(W * kx);
  const wxs = new Float32Array(W * kx);
  const colInside = new Uint8Array(W);
  for (let j = 0; j < W; j++) {
    const jj = flip ? W - 1 - j : j;
    for (let a = 0; a < kx; a++) {
      const u = region[0] + ((jj + (a + 0.5) / kx) / W) * rw;
      const t = j * kx + a;
      if (u < 0 || u > 1) {
        x0s[t] = -1;
        continue;
      }
      const px = Math.min(SW - 1, Math.max(0, u * SW - 0.5));
      const p0 = Math.floor(px);
      x0s[t] = p0 * 3;
      x1s[t] = Math.min(SW - 1, p0 + 1) * 3;
      wxs[t] = px - p0;
    }
    const uc = region[0] + ((jj + 0.5) / W) * rw;
    colInside[j] = uc >= 0 && uc <= 1 ? 1 : 0;
  }
  const inside = new Uint8Array(W * H);
  if (kx === 1 && ky === 1) {
    renderBilinear(src, region, W, H, out, fill, x0s, x1s, wxs, colInside, inside);
    return inside;
  }
  const top = new Int32Array(ky);
  const bottom = new Int32Array(ky);
  const wy = new Float32Array(ky);
  const total = kx * ky;
  const f0 = fill[0];
  const f1 = fill[1];
  const f2 = fill[2];
  for (let i = 0; i < H; i++) {
    const vc = region[1] + ((i + 0.5) / H) * rh;
    const rowInside = vc >= 0 && vc <= 1 ? 1 : 0;
    for (let b = 0; b < ky; b++) {
      const v = region[1] + ((i + (b + 0.5) / ky) / H) * rh;
      if (v < 0 || v > 1) {
        top[b] = -1;
        continue;
      }
      const py = Math.min(SH - 1, Math.max(0, v * SH - 0.5));
      const p0 = Math.floor(py);
      top[b] = p0 * SW * 3;
      bottom[b] = Math.min(SH - 1, p0 + 1) * SW * 3;
      wy[b] = py - p0;
    }
    for (let j = 0; j < W; j++) {
      let r = 0;
      let g = 0;
      let bl = 0;
      for (let b = 0; b < ky; b++) {
        const t0 = top[b];
        for (let a = 0; a < kx; a++) {
          const t = j * kx + a;
          const c0 = x0s[t];
          if (t0 < 0 || c0 < 0) {
            r += f0;
            g += f1;
            bl += f2;
            continue;
          }
          const c1 = x1s[t];
          const b0 = bottom[b];
          const wx = wxs[t];
          const w = wy[b];
          // The four taps' weights, then one weighted sum per channel.
          const w00 = (1 - wx) * (1 - w);
          const w01 = wx * (1 - w);
          const w10 = (1 - wx) * w;
          const w11 = wx * w;
          r += data[t0 + c0] * w00 + data[t0 + c1] * w01 + data[b0 + c0] * w10 + data[b0 + c1] * w11;
          g += data[t0 + c0 + 1] * w00 + data[t0 + c1 + 1] * w01 + data[b0 + c0 + 1] * w10 + data[b0 + c1 + 1] * w11;
          bl += data[t0 + c0 + 2] * w00 + data[t0 + c1 + 2] * w01 + data[b0 + c0 + 2] * w10 + data[b0 + c1 + 2] * w11;
        }
      }
      const k = (i * W + j) * 3;
      out[k] = r / total;
      out[k + 1] = g / total;
      out[k + 2] = bl / total;
      inside[i * W + j] = rowInside & colInside[j];
    }
  }
  return inside;
}

/** renderRegion's common case, one bilinear tap per pixel, without the sub-sample loops. */
function renderBilinear(
  src: RawImage,
  region: Rect,
  W: number,
  H: number,
  out: Float32Array,
  fill: readonly number[],
  x0s: Int32Array,
  x1s: Int32Array,
  wxs: Float32Array,
  colInside: Uint8Array,
  inside: Uint8Array,
): void {
  const SW = src.width;
  const SH = src.height;
  const data = src.data;
  const rh = region[3] - region[1];
  const f0 = fill[0];
  const f1 = fill[1];
  const f2 = fill[2];
  for (let i = 0; i < H; i++) {
    const v = region[1] + ((i + 0.5) / H) * rh;
    let k = i * W * 3;
    if (v < 0 || v > 1) {
      for (let j = 0; j < W; j++, k += 3) {
        out[k] = f0;
        out[k + 1] = f1;
        out[k + 2] = f2;
      }
      continue;
    }
    const py = Math.min(SH - 1, Math.max(0, v * SH - 0.5));
    const p0 = Math.floor(py);
    const t0 = p0 * SW * 3;
    const b0 = Math.min(SH - 1, p0 + 1) * SW * 3;
    const w = py - p0;
    for (let j = 0; j < W; j++, k += 3) {
      const c0 = x0s[j];
      if (c0 < 0) {
        out[k] = f0;
        out[k + 1] = f1;
        out[k + 2] = f2;
        continue;
      }
      const c1 = x1s[j];
      const wx = wxs[j];
      const w00 = (1 - wx) * (1 - w);
      const w01 = wx * (1 - w);
      const w10 = (1 - wx) * w;
      const w11 = wx * w;
      out[k] = data[t0 + c0] * w00 + data[t0 + c1] * w01 + data[b0 + c0] * w10 + data[b0 + c1] * w11;
      out[k + 1] = data[t0 + c0 + 1] * w00 + data[t0 + c1 + 1] * w01 + data[b0 + c0 + 1] * w10 + data[b0 + c1 + 1] * w11;
      out[k + 2] = data[t0 + c0 + 2] * w00 + data[t0 + c1 + 2] * w01 + data[b0 + c0 + 2] * w10 + data[b0 + c1 + 2] * w11;
      inside[i * W + j] = colInside[j];
    }
  }
}

/** The photometric decisions for one image (Caffe's ApplyDistort: two orders, each op with its own probability). */
export interface DistortionPlan {
  contrastFirst: boolean;
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  /** Degrees. */
  hue: number | null;
}

export function planDistortion(d: DistortOptions, rng: Rng): DistortionPlan {
  const contrastFirst = rng.next() > 0.5;
  const brightness = rng.chance(d.brightnessProb) ? rng.uniform(-d.brightnessDelta, d.brightnessDelta) : null;
  const contrast = rng.chance(d.contrastProb) ? rng.uniform(d.contrastLower, d.contrastUpper) : null;
  const saturation = rng.chance(d.saturationProb) ? rng.uniform(d.saturationLower, d.saturationUpper) : null;
  const hue = rng.chance(d.hueProb) ? 2 * rng.uniform(-d.hueDelta, d.hueDelta) : null;
  return { contrastFirst, brightness, contrast, saturation, hue };
}

/** Apply a plan to the pixels marked in `mask` (0..255 values; each step clips, as Caffe's 8-bit images do). */
export function applyDistortion(img: Float32Array, mask: Uint8Array, p: DistortionPlan): void {
  const n = mask.length;
  const clip = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  const affine = (alpha: number, beta: number) => {
    for (let i = 0; i < n; i++) {
      if (!mask[i]) continue;
      const k = 3 * i;
      img[k] = clip(img[k] * alpha + beta);
      img[k + 1] = clip(img[k + 1] * alpha + beta);
      img[k + 2] = clip(img[k + 2] * alpha + beta);
    }
  };
  const hsv = () => {
    if (p.saturation === null && p.hue === null) return;
    const sat = p.saturation ?? 1;
    const hue = p.hue ?? 0;
    for (let i = 0; i < n; i++) {
      if (mask[i]) adjustHsv(img, 3 * i, sat, hue);
    }
  };
  if (p.brightness !== null) affine(1, p.brightness);
  if (p.contrastFirst) {
    if (p.contrast !== null) affine(p.contrast, 0);
    hsv();
  } else {
    hsv();
    if (p.contrast !== null) affine(p.contrast, 0);
  }
}

/** Scale saturation by `sat` (clipped to 1) and rotate hue by `hue` degrees, in place, for one RGB pixel. */
function adjustHsv(img: Float32Array, k: number, sat: number, hue: number): void {
  const r = img[k];
  const g = img[k + 1];
  const b = img[k + 2];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const v = max;
  const d = max - min;
  if (max <= 0 || d <= 0) return; // grey: no hue, and saturation scaling changes nothing
  let s = (d / max) * sat;
  if (s > 1) s = 1;
  let h = max === r ? (g - b) / d : max === g ? 2 + (b - r) / d : 4 + (r - g) / d; // sextants, -1..5
  h = h * 60 + hue; // within (-60 - 72, 300 + 72): one correction suffices
  if (h < 0) h += 360;
  else if (h >= 360) h -= 360;
  // Back to RGB from (h, s, v): channel n = v - v*s*max(0, min(k, 4 - k, 1)), k = (n + h/60) mod 6.
  const vs = v * s;
  const hp = h / 60;
  img[k] = v - vs * hsvRamp(5 + hp);
  img[k + 1] = v - vs * hsvRamp(3 + hp);
  img[k + 2] = v - vs * hsvRamp(1 + hp);
}

/** max(0, min(k, 4 - k, 1)) with k = x mod 6, for x in [0, 12). */
function hsvRamp(x: number): number {
  const k = x >= 6 ? x - 6 : x;
  const m = k < 4 - k ? k : 4 - k;
  return m >= 1 ? 1 : m > 0 ? m : 0;
}

export function normalizeInPlace(img: Float32Array, n: PixelNormalization): void {
  const [m0, m1, m2] = n.mean;
  const s = n.scale;
  for (let k = 0; k < img.length; k += 3) {
    img[k] = (img[k] - m0) * s;
    img[k + 1] = (img[k + 1] - m1) * s;
    img[k + 2] = (img[k + 2] - m2) * s;
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
