// Default boxes (SSD priors) exactly as Caffe's PriorBox layer makes them.

/**
 * The aspect ratios one location gets, in Caffe's order: 1 first, then each given ratio r not already present
 * (within 1e-6) and, with flip, 1/r. Ratios <= 0 are invalid and left out (core reports them).
 */
export function expandAspectRatios(ratios: readonly number[], flip: boolean): number[] {
  const out = [1];
  for (const r of ratios) {
    if (!(r > 0) || out.some((a) => Math.abs(a - r) < 1e-6)) continue;
    out.push(r);
    if (flip) out.push(1 / r);
  }
  return out;
}

/** Boxes per location: one per aspect ratio at the min size, plus one of side sqrt(min·max) when there is a max size. */
export function priorsPerLocation(aspectRatios: readonly number[], flip: boolean, hasMaxSize: boolean): number {
  return expandAspectRatios(aspectRatios, flip).length + (hasMaxSize ? 1 : 0);
}

/** One default box's size in input pixels (before clipping to the image). */
export interface BoxShape {
  width: number;
  height: number;
}

/**
 * The boxes of one location, in Caffe's order: the min-size square, the sqrt(min·max) square when there is a max size,
 * then min·sqrt(r) x min/sqrt(r) for each further aspect ratio r.
 */
export function priorShapes(minSize: number, maxSize: number | null, aspectRatios: readonly number[], flip: boolean): BoxShape[] {
  const out: BoxShape[] = [{ width: minSize, height: minSize }];
  if (maxSize !== null) {
    const side = Math.sqrt(minSize * maxSize);
    out.push({ width: side, height: side });
  }
  for (const r of expandAspectRatios(aspectRatios, flip)) {
    if (Math.abs(r - 1) < 1e-6) continue;
    out.push({ width: minSize * Math.sqrt(r), height: minSize / Math.sqrt(r) });
  }
  return out;
}

/** The shortest and the longest side, in input pixels, of any box of a location (see `priorShapes`). */
export function boxSideRange(shapes: readonly BoxShape[]): { min: number; max: number } {
  const sides = shapes.flatMap((b) => [b.width, b.height]);
  return { min: Math.min(...sides), max: Math.max(...sides) };
}

export interface PriorScale {
  height: number;
  width: number;
  minSize: number;
  maxSize: number | null;
  aspectRatios: readonly number[];
  /** Pixels between centres; `null`: input size / feature size. */
  step: number | null;
}

export interface PriorOptions {
  imageHeight: number;
  imageWidth: number;
  flip: boolean;
  clip: boolean;
  offset: number;
}

/**
 * All default boxes of all scales as corners [xmin, ymin, xmax, ymax], normalised to the image, in Caffe's order
 * (scale, row, column, box); 4 numbers a box.
 */
export function priorBoxes(scales: readonly PriorScale[], o: PriorOptions): Float32Array {
  let total = 0;
  for (const s of scales) total += s.height * s.width * priorsPerLocation(s.aspectRatios, o.flip, s.maxSize !== null);
  const out = new Float32Array(total * 4);
  let k = 0;
  const put = (cx: number, cy: number, w: number, h: number) => {
    const box = [(cx - w / 2) / o.imageWidth, (cy - h / 2) / o.imageHeight, (cx + w / 2) / o.imageWidth, (cy + h / 2) / o.imageHeight];
    for (const v of box) out[k++] = o.clip ? Math.min(Math.max(v, 0), 1) : v;
  };
  for (const s of scales) {
    const stepW = s.step ?? o.imageWidth / s.width;
    const stepH = s.step ?? o.imageHeight / s.height;
    const shapes = priorShapes(s.minSize, s.maxSize, s.aspectRatios, o.flip);
    for (let y = 0; y < s.height; y++) {
      for (let x = 0; x < s.width; x++) {
        const cx = (x + o.offset) * stepW;
        const cy = (y + o.offset) * stepH;
        for (const b of shapes) put(cx, cy, b.width, b.height);
      }
    }
  }
  return out;
}

/**
 * How far (a share of the input side) a scale's grid of box centres may span more or less than the image and still
 * tile it: SSD300's released steps are 32 for a 10x10 map of a 300 input (320 px, 6.7% over) and 64 for 5x5.
 */
export const TILING_TOLERANCE = 0.1;

/** `map` cells `step` px apart span the `side` px of the input, within the tolerance. */
export function stepTiles(step: number, map: number, side: number): boolean {
  return Math.abs(map * step - side) <= TILING_TOLERANCE * side;
}

/**
 * The step SSD's convention gives a `map`-cell side of a `side`-px input, the scale's stride in the network being
 * `stride`: side / map, written as the stride where that tiles (SSD300: 8, 16, 32, 64 for maps of 38, 19, 10, 5), and
 * otherwise rounded to a whole pixel (SSD300: 100 for 3x3, 300 for 1x1), or to 1/1000 px where a whole pixel would
 * not tile (maps with cells of a few pixels).
 */
export function conventionalStep(side: number, map: number, stride: number): number {
  if (stepTiles(stride, map, side)) return stride;
  const whole = Math.round(side / map);
  return whole > 0 && stepTiles(whole, map, side) ? whole : Math.round((side / map) * 1000) / 1000;
}
