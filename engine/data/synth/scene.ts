// One synthetic image: a noisy coloured background, 1-6 textured shapes that may occlude one another, and the
// ground truth of what is visible (VOC annotates the visible extent of an object, so do we).
import type { Rng } from '../rng';
import { fullArea, rasterize, shapeExtent, type Placement, type ShapeName } from './shapes';
import { addNoiseToBytes, paintBackground, randomFill, type TextureName } from './textures';

export interface SceneOptions {
  width: number;
  height: number;
  classes: readonly ShapeName[];
  minObjects: number;
  maxObjects: number;
  /** Object size (the longer side of its extent) as a fraction of the image's shorter side. */
  minSize: number;
  maxSize: number;
  /** An object may not be occluded below this visible fraction (placement is retried, then the object dropped). */
  minVisible: number;
  /** Visible fraction under which an object is marked difficult (heavily occluded or truncated). */
  difficultVisible: number;
  /** Visible extent (longer side, fraction of the shorter image side) under which an object is marked difficult. */
  difficultSize: number;
}

export interface SceneObject {
  shape: ShapeName;
  texture: TextureName;
  /** Visible extent, pixel indices, both ends included (0-based). */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  visibleFraction: number;
  truncated: boolean;
  difficult: boolean;
}

export interface Scene {
  width: number;
  height: number;
  /** RGB bytes, row-major. */
  pixels: Uint8Array;
  objects: SceneObject[];
}

const PLACEMENT_TRIES = 30;

interface Placed {
  placement: Placement;
  texture: TextureName;
  area: number;
  visible: number;
  truncated: boolean;
}

// Scratch buffers reused across images of one size (rendering is synchronous, so one set suffices).
let scratchImg: Float32Array | undefined;
let scratchOwner: Int16Array | undefined;

export function renderScene(rng: Rng, o: SceneOptions): Scene {
  const { width: W, height: H } = o;
  const img = (scratchImg = paintBackground(rng, W, H, scratchImg));
  if (scratchOwner?.length !== W * H) scratchOwner = new Int16Array(W * H);
  const owner = scratchOwner.fill(-1);
  const placed: Placed[] = [];
  const wanted = rng.int(o.minObjects, o.maxObjects);
  const side = Math.min(W, H);
  const colour = new Float32Array(3);

  for (let n = 0; n < wanted; n++) {
    for (let attempt = 0; attempt < PLACEMENT_TRIES; attempt++) {
      const p = samplePlacement(rng, o, W, H, side);
      const e = shapeExtent(p);
      const x0 = Math.max(0, e.x0);
      const y0 = Math.max(0, e.y0);
      const x1 = Math.min(W, e.x1);
      const y1 = Math.min(H, e.y1);
      const cover = rasterize(p, x0, y0, x1, y1);
      const rw = x1 - x0;
      let inImage = 0;
      const lost = new Int32Array(placed.length);
      for (let y = 0; y < y1 - y0; y++) {
        for (let x = 0; x < rw; x++) {
          if (cover[y * rw + x] < 0.5) continue;
          inImage++;
          const who = owner[(y + y0) * W + x + x0];
          if (who >= 0) lost[who]++;
        }
      }
      if (inImage === 0) continue;
      const truncatedAtAll = e.x0 < 0 || e.y0 < 0 || e.x1 > W || e.y1 > H;
      const area = truncatedAtAll ? fullArea(p) : inImage;
      // (Centre tests and 50% coverage can differ by a few edge pixels, hence min(1, ...).)
      if (Math.min(1, inImage / area) < o.minVisible) continue;
      if (placed.some((q, i) => (q.visible - lost[i]) / q.area < o.minVisible)) continue;

      // Accepted: paint it over what is there, and take ownership of the pixels it mostly covers.
      const radius = Math.max(p.hx, p.hy);
      const { texture, fill } = randomFill(rng, p.cx, p.cy, radius);
      for (let y = 0; y < y1 - y0; y++) {
        for (let x = 0; x < rw; x++) {
          const a = cover[y * rw + x];
          if (a <= 0) continue;
          const px = x + x0;
          const py = y + y0;
          fill(px + 0.5, py + 0.5, colour);
          const k = (py * W + px) * 3;
          img[k] += (colour[0] - img[k]) * a;
          img[k + 1] += (colour[1] - img[k + 1]) * a;
          img[k + 2] += (colour[2] - img[k + 2]) * a;
          if (a >= 0.5) owner[py * W + px] = placed.length;
        }
      }
      placed.forEach((q, i) => (q.visible -= lost[i]));
      placed.push({ placement: p, texture, area, visible: inImage, truncated: inImage < 0.97 * area });
      break;
    }
    // An object that found no place in PLACEMENT_TRIES tries is dropped: the scene is full.
  }

  const sigma = rng.uniform(3, 18);
  const pixels = addNoiseToBytes(rng, img, sigma);
  return { width: W, height: H, pixels, objects: visibleExtents(placed, owner, W, H, side, o) };
}

