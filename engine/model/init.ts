// Seeded initial values, as the DSOD Caffe code fills its blobs: xavier for body convolutions, Gaussian
// (std 0.01) for head convolutions. Values come from our own PRNG, not tfjs's, so a seed gives the same
// network on every backend and every machine.

/** A 32-bit hash of a string mixed with a seed (FNV-1a then a murmur finaliser). */
export function hashSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: uniform in [0, 1). */
export function uniformSource(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Caffe's XavierFiller with its default variance_norm FAN_IN: uniform in [-a, a], a = sqrt(3 / fan_in),
 * fan_in = input channels x kernel height x kernel width.
 */
export function xavier(count: number, fanIn: number, seed: number): Float32Array {
  const next = uniformSource(seed);
  const a = Math.sqrt(3 / fanIn);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (2 * next() - 1) * a;
  return out;
}

/** Caffe's GaussianFiller: normal(mean 0, std), by Box-Muller. */
export function gaussian(count: number, std: number, seed: number): Float32Array {
  const next = uniformSource(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = 1 - next(); // (0, 1]: log(u) is finite
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    const t = 2 * Math.PI * next();
    out[i] = r * Math.cos(t);
    if (i + 1 < count) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

export function filled(count: number, value: number): Float32Array {
  return new Float32Array(count).fill(value);
}
