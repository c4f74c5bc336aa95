// SSD's CENTER_SIZE box coding (Caffe's EncodeBBox/DecodeBBox, variance not encoded in the target):
//   tx = (gx - px) / pw / v0,  ty = (gy - py) / ph / v1,  tw = log(gw / pw) / v2,  th = log(gh / ph) / v3
// where (x, y, w, h) are centre and size; p a prior, g a ground-truth box; v the variances (0.1, 0.1, 0.2, 0.2).

export type Variances = readonly [number, number, number, number];
export const SSD_VARIANCES: Variances = [0.1, 0.1, 0.2, 0.2];

/** Encode corner box `g` (at gi) relative to prior `p` (at pi), writing 4 numbers into out at oi. */
export function encodeBox(p: ArrayLike<number>, pi: number, g: ArrayLike<number>, gi: number, v: Variances, out: Float32Array, oi: number): void {
  const pw = p[4 * pi + 2] - p[4 * pi];
  const ph = p[4 * pi + 3] - p[4 * pi + 1];
  const px = (p[4 * pi] + p[4 * pi + 2]) / 2;
  const py = (p[4 * pi + 1] + p[4 * pi + 3]) / 2;
  const gw = g[4 * gi + 2] - g[4 * gi];
  const gh = g[4 * gi + 3] - g[4 * gi + 1];
  const gx = (g[4 * gi] + g[4 * gi + 2]) / 2;
  const gy = (g[4 * gi + 1] + g[4 * gi + 3]) / 2;
  out[4 * oi] = (gx - px) / pw / v[0];
  out[4 * oi + 1] = (gy - py) / ph / v[1];
  out[4 * oi + 2] = Math.log(gw / pw) / v[2];
  out[4 * oi + 3] = Math.log(gh / ph) / v[3];
}

/** Decode offsets `loc` (4 a prior) against `priors` into corner boxes. */
export function decodeBoxes(priors: ArrayLike<number>, loc: ArrayLike<number>, v: Variances = SSD_VARIANCES): Float32Array {
  const n = priors.length / 4;
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const pw = priors[4 * i + 2] - priors[4 * i];
    const ph = priors[4 * i + 3] - priors[4 * i + 1];
    const px = (priors[4 * i] + priors[4 * i + 2]) / 2;
    const py = (priors[4 * i + 1] + priors[4 * i + 3]) / 2;
    const cx = px + loc[4 * i] * v[0] * pw;
    const cy = py + loc[4 * i + 1] * v[1] * ph;
    const w = pw * Math.exp(loc[4 * i + 2] * v[2]);
    const h = ph * Math.exp(loc[4 * i + 3] * v[3]);
    out[4 * i] = cx - w / 2;
    out[4 * i + 1] = cy - h / 2;
    out[4 * i + 2] = cx + w / 2;
    out[4 * i + 3] = cy + h / 2;
  }
  return out;
}
