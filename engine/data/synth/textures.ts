// Colours, object textures (solid, stripes, dots, gradients) and noisy coloured backgrounds for synthetic images.
// Textures make colour and fill useless as class cues: only the outline tells a circle from a square.
import type { Rng } from '../rng';

export type Rgb = [number, number, number];
export const TEXTURES = ['solid', 'stripes', 'dots', 'gradient'] as const;
export type TextureName = (typeof TEXTURES)[number];

export function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i];
  return [r * 255, g * 255, b * 255];
}

export function randomColor(rng: Rng, minSat = 0.25, minValue = 0.2): Rgb {
  return hsvToRgb(rng.next(), rng.uniform(minSat, 1), rng.uniform(minValue, 1));
}

/** A fill: the colour of pixel (x, y), written into `out`. */
export type Fill = (x: number, y: number, out: Float32Array) => void;

/** A random texture for an object whose extent is centred at (cx, cy) with radius `r` pixels. */
export function randomFill(rng: Rng, cx: number, cy: number, r: number): { texture: TextureName; fill: Fill } {
  const texture = rng.pick(TEXTURES);
  const a = randomColor(rng);
  let b = randomColor(rng);
  // A second colour too close to the first would hide the texture.
  for (let i = 0; i < 4 && Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) < 120; i++) b = randomColor(rng);
  const mix = (t: number, out: Float32Array) => {
    out[0] = a[0] + (b[0] - a[0]) * t;
    out[1] = a[1] + (b[1] - a[1]) * t;
    out[2] = a[2] + (b[2] - a[2]) * t;
  };
  switch (texture) {
    case 'solid':
      return { texture, fill: (_x, _y, out) => mix(0, out) };
    case 'stripes': {
      const angle = rng.uniform(0, Math.PI);
      const period = rng.uniform(3, Math.max(4, r * 0.6));
      const ux = Math.cos(angle);
      const uy = Math.sin(angle);
      const phase = rng.uniform(0, 2 * Math.PI);
      // Soft stripes (a clipped sine) instead of hard ones: no aliasing at small periods.
      return {
        texture,
        fill: (x, y, out) => mix(Math.min(1, Math.max(0, 0.5 + 1.5 * Math.sin((2 * Math.PI * (x * ux + y * uy)) / period + phase))), out),
      };
    }
    case 'dots': {
      const period = rng.uniform(4, Math.max(5, r * 0.5));
      const radius = period * rng.uniform(0.2, 0.4);
      const ox = rng.uniform(0, period);
      const oy = rng.uniform(0, period);
      return {
        texture,
        fill: (x, y, out) => {
          const dx = ((((x - ox) % period) + period) % period) - period / 2;
          const dy = ((((y - oy) % period) + period) % period) - period / 2;
          mix(Math.min(1, Math.max(0, radius + 0.5 - Math.sqrt(dx * dx + dy * dy))), out);
        },
      };
    }
    case 'gradient': {
      if (rng.chance(0.5)) {
        const angle = rng.uniform(0, 2 * Math.PI);
        const ux = Math.cos(angle) / (2 * r);
        const uy = Math.sin(angle) / (2 * r);
        return { texture, fill: (x, y, out) => mix(Math.min(1, Math.max(0, 0.5 + (x - cx) * ux + (y - cy) * uy)), out) };
      }
      return { texture, fill: (x, y, out) => mix(Math.min(1, Math.hypot(x - cx, y - cy) / r), out) };
    }
  }
}

/**
 * A smooth random colour field (a coarse grid of random colours, bilinearly interpolated), with a few straight
 * lines across it as clutter. Returns float RGB, 3 values a pixel, row-major.
 */
