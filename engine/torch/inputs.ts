// Images for `dsod infer --engine torch`, decoded and resized by Node exactly as the tfjs engine's inference does
// (sharp through engine/data: decodeImage + resizeSample): any image files, not a dataset, and both engines then see
// the same input values. Held-out splits (a training's evaluations, `dsod eval --engine torch`) are decoded by the
// engine itself from a data index (engine/torch/data-index.ts, dsod_torch/data.py HeldOut). The folder holds
// `inputs.dsodw` (the weights encoding, one tensor `input` [N, H, W, 3], NHWC) and `images.json` (each image's path
// and size, the class names); dsod_torch/infer.py reads it.
//
// Memory: N x H x W x 3 x 4 bytes (a 96x96 image 110 KB, a 300x300 one 1.1 MB): the images named on the command line.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { resizeSample } from '../data/augment';
import { writeFileAtomic } from '../data/files';
import { decodeImage } from '../data/image';
import { encodeWeights } from '../model/weights';

export const INPUTS_FILE = 'inputs.dsodw';
export const IMAGES_FILE = 'images.json';

export interface PreparedImage {
  image: string;
  width: number;
  height: number;
}

async function writeInputs(
  dir: string,
  images: PreparedImage[],
  pixels: Float32Array[],
  size: { width: number; height: number },
  classNames: readonly string[],
) {
  mkdirSync(dir, { recursive: true });
  const values = new Float32Array(images.length * size.height * size.width * 3);
  let at = 0;
  for (const p of pixels) {
    values.set(p, at);
    at += p.length;
  }
  await writeFileAtomic(join(dir, INPUTS_FILE), encodeWeights({ input: { shape: [images.length, size.height, size.width, 3], values } }));
  await writeFileAtomic(join(dir, IMAGES_FILE), JSON.stringify({ version: 1, images, classNames }) + '\n');
}

/** Image files as `dsod infer` reads them (each at its own size, warped to the input); unreadable ones are reported. */
export async function writeImageInputs(
  dir: string,
  paths: readonly string[],
  size: { width: number; height: number },
  classNames: readonly string[],
): Promise<{ images: PreparedImage[]; problems: string[] }> {
  const empty = { boxes: new Float32Array(0), labels: new Int32Array(0), difficult: new Uint8Array(0) };
  const images: PreparedImage[] = [];
  const pixels: Float32Array[] = [];
  const problems: string[] = [];
  for (const path of paths) {
    try {
      const img = await decodeImage(path);
      const buffer = new Float32Array(size.height * size.width * 3);
      resizeSample(img, empty, size, { buffer, offset: 0 });
      images.push({ image: path, width: img.width, height: img.height });
      pixels.push(buffer);
    } catch (e) {
      problems.push(`${path}: unreadable image, skipped: ${(e as Error).message}`);
    }
  }
  await writeInputs(dir, images, pixels, size, classNames);
  return { images, problems };
}
