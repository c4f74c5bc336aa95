// `dsod eval --detections FILE`: detections made elsewhere, matched to the ground truth of a split, for scoring by
// eval/score.ts, so results of any framework are scored by the same evaluator as our own.
//
// Two formats, told apart by their shape:
// - `dsod infer`'s document: { spec, weights, threshold, images: [{ image, width, height, detections: [{ label, name,
//   score, box: [x1, y1, x2, y2] in pixels, boxNormalized }] }] }. An entry is the ground-truth image with the same
//   path (resolved from the working folder); failing that, the one with the same file name, which must be unique in
//   the split. A detection's class is its `name` among the evaluated classes (else its `label`); its box is
//   `boxNormalized` (else `box` over the entry's width and height, else over the annotation's size).
// - COCO's results: [{ image_id, category_id, bbox: [x, y, width, height] in pixels, score }], against the COCO
//   instances JSON that holds those image and category ids. Categories outside the evaluated classes are left out.
// Every image of the split is scored; one the file has no entry for has no detections (the devkit and pycocotools
// do the same). An entry for another image of the dataset (in the split's image folder but not in its list: `dsod
// infer` on all of JPEGImages) is left out and counted; any other entry is refused, by name: a wrong folder or a typo
// must not pass for a score.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FileCheckError, readFileChecked } from '../data/files';
import { EngineError } from '../errors';
import type { DetectionDataset } from '../data/types';

/** COCO's largest results files (test-dev, 100 detections an image) are a few hundred MB. */
const MAX_DETECTIONS_BYTES = 1024 * 1024 * 1024;
import type { EvalDetection } from './types';

export class DetectionsFileError extends EngineError {
  constructor(message: string) {
    super('detections', message);
  }
}

export interface LoadedDetections {
  format: 'dsod-infer' | 'coco-results';
  /** One list per ground-truth record, in the records' order. */
  detections: EvalDetection[][];
  /** Records the file has no entry for (scored with no detections). */
  missing: number;
  /** Entries for images of the dataset outside the evaluated split, left out. */
  outside: number;
  /** dsod infer's --threshold: the file holds no detection below it. */
  threshold: number | null;
  /** Detections of categories outside the evaluated classes (COCO results), left out. */
  dropped: number;
}

export function readDetectionsFile(path: string, gt: DetectionDataset, o: { cocoFiles?: readonly string[] } = {}): LoadedDetections {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileChecked(path, MAX_DETECTIONS_BYTES, 'detections file').toString('utf8'));
  } catch (e) {
    const why = e instanceof FileCheckError ? e.message : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    throw new DetectionsFileError(`cannot read the detections file ${path}: ${why}`);
  }
  if (Array.isArray(doc)) return cocoResults(path, doc, gt, o.cocoFiles ?? []);
  if (doc && typeof doc === 'object' && Array.isArray((doc as { images?: unknown }).images)) return inferDocument(path, doc as InferDoc, gt);
  throw new DetectionsFileError(`${path}: neither dsod infer's detections ({ images: [...] }) nor COCO results ([{ image_id, category_id, bbox, score }])`);
}

interface InferDoc {
  threshold?: unknown;
  images: unknown[];
}

function inferDocument(path: string, doc: InferDoc, gt: DetectionDataset): LoadedDetections {
  const out = gt.records.map((): EvalDetection[] => []);
  const byPath = new Map(gt.records.map((r, i) => [resolve(r.imagePath), i]));
  const byName = new Map<string, number[]>();
  gt.records.forEach((r, i) => byName.set(basename(r.imagePath), [...(byName.get(basename(r.imagePath)) ?? []), i]));
  const seen = new Map<number, string>();
  const folders = [...new Set(gt.records.map((r) => dirname(resolve(r.imagePath))))];
  let outside = 0;
  const unknown: string[] = [];
  const ambiguous: string[] = [];
  doc.images.forEach((entry: any, i) => {
    const at = `${path}: images[${i}]`;
    if (!entry || typeof entry.image !== 'string' || !entry.image || !Array.isArray(entry.detections))
      throw new DetectionsFileError(`${at}: an entry needs "image" (a path) and "detections" (an array)`);
    const image: string = entry.image;
    let k = byPath.get(resolve(image));
    if (k === undefined) {
      const named = byName.get(basename(image)) ?? [];
      if (named.length > 1) return void ambiguous.push(image);
      if (named.length === 0) {
        if (folders.some((f) => f === dirname(resolve(image)) || existsSync(join(f, basename(image))))) return void outside++;
        return void unknown.push(image);
      }
      k = named[0];
    }
    if (seen.has(k)) throw new DetectionsFileError(`${at}: ${image} and ${seen.get(k)} are the same ground-truth image (${gt.records[k].imagePath})`);
    seen.set(k, image);
    const r = gt.records[k];
    const w = positive(entry.width) ?? r.width;
    const h = positive(entry.height) ?? r.height;
    entry.detections.forEach((d: any, j: number) => out[k!].push(inferDetection(d, `${at}.detections[${j}]`, gt.classNames, w, h)));
  });
  refuse(path, unknown, ambiguous, gt);
  const threshold = typeof doc.threshold === 'number' && Number.isFinite(doc.threshold) ? doc.threshold : null;
  return { format: 'dsod-infer', detections: out, missing: gt.records.length - seen.size, outside, threshold, dropped: 0 };
}

