// What evaluation reads: per image, the ground truth and the detections, in the same order and coordinates.
import type { Detection } from '../boxes/detect';

export type { Detection };

/** An image's ground truth (an ImageRecord fits: only `objects` and the size are read). */
export interface EvalImage {
  objects: readonly EvalObject[];
  /** Size in pixels, for COCO's area ranges (boxes are normalised); absent: 1, i.e. the boxes are in pixels. */
  width?: number;
  height?: number;
}

export interface EvalObject {
  /** Corners [xmin, ymin, xmax, ymax], any consistent coordinates (normalised or pixels). */
  box: readonly number[];
  /** 1-based class id. */
  label: number;
  /** Ignored: a detection on it is neither a hit nor a false alarm (VOC "difficult", COCO iscrowd). */
  difficult?: boolean;
  /** COCO iscrowd: may be matched by any number of detections; IoU = intersection / detection area. */
  crowd?: boolean;
  /** COCO's annotation "area" in pixels (a segment's area, which decides small / medium / large); absent: the box's. */
  area?: number;
}

export interface EvalDetection {
  box: readonly number[];
  label: number;
  score: number;
}

/** Class names by id (index 0 = background) or the number of classes, background included. */
export type ClassSpec = readonly string[] | number;

export function classNamesOf(c: ClassSpec): string[] {
  return typeof c === 'number' ? Array.from({ length: c }, (_, i) => (i === 0 ? 'background' : `class${i}`)) : [...c];
}

/** Overlap as VOC and COCO compute it for continuous corners (no "+1": see data/voc.ts for why none is needed). */
export function boxIou(a: readonly number[], b: readonly number[]): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

/** COCO's overlap with a crowd region: intersection over the detection's area. */
export function crowdIou(det: readonly number[], crowd: readonly number[]): number {
  const iw = Math.min(det[2], crowd[2]) - Math.max(det[0], crowd[0]);
  const ih = Math.min(det[3], crowd[3]) - Math.max(det[1], crowd[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const area = (det[2] - det[0]) * (det[3] - det[1]);
  return area > 0 ? (iw * ih) / area : 0;
}

/** Detections of class `label`, over all images, best first; equal scores keep image order, then list order. */
export function rankedDetections(
  dets: readonly (readonly EvalDetection[])[],
  label: number,
  perImageLimit = Infinity,
): { image: number; det: EvalDetection }[] {
  const all: { image: number; det: EvalDetection; order: number }[] = [];
  let order = 0;
  dets.forEach((list, image) => {
    const mine = list.filter((d) => d.label === label);
    if (perImageLimit < mine.length) {
      mine.sort((a, b) => b.score - a.score); // stable (ES2019): the best `perImageLimit` of this image
      mine.length = perImageLimit;
    }
    for (const det of mine) all.push({ image, det, order: order++ });
  });
  all.sort((a, b) => b.det.score - a.det.score || a.order - b.order);
  return all;
}