function samplePlacement(rng: Rng, o: SceneOptions, W: number, H: number, side: number): Placement {
  const shape = rng.pick(o.classes);
  // Log-uniform sizes: as many objects between 8% and 16% as between 35% and 70%. The size is the longer side of the
  // rotated shape's axis-aligned extent, so no box exceeds maxSize.
  const size = Math.exp(rng.uniform(Math.log(o.minSize), Math.log(o.maxSize))) * side;
  const aspect = Math.exp(rng.uniform(Math.log(0.75), Math.log(4 / 3)));
  const angle =
    shape === 'circle' ? 0 : shape === 'star' ? rng.uniform(0, 2 * Math.PI) : shape === 'triangle' ? rng.uniform(-0.5, 0.5) : rng.uniform(-0.35, 0.35);
  const param = shape === 'star' ? rng.uniform(0.38, 0.5) : shape === 'cross' ? rng.uniform(0.22, 0.38) : 0;
  const c = Math.abs(Math.cos(angle));
  const s = Math.abs(Math.sin(angle));
  const ux = aspect > 1 ? 1 : aspect;
  const uy = aspect > 1 ? 1 / aspect : 1;
  const k = size / 2 / Math.max(c * ux + s * uy, s * ux + c * uy);
  const hx = k * ux;
  const hy = k * uy;
  const ex = c * hx + s * hy;
  const ey = s * hx + c * hy;
  // Most objects lie wholly inside the image; some are cut by its border (VOC's "truncated").
  const cut = rng.chance(0.15);
  const cx = cut || 2 * ex >= W ? rng.uniform(0, W) : rng.uniform(ex, W - ex);
  const cy = cut || 2 * ey >= H ? rng.uniform(0, H) : rng.uniform(ey, H - ey);
  return { shape, cx, cy, hx, hy, angle, param };
}

function visibleExtents(placed: Placed[], owner: Int16Array, W: number, H: number, side: number, o: SceneOptions): SceneObject[] {
  const box = placed.map(() => ({ x0: W, y0: H, x1: -1, y1: -1, n: 0 }));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const who = owner[y * W + x];
      if (who < 0) continue;
      const b = box[who];
      if (x < b.x0) b.x0 = x;
      if (x > b.x1) b.x1 = x;
      if (y < b.y0) b.y0 = y;
      if (y > b.y1) b.y1 = y;
      b.n++;
    }
  }
  return placed.map((q, i) => {
    const b = box[i];
    const visibleFraction = Math.min(1, b.n / q.area);
    const extent = Math.max(b.x1 - b.x0 + 1, b.y1 - b.y0 + 1) / side;
    return {
      shape: q.placement.shape,
      texture: q.texture,
      x0: b.x0,
      y0: b.y0,
      x1: b.x1,
      y1: b.y1,
      visibleFraction,
      truncated: q.truncated,
      difficult: visibleFraction < o.difficultVisible || extent < o.difficultSize,
    };
  });
}
