// What the loaders give the rest of the engine: images with ground truth in one convention, and a report of what
// was skipped and why (datasets in the wild have broken files; a training run must not die on one of them).

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
  return `${p.path}${at}: ${p.where ? `${p.where}: ` : ''}${p.message} [${p.stage}]`;
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
