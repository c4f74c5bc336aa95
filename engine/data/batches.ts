// Batches for training and evaluation, prepared ahead: while the caller runs a step on batch s, batches s+1..s+k
// are being decoded (sharp, on libuv's threads), augmented and matched against the priors.
//
// Order and augmentation are functions of (seed, position) only: sample k of step s is position p = s x B + k; its
// image is permutation(epoch)[p mod n] and its augmentation draws from its own generator. So a run resumed at step s
// sees exactly the batches it would have seen, and preparing batches concurrently changes nothing.
import { augmentSample, resizeSample, type Annotations, type AugmentOptions, type PixelNormalization } from './augment';
import { decodeImage, type RawImage } from './image';
import { createRng, deriveSeed, shuffleInPlace } from './rng';
import type { DataProblem, DetectionDataset, ImageRecord, LoadReport } from './types';
import { encodeTargets, type TargetOptions } from '../boxes/targets';

export interface BatchOptions {
  batchSize: number;
  /** Network input size. */
  width: number;
  height: number;
  seed?: number;
  /** SSD augmentation options (SSD's recipe by default); false: resize only, in order, one pass (evaluation). */
  augment?: Omit<AugmentOptions, 'width' | 'height' | 'normalization'> | false;
  normalization?: PixelNormalization;
  /** Batches prepared ahead of the one being consumed. */
  prefetch?: number;
  /** Bytes of decoded images kept in memory (a small dataset decodes once). */
  cacheBytes?: number;
  /** Longer side images are decoded at (sharp shrinks larger ones); default 2x the input's longer side. */
  decodeMaxSide?: number;
  /** Attach training targets matched against these priors (corners, 4 a prior). */
  priors?: Float32Array;
  targets?: TargetOptions;
  /** First step (to resume a run). */
  startStep?: number;
  /** Steps to produce; default: unbounded when augmenting, one pass over the data otherwise. */
  steps?: number;
  /** Leave out images without objects (they add no positives, and SSD mines no negatives from them). Default: when augmenting. */
  skipEmpty?: boolean;
  /**
   * Called once for each image left out while loading (it cannot be decoded, or its size is not the annotation's),
   * with the file and the reason; the problem is also added to the dataset's report.
   */
  onSkip?: (problem: DataProblem) => void;
}

export interface Batch {
  step: number;
  epoch: number;
  /** Images in this batch (the last evaluation batch may be short; unreadable images are left out). */
  size: number;
  /** [size, height, width, 3] float32, NHWC. */
  images: Float32Array;
  shape: [number, number, number, number];
  records: ImageRecord[];
  annotations: Annotations[];
  /** With `priors`: [size, P, 4] offsets, [size, P] labels (0 = background), matched priors in the batch. */
  targets?: { loc: Float32Array; labels: Int32Array; positives: number };
}

const DEFAULT_CACHE = 512 * 1024 * 1024;

/** An image whose size is not the one its annotation states (its boxes would be wrong). */
class SizeMismatch extends Error {}
const STREAM_ORDER = 11;
const STREAM_AUGMENT = 12;

/** A record's objects as the arrays augmentation and matching work on. */
export function recordAnnotations(r: ImageRecord): Annotations {
  const n = r.objects.length;
  const boxes = new Float32Array(4 * n);
  const labels = new Int32Array(n);
  const difficult = new Uint8Array(n);
  r.objects.forEach((o, i) => {
    boxes.set(o.box, 4 * i);
    labels[i] = o.label;
    difficult[i] = o.difficult ? 1 : 0;
  });
  return { boxes, labels, difficult };
}

export class BatchLoader implements AsyncIterable<Batch> {
  /** The dataset's report: images found unreadable while loading are added to it. */
  readonly report: LoadReport;
  readonly stepsPerEpoch: number;
  private readonly records: ImageRecord[];
  private readonly training: boolean;
  private readonly o: BatchOptions;
  private readonly seed: number;
  private readonly endStep: number;
  private nextToSchedule: number;
  private readonly queue: Promise<Batch>[] = [];
  private readonly cache = new Map<number, RawImage>();
  private cacheUsed = 0;
  private readonly bad = new Set<number>();
  private readonly decoding = new Map<number, Promise<RawImage | null>>();
  private readonly permutations = new Map<number, Int32Array>();

  constructor(dataset: DetectionDataset, o: BatchOptions) {
    if (!(Number.isInteger(o.batchSize) && o.batchSize > 0)) throw new Error(`batchSize must be a positive integer, got ${o.batchSize}`);
    this.o = o;
    this.training = o.augment !== false;
    this.seed = o.seed ?? 0;
    this.report = dataset.report;
    const skipEmpty = o.skipEmpty ?? this.training;
    this.records = skipEmpty ? dataset.records.filter((r) => r.objects.length > 0) : [...dataset.records];
    this.stepsPerEpoch = Math.max(1, this.training ? Math.floor(this.records.length / o.batchSize) : Math.ceil(this.records.length / o.batchSize));
    const start = o.startStep ?? 0;
    this.nextToSchedule = start;
    this.endStep =
      this.records.length === 0
        ? start
        : o.steps !== undefined
          ? start + o.steps
          : this.training
            ? Infinity
            : start + Math.ceil(this.records.length / o.batchSize);
  }

  get imageCount(): number {
    return this.records.length;
  }

  /** Images found unusable so far (each once: it is left out from then on). */
  get skippedCount(): number {
    return this.bad.size;
  }

