// The one scoring step behind every evaluation (`dsod train`, `dsod eval` with weights or with --detections):
// ground truth and detections in, the headline number, its extras and per-class APs out.
//
// VOC difficult objects under the COCO metric: the official evaluator (pycocotools) ignores ground truth only through
// `iscrowd` (its `_prepare` overwrites an annotation's own `ignore` flag with iscrowd), and the common VOC -> COCO
// conversions (mmdetection's tools/dataset_converters/pascal_voc.py) write difficult objects as iscrowd = 1. So a
// difficult object is scored as a crowd region: a detection on it (intersection over the detection's area >= the
// threshold) is neither a hit nor a false alarm, any number of detections may fall on it, and it is never a miss.
// A VOC folder scored with --metric coco therefore equals its COCO conversion scored by pycocotools.
import type { MetricName } from '../../protocol/engine-events';
import { evaluateCoco, type CocoResult } from './coco';
import type { ClassSpec, EvalDetection, EvalImage } from './types';
import { evaluateVoc, type VocResult } from './voc';

export interface Scores {
  metric: MetricName;
  value: number;
  /** map07 and mapArea always; with the COCO metric the 12 numbers of COCOeval.summarize (ap, ap50, ... arLarge). */
  extras: Record<string, number>;
  perClass: { name: string; ap: number | null }[];
  voc: VocResult;
  coco: CocoResult | null;
}

export function scoreDetections(
  images: readonly EvalImage[],
  detections: readonly (readonly EvalDetection[])[],
  classes: ClassSpec,
  metric: MetricName,
): Scores {
  const voc = evaluateVoc(images, detections, classes);
  const coco = metric === 'coco' ? evaluateCoco(images.map(difficultAsCrowd), detections, classes) : null;
  const extras: Record<string, number> = { map07: voc.map11, mapArea: voc.mapArea };
  if (coco) Object.assign(extras, coco.summary);
  const value = metric === 'voc07' ? voc.map11 : metric === 'voc' ? voc.mapArea : coco!.ap;
  const perClass =
    metric === 'coco'
      ? coco!.classes.map((c) => ({ name: c.name, ap: c.ap }))
      : voc.classes.map((c) => ({ name: c.name, ap: metric === 'voc07' ? c.ap11 : c.apArea }));
  return { metric, value, extras, perClass, voc, coco };
}

/** VOC difficult -> COCO iscrowd (see above); COCO's own crowd regions already are. */
export function difficultAsCrowd(im: EvalImage): EvalImage {
  if (!im.objects.some((o) => o.difficult && !o.crowd)) return im;
  return { ...im, objects: im.objects.map((o) => (o.difficult && !o.crowd ? { ...o, crowd: true } : o)) };
}
