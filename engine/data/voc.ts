// Pascal VOC loader: ImageSets/Main/<split>.txt lists, Annotations/<id>.xml, JPEGImages/<id>.jpg.
// Broken files are skipped and reported (file:line:column where the XML says so); nothing here throws on bad data.
// Small files are read synchronously: a promise-based read costs four thread-pool round trips (open, fstat, read,
// close) and made loading 10x slower; the loader runs once, in the engine's own process.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_ANNOTATION_BYTES, MAX_LIST_BYTES, readTextFileChecked } from './files';
import { imageSize } from './image';
import { BOX_SLACK_PIXELS, capObjects, emptyReport, insideOf, objectClassNames, VOC_CLASSES, type DataProblem, type DetectionDataset, type GtObject, type ImageRecord } from './types';
import { child, childrenNamed, parseXml, XmlError, type XmlElement } from './xml';

export interface VocLoadOptions {
  /** A dataset root (with ImageSets/, Annotations/, JPEGImages/) or a VOCdevkit folder holding several of them. */
  root: string;
  /**
   * Which lists: "train" reads root/ImageSets/Main/train.txt; "VOC2007/trainval" reads
   * root/VOC2007/ImageSets/Main/trainval.txt (the form the spec's `data.train` uses).
   */
  splits: string | readonly string[];
  /**
   * Object class names, in label order (label 1 = the first; a leading "background", as core's spec.classes.names
   * has, is dropped). Objects of other classes are skipped and reported.
   * Default: VOC's 20 classes when every name found is one of them, otherwise the names found, sorted.
   */
  classNames?: readonly string[];
  /** Leave difficult objects out entirely (SSD trains with them: `use_difficult_gt: true`). Default false. */
  dropDifficult?: boolean;
  /** Image headers read at once (only for annotations without a usable <size>). */
  concurrency?: number;
  /**
   * Check that every image file exists (one stat each), as loadCoco's option. Default true. False: readers of boxes
   * alone (`dsod priors`) take an annotation with a usable <size> without its image.
   */
  checkFiles?: boolean;
}

interface RawObject {
  name: string;
  box: [number, number, number, number];
  difficult: boolean;
  truncated: boolean;
  line: number;
  column: number;
  index: number;
}

interface RawRecord {
  id: string;
  imagePath: string;
  annotationPath: string;
  width: number;
  height: number;
  objects: RawObject[];
}