export function paintBackground(rng: Rng, width: number, height: number, into?: Float32Array): Float32Array {
  // Reusing the caller's buffer matters: allocating a fresh megabyte-sized typed array costs as much as painting it.
  const img = into && into.length === width * height * 3 ? into : new Float32Array(width * height * 3);
  const gx = rng.int(2, 5);
  const gy = rng.int(2, 5);
  const grid: Rgb[] = [];
  const base = randomColor(rng, 0.1, 0.15);
  for (let i = 0; i < (gx + 1) * (gy + 1); i++) {
    // Neighbouring cells stay related to one base colour, so backgrounds are coloured but not rainbows.
    const c = randomColor(rng, 0.1, 0.15);
    const t = rng.uniform(0.3, 0.8);
    grid.push([base[0] * (1 - t) + c[0] * t, base[1] * (1 - t) + c[1] * t, base[2] * (1 - t) + c[2] * t]);
  }
  // Row by row: blend the two grid rows once per row, then interpolate along x (3 lerps a pixel).
  const cols = gx + 1;
  const row = new Float32Array(cols * 3);
  const colIndex = new Int32Array(width);
  const colT = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const fx = ((x + 0.5) / width) * gx;
    colIndex[x] = Math.min(gx - 1, Math.floor(fx));
    colT[x] = fx - colIndex[x];
  }
  for (let y = 0; y < height; y++) {
    const fy = ((y + 0.5) / height) * gy;
    const iy = Math.min(gy - 1, Math.floor(fy));
    const ty = fy - iy;
    for (let c = 0; c < cols; c++) {
      const top = grid[iy * cols + c];
      const bottom = grid[(iy + 1) * cols + c];
      for (let ch = 0; ch < 3; ch++) row[c * 3 + ch] = top[ch] + (bottom[ch] - top[ch]) * ty;
    }
    let k = y * width * 3;
    for (let x = 0; x < width; x++) {
      const i = colIndex[x] * 3;
      const t = colT[x];
      img[k++] = row[i] + (row[i + 3] - row[i]) * t;
      img[k++] = row[i + 1] + (row[i + 4] - row[i + 1]) * t;
      img[k++] = row[i + 2] + (row[i + 5] - row[i + 2]) * t;
    }
  }
  const lines = rng.int(0, 3);
  for (let i = 0; i < lines; i++) drawLine(img, width, height, rng);
  return img;
}

function drawLine(img: Float32Array, width: number, height: number, rng: Rng): void {
  const angle = rng.uniform(0, Math.PI);
  const nx = -Math.sin(angle);
  const ny = Math.cos(angle);
  const d = rng.uniform(0, 1) * (Math.abs(nx) * width + Math.abs(ny) * height) + Math.min(0, nx * width) + Math.min(0, ny * height);
  const half = rng.uniform(0.5, Math.max(1, Math.min(width, height) * 0.015));
  const c = randomColor(rng, 0.1, 0.2);
  const alpha = rng.uniform(0.3, 0.8);
  const paint = (x: number, y: number) => {
    const dist = Math.abs((x + 0.5) * nx + (y + 0.5) * ny - d);
    const cover = Math.min(1, Math.max(0, half + 0.5 - dist)) * alpha;
    if (cover <= 0) return;
    const k = (y * width + x) * 3;
    img[k] += (c[0] - img[k]) * cover;
    img[k + 1] += (c[1] - img[k + 1]) * cover;
    img[k + 2] += (c[2] - img[k + 2]) * cover;
  };
  // Visit only the band of pixels near the line: along rows when it is steep, along columns when it is flat.
  if (Math.abs(nx) >= Math.abs(ny)) {
    const band = (half + 1.5) / Math.abs(nx);
    for (let y = 0; y < height; y++) {
      const xc = (d - (y + 0.5) * ny) / nx - 0.5;
      for (let x = Math.max(0, Math.floor(xc - band)); x <= Math.min(width - 1, Math.ceil(xc + band)); x++) paint(x, y);
    }
  } else {
    const band = (half + 1.5) / Math.abs(ny);
    for (let x = 0; x < width; x++) {
      const yc = (d - (x + 0.5) * nx) / ny - 0.5;
      for (let y = Math.max(0, Math.floor(yc - band)); y <= Math.min(height - 1, Math.ceil(yc + band)); y++) paint(x, y);
    }
  }
}

/** Per-pixel, per-channel sensor noise (close to Gaussian) and rounding to bytes. */
export function addNoiseToBytes(rng: Rng, img: Float32Array, sigma: number): Uint8Array {
  const out = new Uint8Array(img.length);
  // One xorshift32 draw per value, seeded from `rng`: its three low bytes summed are close to a Gaussian (variance of
  // one byte: (256^2 - 1) / 12), several times faster than three calls to rng.next().
  let s = Math.floor(rng.next() * 0x7fffffff) | 1; // kept an int32 so V8 keeps it in a register
  const scale = sigma / Math.sqrt((3 * (256 * 256 - 1)) / 12);
  for (let i = 0; i < img.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const n = ((s & 255) + ((s >>> 8) & 255) + ((s >>> 16) & 255) - 382.5) * scale;
    const v = img[i] + n + 0.5;
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v | 0;
  }
  return out;
}
