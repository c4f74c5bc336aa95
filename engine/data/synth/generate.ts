// `dsod synth`: a synthetic detection dataset in Pascal VOC layout, so that training and evaluation run with no
// download. Same options and seed = same bytes: each image draws from its own generator (seed, index), and sharp's
// JPEG encoder is deterministic for a given libvips.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { EngineError } from '../../errors';
import { writeFileAtomic } from '../files';
import { createRng, deriveSeed, shuffleInPlace } from '../rng';
import { vocAnnotationXml } from '../voc-annotation';
import { renderScene, type SceneOptions } from './scene';
import { isShapeName, SHAPE_CLASSES, type ShapeName } from './shapes';

export interface SynthOptions {
  /** Output folder (the dataset root: Annotations/, JPEGImages/, ImageSets/Main/). */
  out: string;
  count?: number;
  width?: number;
  height?: number;
  seed?: number;
  classes?: readonly string[];
  minObjects?: number;
  maxObjects?: number;
  minSize?: number;
  maxSize?: number;
  /** Fractions of train, val and test (trainval = train + val); normalised if they do not sum to 1. */
  splits?: { train: number; val: number; test: number };
  quality?: number;
  /** JPEG encodes in flight (sharp runs them on libuv's thread pool while the next image renders). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SynthReport {
  out: string;
  count: number;
  width: number;
  height: number;
  seed: number;
  classes: string[];
  objects: number;
  difficult: number;
  truncated: number;
  perClass: Record<string, number>;
  splits: Record<'train' | 'val' | 'test' | 'trainval', number>;
  seconds: number;
  imagesPerSecond: number;
}

/** Defaults sized for examples/tiny.dsod.yaml (96x96): ~2,000 images write in seconds and train in minutes. */
export const SYNTH_DEFAULTS = {
  count: 2000,
  width: 96,
  height: 96,
  seed: 0,
  minObjects: 1,
  maxObjects: 6,
  minSize: 0.08,
  maxSize: 0.7,
  splits: { train: 0.7, val: 0.1, test: 0.2 },
  quality: 90,
  concurrency: 8,
} as const;

export const SYNTH_DATABASE = 'DSOD Studio synthetic shapes';

/** A bad option, with the option's name: the CLI prints it as a usage error. */
export class SynthOptionError extends EngineError {
  constructor(message: string) {
    super('usage', message);
  }
}

export async function synthesize(options: SynthOptions): Promise<SynthReport> {
  const o = resolveOptions(options);
  const started = performance.now();
  for (const dir of ['Annotations', 'JPEGImages', join('ImageSets', 'Main')]) mkdirSync(join(o.out, dir), { recursive: true });
  const digits = Math.max(6, String(o.count).length);
  const ids = Array.from({ length: o.count }, (_, i) => String(i + 1).padStart(digits, '0'));
  const scene: SceneOptions = {
    width: o.width,
    height: o.height,
    classes: o.classes,
    minObjects: o.minObjects,
    maxObjects: o.maxObjects,
    minSize: o.minSize,
    maxSize: o.maxSize,
    minVisible: 0.3,
    difficultVisible: 0.5,
    difficultSize: 0.085,
  };
  const perClass: Record<string, number> = Object.fromEntries(o.classes.map((c) => [c, 0]));
  let objects = 0;
  let difficult = 0;
  let truncated = 0;
  let done = 0;

  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < o.count; i++) {
    const s = renderScene(createRng(deriveSeed(o.seed, 1, i)), scene);
    for (const obj of s.objects) {
      objects++;
      perClass[obj.shape]++;
      if (obj.difficult) difficult++;
      if (obj.truncated) truncated++;
    }
    const id = ids[i];
    const xml = vocAnnotationXml({
      folder: 'synth',
      filename: `${id}.jpg`,
      width: s.width,
      height: s.height,
      database: SYNTH_DATABASE,
      // Pixel indices x0..x1 (0-based, inclusive) are VOC's x0+1..x1+1 (1-based, inclusive).
      objects: s.objects.map((b) => ({
        name: b.shape,
        xmin: b.x0 + 1,
        ymin: b.y0 + 1,
        xmax: b.x1 + 1,
        ymax: b.y1 + 1,
        difficult: b.difficult,
        truncated: b.truncated,
      })),
    });
    const job = (async () => {
      const jpeg = await sharp(s.pixels, { raw: { width: s.width, height: s.height, channels: 3 } })
        .jpeg({ quality: o.quality })
        .toBuffer();
      await writeFileAtomic(join(o.out, 'JPEGImages', `${id}.jpg`), jpeg);
      await writeFileAtomic(join(o.out, 'Annotations', `${id}.xml`), xml);
      done++;
      o.onProgress?.(done, o.count);
    })();
    inFlight.add(job);
    void job.then(
      () => inFlight.delete(job),
      () => undefined,
    );
    if (inFlight.size >= o.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);

  // Split lists last: a dataset interrupted while writing has no lists, and loaders refuse it instead of half-using it.
  const order = shuffleInPlace([...ids], createRng(deriveSeed(o.seed, 2, 0)));
  const total = o.splits.train + o.splits.val + o.splits.test;
  const nTrain = Math.round((o.count * o.splits.train) / total);
  const nVal = Math.min(o.count - nTrain, Math.round((o.count * o.splits.val) / total));
  const lists = {
    train: order.slice(0, nTrain).sort(),
    val: order.slice(nTrain, nTrain + nVal).sort(),
    test: order.slice(nTrain + nVal).sort(),
    trainval: order.slice(0, nTrain + nVal).sort(),
  };
  for (const [name, list] of Object.entries(lists)) {
    await writeFileAtomic(join(o.out, 'ImageSets', 'Main', `${name}.txt`), list.length ? list.join('\n') + '\n' : '');
  }
  const seconds = (performance.now() - started) / 1000;
  const report: SynthReport = {
    out: o.out,
    count: o.count,
    width: o.width,
    height: o.height,
    seed: o.seed,
    classes: [...o.classes],
    objects,
    difficult,
    truncated,
    perClass,
    splits: { train: lists.train.length, val: lists.val.length, test: lists.test.length, trainval: lists.trainval.length },
    seconds,
    imagesPerSecond: o.count / seconds,
  };
  // The recipe, so that a dataset says how to make it again (timings left out: they are not reproducible).
  const { seconds: _s, imagesPerSecond: _ips, out: _out, ...recipe } = report;
  await writeFileAtomic(
    join(o.out, 'synth.json'),
    JSON.stringify(
      {
        generator: SYNTH_DATABASE,
        version: 1,
        ...recipe,
        minObjects: o.minObjects,
        maxObjects: o.maxObjects,
        minSize: o.minSize,
        maxSize: o.maxSize,
        quality: o.quality,
      },
      null,
      2,
    ) + '\n',
  );
  return report;
}

type Resolved = Required<Omit<SynthOptions, 'onProgress' | 'classes'>> & { classes: ShapeName[]; onProgress?: SynthOptions['onProgress'] };

function resolveOptions(options: SynthOptions): Resolved {
  const o = { ...SYNTH_DEFAULTS, ...stripUndefined(options) } as Resolved & { classes?: readonly string[] };
  const int = (name: string, v: number, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new SynthOptionError(`${name} must be an integer from ${lo} to ${hi} (got ${v})`);
  };
  const frac = (name: string, v: number) => {
    if (!(v > 0 && v <= 1)) throw new SynthOptionError(`${name} must be a fraction in (0, 1] (got ${v})`);
  };
  if (!o.out) throw new SynthOptionError('an output folder is required');
  int('count', o.count, 1, 10_000_000);
  int('width', o.width, 16, 4096);
  int('height', o.height, 16, 4096);
  int('seed', o.seed, 0, 0xffffffff);
  int('minObjects', o.minObjects, 1, 50);
  int('maxObjects', o.maxObjects, o.minObjects, 50);
  int('quality', o.quality, 1, 100);
  int('concurrency', o.concurrency, 1, 256);
  frac('minSize', o.minSize);
  frac('maxSize', o.maxSize);
  if (o.minSize > o.maxSize) throw new SynthOptionError(`minSize (${o.minSize}) must not exceed maxSize (${o.maxSize})`);
  const sp = o.splits;
  if (![sp.train, sp.val, sp.test].every((v) => Number.isFinite(v) && v >= 0) || sp.train + sp.val + sp.test <= 0) {
    throw new SynthOptionError('splits must be non-negative fractions with a positive sum');
  }
  const classes = options.classes ?? SHAPE_CLASSES;
  if (classes.length === 0) throw new SynthOptionError('at least one class is needed');
  for (const c of classes) {
    if (!isShapeName(c)) throw new SynthOptionError(`unknown shape class "${c}"; the generator draws ${SHAPE_CLASSES.join(', ')}`);
  }
  if (new Set(classes).size !== classes.length) throw new SynthOptionError('classes must not repeat');
  return { ...o, classes: [...classes] as ShapeName[] };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