function inferDetection(d: any, at: string, classNames: readonly string[], w: number, h: number): EvalDetection {
  if (!d || typeof d !== 'object' || !finite(d.score)) throw new DetectionsFileError(`${at}: a detection needs a numeric "score"`);
  let label: number;
  if (typeof d.name === 'string') {
    label = classNames.indexOf(d.name);
    if (label < 1) throw new DetectionsFileError(`${at}: class "${d.name}" is not one of the evaluated classes (${classNames.slice(1).join(', ')})`);
  } else if (Number.isInteger(d.label) && d.label >= 1 && d.label < classNames.length) label = d.label;
  else throw new DetectionsFileError(`${at}: a detection needs a class "name" (or a "label" from 1 to ${classNames.length - 1})`);
  let box: number[];
  if (isBox(d.boxNormalized)) box = d.boxNormalized;
  else if (isBox(d.box)) box = [d.box[0] / w, d.box[1] / h, d.box[2] / w, d.box[3] / h];
  else throw new DetectionsFileError(`${at}: a detection needs "box" ([x1, y1, x2, y2] in pixels) or "boxNormalized"`);
  return { box, label, score: d.score };
}

function cocoResults(path: string, results: unknown[], gt: DetectionDataset, cocoFiles: readonly string[]): LoadedDetections {
  if (gt.format !== 'coco' || !cocoFiles.length)
    throw new DetectionsFileError(`${path} holds COCO results: they name images by the ids of a COCO instances JSON; pass that file with --data`);
  const categories = categoryNames(cocoFiles);
  const byId = new Map(gt.records.map((r, i) => [r.id, i]));
  const out = gt.records.map((): EvalDetection[] => []);
  const unknown = new Set<string>();
  const unknownCats = new Set<string>();
  const present = new Set<number>();
  let dropped = 0;
  results.forEach((d: any, i) => {
    const at = `${path}: [${i}]`;
    if (!d || typeof d !== 'object' || !(Number.isInteger(d.image_id) || typeof d.image_id === 'string'))
      throw new DetectionsFileError(`${at}: a result needs "image_id", "category_id", "bbox" and "score"`);
    if (!finite(d.score) || !Array.isArray(d.bbox) || d.bbox.length !== 4 || !d.bbox.every(finite))
      throw new DetectionsFileError(`${at}: a result needs a numeric "score" and "bbox": [x, y, width, height]`);
    const k = byId.get(String(d.image_id));
    if (k === undefined) return void unknown.add(String(d.image_id));
    present.add(k);
    const name = categories.get(d.category_id);
    if (name === undefined) return void unknownCats.add(JSON.stringify(d.category_id));
    const label = gt.classNames.indexOf(name);
    if (label < 1) return void dropped++;
    const { width: W, height: H } = gt.records[k];
    const [x, y, w, h] = d.bbox as number[];
    out[k].push({ box: [x / W, y / H, (x + w) / W, (y + h) / H], label, score: d.score });
  });
  refuse(
    path,
    [...unknown].map((id) => `image_id ${id}`),
    [],
    gt,
  );
  if (unknownCats.size) throw new DetectionsFileError(`${path}: category_id ${list([...unknownCats])} not in the categories of ${cocoFiles.join(', ')}`);
  return { format: 'coco-results', detections: out, missing: gt.records.length - present.size, outside: 0, threshold: null, dropped };
}

/** category id -> name over the instances files (they must agree where they overlap). */
function categoryNames(files: readonly string[]): Map<unknown, string> {
  const names = new Map<unknown, string>();
  for (const file of files) {
    let doc: any;
    try {
      doc = JSON.parse(readFileChecked(file, MAX_DETECTIONS_BYTES, 'COCO annotation file').toString('utf8'));
    } catch (e) {
      const why = e instanceof FileCheckError ? e.message : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
      throw new DetectionsFileError(`cannot read the categories of ${file}: ${why}`);
    }
    for (const c of Array.isArray(doc?.categories) ? doc.categories : []) {
      if (!c || !Number.isInteger(c.id) || typeof c.name !== 'string') continue;
      if (names.has(c.id) && names.get(c.id) !== c.name)
        throw new DetectionsFileError(`${file}: category ${c.id} is "${c.name}" here but "${names.get(c.id)}" in another annotation file`);
      names.set(c.id, c.name);
    }
  }
  return names;
}

function refuse(path: string, unknown: string[], ambiguous: string[], gt: DetectionDataset): void {
  const where = `the ground truth (${gt.records.length} images under ${gt.root})`;
  if (unknown.length)
    throw new DetectionsFileError(`${path}: ${unknown.length} image${unknown.length === 1 ? ' is' : 's are'} not in ${where}: ${list(unknown)}`);
  if (ambiguous.length) throw new DetectionsFileError(`${path}: ${list(ambiguous)}: more than one image of ${where} has this file name; give the full path`);
}

function list(xs: string[]): string {
  return xs.slice(0, 5).join(', ') + (xs.length > 5 ? ` and ${xs.length - 5} more` : '');
}

function finite(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function positive(x: unknown): number | undefined {
  return finite(x) && x > 0 ? x : undefined;
}

function isBox(x: unknown): x is number[] {
  return Array.isArray(x) && x.length === 4 && x.every(finite);
}
