// The training boxes `dsod priors` measures: read once through engine/data (annotations only; images are not
// needed for boxes), checked (a box that reaches outside its image, a box with no area and an empty set are errors
// with their location, not warnings: a measure over silently corrected boxes would mislead), and cached by the
// dataset's files (paths, sizes, modification times) so that the next run, with other priors, skips the reading.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GroundTruth, NormalizedSpec, PriorCoverage, PriorLayout } from '../../core';
import { writeFileAtomicSync } from '../data/files';
import { DataSourceError, loadSplit, type DataSource } from '../data/source';
import { formatProblem, type DataProblem, type DetectionDataset } from '../data/types';
import { EngineError } from '../errors';

/** The boxes of a split with what a report names an object by. */
export interface TrainingBoxes extends GroundTruth {
  /** Per image: its annotation file (VOC) or instances JSON (COCO), its id and original size. */
  images: { source: string; id: string; imagePath: string; width: number; height: number }[];
  /** Per object: its place in its annotation (VOC: n-th <object> and its line; COCO: index in `annotations`). */
  objectIndex: Int32Array;
  objectLine: Int32Array;
}

const CACHE_VERSION = 2;

/**
 * What identifies a split's boxes: the format, the split lists and the class names asked for, and each file read
 * (lists and annotations, or instances JSONs) with its size and modification time. A file edited, added or removed
 * changes it.
 */
export function datasetKey(src: DataSource, parts: readonly string[], classNames: readonly string[] | null): string {
  const files: string[] = [];
  if (src.format === 'voc') {
    for (const split of parts) {
      const slash = split.lastIndexOf('/');
      const dir = join(src.root, slash >= 0 ? split.slice(0, slash) : '');
      const list = join(dir, 'ImageSets', 'Main', `${slash >= 0 ? split.slice(slash + 1) : split}.txt`);
      files.push(list);
      if (!existsSync(list)) continue;
      for (const line of readFileSync(list, 'utf8').split(/\r?\n/)) {
        const id = line.trim().split(/\s+/)[0];
        if (id) files.push(join(dir, 'Annotations', `${id}.xml`));
      }
    }
  } else files.push(...parts);
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: CACHE_VERSION, format: src.format, root: src.root, parts, classNames }));
  for (const f of files) {
    const st = statSync(f, { throwIfNoEntry: false });
    h.update(`\n${f}\0${st ? `${st.size}:${st.mtimeMs}` : '-'}`);
  }
  return h.digest('hex').slice(0, 32);
}

/** The split's boxes from the cache when its key matches, else read (and cached when `cacheDir` is given). */
export async function trainingBoxes(
  src: DataSource,
  parts: readonly string[],
  spec: NormalizedSpec,
  cacheDir: string | null,
): Promise<{ boxes: TrainingBoxes; key: string; cached: boolean }> {
  const key = datasetKey(src, parts, spec.classes.names);
  const file = cacheDir ? join(cacheDir, `boxes-${key}.json`) : null;
  if (file && existsSync(file)) {
    const cached = fromJson(readFileSync(file, 'utf8'));
    if (cached) return { boxes: cached, key, cached: true };
  }
  const ds = await loadSplit(src, 'train', spec, parts, { checkFiles: false });
  const boxes = checkedBoxes(ds);
  if (file) {
    mkdirSync(cacheDir!, { recursive: true });
    writeFileAtomicSync(file, toJson(boxes));
  }
  return { boxes, key, cached: false };
}

/** The dataset as typed arrays, or a DataSourceError naming the first box that cannot be measured. */
export function checkedBoxes(ds: DetectionDataset): TrainingBoxes {
  const bad = ds.report.problems.filter((p) => p.stage === 'object');
  if (bad.length) throw boxError(bad);
  let n = 0;
  for (const r of ds.records) n += r.objects.length;
  if (n === 0)
    throw new DataSourceError(`${ds.root}: the ${ds.records.length} training images have no objects: there is nothing to measure the default boxes against`);
  const boxes = new Float32Array(4 * n);
  const labels = new Int32Array(n);
  const objectIndex = new Int32Array(n);
  const objectLine = new Int32Array(n);
  const imageStart = new Int32Array(ds.records.length + 1);
  let j = 0;
  ds.records.forEach((r, i) => {
    imageStart[i] = j;
    r.objects.forEach((o, k) => {
      const [x0, y0, x1, y1] = o.box;
      // The loaders drop boxes without area; this guards the arrays whatever reader made the records.
      if (!(x1 > x0 && y1 > y0)) throw new DataSourceError(`${r.source}: object ${o.at?.index ?? k} ("${o.name}") has no area (${o.box.join(', ')})`);
      boxes.set(o.box, 4 * j);
      labels[j] = o.label;
      objectIndex[j] = o.at?.index ?? k;
      objectLine[j] = o.at?.line ?? 0;
      j++;
    });
  });
  imageStart[ds.records.length] = j;
  return {
    boxes,
    labels,
    imageStart,
    classNames: ds.classNames,
    images: ds.records.map((r) => ({ source: r.source, id: r.id, imagePath: r.imagePath, width: r.width, height: r.height })),
    objectIndex,
    objectLine,
  };
}