export async function loadVoc(o: VocLoadOptions): Promise<DetectionDataset> {
  const report = emptyReport();
  const problems = report.problems;
  const splits = typeof o.splits === 'string' ? [o.splits] : [...o.splits];
  const entries: { dir: string; id: string; key: string }[] = [];
  const seen = new Set<string>();
  for (const split of splits) {
    const slash = split.lastIndexOf('/');
    const sub = slash >= 0 ? split.slice(0, slash) : '';
    const list = slash >= 0 ? split.slice(slash + 1) : split;
    const dir = join(o.root, sub);
    const listPath = join(dir, 'ImageSets', 'Main', `${list}.txt`);
    let text: string;
    try {
      text = readTextFileChecked(listPath, MAX_LIST_BYTES, 'image list');
    } catch (e) {
      problems.push({ stage: 'list', path: listPath, message: `cannot read the image list: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      continue;
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const id = line.trim().split(/\s+/)[0];
      if (!id) return;
      if (id.includes('/') || id.includes('\\') || id === '..') {
        problems.push({ stage: 'list', path: listPath, line: i + 1, message: `"${id}" is not an image id` });
        return;
      }
      const key = sub ? `${sub}/${id}` : id;
      if (seen.has(key)) return; // the same image listed twice (e.g. train and trainval): load it once
      seen.add(key);
      entries.push({ dir, id, key });
    });
  }

  const checkers = new Map<string, ReturnType<typeof insideOf>>();
  const inside: Inside = (folder, name) => {
    let c = checkers.get(folder);
    if (!c) checkers.set(folder, (c = insideOf(folder)));
    return c(name);
  };
  const raws: (RawRecord | null)[] = await mapLimit(entries, o.concurrency ?? 32, (e) => readRecord(e.dir, e.id, e.key, problems, inside, o.checkFiles !== false));
  const found = new Set<string>();
  for (const r of raws) if (r) for (const ob of r.objects) found.add(ob.name);
  const classNames = o.classNames
    ? objectClassNames(o.classNames)
    : [...found].every((n) => (VOC_CLASSES as readonly string[]).includes(n))
      ? [...VOC_CLASSES]
      : [...found].sort();
  const labelOf = new Map(classNames.map((n, i) => [n, i + 1]));

  const records: ImageRecord[] = [];
  let capped = 0;
  for (const r of raws) {
    if (!r) {
      report.skippedImages++;
      continue;
    }
    const objects: GtObject[] = [];
    for (const ob of r.objects) {
      const label = labelOf.get(ob.name);
      if (label === undefined) {
        problems.push({
          stage: 'object',
          path: r.annotationPath,
          line: ob.line,
          column: ob.column,
          message: `unknown class "${ob.name}" (known: ${classNames.join(', ')})`,
        });
        continue;
      }
      if (ob.difficult && o.dropDifficult) continue;
      objects.push({ label, name: ob.name, box: ob.box, difficult: ob.difficult, truncated: ob.truncated, at: { index: ob.index, line: ob.line } });
    }
    capped += capObjects(objects, r.annotationPath, problems);
    records.push({ id: r.id, imagePath: r.imagePath, width: r.width, height: r.height, objects, source: r.annotationPath });
    report.objects += objects.length;
  }
  report.images = records.length;
  // Every skipped object left exactly one 'object' problem (warnings about kept objects aside), plus the objects beyond the per-image cap.
  report.skippedObjects = problems.filter((p) => p.stage === 'object' && !p.kept).length + capped;
  return { format: 'voc', root: o.root, classNames: ['background', ...classNames], records, report };
}

/** A file of a dataset folder, resolved inside it (links included), or why not (paths.ts). */
type Inside = (folder: string, name: string) => { path: string } | { refused: string };

async function readRecord(dir: string, id: string, key: string, problems: DataProblem[], inside: Inside, checkFiles: boolean): Promise<RawRecord | null> {
  const annotationDir = join(dir, 'Annotations');
  const annotationAt = inside(annotationDir, `${id}.xml`);
  if ('refused' in annotationAt) {
    problems.push({ stage: 'annotation', path: join(annotationDir, `${id}.xml`), message: `refused: ${annotationAt.refused}` });
    return null;
  }
  const annotationPath = annotationAt.path;
  const root = readAnnotation(annotationPath, problems);
  if (!root) return null;

  // The devkit names images by id (VOCopts.imgpath); <filename> is the fallback for sets that differ.
  // Either must stay inside JPEGImages/ (links included): a path that leads out is refused, never opened.
  const imageDir = join(dir, 'JPEGImages');
  const byId = inside(imageDir, `${id}.jpg`);
  if ('refused' in byId) {
    problems.push({ stage: 'image', path: join(imageDir, `${id}.jpg`), message: `refused: ${byId.refused}` });
    return null;
  }
  let imagePath = byId.path;
  const size = child(root, 'size');
  let width = size ? positiveNumber(child(size, 'width')?.text) : NaN;
  let height = size ? positiveNumber(child(size, 'height')?.text) : NaN;
  const sized = width > 0 && height > 0;
  if ((checkFiles || !sized) && !exists(imagePath)) {
    const fnameEl = child(root, 'filename');
    const fname = fnameEl?.text;
    const alt = fname ? inside(imageDir, fname) : null;
    if (alt && 'refused' in alt) {
      problems.push({ stage: 'image', path: annotationPath, line: fnameEl!.line, column: fnameEl!.column, message: `<filename> refused: ${alt.refused}` });
      return null;
    }
    if (alt && exists(alt.path)) imagePath = alt.path;
    else {
      problems.push({ stage: 'image', path: imagePath, message: 'the image file is missing' });
      return null;
    }
  }

  if (!sized) {
    // Some VOC-style sets leave <size> out or write 0: the image header knows.
    try {
      ({ width, height } = await imageSize(imagePath));
    } catch (e) {
      problems.push({ stage: 'image', path: imagePath, message: `unreadable image (${(e as Error).message}); the annotation has no usable <size> either` });
      return null;
    }
  }

  const objects: RawObject[] = [];
  childrenNamed(root, 'object').forEach((el, k) => {
    const ob = readObject(el, k, width, height, annotationPath, problems);
    if (ob) objects.push(ob);
  });
  return { id: key, imagePath, annotationPath, width, height, objects };
}

/** An annotation file's root element, or null (the problem recorded). */
function readAnnotation(annotationPath: string, problems: DataProblem[]): XmlElement | null {
  let text: string;
  try {
    text = readTextFileChecked(annotationPath, MAX_ANNOTATION_BYTES, 'annotation');
  } catch (e) {
    problems.push({
      stage: 'annotation',
      path: annotationPath,
      message: `cannot read the annotation: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    });
    return null;
  }
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (e) {
    if (e instanceof XmlError)
      problems.push({
        stage: 'annotation',
        path: annotationPath,
        line: e.line,
        column: e.column,
        message: `malformed XML: ${e.message.replace(/^\d+:\d+: /, '')}`,
      });
    else problems.push({ stage: 'annotation', path: annotationPath, message: `malformed XML: ${(e as Error).message}` });
    return null;
  }
  if (root.name !== 'annotation') {
    problems.push({
      stage: 'annotation',
      path: annotationPath,
      line: root.line,
      column: root.column,
      message: `the root element is <${root.name}>, expected <annotation>`,
    });
    return null;
  }
  return root;
}

/**
 * The objects of one annotation file, every class (a gallery shows all), boxes normalised by its <size> or else by
 * `size` (the image's); null when the file is unreadable.
 */
export function readVocObjects(annotationPath: string, size: { width: number; height: number }): { name: string; box: [number, number, number, number]; difficult: boolean }[] | null {
  const problems: DataProblem[] = [];
  const root = readAnnotation(annotationPath, problems);
  if (!root) return null;
  const s = child(root, 'size');
  const width = (s && positiveNumber(child(s, 'width')?.text)) || size.width;
  const height = (s && positiveNumber(child(s, 'height')?.text)) || size.height;
  return childrenNamed(root, 'object')
    .map((el, k) => readObject(el, k, width, height, annotationPath, problems))
    .filter((o): o is RawObject => o !== null)
    .map(({ name, box, difficult }) => ({ name, box, difficult }));
}

/** Object `index` (0-based, in file order) of an annotation; boxes beyond the W x H image are clamped or dropped. */
function readObject(el: XmlElement, index: number, W: number, H: number, path: string, problems: DataProblem[]): RawObject | null {
  const bad = (message: string, at: XmlElement = el): null => {
    problems.push({ stage: 'object', path, line: at.line, column: at.column, message });
    return null;
  };
  const name = child(el, 'name')?.text;
  if (!name) return bad('an <object> without a <name>');
  const flag = (tag: string): boolean | null => {
    const f = child(el, tag);
    if (!f || f.text === '' || f.text === '0' || f.text === 'false') return false;
    if (f.text === '1' || f.text === 'true') return true;
    return bad(`<${tag}> must be 0 or 1, got "${f.text}"`, f);
  };
  const difficult = flag('difficult');
  const truncated = flag('truncated');
  if (difficult === null || truncated === null) return null;
  const bb = child(el, 'bndbox');
  if (!bb) return bad(`object "${name}" has no <bndbox>`);
  const v: number[] = [];
  for (const tag of ['xmin', 'ymin', 'xmax', 'ymax']) {
    const t = child(bb, tag);
    if (!t) return bad(`<bndbox> of "${name}" has no <${tag}>`, bb);
    const n = Number(t.text);
    if (t.text === '' || !Number.isFinite(n)) return bad(`<${tag}> of "${name}" is not a number: "${t.text}"`, t);
    v.push(n);
  }
  const [xmin, ymin, xmax, ymax] = v;
  if (xmax < xmin || ymax < ymin) return bad(`box of "${name}" has xmax < xmin or ymax < ymin (${xmin}, ${ymin}, ${xmax}, ${ymax})`, bb);
  // VOC pixel coordinates are 1-based and inclusive: pixels xmin..xmax cover [xmin - 1, xmax] continuously.
  // (Evaluating these continuous boxes without the devkit's "+1" gives the devkit's overlaps exactly.)
  const box: [number, number, number, number] = [clamp01((xmin - 1) / W), clamp01((ymin - 1) / H), clamp01(xmax / W), clamp01(ymax / H)];
  const where = `object[${index}]`;
  if (!(box[2] > box[0] && box[3] > box[1])) {
    problems.push({ stage: 'object', path, line: bb.line, column: bb.column, where, message: `box of "${name}" lies outside the ${W}x${H} image (${xmin}, ${ymin}, ${xmax}, ${ymax}): dropped` });
    return null;
  }
  const s = BOX_SLACK_PIXELS;
  if (xmin - 1 < -s || ymin - 1 < -s || xmax > W + s || ymax > H + s) {
    const px = (v: number, side: number) => Math.round(v * side * 100) / 100;
    problems.push({
      stage: 'object',
      path,
      line: bb.line,
      column: bb.column,
      where,
      message: `box of "${name}" (${xmin}, ${ymin}, ${xmax}, ${ymax}) reaches outside the ${W}x${H} image: clamped to (${px(box[0], W) + 1}, ${px(box[1], H) + 1}, ${px(box[2], W)}, ${px(box[3], H)})`,
      kept: true,
    });
  }
  return { name, box, difficult, truncated, line: el.line, column: el.column, index };
}

function positiveNumber(s: string | undefined): number {
  const n = Number(s);
  return s !== undefined && s !== '' && Number.isFinite(n) && n > 0 ? n : NaN;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
