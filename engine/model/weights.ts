// Weights as plain data: a map from parameter name to shape and float32 values, and a one-buffer encoding of it,
// so a training loop can write a checkpoint to a temporary file and rename it into place (atomic).
//
// Encoding: "DSODW001" (8 bytes), header length (uint32 LE), UTF-8 JSON header
// { names, shapes }, zero padding to a multiple of 4, then every tensor's float32 LE values in header order.

export interface NamedWeight {
  shape: number[];
  values: Float32Array;
}

export type WeightMap = Record<string, NamedWeight>;

const MAGIC = 'DSODW001';

export function encodeWeights(weights: WeightMap): Uint8Array {
  const names = Object.keys(weights);
  const header = new TextEncoder().encode(JSON.stringify({ names, shapes: names.map((n) => weights[n].shape) }));
  const dataStart = align4(MAGIC.length + 4 + header.length);
  const total = names.reduce((s, n) => s + weights[n].values.length * 4, dataStart);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(MAGIC.length, header.length, true);
  out.set(header, MAGIC.length + 4);
  let at = dataStart;
  for (const n of names) {
    const { shape, values } = weights[n];
    if (sizeOf(shape) !== values.length) throw new Error(`weight ${n}: shape [${shape}] holds ${sizeOf(shape)} values, got ${values.length}`);
    for (let i = 0; i < values.length; i++, at += 4) view.setFloat32(at, values[i], true);
  }
  return out;
}

export function decodeWeights(bytes: Uint8Array): WeightMap {
  const fail = (why: string): never => {
    throw new Error(`not a DSOD weights file: ${why}`);
  };
  if (bytes.length < MAGIC.length + 4 || new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) fail('bad magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  if (MAGIC.length + 4 + headerLength > bytes.length) fail('truncated header');
  let header: { names: string[]; shapes: number[][] };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength)));
  } catch {
    return fail('unreadable header');
  }
  if (!Array.isArray(header.names) || !Array.isArray(header.shapes) || header.names.length !== header.shapes.length) fail('malformed header');
  const out: WeightMap = {};
  let at = align4(MAGIC.length + 4 + headerLength);
  header.names.forEach((name, i) => {
    const shape = header.shapes[i];
    const count = sizeOf(shape);
    if (at + 4 * count > bytes.length) fail(`truncated at ${name}`);
    const values = new Float32Array(count);
    for (let j = 0; j < count; j++, at += 4) values[j] = view.getFloat32(at, true);
    out[name] = { shape: [...shape], values };
  });
  if (at !== bytes.length) fail(`${bytes.length - at} trailing bytes`);
  return out;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
