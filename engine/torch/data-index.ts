// The dataset as the torch engine reads it: parsed and checked once, here, by the same readers the tfjs engine uses
// (engine/data: VOC/COCO, their file:line problems, paths kept inside the dataset's folder), then written into the run
// folder as one JSON file (RUNDIR/data.json, format below and in engine/torch/README.md). Python only decodes the images
// it names and augments them (dsod_torch/data.py): one parser, so errors and containment live in one place.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../data/files';
import type { DataSource } from '../data/source';
import { formatProblem, type DataProblem, type DetectionDataset } from '../data/types';

/** The file in the run folder. */
export const TORCH_DATA_FILE = 'data.json';
export const DATA_INDEX_FORMAT = 'dsod-data-index';
export const DATA_INDEX_VERSION = 1;

/** One image: its absolute path, the size its annotation states, its objects (parallel arrays). */
export interface DataIndexItem {
  id: string;
  image: string;
  width: number;
  height: number;
  /** The annotation file (named in the message when the image's size is not the one stated). */
  source: string;
  /** Normalised corners [xmin, ymin, xmax, ymax] (0..1), one a box. */
  boxes: [number, number, number, number][];
  /** 1-based class ids (0 is the background). */
  labels: number[];
  /** 1 for VOC "difficult" / COCO iscrowd, else 0. */
  difficult: (0 | 1)[];
}

export interface DataIndexSplit {
  format: 'voc' | 'coco';
  root: string;
  /** What loading skipped, as the tfjs engine reports it; `text` is formatProblem's line. */
  report: { images: number; objects: number; skippedImages: number; skippedObjects: number; problems: (DataProblem & { text: string })[] };
  items: DataIndexItem[];
}

export interface DataIndex {
  format: typeof DATA_INDEX_FORMAT;
  version: typeof DATA_INDEX_VERSION;
  /** Class names, index = label id, "background" first. */
  classes: string[];
  /** Null in an index written for an evaluation alone (`dsod eval --engine torch`): nothing trains on it. */
  train: DataIndexSplit | null;
  test: DataIndexSplit | null;
  /** Where the splits came from (optional): the torch engine records it in its checkpoints' meta, as the tfjs engine
   * does, so `dsod eval|infer --run` find a run's data without --data. */
  source?: Pick<DataSource, 'format' | 'root' | 'train' | 'test'>;
}

export interface DataIndexInput {
  /** The splits engine/data/source.ts loadSplit returns (at least one of them). */
  train: DetectionDataset | null;
  test?: DetectionDataset | null;
  /** Class names, background first; default: the training split's (else the held-out one's). */
  classes?: readonly string[];
  source?: DataSource | null;
}

function splitOf(ds: DetectionDataset): DataIndexSplit {
  const r = ds.report;
  return {
    format: ds.format,
    root: resolve(ds.root),
    report: {
      images: r.images,
      objects: r.objects,
      skippedImages: r.skippedImages,
      skippedObjects: r.skippedObjects,
      problems: r.problems.map((p) => ({ ...p, text: formatProblem(p) })),
    },
    items: ds.records.map((rec) => ({
      id: rec.id,
      image: resolve(rec.imagePath),
      width: rec.width,
      height: rec.height,
      source: rec.source,
      boxes: rec.objects.map((o) => [o.box[0], o.box[1], o.box[2], o.box[3]]),
      labels: rec.objects.map((o) => o.label),
      difficult: rec.objects.map((o) => (o.difficult ? 1 : 0)),
    })),
  };
}

/** The index of the loaded splits (what writeDataIndex writes). */
export function dataIndexOf(input: DataIndexInput): DataIndex {
  const names = input.classes ?? input.train?.classNames ?? input.test?.classNames;
  if (!names) throw new Error('a data index needs a train or a test split');
  const classes = [...names];
  for (const [what, ds] of [
    ['train', input.train],
    ['test', input.test],
  ] as const) {
    if (ds && ds.classNames.join('\n') !== classes.join('\n'))
      throw new Error(`the ${what} data's classes (${ds.classNames.join(', ')}) are not the index's (${classes.join(', ')})`);
  }
  const s = input.source;
  return {
    format: DATA_INDEX_FORMAT,
    version: DATA_INDEX_VERSION,
    classes,
    train: input.train ? splitOf(input.train) : null,
    test: input.test ? splitOf(input.test) : null,
    ...(s ? { source: { format: s.format, root: resolve(s.root), train: [...s.train], test: [...s.test] } } : {}),
  };
}

/** Write DIR/data.json (a run folder's, or a one-shot evaluation's scratch folder) atomically (a reader sees the old
 * index or the new one); returns its path. */
export function writeDataIndex(runDir: string, input: DataIndexInput): string {
  const dir = resolve(runDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, TORCH_DATA_FILE);
  writeFileAtomicSync(path, JSON.stringify(dataIndexOf(input)) + '\n');
  return path;
}
