// What the loaders give the rest of the engine: images with ground truth in one convention, and a report of what
// was skipped and why (datasets in the wild have broken files; a training run must not die on one of them).
import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep, win32 } from 'node:path';

/** One ground-truth object. Labels are 1-based class ids; 0 is the background and never appears here. */
export interface GtObject {
  label: number;
  name: string;
  /** Corners [xmin, ymin, xmax, ymax], normalised to the image (0..1), continuous coordinates. */
  box: [number, number, number, number];
  /** VOC "difficult" (and COCO iscrowd): neither a hit nor a miss in evaluation. */
  difficult: boolean;
  /** COCO iscrowd: a region that several detections may match; evaluation uses intersection over detection area. */
  crowd?: boolean;
  truncated?: boolean;
  /** COCO's annotation "area" in pixels (COCO's small / medium / large use it, not the box). */
  area?: number;
  /**
   * Where the object is written, for reports that name it: its 0-based place among the <object>s of its VOC file (or
   * in the `annotations` array of a COCO file) and, for VOC, the line of its <object>.
   */
  at?: { index: number; line?: number };
}

export interface ImageRecord {
  id: string;
  imagePath: string;
  /** Original size in pixels (from the annotation, or the image header when the annotation has none). */
  width: number;
  height: number;
  objects: GtObject[];
  /** The annotation file this record came from (for error messages). */
  source: string;
}

export type ProblemStage = 'list' | 'annotation' | 'object' | 'image';

/** Something skipped: where it is (file, line and column when known) and why. */
export interface DataProblem {
  stage: ProblemStage;
  path: string;
  line?: number;
  column?: number;
  /** A location inside a file that has no useful lines, e.g. `annotations[17] (id 4021)` in a COCO JSON. */
  where?: string;
  message: string;
  /** A warning: the item was kept, corrected as the message says (a box clamped to its image, objects capped). */
  kept?: boolean;
}

/**
 * Objects used per image (the first ones, in annotation order); the rest are left out with a warning naming the
 * file. Real datasets stay far below (COCO's most crowded image has 93 annotations); matching cost grows with it.
 */
export const MAX_OBJECTS_PER_IMAGE = 1000;

/**
 * VOC pixel coordinates may overshoot the image by this many pixels without a warning (sets written with 0-based
 * coordinates, or xmax = width + 1); boxes beyond are clamped to the image with a warning.
 */
export const BOX_SLACK_PIXELS = 1;

/** Keep a record's first MAX_OBJECTS_PER_IMAGE objects; a warning for the rest. Returns how many were left out. */
export function capObjects(objects: GtObject[], path: string, problems: DataProblem[], where?: string): number {
  const extra = objects.length - MAX_OBJECTS_PER_IMAGE;
  if (extra <= 0) return 0;
  problems.push({
    stage: 'annotation',
    path,
    ...(where ? { where } : {}),
    message: `${objects.length} objects in one image: only the first ${MAX_OBJECTS_PER_IMAGE} are used, ${extra} left out`,
    kept: true,
  });
  objects.length = MAX_OBJECTS_PER_IMAGE;
  return extra;
}

export interface LoadReport {
  images: number;
  objects: number;
  skippedImages: number;
  skippedObjects: number;
  problems: DataProblem[];
}

export interface DetectionDataset {
  format: 'voc' | 'coco';
  root: string;
  /** Index = label id; index 0 is "background". */
  classNames: string[];
  records: ImageRecord[];
  report: LoadReport;
}

export function emptyReport(): LoadReport {
  return { images: 0, objects: 0, skippedImages: 0, skippedObjects: 0, problems: [] };
}

/** `path:line:col: message` (the form editors and terminals make clickable). */
export function formatProblem(p: DataProblem): string {
  const at = p.line !== undefined ? `:${p.line}${p.column !== undefined ? `:${p.column}` : ''}` : '';
  return `${p.path}${at}: ${p.where ? `${p.where}: ` : ''}${p.message} [${p.stage}${p.kept ? ', warning' : ''}]`;
}

/**
 * Object class names from a caller's list: a leading "background" is dropped, so both core's names (background
 * first) and a plain list of object classes are accepted.
 */
export function objectClassNames(names: readonly string[]): string[] {
  return names.length > 0 && names[0].toLowerCase() === 'background' ? names.slice(1) : [...names];
}

/** Pascal VOC's 20 object classes in the devkit's order (ids 1..20). */
// prettier-ignore
export const VOC_CLASSES = [
  'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
] as const;

// Dataset paths come from files a dataset's author wrote (a COCO JSON, VOC lists and annotations): they must stay
// inside the dataset's folder, links included, or a crafted annotation could make training read any file.

/**
 * A dataset path (a COCO `file_name`, a VOC `<filename>` or list entry) resolved inside `root`, or why it is refused:
 * an absolute path, a path that climbs out with "..", or one whose real path (symbolic links followed) lies outside
 * the real path of `root`. Nothing is opened: only the path and the links are looked at. A path that does not exist
 * (yet) is judged by its text alone; the caller reports it missing.
 */
export function resolveInside(root: string, name: string): { path: string } | { refused: string } {
  return insideOf(root)(name);
}

/** resolveInside for many names under one root (the root's real path is looked up once). */
export function insideOf(root: string): (name: string) => { path: string } | { refused: string } {
  let realRoot: string | null | undefined;
  return (name) => {
  if (name.includes('\0')) return { refused: 'the path contains a NUL character' };
  if (isAbsolute(name) || win32.isAbsolute(name)) return { refused: `"${name}" is an absolute path; dataset paths must be relative to ${root}` };
  const path = join(root, name);
  const rel = relative(resolve(root), resolve(path));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return { refused: `"${name}" leads outside ${root}` };
  let real: string;
  try {
    real = realpathSync.native(path);
  } catch {
    return { path }; // missing (or a dangling link): the caller's existence check reports it
  }
  if (realRoot === undefined) {
    try {
      realRoot = realpathSync.native(root);
    } catch {
      realRoot = null;
    }
  }
  if (realRoot === null) return { path };
  const realRel = relative(realRoot, real);
  if (realRel === '' || realRel === '..' || realRel.startsWith(`..${sep}`) || isAbsolute(realRel))
    return { refused: `"${name}" is a link to ${real}, outside ${root}` };
  return { path };
  };
}
