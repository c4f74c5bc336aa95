// Evaluation: VOC2007 11-point and VOC2010+ area AP, COCO AP@[.5:.95] / AP50 / AP75, precision-recall curves.
export { ap11Point, apAllPoint, cocoPrecisionAt, COCO_IOU_THRESHOLDS, COCO_RECALL_THRESHOLDS, linspace } from './ap';
export { evaluateCoco, type CocoClassResult, type CocoResult } from './coco';
export { prCurvesJson, thinCurve, writePrCurves, type PrCurvesJson } from './curves';
export type { ClassSpec, EvalDetection, EvalImage, EvalObject } from './types';
export { evaluateVoc, type PrCurve, type VocClassResult, type VocResult } from './voc';