function boxError(bad: DataProblem[]): BoxError {
  const first = bad[0];
  const at = `${first.path}${first.line !== undefined ? `:${first.line}${first.column !== undefined ? `:${first.column}` : ''}` : ''}`;
  const more =
    bad.length > 1 ? ` (and ${bad.length - 1} more object${bad.length === 2 ? '' : 's'}: ${formatProblem(bad[1])}${bad.length > 2 ? ', ...' : ''})` : '';
  // Training would clamp or drop these; the default boxes are measured against the boxes as annotated: fix them first.
  return new BoxError(
    `${first.message}; the default boxes are measured against boxes as annotated: fix the annotation${more}`,
    first.where ? `${at}: ${first.where}` : at,
  );
}

/** A training box that cannot be measured (code `data`), located in its annotation. */
export class BoxError extends EngineError {
  constructor(message: string, where: string) {
    super('data', message, where);
  }
}

function toJson(b: TrainingBoxes): string {
  return JSON.stringify({
    v: CACHE_VERSION,
    classNames: b.classNames,
    images: b.images,
    imageStart: [...b.imageStart],
    boxes: [...b.boxes],
    labels: [...b.labels],
    objectIndex: [...b.objectIndex],
    objectLine: [...b.objectLine],
  });
}

/** A cache file's boxes, or null when it is not one this version wrote (then the set is read again). */
function fromJson(text: string): TrainingBoxes | null {
  try {
    const d = JSON.parse(text);
    if (d?.v !== CACHE_VERSION) return null;
    const out: TrainingBoxes = {
      classNames: d.classNames,
      images: d.images,
      imageStart: Int32Array.from(d.imageStart),
      boxes: Float32Array.from(d.boxes),
      labels: Int32Array.from(d.labels),
      objectIndex: Int32Array.from(d.objectIndex),
      objectLine: Int32Array.from(d.objectLine),
    };
    const n = out.labels.length;
    if (out.boxes.length !== 4 * n || out.imageStart.length !== out.images.length + 1 || out.imageStart[out.images.length] !== n) return null;
    return out;
  } catch {
    return null;
  }
}

/**
 * A measure from the cache: keyed by the dataset's key and the prior settings that shape the boxes (input size,
 * grids, sizes, ratios, flip, clip, steps, offset) and the threshold. The measure takes a second or two on 20,000
 * images; the editor's view asks again for the same settings each time it opens.
 */
export function coverageCache(cacheDir: string | null, datasetKey: string, layout: PriorLayout, threshold: number) {
  const settings = {
    input: [layout.inputWidth, layout.inputHeight],
    flip: layout.flip,
    clip: layout.clip,
    offset: layout.offset,
    threshold,
    scales: layout.scales.map((s) => [s.rows, s.columns, s.minSize, s.maxSize, s.aspectRatios, s.step]),
  };
  const key = createHash('sha256')
    .update(`${datasetKey}\n${JSON.stringify(settings)}`)
    .digest('hex')
    .slice(0, 32);
  const file = cacheDir ? join(cacheDir, `coverage-${key}.json`) : null;
  return {
    read(): PriorCoverage | null {
      if (!file || !existsSync(file)) return null;
      try {
        const d = JSON.parse(readFileSync(file, 'utf8'));
        if (d?.v !== CACHE_VERSION) return null;
        return {
          ...d.coverage,
          bestIou: Float32Array.from(d.coverage.bestIou),
          bestPrior: Int32Array.from(d.coverage.bestPrior),
          unmatched: Int32Array.from(d.coverage.unmatched),
        };
      } catch {
        return null;
      }
    },
    write(c: PriorCoverage): void {
      if (!file) return;
      mkdirSync(cacheDir!, { recursive: true });
      writeFileAtomicSync(
        file,
        JSON.stringify({ v: CACHE_VERSION, coverage: { ...c, bestIou: [...c.bestIou], bestPrior: [...c.bestPrior], unmatched: [...c.unmatched] } }),
      );
    },
  };
}
