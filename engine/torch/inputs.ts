// Images for the torch engine, decoded and resized by Node exactly as the tfjs engine's evaluation and inference do
// (sharp through engine/data: BatchLoader without augmentation, decodeImage + resizeSample): Python's standard library
// and Debian's torch decode no JPEG or PNG, and both engines then see the same input values. The folder holds
// `inputs.dsodw` (the weights encoding, one tensor `input` [N, H, W, 3], NHWC) and `images.json` (each image's path
// and size, the class names); dsod_torch/infer.py reads it.
//
// Memory: N x H x W x 3 x 4 bytes (a 96x96 image 110 KB, a 300x300 one 1.1 MB): for the held-out sets the CPU trains
// on. A large test set (VOC07 test at 300x300: 5.3 GB) needs the torch engine to read images itself (issue 12's data
// path), with this folder kept for the bridge's inference.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BatchLoader } from '../data/batches';
import { resizeSample } from '../data/augment';
import { writeFileAtomic } from '../data/files';
import { decodeImage } from '../data/image';
import type { DataProblem, DetectionDataset, ImageRecord } from '../data/types';
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

/**
 * The held-out records of a dataset (the first `maxImages`), as evaluation loads them; the records that could be used
 * (an unreadable image is left out and reported, as evaluateModel does), in the order of the file.
 */
export async function writeDatasetInputs(
  dir: string,
  dataset: DetectionDataset,
  size: { width: number; height: number },
  o: { maxImages?: number; onSkip?: (p: DataProblem) => void } = {},
): Promise<{ records: ImageRecord[]; skipped: DataProblem[] }> {
  const subset = o.maxImages !== undefined && o.maxImages < dataset.records.length ? { ...dataset, records: dataset.records.slice(0, o.maxImages) } : dataset;
  const skipped: DataProblem[] = [];
  const loader = new BatchLoader(subset, {
    batchSize: 8,
    width: size.width,
    height: size.height,
    augment: false,
    onSkip: (p) => {
      skipped.push(p);
      o.onSkip?.(p);
    },
  });
  const records: ImageRecord[] = [];
  const pixels: Float32Array[] = [];
  try {
    for (let batch = await loader.next(); batch; batch = await loader.next()) {
      if (batch.size === 0) continue;
      records.push(...batch.records);
      pixels.push(batch.images.slice());
    }
  } finally {
    loader.close();
  }
  const images = records.map((r) => ({ image: r.imagePath, width: r.width, height: r.height }));
  await writeInputs(dir, images, pixels, size, dataset.classNames);
  return { records, skipped };
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
