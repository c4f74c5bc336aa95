// Evaluation: VOC2007 11-point and VOC2010+ area AP, COCO's AP@[.5:.95] and 12-number summary, precision-recall
// curves, a model scored on held-out images (dsod train's evaluations, dsod eval), and detections files (dsod
// infer's, COCO results) scored by the same evaluator.
export { ap11Point, apAllPoint, cocoPrecisionAt, COCO_IOU_THRESHOLDS, COCO_RECALL_THRESHOLDS, linspace } from './ap';
export { COCO_AREA_RANGES, evaluateCoco, type CocoArea, type CocoClassResult, type CocoResult, type CocoSummary } from './coco';
export { fixed3, formatCocoSummary } from './coco-summary';
export { prCurvesJson, thinCurve, writePrCurves, type PrCurvesJson } from './curves';
export { evaluateModel, EvaluationDataError, MAX_SKIPPED_SHARE, type EvalOptions, type EvalOutcome } from './evaluate';
export { DetectionsFileError, readDetectionsFile, type LoadedDetections } from './detections-file';
export { difficultAsCrowd, scoreDetections, type Scores } from './score';
export type { ClassSpec, EvalDetection, EvalImage, EvalObject } from './types';
export { evaluateVoc, type PrCurve, type VocClassResult, type VocResult } from './voc';
