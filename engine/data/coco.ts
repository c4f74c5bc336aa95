// COCO loader: an instances JSON (images, annotations, categories) and a folder of images.
// Category ids (sparse in COCO: 1..90 for 80 classes) become contiguous labels 1..K in id order; 0 is background.
// Crowd regions (iscrowd = 1) are kept as difficult + crowd: evaluation ignores them, as COCO's does.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import { MAX_COCO_BYTES, readTextFileChecked } from './files';
import { BOX_SLACK_PIXELS, capObjects, emptyReport, insideOf, objectClassNames, type DataProblem, type DetectionDataset, type GtObject, type ImageRecord } from './types';

export interface CocoLoadOptions {
  /** instances_*.json */
  annotationFile: string;
  /** The folder that `file_name` is relative to. */
  imageDir: string;
  /**
   * Keep only these categories, labelled in this order (label 1 = the first). Default: every category, by id.
   * Annotations of categories left out are dropped silently (a subset was asked for); unknown ids are reported.
   */
  classNames?: readonly string[];
  /** Leave crowd regions out entirely instead of keeping them as difficult. Default false. */
  dropCrowd?: boolean;
  /** Check that every image file exists (one stat each). Default true. */
  checkFiles?: boolean;
}

export async function loadCoco(o: CocoLoadOptions): Promise<DetectionDataset> {
  const report = emptyReport();
  const problems = report.problems;
  const file = o.annotationFile;
  const empty = (): DetectionDataset => ({ format: 'coco', root: o.imageDir, classNames: ['background'], records: [], report });
  let text: string;
  try {
    text = readTextFileChecked(file, MAX_COCO_BYTES, 'annotation file');
  } catch (e) {
    problems.push({
      stage: 'annotation',
      path: file,
      message: `cannot read the annotation file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    });
    return empty();
  }
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    problems.push({ stage: 'annotation', path: file, ...jsonErrorPosition(text, e as Error), message: `malformed JSON: ${(e as Error).message}` });
    return empty();
  }
  for (const key of ['images', 'annotations', 'categories'] as const) {
    if (!Array.isArray(doc?.[key])) {
      problems.push({ stage: 'annotation', path: file, where: key, message: `"${key}" must be an array` });
      return empty();
    }
  }

  // Categories -> contiguous labels.
  const cats: { id: number; name: string }[] = [];
  const catIds = new Set<number>();
  doc.categories.forEach((c: any, i: number) => {
    const where = `categories[${i}]`;
    if (!c || !Number.isInteger(c.id) || typeof c.name !== 'string' || !c.name) {
      problems.push({ stage: 'annotation', path: file, where, message: 'a category needs an integer "id" and a non-empty "name"' });
    } else if (catIds.has(c.id)) {
      problems.push({ stage: 'annotation', path: file, where, message: `duplicate category id ${c.id}` });
    } else {
      catIds.add(c.id);
      cats.push({ id: c.id, name: c.name });
    }
  });
  cats.sort((a, b) => a.id - b.id);
  let classNames: string[];
  const labelOfCat = new Map<number, number>();
  if (o.classNames) {
    classNames = objectClassNames(o.classNames);
    for (const name of classNames) {
      const c = cats.find((x) => x.name === name);
      if (!c) problems.push({ stage: 'annotation', path: file, where: 'categories', message: `no category named "${name}"` });
      else labelOfCat.set(c.id, classNames.indexOf(name) + 1);
    }
  } else {
    classNames = cats.map((c) => c.name);
    cats.forEach((c, i) => labelOfCat.set(c.id, i + 1));
  }

  // Images.
  const images = new Map<number, { record: ImageRecord; where: string; refused?: string }>();
  const inside = insideOf(o.imageDir);
  doc.images.forEach((im: any, i: number) => {
    const where = `images[${i}]${im && im.id !== undefined ? ` (id ${JSON.stringify(im.id)})` : ''}`;
    if (!im || !Number.isInteger(im.id) || typeof im.file_name !== 'string' || !im.file_name) {
      problems.push({ stage: 'annotation', path: file, where, message: 'an image needs an integer "id" and a "file_name"' });
    } else if (!(Number.isFinite(im.width) && im.width > 0 && Number.isFinite(im.height) && im.height > 0)) {
      problems.push({ stage: 'annotation', path: file, where, message: `an image needs positive "width" and "height" (got ${im.width} x ${im.height})` });
    } else if (images.has(im.id)) {
      problems.push({ stage: 'annotation', path: file, where, message: `duplicate image id ${im.id}` });
    } else {
      // A file_name must stay inside imageDir (no absolute paths, no "..", no links out): it is refused otherwise.
      const at = inside(im.file_name);
      images.set(im.id, {
        record: { id: String(im.id), imagePath: 'path' in at ? at.path : join(o.imageDir, im.file_name), width: im.width, height: im.height, objects: [], source: file },
        where,
        ...('refused' in at ? { refused: at.refused } : {}),
      });
    }
  });

  // Annotations.
  doc.annotations.forEach((a: any, i: number) => {
    const where = `annotations[${i}]${a && a.id !== undefined ? ` (id ${JSON.stringify(a.id)})` : ''}`;
    const bad = (message: string) => problems.push({ stage: 'object', path: file, where, message });
    if (!a || typeof a !== 'object') return bad('not an object');
    const im = images.get(a.image_id);
    if (!im) return bad(`unknown image_id ${JSON.stringify(a.image_id)}`);
    if (!catIds.has(a.category_id)) return bad(`unknown category_id ${JSON.stringify(a.category_id)}`);
    const label = labelOfCat.get(a.category_id);
    if (label === undefined) return; // a category left out on purpose
    const bb = a.bbox;
    if (!Array.isArray(bb) || bb.length !== 4 || !bb.every((v: unknown) => typeof v === 'number' && Number.isFinite(v))) {
      return bad(`"bbox" must be [x, y, width, height], got ${JSON.stringify(bb)}`);
    }
    const [x, y, w, h] = bb as number[];
    if (!(w > 0 && h > 0)) return bad(`"bbox" has a non-positive width or height: ${JSON.stringify(bb)}`);
    const crowd = a.iscrowd === 1 || a.iscrowd === true;
    if (a.iscrowd !== undefined && !crowd && a.iscrowd !== 0 && a.iscrowd !== false) return bad(`"iscrowd" must be 0 or 1, got ${JSON.stringify(a.iscrowd)}`);
    if (crowd && o.dropCrowd) return;
    const { width: W, height: H } = im.record;
    const box: [number, number, number, number] = [clamp01(x / W), clamp01(y / H), clamp01((x + w) / W), clamp01((y + h) / H)];
    if (!(box[2] > box[0] && box[3] > box[1])) return bad(`"bbox" lies outside the ${W}x${H} image: ${JSON.stringify(bb)}: dropped`);
    const s = BOX_SLACK_PIXELS;
    if (x < -s || y < -s || x + w > W + s || y + h > H + s) {
      const px = (v: number, side: number) => Math.round(v * side * 100) / 100;
      const [x0, y0, x1, y1] = [px(box[0], W), px(box[1], H), px(box[2], W), px(box[3], H)];
      problems.push({
        stage: 'object',
        path: file,
        where,
        message: `"bbox" ${JSON.stringify(bb)} reaches outside the ${W}x${H} image: clamped to [${x0}, ${y0}, ${+(x1 - x0).toFixed(2)}, ${+(y1 - y0).toFixed(2)}]`,
        kept: true,
      });
    }
    const ob: GtObject = { label, name: classNames[label - 1], box, difficult: crowd, at: { index: i } };
    if (crowd) ob.crowd = true;
    if (typeof a.area === 'number' && Number.isFinite(a.area) && a.area >= 0) ob.area = a.area;
    im.record.objects.push(ob);
  });

  const candidates = [...images.values()];
  const present = candidates.map((c) => c.refused === undefined && (o.checkFiles === false || isFile(c.record.imagePath)));
  const records: ImageRecord[] = [];
  let capped = 0;
  candidates.forEach((c, i) => {
    if (c.refused !== undefined) {
      problems.push({ stage: 'image', path: file, where: c.where, message: `"file_name" refused: ${c.refused}` });
    } else if (present[i]) {
      capped += capObjects(c.record.objects, file, problems, c.where);
      records.push(c.record);
      report.objects += c.record.objects.length;
    } else {
      problems.push({ stage: 'image', path: c.record.imagePath, where: `${file}: ${c.where}`, message: 'the image file is missing' });
    }
  });
  report.images = records.length;
  report.skippedImages = doc.images.length - records.length;
  report.skippedObjects = problems.filter((p) => p.stage === 'object' && !p.kept).length + capped;
  return { format: 'coco', root: o.imageDir, classNames: ['background', ...classNames], records, report };
}

/**
 * Line and column of a JSON.parse error: from the "position N" in V8's message, or, when V8 leaves it out (it does
 * for some errors), from jsonc-parser's first error (only on this failure path, so its cost does not matter).
 */
function jsonErrorPosition(text: string, e: Error): Pick<DataProblem, 'line' | 'column'> {
  const m = /position (\d+)/.exec(e.message);
  let offset: number;
  if (m) offset = Number(m[1]);
  else {
    const errors: ParseError[] = [];
    parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false });
    if (errors.length === 0) return {};
    offset = errors[0].offset;
  }
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}