  /** The next batch, or null at the end. */
  async next(): Promise<Batch | null> {
    this.fill();
    const p = this.queue.shift();
    if (!p) return null;
    this.fill(); // start the following batch now, while the caller works on this one
    return p;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    for (;;) {
      const b = await this.next();
      if (!b) return;
      yield b;
    }
  }

  /** Stop preparing; pending work is dropped and decoded images are released. */
  close(): void {
    this.nextToSchedule = this.endStep;
    this.queue.length = 0;
    this.cache.clear();
    this.cacheUsed = 0;
  }

  private fill(): void {
    const depth = (this.o.prefetch ?? 2) + 1;
    while (this.queue.length < depth && this.nextToSchedule < this.endStep) {
      const p = this.prepare(this.nextToSchedule++);
      p.catch(() => undefined); // rejections surface when the caller awaits this batch, not as unhandled ones
      this.queue.push(p);
    }
  }

  private permutation(epoch: number): Int32Array {
    let p = this.permutations.get(epoch);
    if (!p) {
      const idx = Array.from({ length: this.records.length }, (_, i) => i);
      p = Int32Array.from(this.training ? shuffleInPlace(idx, createRng(deriveSeed(this.seed, STREAM_ORDER, epoch))) : idx);
      this.permutations.set(epoch, p);
      // Two epochs are live at most (a batch can straddle an epoch boundary).
      for (const e of this.permutations.keys()) if (e < epoch - 1) this.permutations.delete(e);
    }
    return p;
  }

  private async prepare(step: number): Promise<Batch> {
    const { batchSize: B, width: W, height: H } = this.o;
    const n = this.records.length;
    const first = step * B;
    // Training streams positions forever; evaluation reads each image once, the last batch possibly short.
    const positions = Array.from({ length: Math.max(0, this.training ? B : Math.min(B, n - first)) }, (_, k) => first + k);
    const picked = await Promise.all(positions.map((p) => this.pick(p)));
    const items = picked.filter((x): x is { index: number; image: RawImage; position: number } => x !== null);
    const size = items.length;
    const images = new Float32Array(size * H * W * 3);
    const records: ImageRecord[] = [];
    const annotations: Annotations[] = [];
    const P = this.o.priors ? this.o.priors.length / 4 : 0;
    const targets = this.o.priors ? { loc: new Float32Array(size * P * 4), labels: new Int32Array(size * P), positives: 0 } : undefined;
    items.forEach((it, k) => {
      const record = this.records[it.index];
      const ann = recordAnnotations(record);
      const into = { buffer: images, offset: k * H * W * 3 };
      const aug = this.o.augment;
      const s =
        aug === false
          ? resizeSample(it.image, ann, { width: W, height: H, normalization: this.o.normalization }, into)
          : augmentSample(
              it.image,
              ann,
              createRng(deriveSeed(this.seed, STREAM_AUGMENT, it.position)),
              { ...aug, width: W, height: H, normalization: this.o.normalization },
              into,
            );
      records.push(record);
      const out = { boxes: s.boxes, labels: s.labels, difficult: s.difficult };
      annotations.push(out);
      if (targets) {
        const t = encodeTargets(
          this.o.priors!,
          out.boxes,
          out.labels,
          { ...this.o.targets, difficult: out.difficult },
          { loc: targets.loc, labels: targets.labels, at: k * P },
        );
        targets.positives += t.positives;
      }
    });
    return { step, epoch: Math.floor(first / Math.max(1, n)), size, images, shape: [size, H, W, 3], records, annotations, ...(targets ? { targets } : {}) };
  }

  /** The image at a stream position; in training an unreadable one is replaced by the next readable one. */
  private async pick(position: number): Promise<{ index: number; image: RawImage; position: number } | null> {
    const n = this.records.length;
    const epoch = Math.floor(position / n);
    const perm = this.permutation(epoch);
    const tries = this.training ? n : 1;
    for (let t = 0; t < tries; t++) {
      const index = perm[(position + t) % n];
      if (this.bad.has(index)) continue;
      const image = await this.load(index);
      if (image) return { index, image, position };
    }
    return null;
  }

  private load(index: number): Promise<RawImage | null> {
    const hit = this.cache.get(index);
    if (hit) return Promise.resolve(hit);
    const pending = this.decoding.get(index);
    if (pending) return pending;
    const record = this.records[index];
    const maxSide = this.o.decodeMaxSide ?? 2 * Math.max(this.o.width, this.o.height);
    const p = decodeImage(record.imagePath, { maxSide })
      .then((img) => {
        // The annotation's boxes are fractions of the size it states: an image of another size would get wrong boxes.
        const src = img.source;
        if (src && (src.width !== record.width || src.height !== record.height))
          throw new SizeMismatch(`the annotation gives its size as ${record.width}x${record.height} (${record.source}), the image is ${src.width}x${src.height}`);
        const budget = this.o.cacheBytes ?? DEFAULT_CACHE;
        if (this.cacheUsed + img.data.byteLength <= budget) {
          this.cache.set(index, img);
          this.cacheUsed += img.data.byteLength;
        }
        return img;
      })
      .catch((e: Error) => {
        if (!this.bad.has(index)) {
          this.bad.add(index);
          const message = e instanceof SizeMismatch ? `${e.message}: skipped` : `unreadable image, skipped: ${e.message}`;
          const problem: DataProblem = { stage: 'image', path: record.imagePath, message };
          this.report.problems.push(problem);
          this.report.skippedImages++;
          this.o.onSkip?.(problem);
        }
        return null;
      })
      .finally(() => this.decoding.delete(index));
    this.decoding.set(index, p);
    return p;
  }
}
