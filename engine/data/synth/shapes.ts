// The five synthetic object classes as geometry, and their rasterisation into anti-aliased coverage masks.

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star', 'cross'] as const;
export type ShapeName = (typeof SHAPE_CLASSES)[number];

export function isShapeName(s: string): s is ShapeName {
  return (SHAPE_CLASSES as readonly string[]).includes(s);
}

/** A shape placed in an image: centre and half extents in pixels, rotation in radians. */
export interface Placement {
  shape: ShapeName;
  cx: number;
  cy: number;
  hx: number;
  hy: number;
  angle: number;
  /** Cross bar half-thickness or star inner radius, in unit coordinates. */
  param: number;
}

// A 5-pointed star with outer radius 1; its inner radius is the placement's param.
function starPolygon(inner: number): Float64Array {
  const pts = new Float64Array(20);
  for (let i = 0; i < 10; i++) {
    const r = i % 2 === 0 ? 1 : inner;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    pts[2 * i] = r * Math.cos(a);
    pts[2 * i + 1] = r * Math.sin(a);
  }
  return pts;
}

function insidePolygon(pts: Float64Array, u: number, v: number): boolean {
  let inside = false;
  const n = pts.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = pts[2 * i];
    const yi = pts[2 * i + 1];
    const xj = pts[2 * j];
    const yj = pts[2 * j + 1];
    if (yi > v !== yj > v && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Inside test in the shape's unit frame, where the shape spans [-1, 1] on both axes. */
export function insideTest(p: Placement): (u: number, v: number) => boolean {
  switch (p.shape) {
    case 'circle':
      return (u, v) => u * u + v * v <= 1;
    case 'square':
      return (u, v) => u >= -1 && u <= 1 && v >= -1 && v <= 1;
    case 'triangle':
      // Apex at the top, base at the bottom: the tight box is the unit square.
      return (u, v) => v <= 1 && v >= -1 && Math.abs(u) <= (v + 1) / 2;
    case 'star': {
      const pts = starPolygon(p.param);
      return (u, v) => u * u + v * v <= 1 && insidePolygon(pts, u, v);
    }
    case 'cross': {
      const t = p.param;
      return (u, v) => (Math.abs(u) <= t && Math.abs(v) <= 1) || (Math.abs(v) <= t && Math.abs(u) <= 1);
    }
  }
}

/** Pixel rectangle [x0, x1) x [y0, y1) that contains the rotated shape (not clipped to any image). */
export function shapeExtent(p: Placement): { x0: number; y0: number; x1: number; y1: number } {
  const c = Math.abs(Math.cos(p.angle));
  const s = Math.abs(Math.sin(p.angle));
  const ex = c * p.hx + s * p.hy;
  const ey = s * p.hx + c * p.hy;
  return { x0: Math.floor(p.cx - ex), y0: Math.floor(p.cy - ey), x1: Math.ceil(p.cx + ex) + 1, y1: Math.ceil(p.cy + ey) + 1 };
}

/**
 * Coverage (0..1) of each pixel of the rectangle [x0, x1) x [y0, y1) by the shape. Pixel centres decide inside/outside;
 * pixels on an edge (a 4-neighbour disagrees) are refined with 4x4 supersampling, which costs ~perimeter, not area.
 */
export function rasterize(p: Placement, x0: number, y0: number, x1: number, y1: number): Float32Array {
  const w = Math.max(0, x1 - x0);
  const h = Math.max(0, y1 - y0);
  const inside = insideTest(p);
  const cos = Math.cos(-p.angle);
  const sin = Math.sin(-p.angle);
  const ix = 1 / p.hx;
  const iy = 1 / p.hy;
  const test = (x: number, y: number): boolean => {
    const dx = x - p.cx;
    const dy = y - p.cy;
    return inside((dx * cos - dy * sin) * ix, (dx * sin + dy * cos) * iy);
  };
  // One pixel of margin so that edge detection sees the neighbours outside the rectangle.
  const mw = w + 2;
  const centre = new Uint8Array(mw * (h + 2));
  for (let y = -1; y <= h; y++) {
    for (let x = -1; x <= w; x++) centre[(y + 1) * mw + x + 1] = test(x0 + x + 0.5, y0 + y + 0.5) ? 1 : 0;
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const k = (y + 1) * mw + x + 1;
      const c = centre[k];
      if (centre[k - 1] === c && centre[k + 1] === c && centre[k - mw] === c && centre[k + mw] === c) {
        out[y * w + x] = c;
        continue;
      }
      let n = 0;
      for (let sy = 0; sy < 4; sy++) for (let sx = 0; sx < 4; sx++) if (test(x0 + x + (sx + 0.5) / 4, y0 + y + (sy + 0.5) / 4)) n++;
      out[y * w + x] = n / 16;
    }
  }
  return out;
}

/** Pixels whose centre is inside the shape, over its whole extent (the part outside the image included). */
export function fullArea(p: Placement): number {
  const e = shapeExtent(p);
  const inside = insideTest(p);
  const cos = Math.cos(-p.angle);
  const sin = Math.sin(-p.angle);
  let n = 0;
  for (let y = e.y0; y < e.y1; y++) {
    for (let x = e.x0; x < e.x1; x++) {
      const dx = x + 0.5 - p.cx;
      const dy = y + 0.5 - p.cy;
      if (inside((dx * cos - dy * sin) / p.hx, (dx * sin + dy * cos) / p.hy)) n++;
    }
  }
  return n;
}
