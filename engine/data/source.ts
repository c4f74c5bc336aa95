// Which images a command reads: the spec's `data` section (its root relative to the spec file) or --data, in VOC
// layout (ImageSets/Main lists) or COCO (instances JSON files), and the split a command wants. Problems with the
// choice itself are thrown as DataSourceError (the CLI prints them as usage errors); problems inside a dataset
// (broken files) are in the loaded dataset's report.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { NormalizedSpec } from '../../core';
import { EngineError } from '../errors';
import { loadCoco } from './coco';
import type { DetectionDataset } from './types';
import { loadVoc } from './voc';

/** The data chosen cannot be used (code `data`, exit status 2). */
export class DataSourceError extends EngineError {
  constructor(message: string) {
    super('data', message);
  }
}

export interface DataSource {
  format: 'voc' | 'coco';
  root: string;
  /** VOC: split lists ("trainval", "VOC2007/test"); COCO: instances JSON files (absolute). */
  train: string[];
  test: string[];
}

const VOC_DEFAULTS = { train: ['trainval'], test: ['test'] };

/**
 * Resolve where the data is. `override` is --data (a dataset folder or a COCO instances JSON file). Without a spec
 * (`dsod eval --detections` may have none) --data is the only source, with the default split lists.
 */
export function resolveDataSource(spec: NormalizedSpec | null, specPath: string | null, override: string | null): DataSource {
  const d = spec?.data;
  if (override) {
    const path = resolve(override);
    if (!existsSync(path)) throw new DataSourceError(`--data ${override}: no such file or folder`);
    if (statSync(path).isFile()) {
      if (!path.endsWith('.json')) throw new DataSourceError(`--data ${override}: a file must be a COCO instances JSON`);
      return { format: 'coco', root: dirname(path), train: [path], test: [path] };
    }
    if (existsSync(join(path, 'ImageSets', 'Main'))) return { format: 'voc', root: path, ...vocSplits(spec) };
    if (existsSync(join(path, 'annotations')) || d?.format === 'coco') return cocoFromSpec(spec, path);
    return { format: 'voc', root: path, ...vocSplits(spec) }; // the loader reports the missing lists
  }
  if (!spec || !d || d.root === null) {
    throw new DataSourceError(`${spec ? `${specPath} has no data.root` : 'no spec to take data.root from'}: pass --data DIR (a VOC folder, e.g. one made by \`dsod synth\`, or a COCO instances JSON)`);
  }
  const root = resolve(dirname(specPath ?? '.'), d.root);
  if (!existsSync(root)) {
    throw new DataSourceError(
      `the dataset folder ${root} (data.root of ${specPath}) does not exist: run \`dsod synth --out ${root}\` for the synthetic set, or pass --data DIR`,
    );
  }
  return d.format === 'coco' ? cocoFromSpec(spec, root) : { format: 'voc', root, ...vocSplits(spec) };
}

function vocSplits(spec: NormalizedSpec | null): { train: string[]; test: string[] } {
  const d = spec?.data;
  return {
    train: d && d.format === 'voc' && d.train.length ? d.train : VOC_DEFAULTS.train,
    test: d && d.format === 'voc' && d.test.length ? d.test : VOC_DEFAULTS.test,
  };
}

function cocoFromSpec(spec: NormalizedSpec | null, root: string): DataSource {
  const d = spec?.data;
  if (!d || d.format !== 'coco' || !d.train.length || !d.test.length) return cocoFolder(root);
  return { format: 'coco', root, train: d.train.map((f) => resolve(root, f)), test: d.test.map((f) => resolve(root, f)) };
}

/** A COCO folder with annotations/instances_<split>.json: train = *train*, test = *val* or *test*. */
function cocoFolder(root: string): DataSource {
  const dir = join(root, 'annotations');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  const train = files.filter((f) => /train/i.test(f)).map((f) => join(dir, f));
  const test = files.filter((f) => /val|test/i.test(f) && !/train/i.test(f)).map((f) => join(dir, f));
  if (!train.length && !test.length) throw new DataSourceError(`${root}: no ImageSets/Main (VOC) and no annotations/*.json (COCO)`);
  return { format: 'coco', root, train, test };
}

/** Where a COCO annotation file's images are: <root>/<split>, <root>/images/<split>, <root>/images, beside the JSON, <root>. */
export function cocoImageDir(root: string, annotationFile: string): string {
  const split = basename(annotationFile, '.json').replace(/^instances_/, '');
  const candidates = [join(root, split), join(root, 'images', split), join(root, 'images'), dirname(annotationFile), root];
  return candidates.find((c) => existsSync(c) && statSync(c).isDirectory()) ?? dirname(annotationFile);
}

/**
 * Load one side of the data, labelled as the spec's classes. `classNames` are the spec's names (background
 * first) or null when the spec gives only a count (then VOC's 20 classes for 21, else the names found); without a
 * spec, the classes the loader finds.
 */
export async function loadSplit(
  src: DataSource,
  which: 'train' | 'test',
  spec: NormalizedSpec | null,
  only?: readonly string[],
  options: { checkFiles?: boolean } = {},
): Promise<DetectionDataset> {
  const names = spec?.classes.names ?? undefined;
  const parts = only ?? src[which];
  if (!parts.length) throw new DataSourceError(`no ${which} split for ${src.root}`);
  let ds: DetectionDataset;
  if (src.format === 'voc') {
    ds = await loadVoc({ root: src.root, splits: parts, ...(names ? { classNames: names } : {}), ...options });
  } else {
    const sets = await Promise.all(
      parts.map((file) => loadCoco({ annotationFile: file, imageDir: cocoImageDir(src.root, file), ...(names ? { classNames: names } : {}), ...options })),
    );
    ds = sets[0];
    for (const s of sets.slice(1)) {
      ds.records.push(...s.records);
      ds.report.problems.push(...s.report.problems);
      ds.report.images += s.report.images;
      ds.report.objects += s.report.objects;
      ds.report.skippedImages += s.report.skippedImages;
      ds.report.skippedObjects += s.report.skippedObjects;
    }
  }
  if (spec && ds.classNames.length !== spec.classes.count) {
    throw new DataSourceError(
      `the ${which} data (${src.root}) has ${ds.classNames.length - 1} classes (${ds.classNames.slice(1, 8).join(', ')}${ds.classNames.length > 8 ? ', ...' : ''}) ` +
        `but the spec has ${spec.classes.count - 1}: list the class names in the spec's \`classes\``,
    );
  }
  if (ds.records.length === 0) {
    const first = ds.report.problems[0];
    throw new DataSourceError(
      `no usable ${which} images in ${src.root} (${parts.join(', ')})${first ? `: ${first.path}: ${first.message}` : ''}${ds.report.problems.length > 1 ? ` (and ${ds.report.problems.length - 1} more problems)` : ''}`,
    );
  }
  return ds;
}
